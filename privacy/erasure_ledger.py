"""The erasure ledger: which customers were erased, so that a restore can erase them again.

A backup taken before an erasure holds the customer's data key (``keys/datakeys.sqlite``)
beside their ciphertext: restoring it alone would bring the customer back. Every erasure is
therefore written here first (ids only: customer, households, request, time; never a value),
(and the social accounts the customer confirmed, whose display-name keys go too)
to ``$C360_DATA_DIR/erasure-ledger.jsonl`` and to every mirror named by
``C360_ERASURE_LEDGER`` (paths outside the data dir and its backups, e.g. the disk that holds
the audit signing key). ``c360 restore`` reads the ledgers it can reach (the archive's own, the
live data dir's, the mirrors, ``--erasures FILE``) and erases those customers again in the
restored dir: their data keys destroyed, their nodes removed.

Written before the erasure runs: if the ledger cannot be written, nothing is erased (an
erasure a restore could undo is not done); if the erasure fails after it, the ledger names a
customer whose erasure was approved, and a re-run or a restore completes it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from privacy.types import PrivacyError
from shared.settings import Settings

__all__ = ["LEDGER_FILE", "Erased", "ErasureLedger", "LedgerError", "mirror_paths"]

LEDGER_FILE = "erasure-ledger.jsonl"


class LedgerError(PrivacyError):
    """The ledger cannot be written or read: the erasure (or restore) does not go ahead."""

    code = "ERASURE_LEDGER_UNAVAILABLE"


@dataclass(frozen=True)
class Erased:
    customer_id: str
    households: tuple[str, ...] = ()
    request: str = ""
    at: str = ""
    social_accounts: tuple[str, ...] = ()  # "platform:handle"

    @classmethod
    def of(
        cls, customer_id: str, households: Iterable[str], request: str, social: Iterable[str]
    ) -> Erased:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(customer_id, tuple(households), request, now, tuple(social))


def mirror_paths(setting: str) -> list[Path]:
    """``C360_ERASURE_LEDGER``: comma-separated files outside the data dir."""
    return [Path(p.strip()).expanduser() for p in setting.split(",") if p.strip()]


class ErasureLedger:
    def __init__(self, data_dir: Path, mirrors: Sequence[Path] = ()) -> None:
        self.paths = [data_dir / LEDGER_FILE, *mirrors]

    @classmethod
    def of(cls, settings: Settings) -> ErasureLedger:
        """The data dir's ledger and the ``C360_ERASURE_LEDGER`` mirrors."""
        return cls(settings.resolved_data_dir, mirror_paths(settings.erasure_ledger))

    def record(self, entry: Erased) -> None:
        """Append durably to the data dir's ledger and every mirror; raises LedgerError."""
        line = (json.dumps(asdict(entry), separators=(",", ":")) + "\n").encode()
        for path in self.paths:
            try:
                _append(path, line)
            except OSError as exc:
                raise LedgerError(
                    f"the erasure ledger {path} cannot be written ({exc.strerror}); nothing "
                    "was erased. Fix the path (C360_ERASURE_LEDGER) and run the erasure again"
                ) from exc

    def entries(self) -> list[Erased]:
        """Every erasure in any of this ledger's files (missing files hold none)."""
        return merge(read_ledger(p) for p in self.paths if p.exists())


def read_ledger(path: Path) -> list[Erased]:
    """The entries of one ledger file; raises LedgerError when it is not one."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LedgerError(f"cannot read the erasure ledger {path}: {exc.strerror}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(
                Erased(str(raw["customer_id"]), tuple(raw.get("households") or ()),
                       str(raw.get("request", "")), str(raw.get("at", "")),
                       tuple(raw.get("social_accounts") or ()))
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            if n == len(lines):
                continue  # a torn last line (a crash mid-append): its erasure did not run
            raise LedgerError(f"{path} line {n} is not an erasure ledger entry") from None
    return out


def merge(ledgers: Iterable[list[Erased]]) -> list[Erased]:
    """One entry per customer (households united), in first-seen order."""
    seen: dict[str, Erased] = {}
    for ledger in ledgers:
        for e in ledger:
            old = seen.get(e.customer_id)
            if old is None:
                seen[e.customer_id] = e
            else:
                households = tuple(dict.fromkeys((*old.households, *e.households)))
                social = tuple(dict.fromkeys((*old.social_accounts, *e.social_accounts)))
                seen[e.customer_id] = Erased(
                    old.customer_id, households, old.request, old.at, social
                )
    return list(seen.values())


def _append(path: Path, line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # A torn last line (a crash mid-append; its erasure never ran): cut it off.
            tail = os.pread(fd, min(size, 1 << 16), max(0, size - (1 << 16)))
            os.ftruncate(fd, max(0, size - len(tail)) + tail.rfind(b"\n") + 1)
        if os.write(fd, line) != len(line):
            raise OSError(28, "short write")
        os.fsync(fd)
    finally:
        os.close(fd)
