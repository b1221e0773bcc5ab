"""Erasure requests decided by more than one officer at a time, or left half-done: two
approvals at once (exactly one carries it out), an approval stopped by a crash (its claim runs
out, then it can be completed), one still running past its lease (it keeps its claim), a
proposer withdrawing their own request (with a reason), and the CLI's refusals audited as the
API's are. Through the real HTTP app, CLI, request file, FalkorDB and audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from typer.testing import CliRunner

from graph.connect import store_session
from graph.repositories.erasure import customer_footprint, delete_customer
from hub.app import create_app
from hub.cli import app as cli
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.erasure import CLAIM_LEASE, ErasureRequest, ErasureStore, erase_customer
from privacy.erasure_ledger import LEDGER_FILE, Erased, ErasureLedger, read_ledger
from privacy.keyring import KeyRing
from tests.privacy.test_erasure_backups import has_key
from tests.privacy.test_subject_requests import (
    APPROVE,
    CID,
    EXAMPLES,
    LIST,
    ONE,
    PROPOSE,
    REJECT,
    VALUES,
    Officer,
    cli_run,
    imported,
    nodes,
)
from tests.server_client import server_client

OTHER = "C900002"
WITHDRAW = """mutation($rid: String!, $reason: String) {
  withdrawErasure(requestId: $rid, reason: $reason) {
    id status proposer withdrawnAt withdrawReason approver rejectedBy } }"""
LEASE_S = 2.0  # C360_ERASURE_CLAIM_LEASE_S in the lease tests
REFUSED = "erasure_refused"  # the details key of a CLI refusal's audit record


@pytest.fixture
def data() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360w-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(EXAMPLES, path / "crm")
    yield path / "d"
    shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def served(data: Path, **settings: Any) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app (to reach its audit log) and a client of it."""
    app = create_app(Settings(data_dir=data, introspection=False, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            yield app, c


def hold_erase_intents(app: Starlette, parties: int) -> Callable[[], None]:
    """Make the race deterministic: each approval's write-ahead intent record (written after
    it read the request pending, before it claims it) waits until ``parties`` approvals have
    written theirs, so every one of them has read the request pending before any claims it.
    The log itself is the real one; the returned callable lets the others through."""
    audit = app.state.privacy.services.audit
    real: Callable[[dict[str, Any]], Awaitable[int]] = audit.append
    arrived, everyone_in = [0], asyncio.Event()

    async def append(record: dict[str, Any]) -> int:
        if record["operation"] == "intent" and "erase" in record["details"]:
            arrived[0] += 1
            if arrived[0] == parties:
                everyone_in.set()
            await asyncio.wait_for(everyone_in.wait(), 60)
        return await real(record)

    audit.append = append
    return everyone_in.set


def ledger(data: Path) -> list[str]:
    """The customers in the data dir's erasure ledger, one per line written."""
    path = data / LEDGER_FILE
    return [e.customer_id for e in read_ledger(path)] if path.exists() else []


def audited(data: Path, key: str) -> list[dict[str, Any]]:
    log = AuditLog(data / "audit", KeyRing.load(data))
    assert log.verify().ok
    return [r for r in log.read() if key in r.get("details", {})]


async def cli_refused(data: Path, *args: str) -> str:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200"}
    done = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
    assert done.exit_code == 2, done.output
    return done.output


async def test_two_officers_approving_at_once_erase_once(data: Path) -> None:
    await imported(data)
    async with served(data) as (app, c):
        po1, po2, po3 = Officer(c, data, "po1"), Officer(c, data, "po2"), Officer(c, data, "po3")
        rid = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]
        release = hold_erase_intents(app, parties=2)

        async def approve(officer: Officer) -> dict[str, Any]:
            try:
                return await officer.gql(APPROVE, rid=rid)
            finally:
                release()  # one refused before its intent must not hold the other

        answers = await asyncio.gather(approve(po2), approve(po3))
        done = [a for a in answers if "errors" not in a]
        refused = [a for a in answers if "errors" in a]
        assert len(done) == 1 and len(refused) == 1, answers
        winner = done[0]["data"]["approveErasure"]
        assert winner["status"] == "done" and winner["erased"]["key_destroyed"] is True
        (error,) = refused[0]["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "requestId"}, error
        assert f"{rid} is approved already" in error["message"]
        assert f"{winner['approver']} is carrying it out" in error["message"]
        (listed,) = nodes(await po1.gql(LIST, s=None))
        assert (listed["status"], listed["approver"]) == ("done", winner["approver"])

    # One erasure: one ledger entry, one erasure audit record (by the winner).
    assert ledger(data) == [CID]
    (erasure,) = audited(data, "erasure")
    assert erasure["subject"] == winner["approver"]


async def test_an_approval_stopped_by_a_crash_is_completed_after_its_claim_runs_out(
    data: Path,
) -> None:
    await imported(data)
    now = dt.datetime.now(dt.UTC)
    async with served(data) as (_, c):
        po1, po3 = Officer(c, data, "po1"), Officer(c, data, "po3")
        crashed = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]
        running = (await po1.gql(PROPOSE, id=OTHER, reason="t2"))["data"]["proposeErasure"]["id"]
        # po2's approvals claimed both (the real claim) and stopped before erasing anything:
        # one longer ago than the lease, one just now (it may still be running).
        requests = ErasureStore(data)
        requests.claim(crashed, "po2", now=now - CLAIM_LEASE - dt.timedelta(minutes=1))
        requests.claim(running, "po2", now=now - dt.timedelta(minutes=1))

        # A claim that ran out is taken by the next approval, which completes the erasure.
        done = await po3.gql(APPROVE, rid=crashed)
        assert "errors" not in done, done
        assert done["data"]["approveErasure"]["status"] == "done"
        assert done["data"]["approveErasure"]["approver"] == "po3"
        assert (await po3.gql(ONE, id=CID))["data"]["customer"] is None

        # One still held is refused, saying until when; nor can it be rejected meanwhile.
        held = await po3.gql(APPROVE, rid=running)
        assert held["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", held
        assert "po2 is carrying it out" in held["errors"][0]["message"]
        assert "approved again after" in held["errors"][0]["message"]
        rejected = await po3.gql(REJECT, rid=running, reason="x")
        assert "approved already" in rejected["errors"][0]["message"], rejected
        assert (await po3.gql(ONE, id=OTHER))["data"]["customer"]["id"] == OTHER
        # The proposer still cannot complete it (four eyes hold for a claim that ran out).
        requests.unclaim(ErasureStore(data).load()[running])
        requests.claim(running, "po2", now=now - CLAIM_LEASE - dt.timedelta(minutes=1))
        own = await po1.gql(APPROVE, rid=running)
        assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN", own

    out = await cli_refused(data, "erase", "--request", running, "--approved-by", "po1")
    assert "cannot approve" in out
    assert ledger(data) == [CID]
    requests.unclaim(ErasureStore(data).load()[running])
    requests.claim(running, "po2", now=now - dt.timedelta(minutes=1))
    out = await cli_refused(data, "erase", "--request", running, "--approved-by", "po3")
    assert "po2 is carrying it out" in out
    # Run out, the CLI completes it as well.
    requests.unclaim(ErasureStore(data).load()[running])
    requests.claim(running, "po2", now=now - CLAIM_LEASE - dt.timedelta(minutes=1))
    out = await cli_run(data, "erase", "--request", running, "--approved-by", "po3")
    assert f"erased customer {OTHER}" in out
    assert ledger(data) == [CID, OTHER]


async def test_a_proposer_withdraws_their_own_request_only(data: Path) -> None:
    await imported(data)
    async with served(data) as (_, c):
        po1, po2 = Officer(c, data, "po1"), Officer(c, data, "po2")
        rid = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]

        # Another officer cannot withdraw it (they reject it, with a reason).
        other = await po2.gql(WITHDRAW, rid=rid)
        assert other["data"] is None
        assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN", other
        assert "only the officer who proposed" in other["errors"][0]["message"]
        agent = Officer(c, data, "sa1", role="service_agent", purpose="service")
        denied = await agent.gql(WITHDRAW, rid=rid)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", denied

        blank = await po1.gql(WITHDRAW, rid=rid, reason="  ")
        assert blank["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "reason"}
        withdrawn = await po1.gql(WITHDRAW, rid=rid, reason="ticket 4711 closed")
        assert "errors" not in withdrawn, withdrawn
        got = withdrawn["data"]["withdrawErasure"]
        assert (got["status"], got["proposer"]) == ("withdrawn", "po1")
        assert got["withdrawnAt"] and got["approver"] is None and got["rejectedBy"] is None
        assert got["withdrawReason"] == "ticket 4711 closed"

        # Closed: neither approved, rejected nor withdrawn again; a new request may be made.
        for officer, query, variables in (
            (po2, APPROVE, {"rid": rid}),
            (po2, REJECT, {"rid": rid, "reason": "x"}),
            (po1, WITHDRAW, {"rid": rid}),
        ):
            closed = await officer.gql(query, **variables)
            assert closed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", closed
            assert "withdrawn already" in closed["errors"][0]["message"]
        assert (await po2.gql(ONE, id=CID))["data"]["customer"]["name"] == VALUES["name"]
        assert [r["id"] for r in nodes(await po2.gql(LIST, s="withdrawn"))] == [rid]
        again = await po2.gql(PROPOSE, id=CID, reason="t2")
        assert again["data"]["proposeErasure"]["status"] == "pending", again

    assert ledger(data) == []
    (record,) = audited(data, "erasure_withdrawn")
    assert record["subject"] == "po1" and record["customer_ids"] == [CID]
    assert record["details"]["erasure_withdrawn"] == {
        "request": rid, "customer": CID, "by": "po1", "reason": "ticket 4711 closed"
    }  # fmt: skip
    records = AuditLog(data / "audit", KeyRing.load(data)).read()
    assert [r for r in records if r["outcome"] == "denied" and r["subject"] == "po2"]


async def test_cli_withdraws_only_for_the_proposer(data: Path) -> None:
    await imported(data)
    out = await cli_run(data, "erase", "--customer", CID, "--reason", "t1", "--by", "po1")
    found = re.search(r"erasure request (er-\w+)", out)
    assert found, out
    rid = found[1]
    out = await cli_refused(data, "erase", "--withdraw", rid, "--by", "po2")
    assert "only the officer who proposed" in out
    assert "give --by" in await cli_refused(data, "erase", "--withdraw", rid)
    out = await cli_run(data, "erase", "--withdraw", rid, "--by", "po1", "--reason", "dup 4712")
    assert f"erasure request {rid} for customer {CID} withdrawn by po1" in out
    out = await cli_refused(data, "erase", "--request", rid, "--approved-by", "po2")
    assert "withdrawn already" in out
    listed = await cli_run(data, "erase", "--list", "--status", "withdrawn")
    assert rid in listed and "po1" in listed and "dup 4712" in listed
    assert ErasureStore(data).load()[rid].withdraw_reason == "dup 4712"
    (record,) = audited(data, "erasure_withdrawn")
    assert record["subject"] == "po1" and record["operation"] == "cli erase withdraw"
    assert record["details"]["erasure_withdrawn"]["reason"] == "dup 4712"
    assert ledger(data) == []


async def test_cli_refusals_are_audited_as_the_apis(data: Path) -> None:
    """Not theirs to decide (another officer withdrawing, the proposer approving or
    rejecting): denied; a closed or unknown request: error, as the API records them."""
    await imported(data)
    out = await cli_run(data, "erase", "--customer", CID, "--reason", "t1", "--by", "po1")
    found = re.search(r"erasure request (er-\w+)", out)
    assert found, out
    rid = found[1]
    assert "only the officer who proposed" in await cli_refused(
        data, "erase", "--withdraw", rid, "--by", "po2"
    )
    assert "cannot approve" in await cli_refused(
        data, "erase", "--request", rid, "--approved-by", "PO1 "
    )
    assert "cannot reject" in await cli_refused(
        data, "erase", "--reject", rid, "--by", "po1", "--reason", "no"
    )
    assert "cannot approve" in await cli_refused(
        data, "erase", "--customer", OTHER, "--reason", "t2", "--by", "po1", "--approved-by", "po1"
    )
    await cli_run(data, "erase", "--withdraw", rid, "--by", "po1")
    assert "withdrawn already" in await cli_refused(
        data, "erase", "--reject", rid, "--by", "po2", "--reason", "no"
    )
    assert "no erasure request" in await cli_refused(
        data, "erase", "--request", "er-nonesuch", "--approved-by", "po2"
    )

    refusals = [
        (r["subject"], r["operation"], r["outcome"], r["customer_ids"], r["details"][REFUSED])
        for r in audited(data, REFUSED)
    ]
    assert [r[:4] for r in refusals] == [
        ("po2", "cli erase withdraw", "denied", [CID]),
        ("PO1 ", "cli erase", "denied", [CID]),
        ("po1", "cli erase reject", "denied", [CID]),
        ("po1", "cli erase", "denied", [OTHER]),
        ("po2", "cli erase reject", "error", [CID]),
        ("po2", "cli erase", "error", []),
    ]
    assert [(r[4]["request"], r[4]["action"]) for r in refusals] == [
        (rid, "withdraw"), (rid, "approve"), (rid, "reject"), (None, "approve"),
        (rid, "reject"), ("er-nonesuch", "approve"),
    ]  # fmt: skip
    assert "only the officer who proposed" in refusals[0][4]["error"]
    # Nothing was proposed for OTHER (refused before proposing), nothing erased.
    assert [r.customer_id for r in ErasureStore(data).list()] == [CID]
    assert ledger(data) == []


def test_the_claim_lease_is_a_validated_setting() -> None:
    assert Settings().erasure_claim_lease_s == CLAIM_LEASE.total_seconds() == 900
    with pytest.raises(ValidationError, match="erasure_claim_lease_s"):
        Settings(erasure_claim_lease_s=0.5)
    env = {"C360_ERASURE_CLAIM_LEASE_S": "x", "COLUMNS": "200"}
    done = CliRunner().invoke(cli, ["erase", "--list"], env=env)
    assert done.exit_code == 2 and "C360_ERASURE_CLAIM_LEASE_S='x'" in done.output, done.output


@contextmanager
def slow_log_rewrites(data: Path, per_key_s: float) -> Iterator[None]:
    """The graph server's log rewrite, the erasure's last step (the compaction), made slow
    for real: redis's ``rdb-key-save-delay`` holds the rewrite process on every key it writes.
    Set on the server's own socket, as an operator's redis-cli would."""
    with server_client(data / "falkordb" / "falkordb.sock") as server:
        server.config_set("rdb-key-save-delay", int(per_key_s * 1_000_000))
        try:
            yield
        finally:
            server.config_set("rdb-key-save-delay", 0)


async def claimed(data: Path, rid: str) -> ErasureRequest:
    """The request once an approval has claimed it."""
    for _ in range(600):
        request = ErasureStore(data).load()[rid]
        if request.status == "approved":
            return request
        await asyncio.sleep(0.05)
    raise AssertionError(f"{rid} was never claimed")


async def test_a_running_erasure_keeps_its_claim_past_its_lease(data: Path) -> None:
    """An erasure that runs longer than the lease (a slow log compaction) renews its claim:
    another officer's approval meanwhile is refused, from the API and from the CLI, and the
    ledger holds the erasure once. Without the renewals the second approval would take the
    claim once the lease ran out."""
    await imported(data)
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200", "C360_ERASURE_CLAIM_LEASE_S": "2"}
    # The slow run outlasts no request deadline (the default 15 s).
    slow = {"erasure_claim_lease_s": LEASE_S, "request_timeout_s": 120.0}
    async with served(data, **slow) as (_, c):
        po1, po2, po3 = Officer(c, data, "po1"), Officer(c, data, "po2"), Officer(c, data, "po3")
        api = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]
        cli_rid = (await po1.gql(PROPOSE, id=OTHER, reason="t2"))["data"]["proposeErasure"]["id"]
        with slow_log_rewrites(data, 4 * LEASE_S):
            # From the API: po2's approval runs; po3's, past the lease, is refused.
            first = asyncio.create_task(po2.gql(APPROVE, rid=api))
            held = await claimed(data, api)
            assert held.approver == "po2"
            await asyncio.sleep(LEASE_S + 1.5)  # an unrenewed claim has run out by now
            assert not first.done()
            second = await po3.gql(APPROVE, rid=api)
            from_cli = await cli_refused(data, "erase", "--request", api, "--approved-by", "po3")
            assert not first.done()  # still running: the refusals came during the run
            done = await first

            # From the CLI: its run keeps its claim the same way.
            run = asyncio.create_task(
                asyncio.to_thread(
                    CliRunner().invoke,
                    cli,
                    ["erase", "--request", cli_rid, "--approved-by", "po2"],
                    env=env,
                )
            )
            await claimed(data, cli_rid)
            await asyncio.sleep(LEASE_S + 1.5)
            assert not run.done()
            third = await po3.gql(APPROVE, rid=cli_rid)
            assert not run.done()
            ran = await run

    for refused in (second, third):
        (error,) = refused["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "requestId"}, error
        assert "is approved already: po2 is carrying it out" in error["message"]
    assert "is approved already: po2 is carrying it out" in from_cli
    assert "errors" not in done, done
    approved = done["data"]["approveErasure"]
    assert (approved["status"], approved["approver"]) == ("done", "po2")
    assert ran.exit_code == 0 and f"erased customer {OTHER}" in ran.output, ran.output
    after = ErasureStore(data).load()
    assert [(after[r].status, after[r].approver) for r in (api, cli_rid)] == [("done", "po2")] * 2
    assert after[api].claimed_at == held.claimed_at  # renewed, not claimed again
    assert ledger(data) == [CID, OTHER]  # once each
    assert [r["subject"] for r in audited(data, "erasure")] == ["po2", "po2"]


async def test_a_claim_whose_holder_died_runs_out_after_its_lease(data: Path) -> None:
    """A claim nobody renews (its holder was killed) holds for the lease, then another
    officer's approval takes it and completes the erasure."""
    await imported(data)
    async with served(data, erasure_claim_lease_s=LEASE_S) as (_, c):
        po1, po3 = Officer(c, data, "po1"), Officer(c, data, "po3")
        rid = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]
        # po2's approval claimed it (the real claim) and died before it renewed it.
        dead = ErasureStore(data, dt.timedelta(seconds=LEASE_S)).claim(rid, "po2")
        assert dead.lease_until is not None
        held = await po3.gql(APPROVE, rid=rid)
        assert "po2 is carrying it out" in held["errors"][0]["message"], held
        assert f"approved again after {dead.lease_until}" in held["errors"][0]["message"]
        until = dt.datetime.strptime(dead.lease_until, "%Y-%m-%dT%H:%M:%SZ")
        left = until.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
        assert left <= dt.timedelta(seconds=LEASE_S + 1)
        await asyncio.sleep(left.total_seconds() + 0.2)
        done = await po3.gql(APPROVE, rid=rid)
        assert "errors" not in done, done
        approved = done["data"]["approveErasure"]
        assert (approved["status"], approved["approver"]) == ("done", "po3")
    assert ledger(data) == [CID]


async def test_a_run_that_died_after_removing_the_customer_is_completed(data: Path) -> None:
    """po2's run claimed the request, wrote the ledger and removed the customer's node, then
    died before destroying the data key and compacting the log (the real steps, cut short).
    Once the claim has run out the next approval completes it: the key is destroyed, the
    ledger keeps one entry; it is not answered "no such customer" and put back to pending.
    One that died right after writing the ledger is run again without a second entry."""
    await imported(data)
    async with served(data) as (app, c):
        po1, po3 = Officer(c, data, "po1"), Officer(c, data, "po3")
        rid = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]
        store = await app.state.graph.get()
        found = await customer_footprint(store, CID)
        assert found is not None
        households = [h["id"] for h in found["households"] if h["last"]]
        social = sorted(found["socialAccounts"])
        ran_out = dt.datetime.now(dt.UTC) - CLAIM_LEASE - dt.timedelta(minutes=1)
        ErasureStore(data).claim(rid, "po2", now=ran_out)
        ErasureLedger(data).record(Erased.of(CID, households, rid, social))
        await delete_customer(store, CID, households)
        assert has_key(data, f"Customer:{CID}")

        done = await po3.gql(APPROVE, rid=rid)
        assert "errors" not in done, done
        approved = done["data"]["approveErasure"]
        assert (approved["status"], approved["approver"]) == ("done", "po3")
        assert approved["erased"]["resumed"] is True
        assert approved["erased"]["key_destroyed"] is True
        assert approved["erased"]["households_erased"] == households

        other = (await po1.gql(PROPOSE, id=OTHER, reason="t2"))["data"]["proposeErasure"]["id"]
        ErasureStore(data).claim(other, "po2", now=ran_out)
        held = await customer_footprint(store, OTHER)
        assert held is not None
        last = [h["id"] for h in held["households"] if h["last"]]
        ErasureLedger(data).record(Erased.of(OTHER, last, other, held["socialAccounts"]))
        again = await po3.gql(APPROVE, rid=other)
        assert again["data"]["approveErasure"]["status"] == "done", again
        assert "resumed" not in again["data"]["approveErasure"]["erased"]

    assert not has_key(data, f"Customer:{CID}") and not has_key(data, f"Customer:{OTHER}")
    assert ledger(data) == [CID, OTHER]  # one entry each
    first, second = audited(data, "erasure")
    assert (first["subject"], second["subject"]) == ("po3", "po3")
    assert first["details"]["erasure"]["resumed"] is True


