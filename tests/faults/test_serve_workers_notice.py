"""`c360 serve --workers 2`: what one process changes, the other worker serves at once — an
approved policy change (approvePolicy on one worker), a destroyed data key (approveErasure on
one worker, `c360 erase` from the CLI beside the hub). Each check asks over fresh connections,
which the kernel spreads over both workers (hub/cli/reuse_port.py): with one worker stale,
all 16 answers coming from the other has a 2**-16 chance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from privacy.policy_set import load_policy_set
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.faults.graph_support import REPO, Hub, writer_token
from tests.live import free_port

ASKS = 16
C360 = str(Path(sys.executable).parent / "c360")
ADDRESS = '{ customer(id: "C000001") { address } }'
AUTHORS = "{ mentions(first: 50) { edges { node { author { handle displayName } } } } }"


def _token(data_dir: Path, subject: str, role: str, purpose: str) -> str:
    return issue_token(load_or_create_secret(data_dir, "jwt"), subject, [role], purpose=purpose)


def _ask(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    # A new connection per request: the kernel hands it to either worker.
    with httpx.Client() as client:
        response = client.post(
            url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [C360, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _names(url: str, token: str) -> list[dict[str, Any]]:
    found = []
    for _ in range(ASKS):
        edges = _ask(url, token, AUTHORS)["mentions"]["edges"]
        found.append({e["node"]["author"]["handle"]: e["node"]["author"]["displayName"]
                      for e in edges})  # fmt: skip
    return found


def test_workers_serve_a_policy_change_and_erasures_made_elsewhere(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    data_dir.mkdir()
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": "",
           # Policy tests run on every proposal: generous on a loaded machine.
           "C360_REQUEST_TIMEOUT_S": "180", "C360_POLICY_TEST_TIMEOUT_S": "150"}  # fmt: skip
    po1 = _token(data_dir, "po1", "privacy_officer", "compliance")
    po2 = _token(data_dir, "po2", "privacy_officer", "compliance")
    analyst = _token(data_dir, "ma1", "marketing_analyst", "marketing")
    posts, links = short_dir / "posts.jsonl", short_dir / "links.csv"
    posts.write_text("".join(
        json.dumps({"id": f"p{i}", "text": "招行服务很好", "author": handle, "author_name": name,
                    "created_at": "2025-03-01T09:00:00+08:00"}, ensure_ascii=False) + "\n"
        for i, (handle, name) in enumerate([("qa_handle", "李四光"), ("qa_other", "王五")])
    ))  # fmt: skip
    links.write_text(
        "customerId,platform,handle\nC000001,weibo,qa_handle\nC000002,weibo,qa_other\n"
    )
    port = free_port()
    with (short_dir / "hub.log").open("ab") as log:
        proc = subprocess.Popen(
            [C360, "serve", "--port", str(port), "--workers", "2"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    hub = Hub(data_dir, port, proc)
    try:
        hub.wait_ready()
        writer = writer_token(data_dir)
        for cid, name in (("C000001", "张三"), ("C000002", "王五")):
            customer = {"id": cid, "name": name, "address": "南京市鼓楼区中山路1号",
                        "consentMarketing": True}  # fmt: skip
            _ask(hub.url, writer, "mutation($c: CustomerInput!) { upsertCustomer(input: $c) "
                 "{ id } }", {"c": customer})  # fmt: skip
        _cli(env, "ingest", "posts", str(posts), "--platform", "weibo")
        _cli(env, "import", "social-accounts", str(links))

        # Both workers hold the old policy's answer and the data keys before the changes.
        before = {_ask(hub.url, analyst, ADDRESS)["customer"]["address"] for _ in range(ASKS)}
        assert len(before) == 1 and "南京市" in before.pop()
        assert all(n == {"qa_handle": "李四光", "qa_other": "王五"} for n in _names(hub.url, po1))

        data = load_policy_set(data_dir).data
        data["c360"]["tables"]["mask_profiles"]["marketing"]["ADDRESS"] = "redact"
        proposed = _ask(hub.url, po1, "mutation($s: String!) { proposePolicy(id: \"data\", "
                        "source: $s) { id status } }", {"s": json.dumps(data)})  # fmt: skip
        assert proposed["proposePolicy"]["status"] == "pending"
        approved = _ask(hub.url, po2, "mutation($p: String!) { approvePolicy(proposalId: $p) "
                        "{ status } }", {"p": proposed["proposePolicy"]["id"]})  # fmt: skip
        assert approved["approvePolicy"]["status"] == "approved"
        after = [_ask(hub.url, analyst, ADDRESS)["customer"]["address"] for _ in range(ASKS)]
        assert not [a for a in after if a and "南京市" in a], after

        # (a) an erasure approved through the API, on whichever worker.
        request = _ask(hub.url, po1, "mutation { proposeErasure(customerId: \"C000001\", "
                       "reason: \"t\") { id } }")["proposeErasure"]["id"]  # fmt: skip
        done = _ask(hub.url, po2, "mutation($r: String!) { approveErasure(requestId: $r) "
                    "{ status } }", {"r": request})  # fmt: skip
        assert done["approveErasure"]["status"] == "done"
        seen = _names(hub.url, po1)
        assert all(n == {"qa_handle": None, "qa_other": "王五"} for n in seen), seen

        # (b) `c360 erase` from the CLI, beside the running hub.
        _cli(env, "erase", "--customer", "C000002", "--reason", "t", "--by", "po1",
             "--approved-by", "po2")  # fmt: skip
        seen = _names(hub.url, po1)
        assert all(n == {"qa_handle": None, "qa_other": None} for n in seen), seen
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
