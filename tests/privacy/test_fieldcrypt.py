"""Field encryption units: envelope round trip, owner/field binding, blind indexes, name tokens,
crypto-shredding and master-key rotation (real AES-GCM, real SQLite key store)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from privacy.datakeys import DataKeyStore
from privacy.fieldcrypt import FieldCrypto, is_sealed
from privacy.keyprovider import LocalKeyFileProvider


@pytest.fixture
def crypto(tmp_path: Path) -> FieldCrypto:
    keys = DataKeyStore.in_data_dir(tmp_path, LocalKeyFileProvider.in_data_dir(tmp_path))
    return FieldCrypto(keys, blind_key=b"b" * 32, name_key=b"n" * 32)


PROPS = {"name": "欧阳明轩", "phone": "+8613812345678", "idNumber": "11010519850312123x",
         "email": "Ou@X.cn", "segment": "MASS", "gender": "M"}  # fmt: skip


def test_round_trip_seals_personal_fields_only(crypto: FieldCrypto, tmp_path: Path) -> None:
    (sealed,) = crypto.seal_many("Customer", [("C1", PROPS)])
    for field in ("name", "phone", "idNumber", "email"):
        assert is_sealed(sealed[field]) and PROPS[field] not in sealed[field]
    assert (sealed["segment"], sealed["gender"]) == ("MASS", "M")
    assert sealed["phoneBidx"] == crypto.blind("phone", "+8613812345678")
    assert sealed["emailBidx"] == crypto.blind("email", "ou@x.cn")  # normalised
    (opened,) = crypto.open_many("Customer", [("C1", sealed)])
    assert opened == PROPS  # index properties are not handed out
    for name in ("master-keys.json", "datakeys.sqlite"):
        assert stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode) == 0o600


def test_a_value_copied_to_another_owner_or_field_does_not_open(crypto: FieldCrypto) -> None:
    (a,) = crypto.seal_many("Customer", [("C1", PROPS)])
    crypto.seal_many("Customer", [("C2", {"name": "x"})])
    (moved,) = crypto.open_many("Customer", [("C2", {"name": a["name"]})])
    (swapped,) = crypto.open_many("Customer", [("C1", {"name": a["phone"]})])
    assert moved["name"] is None and swapped["name"] is None


def test_name_tokens_find_the_candidates_containing_the_text(crypto: FieldCrypto) -> None:
    (sealed,) = crypto.seal_many("Customer", [("C1", PROPS)])
    for text in ("欧阳", "明轩", "阳明", "轩", "欧阳明轩"):
        assert set(crypto.name_tokens(text)) <= set(sealed["nameTok"]), text
    assert not set(crypto.name_tokens("欧明")) <= set(sealed["nameTok"])


def test_destroyed_key_leaves_only_unreadable_ciphertext(crypto: FieldCrypto) -> None:
    (sealed,) = crypto.seal_many("Customer", [("C1", PROPS)])
    assert crypto.destroy("Customer", "C1") is True
    (opened,) = crypto.open_many("Customer", [("C1", sealed)])
    assert all(opened[f] is None for f in ("name", "phone", "idNumber", "email"))
    assert crypto.destroy("Customer", "C1") is False


def test_master_rotation_rewraps_data_keys_without_touching_values(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider.in_data_dir(tmp_path)
    keys = DataKeyStore.in_data_dir(tmp_path, provider)
    crypto = FieldCrypto(keys, blind_key=b"b" * 32, name_key=b"n" * 32)
    sealed = crypto.seal_many("Customer", [(f"C{i}", {"name": f"n{i}"}) for i in range(5)])
    new = provider.rotate()
    assert keys.status() == {"m1": 5}
    assert keys.rewrap() == 5 and keys.status() == {new: 5}
    provider.retire("m1")
    fresh = DataKeyStore.in_data_dir(tmp_path, LocalKeyFileProvider.in_data_dir(tmp_path))
    again = FieldCrypto(fresh, blind_key=b"b" * 32, name_key=b"n" * 32)
    opened = again.open_many("Customer", [(f"C{i}", s) for i, s in enumerate(sealed)])
    assert [o["name"] for o in opened] == [f"n{i}" for i in range(5)]


def test_keys_cli_status_and_master_rotation_are_audited(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app as cli
    from privacy.audit import AuditLog
    from privacy.keyring import KeyRing

    running = LocalKeyFileProvider.in_data_dir(tmp_path)  # a hub that keeps running
    hub_keys = DataKeyStore.in_data_dir(tmp_path, running)
    crypto = FieldCrypto(hub_keys, blind_key=b"b" * 32, name_key=b"n" * 32)
    sealed = crypto.seal_many("Customer", [(f"C{i}", {"name": f"n{i}"}) for i in range(3)])
    env = {"C360_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    status = CliRunner().invoke(cli, ["keys", "status"], env=env)
    assert status.exit_code == 0 and "3 customer/household data keys" in status.output
    rotated = CliRunner().invoke(
        cli, ["keys", "rotate-master", "--by", "po1", "--retire-old"], env=env
    )
    assert rotated.exit_code == 0, rotated.output
    assert "master key m2 active; 3 data keys re-wrapped; retired: m1" in rotated.output
    # The running hub wraps new keys under the new master key (it notices the rotation).
    crypto.seal_many("Customer", [("C9", {"name": "n9"})])
    assert hub_keys.status() == {"m2": 4}
    fresh = FieldCrypto(
        DataKeyStore.in_data_dir(tmp_path, LocalKeyFileProvider.in_data_dir(tmp_path)),
        blind_key=b"b" * 32,
        name_key=b"n" * 32,
    )
    opened = fresh.open_many("Customer", [(f"C{i}", s) for i, s in enumerate(sealed)])
    assert [o["name"] for o in opened] == ["n0", "n1", "n2"]
    intent, record = AuditLog(tmp_path / "audit", KeyRing.load(tmp_path)).read()
    assert intent["outcome"] == "intent" and intent["details"]["rotate_master"] == {"old": "m1"}
    assert record["details"]["master_key_rotated"]["new"] == "m2"
