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

An entry counts only once every ledger has it: when one of them cannot be written, the ones
written already get a cancellation (``{"cancelled": request, "entries": [id]}``), which the
reader honours in any ledger (a backup taken in between holds the entry, the live ledger its
cancellation). Rejecting or withdrawing a request cancels whatever entries of it are left (a
cancellation that failed): a rejected or withdrawn erasure never erases on a restore.

A cancellation cut off mid-write (a crash while appending it: the file's last line, not
whole) is not honoured: the entries it would cancel still count, and a restore erases their
customer. This is the reading that fails closed for the person: a cancellation is written only
while its request is still open (an approval whose ledger write failed, before the erasure
ran; a reject or withdraw, saved only after its cancellation is written), so the request
itself still says whether the erasure is wanted, while a half-written line cannot say which
entries it meant. Honouring it would let an unreadable line decide that an approved erasure
is undone; counting it errs toward the erasure an officer approved, and the officers settle it
by writing the cancellation whole (reject or withdraw the request again) or by approving it
again. Not silently: :func:`torn_cancellation` finds such a line for ``c360 doctor`` and
``c360 restore`` (the next append cuts it off, as any torn tail; doctor also reports every
entry that counts while its request is not done, which outlasts the cut).

Each entry names the hub that wrote it (``shared.hub_id``): a restore applies another
hub's entries only when told to (customer ids are the banks' own: another hub's C000005 is
another person). Entries written before hub ids, or migrated from a data dir that had none,
name none: a restore cannot tie them to its hub and asks (``--untied-erasures apply|skip``,
hub/cli/erase.py ``untied_entries``) unless its own ledger names their customer.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from privacy.types import PrivacyError
from shared.hub_id import hub_id
from shared.settings import Settings


def erased_owners(entries: list[Erased]) -> dict[str, frozenset[str]]:
    """Per label of privacy.fieldcrypt.FIELDS, the owners its values are sealed under that
    ``entries`` (the erasure ledger's) erased: customers (their notes too), households,
    social accounts ("platform:handle")."""
    customers = frozenset(e.customer_id for e in entries)
    return {
        "Customer": customers,
        "Interaction": customers,
        "Household": frozenset(h for e in entries for h in e.households),
        "SocialAccount": frozenset(s for e in entries for s in e.social_accounts),
    }


__all__ = [
    "LEDGER_FILE",
    "Cancelled",
    "Erased",
    "ErasureLedger",
    "LedgerError",
    "TornCancellation",
    "erased_owners",
    "foreign",
    "merge",
    "mirror_paths",
    "read_ledger",
    "read_records",
    "torn_cancellation",
]

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
    entry: str = ""  # this entry's own id, named by a cancellation ("": written before them)
    hub: str = ""  # the hub that erased them (shared.hub_id; "": written before hub ids)
    # Written when a data dir from before the ledger was opened, for a request its
    # ``erasure-requests.json`` records as done (privacy/erasure_upgrade.py).
    migrated: bool = False

    @classmethod
    def of(
        cls, customer_id: str, households: Iterable[str], request: str, social: Iterable[str]
    ) -> Erased:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(customer_id, tuple(households), request, now, tuple(social))


@dataclass(frozen=True)
class Cancelled:
    """Entries of ``request`` that do not count: their erasure did not run (a ledger could not
    be written) and the request was not carried out. ``entries`` names them by id; an entry
    written before ids is cancelled by its request and customer."""

    cancelled: str  # the request
    customer_id: str
    entries: tuple[str, ...] = ()
    at: str = ""

    def cancels(self, e: Erased) -> bool:
        if e.entry:
            return e.entry in self.entries
        return bool(self.cancelled) and (e.request, e.customer_id) == (
            self.cancelled,
            self.customer_id,
        )


Record = Erased | Cancelled


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(record: Record) -> bytes:
    if isinstance(record, Cancelled):
        # No top-level "customer_id": versions before cancellations (4f53eb3 and older) read
        # any line that has one as an erasure, and would erase the very customer whose
        # erasure this line cancels. The blank line after it keeps it from being such a
        # reader's last line, which it would skip as torn: it refuses the ledger instead.
        body = {"cancelled": record.cancelled, "cancelled_customer": record.customer_id,
                "entries": list(record.entries), "at": record.at}  # fmt: skip
        return (json.dumps(body, separators=(",", ":")) + "\n\n").encode()
    body = asdict(record)
    if not record.migrated:
        del body["migrated"]  # only the upgrade's entries say so
    return (json.dumps(body, separators=(",", ":")) + "\n").encode()


def mirror_paths(setting: str) -> list[Path]:
    """``C360_ERASURE_LEDGER``: comma-separated files outside the data dir."""
    return [Path(p.strip()).expanduser() for p in setting.split(",") if p.strip()]


