"""Per-owner data keys (one AES-256 key per customer or household), stored wrapped by a
master key in ``$C360_DATA_DIR/keys/datakeys.sqlite`` (0600), apart from the graph: a graph
file, log or backup alone never holds a key that opens its ciphertext.

Destroying a key is the erasure (crypto-shredding): the row is deleted with SQLite's
``secure_delete`` on and the file vacuumed, so the wrapped key does not linger in free pages.
The owner stays erased: a digest of its name is kept (``destroyed``), and no key is ever made
for it again, so nothing written later (a post from an erased customer's social account, an
import) is sealed, readable, under a fresh key (:meth:`DataKeyStore.get_or_create_many`).

A lost store is not made anew: the master key file beside it is only ever made after an empty
store (privacy.keyprovider), so a master key file without a store means the store, and with it
every data key, is gone. Starting on an empty one showed every customer as erased and made new
keys over the sealed values of the next writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graph.errors import GraphUnavailable
from privacy.keyprovider import (
    DATAKEYS_FILE,
    MASTER_FILE,
    RESTORE,
    KeyProvider,
    KeyProviderError,
    failure,
)
from shared.change_signal import ChangeSignal

FILE_NAME = DATAKEYS_FILE
# Bumped by every destroy (shared/change_signal.py): each process empties its cache of
# unwrapped keys before its next use, so a destroyed key opens nothing anywhere.
ERASURE_SIGNAL = "erasures.changed"
CACHE_SIZE = 20_000
# SQLite's primary result codes for "the file cannot be written now", not "the query is wrong".
_STORAGE_CODES = {
    sqlite3.SQLITE_FULL: "the disk holding it is full: free space",
    sqlite3.SQLITE_IOERR: "the disk holding it gave an I/O error: check it",
    sqlite3.SQLITE_READONLY: "it is read-only: make it writable",
    sqlite3.SQLITE_CANTOPEN: "it cannot be opened: check the data dir",
}


class KeyStoreUnavailable(GraphUnavailable):
    """The data key store cannot be written now (full disk, I/O error). A GraphUnavailable:
    keys are made inside a graph write (sealing), so every caller already treats it as a
    write that was not acknowledged: GraphQL GRAPH_UNAVAILABLE, the CLI one sentence and exit
    2, an import stopped at its checkpoint."""


@contextlib.contextmanager
def _storage_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        advice = _STORAGE_CODES.get(getattr(exc, "sqlite_errorcode", 0) & 0xFF)
        if advice is None:
            raise
        raise KeyStoreUnavailable(
            f"the data key store {path} cannot be written ({exc}): {advice}"
        ) from exc


class DataKeyStore:
    def __init__(self, path: Path, provider: KeyProvider) -> None:
        self.path = path
        self.provider = provider
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            _refuse_lost_store(path)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS datakeys "
            "(owner TEXT PRIMARY KEY, kid TEXT NOT NULL, wrapped BLOB NOT NULL)"
        )
        # The owners whose key was destroyed, as digests (the erasure ledger names them; this
        # table only has to recognise them): no key is made for one again.
        self._db.execute("CREATE TABLE IF NOT EXISTS destroyed (digest TEXT PRIMARY KEY)")
        # One-time steps done on this store (hub/services.py mark_ledger_erasures).
        self._db.execute("CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY)")
        # Unwrapped keys of recently used owners; a destroy in any process of the data dir
        # (another worker, `c360 erase`) empties it before the next use (``_fresh_cache``).
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._erasures = erasure_signal(path.parent)

    @classmethod
    def in_data_dir(cls, data_dir: Path, provider: KeyProvider) -> DataKeyStore:
        return cls(data_dir / "keys" / FILE_NAME, provider)

    def _remember(self, owner: str, key: bytes) -> None:
        self._cache[owner] = key
        self._cache.move_to_end(owner)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _fresh_cache(self) -> None:
        # Which key another process destroyed is not said: all are read again, from the
        # store, where the destroyed one is absent. Erasures are rare; the cache refills.
        if self._erasures.changed():
            self._cache.clear()

    def get_many(self, owners: list[str]) -> dict[str, bytes]:
        """The data keys that exist (an erased or never-written owner is absent)."""
        self._fresh_cache()
        out = {o: self._cache[o] for o in owners if o in self._cache}
        missing = [o for o in dict.fromkeys(owners) if o not in out]
        query = "SELECT owner, kid, wrapped FROM datakeys WHERE owner IN ({})"
        for owner, kid, wrapped in self._select_in(query, missing):
            key = self.provider.unwrap(kid, wrapped, owner.encode())
            self._remember(owner, key)
            out[owner] = key
        return out

    def _select_in(self, query: str, keys: list[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``query`` (its ``IN ({})`` filled with ``keys``), asked in chunks of
        500: SQLite caps how many parameters one statement takes."""
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            yield from self._db.execute(query.format(",".join("?" * len(chunk))), chunk)

    def get_or_create_many(self, owners: list[str]) -> dict[str, bytes]:
        """The data keys of ``owners``, made for those that have none; an owner whose key was
        destroyed (erased) gets none and is absent: what would be sealed for it is not
        written (privacy.fieldcrypt)."""
        found = self.get_many(owners)
        wanted = [o for o in dict.fromkeys(owners) if o not in found]
        erased = self.destroyed(wanted) if wanted else set()
        new = {o: secrets.token_bytes(32) for o in wanted if o not in erased}
        if new:
            rows = [(o, *w) for o, w in zip(new, self._wrap_all(new), strict=True)]
            # OR IGNORE: another process may have created the key meanwhile; re-read then.
            # Not for an owner destroyed meanwhile (an erasure in another process): checked
            # in the same statement, so it stays without a key.
            with self._transaction():
                self._db.executemany(
                    "INSERT OR IGNORE INTO datakeys SELECT ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM destroyed WHERE digest = ?)",
                    [(*row, _digest(row[0])) for row in rows],
                )
            # Where the stored wrapping is ours, the key is the one we made: no unwrap needed.
            ours = {o: w for o, _, w in rows}
            stored = self._wrapped(list(new))
            lost = [o for o in new if stored.get(o) != ours[o]]
            for owner in new:
                if owner not in lost:
                    self._remember(owner, new[owner])
                    found[owner] = new[owner]
            found.update(self.get_many(lost) if lost else {})
        return found

    def _wrap_all(self, keys: dict[str, bytes]) -> list[tuple[str, bytes]]:
        # A provider that wraps a batch at once (one look at its key file) is asked once.
        wrap_many = getattr(self.provider, "wrap_many", None)
        if wrap_many is not None:
            return list(wrap_many([(k, o.encode()) for o, k in keys.items()]))
        return [self.provider.wrap(k, o.encode()) for o, k in keys.items()]

    def _wrapped(self, owners: list[str]) -> dict[str, bytes]:
        query = "SELECT owner, wrapped FROM datakeys WHERE owner IN ({})"
        return dict(self._select_in(query, owners))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        # One commit (one fsync) per batch, not per key.
        with _storage_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back by itself (it does on a full disk): a ROLLBACK
                # then fails ("no transaction is active") and would hide the real error.
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

    def destroyed(self, owners: list[str]) -> set[str]:
        """Those of ``owners`` whose key was destroyed (erased)."""
        digests = {_digest(o): o for o in owners}
        query = "SELECT digest FROM destroyed WHERE digest IN ({})"
        return {digests[d] for (d,) in self._select_in(query, list(digests))}

    def mark_destroyed(self, owners: list[str], marker: str) -> int:
        """Record ``owners`` as erased (no key is made for them again) and set ``marker``, in
        one transaction; how many were not recorded yet. Keys they have are left as they are
        (destroying one is an erasure's, ``c360 erase --reapply``'s): this only keeps new
        ones from being made. Idempotent."""
        with self._transaction():
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO destroyed VALUES (?)", [(_digest(o),) for o in owners]
            )
            added = self._db.total_changes - before
            self._db.execute("INSERT OR IGNORE INTO marks VALUES (?)", (marker,))
        return added

    def marked(self, marker: str) -> bool:
        """Whether a one-time step named ``marker`` ran on this store (``mark_destroyed``)."""
        row = self._db.execute("SELECT 1 FROM marks WHERE name = ?", (marker,)).fetchone()
        return row is not None

    def destroy(self, owner: str) -> bool:
        """Forget ``owner``'s key (True when there was one) and never make it one again; the
        latter also when it had none (an erasure resumed or applied again after a restore
        marks the owner erased)."""
        self._cache.pop(owner, None)
        with _storage_errors(self.path):  # an erasure on a full disk: one sentence, as writes
            with self._transaction():
                self._db.execute("INSERT OR IGNORE INTO destroyed VALUES (?)", (_digest(owner),))
                deleted = self._db.execute("DELETE FROM datakeys WHERE owner = ?", (owner,))
                gone = deleted.rowcount > 0
            if gone:
                self._db.execute("VACUUM")
        # Also when the row was gone already: a destroy resumed after a crash before the
        # signal still tells the other processes.
        self._erasures.bump()
        return gone

    def in_use(self) -> str | None:
        """Why keys made alongside this store (blind index, name tokens) must not be made anew
        (None: nothing was sealed yet): the store holds data keys, so sealed values exist."""
        (count,) = self._db.execute("SELECT count(*) FROM datakeys").fetchone()
        if not count:
            return None
        return f"the data key store {self.path} holds {count} data keys (values were sealed)"

    def check(self) -> None:
        """KeyProviderError when the store's file or its master keys are gone or damaged since
        they were opened (/readyz: this process still holds them, a restart would not)."""
        if not self.path.exists():
            raise failure(
                f"the data key store {self.path} is gone: {RESTORE}; the hub does not restart "
                "without it"
            )
        check = getattr(self.provider, "check", None)
        if check is not None:
            check()

    def status(self) -> dict[str, int]:
        """How many data keys are wrapped under each master key."""
        return dict(self._db.execute("SELECT kid, count(*) FROM datakeys GROUP BY kid").fetchall())

    def rewrap(self, batch: int = 1000) -> int:
        """Re-wrap every data key not under the active master key (values stay as they are)."""
        active = self.provider.active_id
        done = 0
        while True:
            rows = self._db.execute(
                "SELECT owner, kid, wrapped FROM datakeys WHERE kid <> ? LIMIT ?", (active, batch)
            ).fetchall()
            if not rows:
                return done
            updates = []
            for owner, kid, wrapped in rows:
                key = self.provider.unwrap(kid, wrapped, owner.encode())
                updates.append((*self.provider.wrap(key, owner.encode()), owner))
            with self._transaction():
                self._db.executemany(
                    "UPDATE datakeys SET kid = ?, wrapped = ? WHERE owner = ?", updates
                )
            done += len(updates)

    def close(self) -> None:
        self._db.close()


def _refuse_lost_store(path: Path) -> None:
    """KeyProviderError when ``path`` is missing but its master key file exists: the store was
    lost (see the module's doc), not never made."""
    master = path.parent / MASTER_FILE
    if master.exists():
        raise failure(
            f"the data key store {path} is missing, but the master key file {master} shows "
            f"one was made: {RESTORE} (an empty store would show every customer as erased)"
        )


def _digest(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()


def erasure_signal(keys_dir: Path) -> ChangeSignal:
    """The signal a destroyed data key bumps (its token also keys the cursor seal:
    resolvers/pagination.py), in the data dir's ``keys/``."""
    return ChangeSignal(keys_dir / ERASURE_SIGNAL)


__all__ = ["DataKeyStore", "KeyProviderError", "KeyStoreUnavailable", "erasure_signal"]
