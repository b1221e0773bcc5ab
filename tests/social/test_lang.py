from __future__ import annotations

import pytest

from ingest.social.lang import detect_lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("招行APP又闪退了", "zh"),
        ("招商银行 CMB app 很好用", "zh"),
        ("Great service at the CMB branch today", "en"),
        ("Banco muy lento hoy", "und"),
        ("三井住友銀行のアプリ", "ja"),
        ("국민은행 앱", "ko"),
        ("123 !!!", None),
    ],
)
def test_script_decides_the_language(text: str, lang: str | None) -> None:
    assert detect_lang(text) == lang