class ErasureLedger:
    def __init__(self, data_dir: Path, mirrors: Sequence[Path] = ()) -> None:
        self.data_dir = data_dir
        self.paths = [data_dir / LEDGER_FILE, *mirrors]

    @classmethod
    def of(cls, settings: Settings) -> ErasureLedger:
        """The data dir's ledger and the ``C360_ERASURE_LEDGER`` mirrors."""
        return cls(settings.resolved_data_dir, mirror_paths(settings.erasure_ledger))

    def record(self, entry: Erased, *, as_is: bool = False) -> Erased:
        """Append durably to the data dir's ledger and every mirror; the entry as written
        (with its id and this hub's, unless ``as_is``: an entry learned from another ledger).
        Raises LedgerError when one cannot be written, after cancelling it in those written."""
        if not as_is:
            try:
                entry = replace(entry, entry=uuid.uuid4().hex, hub=hub_id(self.data_dir))
            except OSError as exc:
                raise LedgerError(
                    f"the hub id in {self.data_dir} cannot be read or made ({exc}); nothing was "
                    "erased. Fix the data dir and run the erasure again"
                ) from exc
        line = _line(entry)
        written: list[Path] = []
        for path in self.paths:
            try:
                _append(path, line)
            except OSError as exc:
                why = (
                    f"the erasure ledger {path} cannot be written ({exc.strerror}); nothing "
                    "was erased. Fix the path (C360_ERASURE_LEDGER) and run the erasure again"
                )
                raise LedgerError(why + self._undo(written, entry)) from exc
            written.append(path)
        return entry

    def append(self, record: Record) -> None:
        """Append one line as it is to the data dir's ledger only (a restored dir learning a
        cancellation); raises LedgerError."""
        path = self.paths[0]
        try:
            _append(path, _line(record))
        except OSError as exc:
            raise LedgerError(f"the erasure ledger {path} cannot be written: {exc}") from exc

    def _undo(self, written: list[Path], entry: Erased) -> str:
        """Cancel ``entry`` in the ledgers ``written``; what could not be, for the message."""
        cancel = _line(Cancelled(entry.request, entry.customer_id, (entry.entry,), _now()))
        left = []
        for path in written:
            try:
                _append(path, cancel)
            except OSError as exc:
                left.append(f"{path} ({exc.strerror})")
        if not left:
            return ""
        return (
            f". The entry could not be cancelled in {', '.join(left)}: it would erase customer "
            f"{entry.customer_id} on a restore. Once it can be written, reject or withdraw "
            f"request {entry.request} (that cancels it), or approve it again"
        )

    def cancel(self, request: str, customer_id: str) -> int:
        """Cancel every entry of ``request`` still counting (an approval whose cancellation
        failed): appended to each ledger that holds one. How many; raises LedgerError."""
        for path in self.paths[1:]:
            # An unmounted mirror may hold this request's entry: fail closed, as recording does.
            if not path.exists() and not path.parent.is_dir():
                raise LedgerError(
                    f"the erasure ledger mirror {path} cannot be reached (its folder is "
                    f"missing): it may name customer {customer_id} for request {request}, and "
                    "a restore would erase them. Mount it (or fix C360_ERASURE_LEDGER) and "
                    "try again"
                )
        held: dict[Path, list[Erased]] = {}
        records = [(p, read_records(p)) for p in self.paths if p.exists()]
        cancels = _cancellations(r for _, recs in records for r in recs)
        for path, recs in records:
            for e in _counting(recs, cancels):
                if e.request == request:
                    held.setdefault(path, []).append(e)
        ids = tuple(dict.fromkeys(e.entry for es in held.values() for e in es if e.entry))
        line = _line(Cancelled(request, customer_id, ids, _now()))
        for path in held:
            try:
                _append(path, line)
            except OSError as exc:
                raise LedgerError(
                    f"the erasure ledger {path} names customer {customer_id} for request "
                    f"{request} (an approval that failed) and cannot be written "
                    f"({exc.strerror}) to cancel it: a restore would erase them. Fix the path "
                    "and try again"
                ) from exc
        return sum(len(es) for es in held.values())

    def entries(self) -> list[Erased]:
        """Every erasure that counts in any of this ledger's files (missing files hold none),
        whichever hub wrote it: the guards that keep erased ids out (imports, upsertCustomer)
        fail closed, and a data dir rebuilt after a loss has a new hub id while its mirror
        still names the old one. Only a restore (hub/cli/erase.py ``reapply``) tells hubs
        apart, and it lists what it skips."""
        return merge([read_records(p) if p.exists() else [] for p in self.paths])


