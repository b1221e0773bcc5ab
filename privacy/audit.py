"""The audit log: AES-256-GCM encrypted records in an append-only, hash-chained JSON-lines file.

Line format (``$C360_DATA_DIR/audit/audit.log``): ``{"seq", "ts", "kid", "nonce", "ct", "prev",
"hash"}``. ``ct`` and ``nonce`` are base64; the GCM associated data is ``"<seq>:<prev>"``, so
a record cannot be moved or re-chained without the key. ``hash`` is the SHA-256 hex of the
UTF-8 text ``prev\\nseq\\nts\\nkid\\nnonce\\nct`` and ``prev`` is the previous line's hash
("0" * 64 for the first).

A write cut short (a full disk, a crash mid-write) leaves a torn last line. The log heals
itself: a failed append cuts its own bytes off at once, and the next append cuts any torn
tail that is left (one a crash left, or one the first cut could not remove) and records the
cut as an event of its own (operation ``audit_repair``) before its records, so freeing the
space is all an operator has to do. ``verify`` lists those repairs.

A log that no longer holds the last record this instance wrote (cut or rewritten behind the
running hub) is tampering, not a torn tail: the next append would reuse the seqs of the records
that are gone and chain over the cut, and the chain would verify. Unless the last signed
checkpoint already shows the cut (it covers more records than are left: checkpoints pause and
``verify`` fails, privacy.audit_checkpoints), appends are refused (AuditUnavailable, ERROR naming
the seqs that are gone; ``gone`` for /readyz) until the log holds that record again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import threading
from binascii import a2b_base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy import merkle
from privacy.audit_index import INDEX_NAME, AuditIndex, Located
from privacy.keyring import KEYRING_FILE, KeyRing, KeyRingError
from privacy.types import AuditUnavailable, Principal, PrivacyError
from shared.echo import ID_MAX, echo_id

log = logging.getLogger("c360.audit")

__all__ = [
    "GENESIS",
    "REPAIR_OPERATION",
    "AuditIncomplete",
    "AuditLog",
    "AuditRecordUnreadable",
    "ChainState",
    "Ciphers",
    "VerifyResult",
    "chain_hash",
    "check_record",
    "cut_torn_tail",
    "line_still_at",
    "make_record",
    "numbered",
    "split_customers",
    "stamp",
    "write_synced",
]

GENESIS = "0" * 64
# How long the audit writer thread waits for records before it ends.
WRITER_IDLE_S = 5.0
# How long close() waits for the writer to write what is pending (a batch is one write and
# fsync; a disk that hangs longer is logged, and the process may then exit mid-batch).
CLOSE_WAIT_S = 5.0
LOG_NAME = "audit.log"
REPAIR_OPERATION = "audit_repair"
# privacy.audit_checkpoints.CHECKPOINT_LOG (which imports this module): a cut the last signed
# checkpoint shows is reported there, so the writer need not refuse it.
_CHECKPOINT_LOG = "checkpoints.jsonl"


class AuditIncomplete(PrivacyError):
    """A write was applied (its write-ahead intent record is durable) but the request's own
    record could not be written, so the response is withheld. Unlike AUDIT_UNAVAILABLE, the
    write happened: do not retry it blindly."""

    code = "AUDIT_INCOMPLETE"


class AuditRecordUnreadable(PrivacyError):
    """A read came upon a record that does not decrypt (changed on disk, or written under a
    key the ring lacks). The read fails naming it rather than skip it: a record nobody can
    open may be the one a filter asks for (its customer ids are inside it), and an auditor
    must never be handed a trail with a silent hole in it."""

    code = "AUDIT_RECORD_UNREADABLE"

    def __init__(self, seq: object, why: str) -> None:
        super().__init__(
            f"audit record seq {seq} cannot be read ({why}): run `c360 audit verify`, and "
            "restore audit/audit.log from a backup if it names that record"
        )
        self.seq = seq


def chain_hash(prev: str, seq: int, ts: str, kid: str, nonce: str, ct: str) -> str:
    return hashlib.sha256(f"{prev}\n{seq}\n{ts}\n{kid}\n{nonce}\n{ct}".encode()).hexdigest()


def _aad(seq: int, prev: str) -> bytes:
    return f"{seq}:{prev}".encode()


class Ciphers:
    """One AESGCM per key id of a key ring, for reading many records (a cipher per record
    costs more than the decryption)."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._by_kid: dict[str, AESGCM] = {}

    def open(self, kid: str, nonce: str, ct: str, seq: int, prev: str) -> bytes:
        """The plaintext of a record's base64 ``nonce`` and ``ct``; InvalidTag, ValueError,
        TypeError or KeyRingError if it is not authentic (or not base64, or no key)."""
        aead = self._by_kid.get(kid)
        if aead is None:
            aead = self._by_kid[kid] = AESGCM(self._keyring.key(kid))
        return aead.decrypt(a2b_base64(nonce), a2b_base64(ct), _aad(seq, prev))


