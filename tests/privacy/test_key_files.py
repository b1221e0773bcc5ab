"""Lost or damaged key files are refused, never silently made anew (QA probe, session 23).

A master key file made anew over wrapped data keys opened none of them (every read an
"Unexpected error."); an empty data key store showed every customer as erased and gave the next
write a fresh key; a new blind-index key matched no stored index (searches found nothing); an
empty JWT key file failed every request with a plain 500. Each is now one sentence naming the
file and what to do: at start (`c360 serve` exit 2) and while running (/readyz 503, GraphQL
KEYS_UNAVAILABLE).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from graph.fieldcipher import attach_cipher, cipher_of
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from privacy.datakeys import DataKeyStore
from privacy.fieldcrypt import FieldCrypto
from privacy.keyprovider import KeyProviderError, LocalKeyFileProvider
from privacy.secrets import load_or_create_secret
from privacy.types import PrivacyError
from tests.faults.ops_hub import UPSERT, Caller, codes, hub_client

REPO = Path(__file__).resolve().parents[2]
READ = 'query { customer(id: "C1") { id name phone } }'
DAMAGED = r"master-keys\.json is damaged or unreadable"


def sealed_keys(data_dir: Path) -> FieldCrypto:
    """The keys a hub makes for a new data dir, with one customer's data key made, opened as
    a fresh process would (hub.services.field_crypto keeps one per process and data dir)."""
    keys = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
    crypto = FieldCrypto(
        keys,
        blind_key=load_or_create_secret(data_dir, "blind-index"),
        name_key=load_or_create_secret(data_dir, "name-tokens"),
    )
    keys.get_or_create_many(["Customer:C1"])
    load_or_create_secret(data_dir, "mask-hmac")
    load_or_create_secret(data_dir, "jwt")
    return crypto


def reopened(data_dir: Path) -> DataKeyStore:
    return DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))


# -- item 1: the master key file ---------------------------------------------------------------


def test_a_lost_master_key_file_is_not_made_anew_over_wrapped_data_keys(data_dir: Path) -> None:
    sealed_keys(data_dir).keys.close()
    master = data_dir / "keys" / "master-keys.json"
    master.unlink()
    with pytest.raises(KeyProviderError) as failed:
        LocalKeyFileProvider.in_data_dir(data_dir)
    message = str(failed.value)
    assert f"the master key file {master} is missing" in message, message
    assert "holds 1 data keys" in message and "from a backup" in message, message
    assert not master.exists()  # no new key under "m1" that opens nothing
    assert failed.value.code == "KEYS_UNAVAILABLE"


def test_a_master_key_that_did_not_wrap_a_data_key_is_a_key_error(data_dir: Path) -> None:
    """What the hub met after an older c360 made the file anew: unwrap's InvalidTag was an
    unexpected error."""
    sealed_keys(data_dir).keys.close()
    master = data_dir / "keys" / "master-keys.json"
    other = LocalKeyFileProvider.in_data_dir(data_dir / "other").path.read_text()
    master.write_text(other)  # another "m1"
    keys = reopened(data_dir)
    with pytest.raises(KeyProviderError, match="does not open the data keys wrapped by it"):
        keys.get_many(["Customer:C1"])


def test_an_emptied_master_key_file_is_named_at_start_and_while_running(data_dir: Path) -> None:
    running = sealed_keys(data_dir).keys
    master = data_dir / "keys" / "master-keys.json"
    master.write_text("")
    os.utime(master, ns=(1, 1))  # a change the running provider notices (mtime)
    with pytest.raises(KeyProviderError, match=DAMAGED):
        running.get_or_create_many(["Customer:C2"])  # a write: wraps a new data key
    with pytest.raises(KeyProviderError, match=DAMAGED):
        LocalKeyFileProvider.in_data_dir(data_dir)
    master.write_text('{"active": "m1", "keys": {"m1": "not base64!"}}')
    with pytest.raises(KeyProviderError, match=DAMAGED):
        LocalKeyFileProvider.in_data_dir(data_dir)


# -- item 2: the data key store ----------------------------------------------------------------


def test_a_lost_data_key_store_is_refused_not_made_empty(data_dir: Path) -> None:
    sealed_keys(data_dir).keys.close()
    store = data_dir / "keys" / "datakeys.sqlite"
    store.unlink()
    provider = LocalKeyFileProvider.in_data_dir(data_dir)
    with pytest.raises(KeyProviderError) as failed:
        DataKeyStore.in_data_dir(data_dir, provider)
    message = str(failed.value)
    assert f"the data key store {store} is missing" in message, message
    assert "master-keys.json" in message and "from a backup" in message, message
    assert not store.exists()


def test_a_new_data_dir_still_gets_every_key(data_dir: Path) -> None:
    """The first start makes them all, and the next start opens them (no refusal)."""
    sealed_keys(data_dir).keys.close()
    names = sorted(p.name for p in (data_dir / "keys").iterdir())
    for name in ("master-keys.json", "datakeys.sqlite", "blind-index.key", "name-tokens.key"):
        assert name in names, names
    assert reopened(data_dir).get_many(["Customer:C1"]).keys() == {"Customer:C1"}


def test_a_store_made_before_a_start_that_died_is_no_lost_master_key(data_dir: Path) -> None:
    """The provider makes the empty store before the master key file: a start killed between
    the two leaves a store without keys, and the next start makes the master key."""
    (data_dir / "keys").mkdir(mode=0o700)
    (data_dir / "keys" / "datakeys.sqlite").touch(mode=0o600)
    keys = reopened(data_dir)
    assert keys.get_or_create_many(["Customer:C1"]).keys() == {"Customer:C1"}


# -- item 3: blind-index and name-token keys ----------------------------------------------------


@pytest.mark.parametrize("name", ["blind-index", "name-tokens"])
def test_a_lost_index_key_is_not_made_anew_over_sealed_data(data_dir: Path, name: str) -> None:
    keys = sealed_keys(data_dir).keys
    path = data_dir / "keys" / f"{name}.key"
    path.unlink()
    with pytest.raises(PrivacyError) as failed:
        load_or_create_secret(data_dir, name, in_use=keys.in_use)
    message = str(failed.value)
    assert f"the key file {path} is missing" in message, message
    assert "holds 1 data keys" in message and "from a backup" in message, message
    assert not path.exists()


def test_an_empty_index_key_is_not_advised_away(data_dir: Path) -> None:
    keys = sealed_keys(data_dir).keys
    path = data_dir / "keys" / "blind-index.key"
    path.write_text("")
    with pytest.raises(PrivacyError) as failed:
        load_or_create_secret(data_dir, "blind-index", in_use=keys.in_use)
    message = str(failed.value)
    assert f"the key file {path} is empty" in message and "from a backup" in message, message
    assert "delete it" not in message, message


# -- item 4: JWT and mask keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "is empty"),
        ("short", "is damaged (not base64)"),
        ("c2hvcnQ=", "is damaged (5 bytes, not 32)"),
    ],
)
def test_a_damaged_secret_is_one_sentence_naming_it(data_dir: Path, text: str, why: str) -> None:
    path = data_dir / "keys" / "mask-hmac.key"
    path.parent.mkdir(mode=0o700)
    path.write_text(text)
    with pytest.raises(PrivacyError) as failed:
        load_or_create_secret(data_dir, "mask-hmac")
    assert str(failed.value).startswith(f"the key file {path} {why}"), failed.value


# -- the hub: while running (/readyz, GraphQL codes) ---------------------------------------------


async def test_running_hub_a_damaged_master_key_file_is_not_ready_and_keys_unavailable(
    sealed_store: GraphStore, data_dir: Path
) -> None:
    async with hub_client(sealed_store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        first = await agent.gql(UPSERT, {"input": {"id": "C1", "name": "王丽"}})
        assert "errors" not in first, first
        assert (await client.get("/readyz")).status_code == 200
        master = data_dir / "keys" / "master-keys.json"
        master.write_text("")
        os.utime(master, ns=(1, 1))
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert "master-keys.json is damaged" in ready.json()["keys"], ready.text
        assert str(data_dir) not in ready.text  # /readyz answers anyone: the file's name only
        second = await agent.gql(UPSERT, {"input": {"id": "C2", "name": "李娜"}})
        assert codes(second) == ["KEYS_UNAVAILABLE"], second
        assert "master-keys.json" not in json.dumps(second)  # the path is the server log's


async def test_running_hub_an_emptied_jwt_key_is_not_ready(
    sealed_store: GraphStore, data_dir: Path
) -> None:
    async with hub_client(sealed_store, data_dir) as client:
        Caller(client, data_dir, "service_agent", "service")  # the JWT key exists
        assert (await client.get("/readyz")).status_code == 200
        (data_dir / "keys" / "jwt.key").write_text("")
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert "jwt.key is empty" in ready.json()["keys"], ready.text


async def test_reads_under_a_master_key_that_did_not_wrap_them_are_keys_unavailable(
    store: GraphStore, data_dir: Path
) -> None:
    """Sealed by one start's keys, read by the next start's, whose master key file was made
    anew (what an older c360 did when the file was deleted)."""
    attach_cipher(store, sealed_keys(data_dir))
    await upsert_customers(
        store, [{"id": "C1", "props": {"name": "王丽", "phone": "+8613812345678"}}]
    )
    crypto = cipher_of(store)
    assert isinstance(crypto, FieldCrypto)
    crypto.keys.close()
    master = data_dir / "keys" / "master-keys.json"
    master.write_text(LocalKeyFileProvider.in_data_dir(data_dir / "other").path.read_text())
    restarted = FieldCrypto(
        reopened(data_dir),
        blind_key=load_or_create_secret(data_dir, "blind-index"),
        name_key=load_or_create_secret(data_dir, "name-tokens"),
    )
    attach_cipher(store, restarted)
    async with hub_client(store, data_dir) as client:
        officer = Caller(client, data_dir, "privacy_officer", "compliance")
        body = await officer.gql(READ)
    assert codes(body) == ["KEYS_UNAVAILABLE"], body


async def test_a_hub_whose_master_key_file_is_lost_at_start_says_keys_not_graph(
    short_dir: Path,
) -> None:
    """A hub started without `c360 serve`'s check (uvicorn's factory, a library caller): the
    graph opens, the keys do not, and /readyz names the key file, not the graph."""
    sealed_keys(short_dir).keys.close()
    (short_dir / "keys" / "master-keys.json").unlink()
    app = create_app(Settings(data_dir=short_dir, graph_url=""))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert "keys" in ready.json() and "master-keys.json is missing" in ready.text, ready.text
    assert not (short_dir / "keys" / "master-keys.json").exists()


# -- the CLI: `c360 serve` refuses to start, `c360 token` says one sentence --------------------


def _c360(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "400"}
    env.pop("C360_GRAPH_URL", None)
    c360 = str(Path(sys.executable).parent / "c360")
    return subprocess.run(
        [c360, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


DAMAGE = {
    "master-keys.json missing": ("master-keys.json", None, "master-keys.json is missing"),
    "master-keys.json emptied": ("master-keys.json", "", "master-keys.json is damaged"),
    "datakeys.sqlite missing": ("datakeys.sqlite", None, "datakeys.sqlite is missing"),
    "blind-index.key missing": ("blind-index.key", None, "blind-index.key is missing"),
    "name-tokens.key missing": ("name-tokens.key", None, "name-tokens.key is missing"),
    "jwt.key emptied": ("jwt.key", "", "jwt.key is empty"),
    "mask-hmac.key short": ("mask-hmac.key", "short", "mask-hmac.key is damaged"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_serve_refuses_a_lost_or_damaged_key_file(
    short_dir: Path, free_port: int, case: str
) -> None:
    sealed_keys(short_dir).keys.close()
    name, text, said = DAMAGE[case]
    path = short_dir / "keys" / name
    if text is None:
        path.unlink()
    else:
        path.write_text(text)
    done = _c360(short_dir, "serve", "--port", str(free_port))
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, output
    assert "Traceback" not in output and said in output, output
    assert path.exists() == (text is not None)  # nothing made anew


def test_token_with_an_emptied_jwt_key_is_one_sentence(data_dir: Path) -> None:
    sealed_keys(data_dir).keys.close()
    (data_dir / "keys" / "jwt.key").write_text("")
    done = _c360(data_dir, "token", "--sub", "a1", "--role", "service_agent")
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, output
    assert "Traceback" not in output and "jwt.key is empty" in output, output