def foreign(record: Record, me: str | None) -> bool:
    """An entry another hub wrote (False when either side has no hub id: cannot tell)."""
    return isinstance(record, Erased) and bool(record.hub and me) and record.hub != me


def read_records(path: Path) -> list[Record]:
    """The lines of one ledger file (entries and cancellations); raises LedgerError when it is
    not one."""
    out: list[Record] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LedgerError(f"cannot read the erasure ledger {path}: {exc.strerror}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if "cancelled" in raw:
                # "cancelled_customer": lines written since; "customer_id": before.
                customer = (
                    raw["cancelled_customer"] if "cancelled_customer" in raw else raw["customer_id"]
                )
                out.append(
                    Cancelled(str(raw["cancelled"]), str(customer),
                              tuple(str(i) for i in raw.get("entries") or ()),
                              str(raw.get("at", "")))
                )  # fmt: skip
                continue
            out.append(
                Erased(str(raw["customer_id"]), tuple(raw.get("households") or ()),
                       str(raw.get("request", "")), str(raw.get("at", "")),
                       tuple(raw.get("social_accounts") or ()), str(raw.get("entry", "")),
                       str(raw.get("hub", "")), raw.get("migrated") is True)
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            if n == len(lines):
                # A torn last line (a crash mid-append): an entry's erasure did not run; a
                # cancellation's entries still count (fail closed, see torn_cancellation).
                continue
            raise LedgerError(f"{path} line {n} is not an erasure ledger entry") from None
    return out


# How every cancellation line starts (the current form and the one before it): a torn last
# line that starts so, or is cut before it ends ("{\"canc"), may be one.
_CANCEL_START = '{"cancelled"'
_CANCELLED_REQUEST = re.compile(r'\{"cancelled":\s*"([^"\\]*)"')


@dataclass(frozen=True)
class TornCancellation:
    """A ledger's last line cut off mid-write that may be a cancellation (see the module's
    docstring: the entries it would cancel still count)."""

    path: Path
    line: int
    request: str  # "" when the line was cut before its request id

    def describe(self) -> str:
        which = f"of request {self.request}" if self.request else "(its request id is cut off)"
        what = (
            f"reject or withdraw request {self.request} again"
            if self.request
            else "find the request in `c360 erase --list` and reject or withdraw it again"
        )
        return (
            f"the erasure ledger {self.path} ends (line {self.line}) in a cancellation {which} "
            "cut off mid-write: it is not honoured, so the erasure it cancels still counts and "
            "a restore erases the customer. If the erasure is not to be carried out, "
            f"{what} (that writes the cancellation whole); if it is, approve the request again"
        )


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def torn_cancellation(path: Path) -> TornCancellation | None:
    """The ledger file's last line when it does not parse (a torn append) and may be a
    cancellation; None otherwise (a torn entry is no erasure: it never ran). Raises
    LedgerError when the file cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise LedgerError(f"cannot read the erasure ledger {path}: {exc.strerror}") from exc
    last = lines[-1].strip() if lines else ""
    if not last or _parses(last):
        return None
    if not (last.startswith(_CANCEL_START) or _CANCEL_START.startswith(last)):
        return None
    found = _CANCELLED_REQUEST.match(last)
    return TornCancellation(path, len(lines), found.group(1) if found else "")


def read_ledger(path: Path) -> list[Erased]:
    """The erasures that count in one ledger file."""
    return merge([read_records(path)])


def merge(ledgers: Iterable[Sequence[Record]]) -> list[Erased]:
    """One entry per customer (households united), in first-seen order, of the entries no
    cancellation in any of ``ledgers`` names."""
    records = [r for ledger in ledgers for r in ledger]
    seen: dict[str, Erased] = {}
    for e in _counting(records, _cancellations(records)):
        old = seen.get(e.customer_id)
        if old is None:
            seen[e.customer_id] = e
        else:
            households = tuple(dict.fromkeys((*old.households, *e.households)))
            social = tuple(dict.fromkeys((*old.social_accounts, *e.social_accounts)))
            seen[e.customer_id] = replace(old, households=households, social_accounts=social)
    return list(seen.values())


def _cancellations(records: Iterable[Record]) -> list[Cancelled]:
    return [r for r in records if isinstance(r, Cancelled)]


def _counting(records: Iterable[Record], cancels: Sequence[Cancelled]) -> Iterator[Erased]:
    """The entries of ``records`` that count: none of ``cancels`` (which may come from other
    ledgers too) names them. The one rule, for ``merge`` and ``ErasureLedger.cancel``."""
    return (e for e in records if isinstance(e, Erased) and not any(c.cancels(e) for c in cancels))


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
