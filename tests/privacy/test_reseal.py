"""`c360 keys reseal`: advisor name/phone/email and interaction notes written before sealing
existed (plain in the graph, passed through on read) are sealed, and leave the graph's files."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.connect import store_session
from graph.fieldcipher import ADVISOR, INTERACTION, cipher_of
from graph.repositories.advisors import upsert_advisors
from graph.repositories.interactions import upsert_interactions
from graph.repositories.reseal import SEALED_PREFIX
from hub.services import protect_store
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.fieldcrypt import PREFIX
from privacy.keyring import KeyRing
from tests.privacy.test_sealed_notes import cli_run, files_with

CID = "C900001"
OLD_ADVISOR = {"name": "赵老师傅", "phone": "13655550123", "email": "zhao.old@bank.example.cn"}
OLD_NOTE = "客户说旧版本记下的备注里有家庭住址"


@pytest.fixture
def data() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360r-", dir="/tmp"))  # short: the graph's socket
    yield path / "d"
    shutil.rmtree(path, ignore_errors=True)


async def test_values_written_before_sealing_are_sealed_once(data: Path) -> None:
    assert SEALED_PREFIX == PREFIX
    settings = Settings(data_dir=data)
    # As a version before sealing wrote them: a store nobody handed a cipher to.
    async with store_session(settings.resolved_data_dir) as store:
        await upsert_advisors(store, [{"id": "ADV-OLD", "props": dict(OLD_ADVISOR)}])
        note = {"id": "I-OLD", "customerId": CID, "props": {"summary": OLD_NOTE}}
        await upsert_interactions(store, [note])
    assert files_with(data, OLD_NOTE) and files_with(data, OLD_ADVISOR["email"])

    out = await cli_run(data, "keys", "reseal", "--by", "po1", "--batch-size", "1")
    assert "sealed: 1 advisors, 1 interaction notes; graph write log compacted" in out, out
    for value in (OLD_NOTE, *OLD_ADVISOR.values()):
        assert files_with(data, value) == [], value

    async with store_session(settings.resolved_data_dir) as store:
        protect_store(store, settings)
        (a,) = await store.read(
            "MATCH (a:Advisor {id: 'ADV-OLD'}) RETURN a.name AS name, a.phone AS phone, "
            "a.email AS email"
        )
        (i,) = await store.read("MATCH (i:Interaction {id: 'I-OLD'}) RETURN i.summary AS summary")
        assert all(str(v).startswith(PREFIX) for v in [*a.values(), i["summary"]])
        cipher = cipher_of(store)
        assert cipher.open_many(ADVISOR, [("ADV-OLD", a)]) == [OLD_ADVISOR]
        assert cipher.open_many(INTERACTION, [(CID, i)]) == [{"summary": OLD_NOTE}]

    again = await cli_run(data, "keys", "reseal", "--by", "po1")
    # Compacted again: a run cut off after sealing left the plain values in the write log.
    assert "sealed: 0 advisors, 0 interaction notes; graph write log compacted" in again
    log = AuditLog(data / "audit", KeyRing.load(data))
    done = [r["details"]["resealed"] for r in log.read() if r["operation"] == "cli keys reseal"]
    assert done == [{"advisors": 1, "interactions": 1}, {"advisors": 0, "interactions": 0}]
    assert log.verify().ok
