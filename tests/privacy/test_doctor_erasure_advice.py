"""`c360 doctor` on an erasure whose approval stopped after its ledger write (its graph
server killed mid-run): the request stays `approved` and its entry counts. The advice is
what can be done with an approved request, and doing it settles the doubt: approve it again
(a reject or withdraw is refused, "approved already"), not "reject or withdraw it"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from privacy.erasure import APPROVED, ErasureStore
from privacy.erasure_ledger import Erased, ErasureLedger
from tests.privacy.test_erasure_backups import has_key
from tests.privacy.test_erasure_ledger_safety import c360, request_id, root  # noqa: F401
from tests.privacy.test_subject_requests import CID, imported


async def test_doctor_advises_what_an_approved_erasure_allows(root: Path) -> None:  # noqa: F811
    data = root / "d"
    await imported(data)
    rid = request_id(await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1"))
    # What the killed approval left: its claim (run out since), its ledger entry, no erasure.
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    ErasureStore(data).claim(rid, "po2", now=an_hour_ago)
    ErasureLedger(data).record(Erased.of(CID, [], rid, []))
    assert ErasureStore(data).load()[rid].status == APPROVED and has_key(data, f"Customer:{CID}")

    out = " ".join((await c360(data, "doctor", code=1)).split())
    assert f"the entry of request {rid} (customer {CID}) counts" in out, out
    assert f"c360 erase --request {rid} --approved-by SUBJECT" in out
    assert "other than po1" in out and "cannot be rejected or withdrawn" in out
    assert "reject or withdraw it to cancel" not in out

    # The old advice cannot be followed ...
    out = await c360(data, "erase", "--reject", rid, "--by", "po2", "--reason", "r", code=2)
    assert "approved already" in out
    # ... the new one can, and leaves nothing in doubt.
    await c360(data, "erase", "--request", rid, "--approved-by", "po2")
    assert ErasureStore(data).load()[rid].status == "done"
    assert not has_key(data, f"Customer:{CID}")
    assert "erasure ledgers: nothing in doubt" in await c360(data, "doctor")
