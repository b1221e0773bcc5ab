"""The erasure ledger's listing in the data key store (hub.services.field_crypto) is tried again
by the next open after a failure other than an unreadable ledger (the key store locked by
another process): it is what keeps keys from being made again for erased owners, so a hub that
met a locked store once must not serve on without it (review, session 23: it was marked as
tried before it ran, and never tried again in that process)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.services import field_crypto
from privacy.erasure_upgrade import LEDGER_ERASURES_MARK
from shared.settings import Settings


def test_a_listing_the_locked_key_store_refused_is_tried_again(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    crypto = field_crypto(settings, upgrade=False)  # the key store exists, nothing listed yet
    assert not crypto.keys.marked(LEDGER_ERASURES_MARK)
    other = sqlite3.connect(tmp_path / "data" / "keys" / "datakeys.sqlite", timeout=0)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the store (its busy timeout: 5 s)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            field_crypto(settings)
    finally:
        other.rollback()
        other.close()
    assert field_crypto(settings) is crypto
    assert crypto.keys.marked(LEDGER_ERASURES_MARK)
