"""`c360 audit verify` names `c360 audit reanchor` only for what re-anchoring can acknowledge:
records cut from the end of the log (its chain intact). QA finding: a changed or removed
middle record (the chain broken) got the same hint, and `reanchor` then refused ("not because
records the last checkpoint covers are gone"); that needs the log restored from a backup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.api.test_privacy_access import _flip_ct
from tests.privacy.test_audit_checkpoints import one_line, write_records
from tests.privacy.test_audit_reanchor import c360, keep_records, signer

Lines = list[bytes]


def _signed_log(data: Path) -> Path:
    """Twelve records under a signed checkpoint of all twelve; the log's path."""
    write_records(data, 12)
    assert signer(data).tick(0.0) is not None
    return data / "audit" / "audit.log"


def _rewrite(path: Path, change: Callable[[Lines], Lines]) -> None:
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(change(lines)) + b"\n")


@pytest.mark.parametrize(
    ("change", "checkpoint"),
    [
        (lambda lines: _flip_ct(lines, 4), "rewritten"),
        (lambda lines: lines[:4] + lines[5:], "truncated"),
    ],
    ids=["changed", "removed"],
)
def test_a_broken_middle_record_is_told_to_restore_not_reanchor(
    tmp_path: Path, change: Callable[[Lines], Lines], checkpoint: str
) -> None:
    data = tmp_path / "d"
    _rewrite(_signed_log(data), change)
    code, out = c360(data, "audit", "verify")
    text = one_line(out)
    assert code == 1 and "BROKEN at seq 5" in text and "BROKEN against checkpoint" in text, text
    assert checkpoint in text, text
    assert "restore audit/audit.log from a backup or copy" in text, text
    assert "cannot acknowledge" in text and "reanchor --reason" not in text, text
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--yes")
    assert code == 1 and "not because records" in one_line(out), out  # as verify said


def test_a_cut_tail_is_told_it_may_be_reanchored(tmp_path: Path) -> None:
    data = tmp_path / "d"
    _signed_log(data)
    keep_records(data, 8)
    code, out = c360(data, "audit", "verify")
    text = one_line(out)
    assert code == 1 and "OK 8 records" in text and "truncated" in text, text
    assert "`c360 audit reanchor --reason ...`" in text, text
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--yes")
    assert code == 0, out