def check_record(
    line: bytes, seq: int, prev: str, ciphers: Ciphers | None
) -> tuple[str, str, bytes]:
    """Is ``line`` record ``seq`` chained after the record hashed ``prev``: seq, prev, hash
    and (with ``ciphers``) GCM? (why not, "" if it is; its hash; its plaintext, b"" without
    ``ciphers``). The one per-record check of ``AuditLog.verify`` and the checkpoint signer."""
    try:
        entry = orjson.loads(line)
        found, ts, kid = int(entry["seq"]), entry["ts"], entry["kid"]
        nonce, ct, digest = entry["nonce"], entry["ct"], entry["hash"]
    except (ValueError, KeyError, TypeError):
        return "line is not a valid record", prev, b""
    if found != seq:
        return f"found seq {found} where {seq} was expected (removed or reordered)", prev, b""
    if entry.get("prev") != prev:
        return "prev does not match the previous hash", prev, b""
    if chain_hash(prev, seq, ts, kid, nonce, ct) != digest:
        return "hash does not match the record", prev, b""
    plain = b""
    if ciphers is not None:
        try:
            plain = ciphers.open(kid, nonce, ct, seq, prev)
        except (InvalidTag, ValueError, TypeError, KeyRingError) as exc:
            why = str(exc) if isinstance(exc, KeyRingError) else "decryption failed"
            return f"ciphertext not authentic: {why}", prev, b""
    return "", digest, plain