async def test_a_resumed_erasure_whose_ledger_cannot_be_read_stays_approved(data: Path) -> None:
    """po2's runs wrote the ledger and removed the customers' nodes, then died; the ledger
    then cannot be read (a line in it damaged). The next approval cannot tell whether this
    request erased them, so the request stays approved (API and CLI alike), never pending: a
    rejection or withdrawal would cancel the entry of an erasure that ran, and a restore of
    an older backup would bring the customer back. Once the ledger reads again, approving
    completes it."""
    await imported(data)
    path = data / LEDGER_FILE
    async with served(data) as (app, c):
        po1, po3 = Officer(c, data, "po1"), Officer(c, data, "po3")
        store = await app.state.graph.get()
        ran_out = dt.datetime.now(dt.UTC) - CLAIM_LEASE - dt.timedelta(minutes=1)
        rids = {}
        for cid in (CID, OTHER):
            propose = await po1.gql(PROPOSE, id=cid, reason="t1")
            rids[cid] = rid = propose["data"]["proposeErasure"]["id"]
            found = await customer_footprint(store, cid)
            assert found is not None
            households = [h["id"] for h in found["households"] if h["last"]]
            ErasureStore(data).claim(rid, "po2", now=ran_out)
            ErasureLedger(data).record(Erased.of(cid, households, rid, found["socialAccounts"]))
            await delete_customer(store, cid, households)
        good = path.read_text(encoding="utf-8")
        path.write_text("{damaged\n" + good, encoding="utf-8")  # not the last line: unreadable

        rid = rids[CID]
        failed = await po3.gql(APPROVE, rid=rid)
        error = failed["errors"][0]
        assert error["extensions"]["code"] == "ERASURE_LEDGER_UNAVAILABLE", failed
        listed = {r["id"]: r["status"] for r in nodes(await po3.gql(LIST, s=None))}
        assert listed[rid] == "approved"  # not pending: a rejection would cancel its entry
        assert f"erasure request {rid} may have erased them" in error["message"]
        assert "The request stays approved" in error["message"]
        assert "make the erasure ledger readable and approve it again" in error["message"]
        assert has_key(data, f"Customer:{CID}")  # nothing destroyed without the ledger
        # The CLI's approval leaves the same state and says the same.
        out = await cli_refused(data, "erase", "--request", rids[OTHER], "--approved-by", "po3")
        said = " ".join(out.split())
        assert f"erasure request {rids[OTHER]} may have erased them" in said, said
        assert "The request stays approved" in said
        listed = {r["id"]: r["status"] for r in nodes(await po3.gql(LIST, s=None))}
        assert listed == {rids[CID]: "approved", rids[OTHER]: "approved"}

        # The ledger readable again: the erasure that ran can be neither rejected nor
        # withdrawn (either would cancel its entry), only completed, at once.
        path.write_text(good, encoding="utf-8")
        rejected = await po3.gql(REJECT, rid=rid, reason="looks stuck")
        assert rejected["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", rejected
        assert "approved already" in rejected["errors"][0]["message"]
        withdrawn = await po1.gql(WITHDRAW, rid=rid, reason="looks stuck")
        assert "approved already" in withdrawn["errors"][0]["message"], withdrawn
        out = await cli_refused(data, "erase", "--reject", rids[OTHER], "--by", "po3",
                                "--reason", "looks stuck")  # fmt: skip
        assert "approved already" in out
        assert sorted(ledger(data)) == sorted([CID, OTHER])

        done = await po3.gql(APPROVE, rid=rid)
        assert "errors" not in done, done
        approved = done["data"]["approveErasure"]
        assert (approved["status"], approved["erased"]["resumed"]) == ("done", True)
        out = await cli_run(data, "erase", "--request", rids[OTHER], "--approved-by", "po3")
        assert f"erased customer {OTHER}" in out
    assert not has_key(data, f"Customer:{CID}") and not has_key(data, f"Customer:{OTHER}")
    assert sorted(ledger(data)) == sorted([CID, OTHER])


async def test_a_resumed_run_removes_the_notes_no_edge_reaches(data: Path) -> None:
    """Review, session 21: a run that stopped after removing the customer's node and before
    removing their leftovers was completed by destroying keys and compacting only: a note
    naming them that no HAD edge reaches (written so, or before HAD edges) stayed readable."""
    settings = Settings(data_dir=data)
    async with store_session(settings.resolved_data_dir) as store:
        await store.write(
            "CREATE (:Interaction {id: 'I-GONE', customerId: 'C-GONE', summary: 'plain note'}),"
            " (:Interaction {id: 'I-KEPT', customerId: 'C-KEPT', summary: 'another'})"
        )
        ledger = ErasureLedger(settings.resolved_data_dir)
        ledger.record(Erased.of("C-GONE", [], "er-1", []))  # the earlier run got this far
        erased = await erase_customer(store, "C-GONE", ledger, "er-1")
        assert erased is not None and erased["resumed"] is True
        assert erased["interactions_deleted"] == 1
        rows = await store.read("MATCH (i:Interaction) RETURN i.id AS id")
        assert [r["id"] for r in rows] == ["I-KEPT"]
