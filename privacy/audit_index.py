"""A sidecar index over the encrypted audit log, so filtered reads decrypt only what matches.

``audit/audit-index.sqlite`` (0600) holds, per record: seq, byte offset and length of its
line, its chain hash, its time, its outcome, and keyed hashes (HMAC-SHA256, 128 bits) of its
subject and of each customer id it lists. No personal value and no plain id: the hash key is
derived from an audit key (HKDF over the ring key named in the index), so the file alone does
not tell whose records are whose.

The index is a cache of the log. The append path adds each batch after its fsync; a read
first catches up on lines it has not seen (a failed index write, another process's appends,
an index deleted by hand) and rebuilds from scratch when the log no longer ends as the index
remembers (a restore, a truncation, a rewrite). ``c360 audit reindex`` rebuilds on demand.
The log and its chain stay the truth: a read re-checks every decrypted record against the
filter, and ``verify`` never looks at the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.keyring import KeyRing, KeyRingError

__all__ = ["INDEX_NAME", "AuditIndex", "Located", "Match"]

INDEX_NAME = "audit-index.sqlite"
_INFO = b"c360 audit index v1"
_CHUNK = 4 << 20

# (seq, offset, length, chain hash, the decrypted record)
Located = tuple[int, int, int, str, dict[str, Any]]
# Decrypts one log line (its parsed JSON) into the record.
Decrypt = Callable[[dict[str, Any]], dict[str, Any]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, off INTEGER NOT NULL, len INTEGER NOT NULL, hash TEXT NOT NULL,
    time TEXT NOT NULL, subject TEXT, outcome TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    customer TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (customer, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_subject ON records (subject, seq);
CREATE INDEX IF NOT EXISTS records_time ON records (time);
"""


@dataclass(frozen=True)
class Match:
    """Where the matching records are (newest first, one page) and how many match in all."""

    spans: list[tuple[int, int, int]]  # (seq, offset, length)
    total: int


class AuditIndex:
    def __init__(self, path: Path, keyring: KeyRing) -> None:
        self.path = path
        self._keyring = keyring
        self._db: sqlite3.Connection | None = None
        self._key = b""

    # -- opening --------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA journal_mode = WAL")
            # The index is a cache of the fsynced log: its commits need not reach the disk
            # before the request is answered (FULL cost a WAL fsync per audited request,
            # twice the log's own). A commit lost in a crash is caught up from the log by
            # the next read (_resume_offset); WAL keeps the file itself consistent.
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def _hash_key(self, db: sqlite3.Connection) -> bytes:
        """The keyed-hash key, from the ring key the index was built with (the active one for
        a new index; an index whose key left the ring is rebuilt under the active one)."""
        row = db.execute("SELECT v FROM meta WHERE k = 'kid'").fetchone()
        kid = row[0] if row else None
        try:
            ring_key = self._keyring.key(kid) if kid else b""
        except KeyRingError:
            ring_key = b""
        if not ring_key:
            kid, ring_key = self._keyring.active_key()
            db.execute("DELETE FROM records")
            db.execute("DELETE FROM customers")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('kid', ?)", (kid,))
        return HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(ring_key)

    def _h(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:32]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._key = self._hash_key(db)
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- writing --------------------------------------------------------------------------
    def _insert(self, db: sqlite3.Connection, located: list[Located]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (seq, off, length, digest, str(r.get("time") or ""),
                 self._h(r["subject"]) if r.get("subject") else None, str(r.get("outcome") or ""))
                for seq, off, length, digest, r in located
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT OR IGNORE INTO customers VALUES (?, ?)",
            [
                (self._h(str(c)), seq)
                for seq, _, _, _, r in located
                for c in r.get("customer_ids") or []
            ],
        )

    def sync(self, fd: int, decrypt: Decrypt, fresh: list[Located] | None = None) -> int:
        """Bring the index level with the log open at ``fd`` (the caller holds its flock):
        lines before ``fresh`` it has not seen are read and decrypted, ``fresh`` (just
        appended, already decrypted) is added as is. Returns how many lines were decrypted."""
        with self._transaction() as db:
            start = self._resume_offset(db, fd)
            end = fresh[0][1] if fresh else os.fstat(fd).st_size
            missing = list(_lines(fd, start, end, decrypt))
            self._insert(db, [*missing, *(fresh or [])])
        return len(missing)

    def _resume_offset(self, db: sqlite3.Connection, fd: int) -> int:
        """Where the unindexed part of the log starts; clears the index if the log no longer
        holds the last line it indexed, as it indexed it."""
        last = db.execute("SELECT seq, off, len, hash FROM records ORDER BY seq DESC LIMIT 1")
        row = last.fetchone()
        if row is None:
            return 0
        seq, off, length, digest = row
        line = os.pread(fd, length, off)
        try:
            entry = json.loads(line)
            same = entry.get("seq") == seq and entry.get("hash") == digest
        except ValueError:
            same = False
        if same and os.pread(fd, 1, off + length) == b"\n":
            return int(off + length + 1)
        db.execute("DELETE FROM records")
        db.execute("DELETE FROM customers")
        return 0

    def rebuild(self, fd: int, decrypt: Decrypt) -> int:
        """Index the whole log again; how many records."""
        with self._transaction() as db:
            db.execute("DELETE FROM records")
            db.execute("DELETE FROM customers")
            located = list(_lines(fd, 0, os.fstat(fd).st_size, decrypt))
            self._insert(db, located)
        return len(located)

    # -- reading --------------------------------------------------------------------------
    def match(
        self,
        *,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        until: str | None = None,
        outcome: str | None = None,
        before_seq: int | None = None,
        limit: int | None = None,
    ) -> Match:
        """The matching records' places, newest first: ``limit`` of them below ``before_seq``,
        and the count of all that match the filter (whatever the page)."""
        db = self._conn()
        self._key = self._hash_key(db)
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if subject is not None:
            where.append("subject = ?")
            params.append(self._h(subject))
        if customer is not None:
            where.append("seq IN (SELECT seq FROM customers WHERE customer = ?)")
            params.append(self._h(customer))
        if since is not None:
            where.append("time >= ?")
            params.append(since)
        if until is not None:
            where.append("time < ?")
            params.append(until)
        if outcome is not None:
            where.append("outcome = ?")
            params.append(outcome)
        clause = " AND ".join(where)
        # The clauses are fixed strings above; values travel as parameters.
        (total,) = db.execute(f"SELECT count(*) FROM records WHERE {clause}", params).fetchone()
        page_where, page_params = clause, list(params)
        if before_seq is not None:
            page_where += " AND seq < ?"
            page_params.append(before_seq)
        sql = f"SELECT seq, off, len FROM records WHERE {page_where} ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            page_params.append(limit)
        spans = [(int(a), int(b), int(c)) for a, b, c in db.execute(sql, page_params)]
        return Match(spans, int(total))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _lines(fd: int, start: int, end: int, decrypt: Decrypt) -> Iterator[Located]:
    """The complete lines between two offsets, parsed and decrypted, with their places (read
    in chunks: a rebuild of a large log does not hold it in memory)."""
    off, rest = start, b""
    while off + len(rest) < end:
        pos = off + len(rest)
        chunk = os.pread(fd, min(_CHUNK, end - pos), pos)
        if not chunk:
            return
        rest += chunk
        *lines, rest = rest.split(b"\n")
        for line in lines:
            if line.strip():
                entry = json.loads(line)
                yield int(entry["seq"]), off, len(line), str(entry["hash"]), decrypt(entry)
            off += len(line) + 1