def stamp(moment: dt.datetime) -> str:
    """The records' time format: ISO-8601 UTC to the millisecond, with a Z (a time without
    an offset is read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _now() -> str:
    return stamp(dt.datetime.now(dt.UTC))


def _bound(value: str) -> str:
    """A time bound in the records' own format, so strings compare as times: "12:00:00Z"
    sorts after "12:00:00.000Z" as text, which dropped the records of a bound's first second."""
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    return stamp(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


def make_record(
    *,
    principal: Principal | None,
    operation: str,
    outcome: str,
    request_id: str = "",
    query: str = "",
    customers: dict[str, dict[str, list[str]]] | None = None,
    decision_ids: list[str] | None = None,
    policy_revision: str = "",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit record. ``customers`` maps a customer id to {"revealed": [...], "masked": [...]}
    field names; ``outcome`` is ok, denied or error.

    The ids and the operation name come from the caller (an id asked for that does not exist
    is noted too): one longer than any the hub has is noted capped, with its length and
    SHA-256 (shared.echo.echo_id), so a 100 KB id is not a 100 KB record."""
    customers = _capped_ids(customers or {})
    return {
        "time": _now(),
        "request_id": request_id,
        "subject": principal.subject if principal else None,
        "roles": list(principal.roles) if principal else [],
        "purpose": principal.purpose if principal else None,
        "operation": echo_id(operation),
        "query_sha256": hashlib.sha256(query.encode()).hexdigest() if query else "",
        "customer_ids": sorted(customers),
        "fields": customers,
        "decision_ids": decision_ids or [],
        "policy_revision": policy_revision,
        "outcome": outcome,
        "details": details or {},
    }


def _capped_ids(customers: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    # Every request is checked, so the common case (no long id) copies nothing.
    if all(len(str(cid)) <= ID_MAX for cid in customers):
        return customers
    return {echo_id(cid): fields for cid, fields in customers.items()}


def split_customers(customers: dict[str, Any], per_record: int) -> list[dict[str, Any]]:
    """``customers`` (id -> fields, in order) in parts of at most ``per_record``: the
    customers each of a request's records names (shared.settings.AUDIT_CUSTOMERS_PER_RECORD).
    At least one part, empty when there is no customer (a record is written all the same)."""
    if per_record < 1:
        raise ValueError("per_record must be at least 1")
    if len(customers) <= per_record:
        return [customers]  # every request but a campaign's: no copy on the hot path
    items = list(customers.items())
    return [dict(items[i : i + per_record]) for i in range(0, len(items), per_record)]


def numbered(details: dict[str, Any], part: int, parts: int) -> dict[str, Any]:
    """A record's details with ``part`` of ``parts`` (1-based) when a request's customers are
    named over several records (the records share the request id); one record is unchanged."""
    return details if parts == 1 else {**details, "part": part, "parts": parts}


# (record, the caller's future, the caller's loop)
_Pending = tuple[dict[str, Any], "asyncio.Future[int]", asyncio.AbstractEventLoop]


@dataclass(frozen=True)
class ChainState:
    """Where a verified walk of the chain ended: the next walk resumes here."""

    offset: int = 0  # bytes of the verified prefix
    count: int = 0  # records in it (= the last verified seq)
    prev: str = GENESIS  # the last verified record's hash
    repairs: tuple[tuple[int, dict[str, Any]], ...] = ()
    last_line: bytes = b""  # the last verified line, to notice the prefix changing
    leaves: tuple[bytes, ...] = ()  # Merkle leaf hashes of the verified lines (checkpoints)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str = ""
    # Torn tails the log cut off itself: (seq of the repair record, its details).
    repairs: tuple[tuple[int, dict[str, Any]], ...] = ()
    # Set when ok: pass it back to ``verify(since=...)`` to check only what came after.
    state: ChainState | None = None


class AuditLog:
    """Append with group commit: appends that arrive while a write is in flight share the next
    fsync, and each caller returns once its own record is durable. Safe across processes (an
    exclusive flock around read-tail + write + fsync)."""

    def __init__(self, directory: Path, keyring: KeyRing) -> None:
        self._dir = directory
        self._path = directory / LOG_NAME
        self._keyring = keyring
        # Records waiting for the writer thread, which is started by the first append and
        # woken (when idle) by the next: a hand-off per batch, not per request, and no
        # executor queue or event-loop turn between one batch and the next.
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._writer: threading.Thread | None = None
        self._idle = False
        self._closing = False  # close(): the writer ends once nothing is pending
        # Cuts of torn or failed writes not yet recorded (the record itself may fail too).
        self._cuts: list[dict[str, int]] = []
        self._index = AuditIndex(directory / INDEX_NAME, keyring)
        # Records decrypted by this instance's reads (what an index spares is countable).
        self.decrypted = 0
        # Where this instance's last batch left the log: ((device, inode, size, mtime), seq,
        # hash). A file found exactly so under the lock ends with that batch (appends only
        # grow it, a cut only takes a torn tail after it): its tail need not be read again.
        self._end: tuple[tuple[int, int, int, int], int, str] | None = None
        # The last record this instance wrote: (byte offset its line ends at, the line, seq).
        # Appends only ever add after it: a log that no longer holds it there was cut or
        # rewritten behind this process (checked before each batch that reads the tail).
        self._mine: tuple[int, bytes, int] | None = None
        # Why appends are refused ("" when they are not): records this instance wrote are gone.
        self.gone = ""

    @property
    def path(self) -> Path:
        return self._path

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    async def append(self, record: dict[str, Any]) -> int:
        """Append one record durably; returns its seq. Raises AuditUnavailable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        entry = (record, future, loop)
        with self._lock:
            self._pending.append(entry)
            if self._writer is None:
                writer = threading.Thread(
                    target=self._write_pending, name="c360-audit", daemon=True
                )
                try:
                    writer.start()
                except RuntimeError as exc:  # no thread to be had: this request fails closed
                    self._pending.remove(entry)
                    raise AuditUnavailable(f"the audit writer could not start: {exc}") from exc
                self._writer = writer
            elif self._idle:
                self._wake.notify()
        return await future

    def append_now(self, record: dict[str, Any]) -> int:
        """Append one record durably from synchronous code that may run with no event loop
        (a data-dir upgrade as the data dir is opened); returns its seq. Raises OSError,
        AuditUnavailable. Same lock and chain as ``append``."""
        with self._lock:  # not interleaved with this instance's writer thread
            return self._write_batch([record])[-1]

    def _write_pending(self) -> None:
        """The writer thread: batch after batch, each taking every record appended while the
        one before was written (group commit), with no turn of the event loop in between;
        it ends after :data:`WRITER_IDLE_S` without records (the next append starts one)."""
        try:
            while True:
                with self._lock:
                    while not self._pending:
                        if self._closing:
                            self._writer = None
                            return
                        self._idle = True
                        self._wake.wait(WRITER_IDLE_S)
                        self._idle = False
                        if not self._pending:
                            self._writer = None
                            return
                    batch, self._pending = self._pending, []
                self._write_one_batch(batch)
        finally:
            # A writer that died of the unforeseen must not leave appends waiting on it for
            # ever: the next append starts another, which takes what is pending.
            with self._lock:
                if self._writer is threading.current_thread():
                    self._writer = None

    def close(self, wait_s: float = CLOSE_WAIT_S) -> bool:
        """Write what is pending, end the writer thread (waiting at most ``wait_s``) and close
        the index. The writer is a daemon thread (a hung disk must not keep the process from
        exiting), so without this a batch being written at exit could be cut between the
        log's write and the index's update. False, logged, if the writer was still busy after
        ``wait_s``. An append after close still works: its writer ends once it is written."""
        with self._lock:
            self._closing = True
            writer = self._writer
            self._wake.notify()
        if writer is not None and writer is not threading.current_thread():
            writer.join(wait_s)
            if writer.is_alive():
                log.warning("audit log: the writer was still busy %.1f s after close", wait_s)
                return False
        self._index.close()
        return True

    def _write_one_batch(self, batch: list[_Pending]) -> None:
        # Answered once the batch is on disk and indexed: a response never leaves an index
        # write behind it (a caller that lists the data dir finds it settled).
        try:
            seqs = self._write_batch([record for record, _, _ in batch])
        except Exception as exc:
            log.error("audit append failed: %s", exc)
            # Our own reasons say what to do; an OS error's (with a server path) stays here.
            error = (
                exc
                if isinstance(exc, AuditUnavailable)
                else AuditUnavailable("the audit record could not be written; see the hub log")
            )
            _answer(batch, None, error)
            return
        _answer(batch, seqs, None)

    def _write_batch(self, records: list[dict[str, Any]]) -> list[int]:
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            known, self._end = self._end, None
            if known is not None and known[0] == _file_state(fd):
                start, seq, prev = known[0][2], known[1], known[2]
            else:  # another process wrote meanwhile, or the first batch: read the tail
                self._check_mine(fd)  # before any cut: a torn tail must not hide a tamper
                torn = cut_torn_tail(fd)
                start = os.fstat(fd).st_size
                if torn:
                    log.warning("audit log: cut a torn tail of %d bytes at offset %d", torn, start)
                    self._cuts.append({"truncated_bytes": torn, "offset": start})
                seq, prev = _tail(fd)
            kid, key = self._keyring.active_key()
            aead = AESGCM(key)
            lines, seqs = [], []
            fresh: list[Located] = []
            offset = start
            repairing = bool(self._cuts)
            if repairing:
                repair = make_record(
                    principal=None,
                    operation=REPAIR_OPERATION,
                    outcome="ok",
                    details={"cuts": list(self._cuts)},
                )
                records = [repair, *records]
            for record in records:
                seq += 1
                nonce = os.urandom(12)
                plaintext = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
                ct = base64.b64encode(aead.encrypt(nonce, plaintext, _aad(seq, prev))).decode()
                n64 = base64.b64encode(nonce).decode()
                ts = _now()
                digest = chain_hash(prev, seq, ts, kid, n64, ct)
                line = {"seq": seq, "ts": ts, "kid": kid, "nonce": n64, "ct": ct,
                        "prev": prev, "hash": digest}  # fmt: skip
                text = json.dumps(line, separators=(",", ":"))
                lines.append(text + "\n")
                seqs.append(seq)
                fresh.append((seq, offset, len(text), digest, record))
                offset += len(text) + 1
                prev = digest
            data = "".join(lines).encode()
            try:
                write_synced(fd, data)
            except OSError:
                # None of these records is acknowledged, so none stays: cutting a file needs
                # no space. If even this fails, the next append cuts the torn tail.
                left = os.fstat(fd).st_size - start
                if left > 0 and _truncate_quietly(fd, start):
                    self._cuts.append({"truncated_bytes": left, "offset": start})
                raise
            self._end = (_file_state(fd), seq, prev)
            self._mine = (offset, lines[-1][:-1].encode(), seq)
            self._index_quietly(fd, fresh)
            if repairing:
                self._cuts.clear()
                return seqs[1:]
            return seqs
        finally:
            os.close(fd)  # also releases the flock

    def own_records_gone(self) -> str:
        """Why appends are refused because records this instance wrote are gone ("" if they
        are not): looked at again now (a read, no lock: a line once written never moves), so
        /readyz sees a cut before the next request does."""
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except OSError:
            fd = -1
        # AuditUnavailable: kept in ``gone``; OSError: an unreadable log, the writability probe's.
        try:
            with contextlib.suppress(AuditUnavailable, OSError):
                self._check_mine(fd)
        finally:
            if fd >= 0:
                os.close(fd)
        return self.gone

    def _check_mine(self, fd: int) -> None:
        """AuditUnavailable (logged as an ERROR, kept in ``gone``) when the log open at ``fd``
        (-1: none to be had) no longer holds the last record this instance wrote where it
        wrote it, unless the last signed checkpoint shows the cut (then logged, and the chain
        goes on from what is left, as after any cut checkpoints report)."""
        mine = self._mine
        if mine is None:
            return
        end, line, seq = mine
        start = end - len(line) - 1
        if fd >= 0 and start >= 0 and os.pread(fd, len(line) + 1, start) == line + b"\n":
            if self.gone:
                log.warning("audit log: the records this process wrote are back; appending again")
                self.gone = ""
            return
        left = _last_whole_seq(fd) if fd >= 0 else 0
        if 0 <= left < seq:
            what = (
                f"seq {left + 1}-{seq} are gone (this process wrote up to seq {seq}; the log "
                f"now ends at seq {left})"
            )
        else:
            what = (
                f"seq {seq}, which this process wrote, is no longer where it was written (the "
                f"log was rewritten or replaced; it now ends at seq {left})"
            )
        if 0 <= left < _last_checkpoint_size(self._dir / _CHECKPOINT_LOG):
            # Already reported where cuts are (checkpoints paused, verify and auditChain fail,
            # `c360 audit reanchor`): the hub serves on, chaining after what is left.
            log.error("audit log cut behind this process: %s; checkpoints report it", what)
            self._mine, self.gone = None, ""
            return
        detail = (
            f"the audit log was cut or rewritten behind this process: {what}; appends are "
            "refused until audit/audit.log is restored from a copy that holds them"
        )
        if detail != self.gone:
            log.error("audit log tampered with: %s", detail)
            self.gone = detail
        raise AuditUnavailable(detail)

    def _lines(self) -> list[bytes]:
        try:
            return self._path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return [b""]

    def verify(self, since: ChainState | None = None) -> VerifyResult:
        """Walk the chain: hashes, seq order, links, GCM authenticity, a torn last line.

        ``since`` (a previous result's ``state``) resumes after the records it covered, so a
        long log is walked once and then only its new records are. If the bytes that ended the
        verified prefix are no longer where they were (the file was cut, rewritten or
        replaced), the walk starts over from the first record and names the first bad one."""
        if since is not None and not self._prefix_intact(since):
            since = None
        state = since or ChainState()
        try:
            with self._path.open("rb") as fh:
                fh.seek(state.offset)
                raw = fh.read().split(b"\n")
        except FileNotFoundError:
            raw = [b""]
        prev, count, offset = state.prev, state.count, state.offset
        repairs = list(state.repairs)
        leaves = list(state.leaves) if since is not None else []
        last_line = state.last_line

        def broken(bad: int, why: str) -> VerifyResult:
            return VerifyResult(False, count, bad, why, tuple(repairs))

        ciphers = Ciphers(self._keyring)
        for expected_seq, line in enumerate(raw[:-1], start=count + 1):
            why, digest, plain = check_record(line, expected_seq, prev, ciphers)
            if why:
                return broken(expected_seq, why)
            if b'"audit_repair"' in plain:  # cheap test before parsing
                record = orjson.loads(plain)
                if record.get("operation") == REPAIR_OPERATION:
                    repairs.append((expected_seq, dict(record.get("details") or {})))
            prev = digest
            count += 1
            offset += len(line) + 1
            last_line = line
            leaves.append(merkle.leaf_hash(line))
        if raw[-1] != b"":
            why = "last line is torn (a short write); the hub's next append cuts it off"
            return broken(count + 1, why)
        done = ChainState(offset, count, prev, tuple(repairs), last_line, tuple(leaves))
        return VerifyResult(True, count, repairs=tuple(repairs), state=done)

    def _prefix_intact(self, state: ChainState) -> bool:
        """Does the file still hold ``state``'s last verified line where it ended?"""
        return not state.count or line_still_at(self._path, state.offset, state.last_line)

    def check_keys(self) -> None:
        """KeyRingError when the key ring cannot open the log's last record: a lost or
        replaced key ring (a fresh key under the same id) would otherwise go on writing a
        log whose history nobody can read or verify. Checked when the hub starts and by each
        CLI command before its first record (hub/cli/subject_common.py)."""
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except OSError:
            return  # no log yet, or none to be had: appends say so (AuditUnavailable)
        entry: dict[str, Any] | None = None
        try:
            # A torn tail after it is cut by the first append, under this ring all the same.
            entry = _last_whole_entry(fd)
            if entry is not None:
                self._open_entry(entry)
        except (KeyError, ValueError, TypeError) as exc:  # not a record (JSON, fields)
            raise KeyRingError(
                f"the audit log's last line is not a record ({type(exc).__name__}): run "
                "`c360 audit verify` to see what happened to it"
            ) from exc
        except (InvalidTag, KeyRingError) as exc:
            seq = entry.get("seq") if entry is not None else "?"
            raise KeyRingError(
                f"the audit key ring cannot open the audit log's last record (seq {seq}: "
                f"{type(exc).__name__}): restore keys/{KEYRING_FILE} from a backup, or set "
                "C360_AUDIT_KEYS to the keys the log was written with (if the ring is right, "
                "the record was changed: run `c360 audit verify`)"
            ) from exc
        finally:
            os.close(fd)

    def _open_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.decrypted += 1
        plain = AESGCM(self._keyring.key(entry["kid"])).decrypt(
            base64.b64decode(entry["nonce"]),
            base64.b64decode(entry["ct"]),
            _aad(entry["seq"], entry["prev"]),
        )
        return {"seq": entry["seq"], **orjson.loads(plain)}

    def _read_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        """``_open_entry`` for the reads (``query``, ``read``, the index): a record that does
        not open is AuditRecordUnreadable, naming its seq, not a bare InvalidTag."""
        try:
            return self._open_entry(entry)
        except (InvalidTag, KeyRingError, ValueError, KeyError, TypeError) as exc:
            why = str(exc) if isinstance(exc, KeyRingError) else "not authentic or not a record"
            seq = entry.get("seq", "?") if isinstance(entry, dict) else "?"
            raise AuditRecordUnreadable(seq, why) from exc

    def _index_quietly(self, fd: int, fresh: list[Located] | None = None) -> bool:
        """Bring the index level with the log (the caller holds the log's flock). The index
        is a cache: a failure is logged and the next read catches up or scans."""
        try:
            self._index.sync(fd, self._read_entry, fresh)
        except Exception as exc:
            log.warning("audit index not updated (reads catch up): %s", exc)
            self._index.close()
            return False
        return True

    def reindex(self) -> int:
        """Rebuild the sidecar index from the log; how many records it holds."""
        fd = os.open(self._path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return self._index.rebuild(fd, self._read_entry)
        finally:
            os.close(fd)

    def query(
        self,
        *,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        until: str | None = None,
        outcome: str | None = None,
        before_seq: int | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of matching records, newest first, and how many match in all. Through the
        index, only the page's records are read and decrypted; without one, a full scan."""
        wanted = {
            "subject": subject,
            "customer": customer,
            "since": _bound(since) if since is not None else None,
            "until": _bound(until) if until is not None else None,
            "outcome": outcome,
        }
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except FileNotFoundError:
            return [], 0
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # catch up on whole, acknowledged records only
            found = None
            if self._index_quietly(fd):
                try:
                    found = self._index.match(**wanted, before_seq=before_seq, limit=limit)
                except sqlite3.Error as exc:
                    log.warning("audit index unreadable (scanning the log): %s", exc)
            fcntl.flock(fd, fcntl.LOCK_UN)  # the lines it names are never rewritten
            if found is None:
                return self._scan_page(wanted, before_seq, limit)
            records = [
                self._read_entry(json.loads(os.pread(fd, n, off))) for _, off, n in found.spans
            ]
        finally:
            os.close(fd)
        # The index narrows; the decrypted record decides (a stale index cannot widen a read).
        return [r for r in records if _matches(r, **wanted)], found.total

    def _scan_page(
        self, wanted: dict[str, str | None], before_seq: int | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], int]:
        matching = [r for r in reversed(self._scan()) if _matches(r, **wanted)]
        page = [r for r in matching if before_seq is None or r["seq"] < before_seq]
        return page[:limit] if limit is not None else page, len(matching)

    def _scan(self) -> list[dict[str, Any]]:
        return [self._read_entry(json.loads(line)) for line in self._lines() if line.strip()]

    def read(
        self,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        last: int | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Decrypted records (each with its seq), oldest first, filtered; ``since`` inclusive,
        ``until`` exclusive (ISO-8601 times)."""
        if subject is None and customer is None and since is None and until is None and not last:
            return self._scan()  # everything: no index needed
        records, _ = self.query(
            subject=subject, customer=customer, since=since, until=until, limit=last or None
        )
        return records[::-1]


def _matches(
    record: dict[str, Any],
    subject: str | None,
    customer: str | None,
    since: str | None,
    until: str | None,
    outcome: str | None,
) -> bool:
    return (
        (subject is None or record.get("subject") == subject)
        and (customer is None or customer in record.get("customer_ids", []))
        and (since is None or str(record.get("time", "")) >= since)
        and (until is None or str(record.get("time", "")) < until)
        and (outcome is None or record.get("outcome") == outcome)
    )


def write_synced(fd: int, data: bytes) -> None:
    """``data`` in one write, then fsync; OSError for a short write too (the caller cuts what
    was written: an append is whole or absent)."""
    written = os.write(fd, data)
    if written != len(data):
        # How a full disk (or quota, or file size limit) first shows: writing the rest fails
        # with the system's reason (ENOSPC: "No space left on device"), which the log names.
        written += os.write(fd, data[written:])
        if written != len(data):
            raise OSError(f"short write ({written} of {len(data)} bytes)")
    os.fsync(fd)


def line_still_at(path: Path, end: int, line: bytes) -> bool:
    """Does ``path`` still hold ``line`` (and its newline) ending at byte ``end``? A log that
    only grows keeps the last line a reader checked where it was; a cut or rewritten one
    does not, and the reader must start again."""
    try:
        with path.open("rb") as fh:
            fh.seek(end - len(line) - 1)
            return fh.read(len(line) + 1) == line + b"\n"
    except FileNotFoundError:
        return False


def cut_torn_tail(fd: int) -> int:
    """Cut the bytes after the last newline (a torn last line); returns how many were cut."""
    size = os.fstat(fd).st_size
    pos = size
    while pos > 0:
        step = min(65536, pos)
        chunk = os.pread(fd, step, pos - step)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            keep = pos - step + newline + 1
            break
        pos -= step
    else:
        keep = 0
    if keep == size:
        return 0
    os.ftruncate(fd, keep)
    return size - keep


def _answer(batch: list[_Pending], seqs: list[int] | None, error: Exception | None) -> None:
    """From the writer thread: each caller's seq (or the error), through its own loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int | None]]] = {}
    for i, (_, future, loop) in enumerate(batch):
        by_loop.setdefault(loop, []).append((future, seqs[i] if seqs is not None else None))
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits there
            loop.call_soon_threadsafe(_settle, answers, error)


def _settle(answers: list[tuple[asyncio.Future[int], int | None]], error: Exception | None) -> None:
    for future, seq in answers:
        if future.done():  # its caller gave up
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(seq if seq is not None else 0)


def _file_state(fd: int) -> tuple[int, int, int, int]:
    """(device, inode, size, modification time) of the open file."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _truncate_quietly(fd: int, size: int) -> bool:
    try:
        os.ftruncate(fd, size)
    except OSError as exc:
        log.error("audit log: could not cut a failed write (the next append will): %s", exc)
        return False
    return True


def _last_whole_seq(fd: int) -> int:
    """The seq of the last whole line of the open file (0 if none; -1 if it is no record),
    a torn tail after it left out."""
    chunk = _end_of(fd)
    whole = chunk[: chunk.rfind(b"\n") + 1]
    if not whole:
        return 0 if len(chunk) == os.fstat(fd).st_size else -1
    try:
        return int(orjson.loads(whole[:-1].rsplit(b"\n", 1)[-1])["seq"])
    except (ValueError, KeyError, TypeError):
        return -1


def _last_checkpoint_size(path: Path) -> int:
    """The ``size`` of the checkpoint log's last line (0 when there is none or it is not a
    checkpoint). Not checked further: a forged size pauses checkpoints all the same."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return 0
    try:
        return int(orjson.loads(lines[-1])["size"]) if lines else 0
    except (ValueError, KeyError, TypeError):
        return 0


def _tail(fd: int) -> tuple[int, str]:
    """(seq, hash) of the last record, read backwards from the end of the open file."""
    entry = _last_entry(fd)
    if entry is None:
        return 0, GENESIS
    return int(entry["seq"]), str(entry["hash"])


def _end_of(fd: int) -> bytes:
    """The end of the open file, read backwards until it holds two newlines (its last line
    whole, whatever follows it) or the whole file."""
    chunk, pos = b"", os.fstat(fd).st_size
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        chunk = os.pread(fd, step, pos) + chunk
        if chunk.count(b"\n") >= 2:
            break
    return chunk


def _last_whole_entry(fd: int) -> dict[str, Any] | None:
    """The last whole line of the open file as written, a torn tail after it left out (None
    when there is none)."""
    chunk = _end_of(fd)
    whole = chunk[: chunk.rfind(b"\n") + 1]
    if not whole:
        return None
    entry: dict[str, Any] = json.loads(whole[:-1].rsplit(b"\n", 1)[-1])
    return entry


def _last_entry(fd: int) -> dict[str, Any] | None:
    """The last line of the open file as written (None for an empty file)."""
    chunk = _end_of(fd)
    if not chunk:
        return None
    if not chunk.endswith(b"\n"):
        raise AuditUnavailable("the audit log ends in a torn line; run `c360 audit verify`")
    last = chunk[:-1].rsplit(b"\n", 1)[-1]
    entry: dict[str, Any] = json.loads(last)
    return entry
