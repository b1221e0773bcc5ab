"""The app-wide privacy services a request decides and audits through: the policy engine, the
audit log, the masking key and the policy admin, opened once by the hub's lifespan.

``decide`` keeps engine answers in the process's one decision cache
(privacy/decision_cache.py), keyed by what a decision depends on (the principal, the action,
the policy revision, the resource's type and attributes), and asks the engine through a fair
queue (privacy/decision_queue.py): one batch at a time per token subject, subjects in turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson

from privacy.decision_cache import DecisionCache, asker, question
from privacy.decision_queue import DECISION_SLOTS, FairQueue, caller_of
from privacy.policy_admin import PolicyAdmin
from privacy.stand_ins import told
from privacy.types import (
    AuditUnavailable,
    Decision,
    PolicyEngine,
    PolicyTimeout,
    PolicyUnavailable,
    Principal,
    Resource,
)

log = logging.getLogger("c360.privacy")

# Questions (distinct attribute sets) in one engine evaluation at most: ~0.2 s for a service
# agent's, ~0.8 s for an advisor's (their denials cost more), on an idle core.
DECISION_CHUNK = 32


class AuditSink(Protocol):
    """Where a request's audit records go and are read back: the encrypted, hash-chained
    ``AuditLog`` (privacy/audit.py). ``query``: one page, newest first, and the total."""

    async def append(self, record: dict[str, Any]) -> int: ...

    def read(
        self,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        last: int | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]: ...

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
    ) -> tuple[list[dict[str, Any]], int]: ...


@dataclass
class PrivacyServices:
    """What the lifespan opened; ``engine`` None means it failed to load (fail closed)."""

    engine: PolicyEngine | None
    audit: AuditSink | None
    hmac_key: bytes
    admin: PolicyAdmin | None = None
    engine_error: str = "the policy engine is not loaded"

    # The one cache of policy answers (the engines keep none): see privacy/decision_cache.py.
    decision_cache: DecisionCache = field(default_factory=DecisionCache)
    # Turns at the engine (privacy/decision_queue.py), sized from the engine when asked.
    decision_queue: FairQueue = field(default_factory=FairQueue)
    engine_batches: int = 0  # batches the engine was asked to evaluate (a figure to watch)
    engine_questions: int = 0  # questions (distinct attribute sets) in those batches

    @property
    def revision(self) -> str:
        return self.engine.revision if self.engine is not None else ""

    async def append_audit(self, records: list[dict[str, Any]]) -> None:
        """Make ``records`` durable: one, or the parts of a record naming many customers
        (privacy.audit.split_customers). Appended together, they share the writer's writes
        and fsyncs. AuditUnavailable if the log is not open or any record failed, raised once
        every append has settled (none is left running behind the caller's error)."""
        if self.audit is None:
            raise AuditUnavailable("the audit log is not open")
        audit = self.audit
        if len(records) == 1:  # every request but a campaign's: no task per record
            await audit.append(records[0])
            return
        done = await asyncio.gather(*(audit.append(r) for r in records), return_exceptions=True)
        failed = [x for x in done if isinstance(x, BaseException)]
        if failed:
            raise failed[0]

    async def decide(
        self,
        principal: Principal | None,
        action: str,
        resources: list[Resource],
        fresh: bool = False,
    ) -> dict[str, Decision]:
        """One decision per resource (``fresh``: from the engine, nothing kept or reused).

        Answers are kept in ``decision_cache`` (bounded, emptied by a new policy revision): a
        search that decides every customer (see resolvers/search.py) asks the engine once per
        attribute set, in batches of at most DECISION_CHUNK sets, then costs lookups. The
        principal's subject is who waits in the fair queue, whichever request or websocket
        asked: subjects take the engine's slots in turn, a turn a batch (a subject alone may
        hold them all). An engine that failed or answered nonsense drops
        every kept decision (fail closed: it may be broken or changed); a batch that timed out
        drops none (it was slow, which says nothing of answers the engine gave before)."""
        if self.engine is None:
            raise PolicyUnavailable(self.engine_error)
        if principal is None:
            raise PolicyUnavailable("no principal for a policy decision")
        if self.admin is not None:
            # Another worker may have activated a policy change: decide under the new one.
            try:
                await self.admin.sync()
            except PolicyUnavailable as exc:
                log.warning("policy decision failed (access denied): %s", exc)
                raise
        engine, revision, batch = self.engine, self.revision, uuid.uuid4().hex
        asked_by = asker(principal, action, revision)
        found: dict[str, Decision] = {}
        missing: dict[bytes, list[Resource]] = {}
        # The key as the policy sees it, worked out once per attribute set (a search decides
        # every candidate: 50 000 rows, a few hundred sets).
        seen_as: dict[bytes, bytes] = {}
        for r in resources:
            raw = orjson.dumps([r.type, r.attributes], option=orjson.OPT_SORT_KEYS)
            key = seen_as.get(raw)
            if key is None:
                key = seen_as[raw] = question(asked_by, principal, r.type, r.attributes)
            missing.setdefault(key, []).append(r)
        if not fresh:
            self._take_kept(missing, found)
        # Asked in chunks of at most DECISION_CHUNK questions, each its own turn at the engine
        # and kept as it lands: an evaluation costs ~5-25 ms a question (regopy), so one batch
        # of a first scan's 1,272 attribute sets ran past the timeout and then held its
        # interpreter ~45 s (the thread cannot be stopped), failing every caller meanwhile.
        keys = list(missing)
        for start in range(0, len(keys), DECISION_CHUNK):
            chunk = {k: missing[k] for k in keys[start : start + DECISION_CHUNK]}
            await self._ask(engine, principal, action, chunk, found, fresh, revision)
        # Each answer gets this request's own decision id (the audit record names them), and
        # its reason the asker's name where the policy quoted the stand-in.
        return {
            r.id: replace(
                found[r.id],
                decision_id=f"{batch}-{i}",
                reason=told(found[r.id].reason, principal),
            )
            for i, r in enumerate(resources)
        }

    async def _ask(
        self,
        engine: PolicyEngine,
        principal: Principal,
        action: str,
        missing: dict[bytes, list[Resource]],
        found: dict[str, Decision],
        fresh: bool,
        revision: str,
    ) -> None:
        """One turn at the engine for the questions of ``missing`` (asked under ``revision``):
        answers into ``found`` and, unless ``fresh``, the cache."""
        queue, cache, now = self.decision_queue, self.decision_cache, time.monotonic()
        queue.slots = getattr(engine, "concurrency", DECISION_SLOTS)
        try:
            async with queue.turn(caller_of(principal)):
                if not fresh:
                    # Answered while this batch waited for its turn (another batch of the
                    # same caller asking the same questions, as aliased searches do):
                    # kept answers, not a second evaluation.
                    self._take_kept(missing, found)
                asked = [group[0] for group in missing.values()]
                decided = await engine.decide(principal, action, asked) if asked else {}
                self.engine_batches += 1 if asked else 0
                self.engine_questions += len(asked)
        except PolicyTimeout as exc:
            log.warning("policy decision failed (access denied): %s", exc)
            raise
        except PolicyUnavailable as exc:
            cache.clear()
            # The details stay here; the client is told only that no decision was had.
            log.warning("policy decision failed (access denied): %s", exc)
            raise
        # Kept under the revision they were asked under: a reload meanwhile empties them.
        cache.for_revision(self.revision)
        keep = not fresh and self.revision == revision
        for key, group in missing.items():
            decision = decided[group[0].id]
            if keep:
                cache.put(key, decision, now)
            found.update((r.id, decision) for r in group)

    def _take_kept(self, missing: dict[bytes, list[Resource]], found: dict[str, Decision]) -> None:
        """Move the questions of ``missing`` the cache now answers into ``found``."""
        cache, now = self.decision_cache, time.monotonic()
        cache.for_revision(self.revision)
        for key in list(missing):
            kept = cache.get(key, now)
            if kept is not None:
                found.update((r.id, kept) for r in missing.pop(key))


__all__ = ["DECISION_CHUNK", "AuditSink", "PrivacyServices"]
