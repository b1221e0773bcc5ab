"""Session 23 QA: a command told to write into a folder that does not exist says so, and
what to do, in one sentence before it does anything (`c360 backup --to /tmp/nodir/x` said
`[Errno 2] No such file or directory: '...x.c360bak.partial'`; `c360 export --out` in a
missing folder audited the export and then failed with a traceback)."""

from __future__ import annotations

from pathlib import Path

from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.test_cli_settings import c360


def test_backup_to_a_missing_folder_says_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "nodir"
    passphrase = {"C360_BACKUP_PASSPHRASE": "a passphrase long enough"}
    done = c360(tmp_path / "d", passphrase, "backup", "--to", str(missing / "x.c360bak"))
    assert done.returncode == 2, done
    said = " ".join(done.stderr.split())
    assert f"the folder {missing} does not exist: create it (mkdir -p {missing})" in said, said
    assert "Errno" not in said and ".partial" not in said, said
    assert not missing.exists()


def test_export_to_a_missing_folder_says_so_before_it_is_audited(short_dir: Path) -> None:
    data, missing = short_dir / "d", short_dir / "nodir"
    customers = short_dir / "customers.csv"
    customers.write_text("id,name\nC1,张三\n", encoding="utf-8")
    assert c360(data, {}, "import", "customers", str(customers), "--no-progress").returncode == 0
    done = c360(data, {}, "export", "--customer", "C1", "--by", "po1",
                "--out", str(missing / "c1.json"))  # fmt: skip
    assert done.returncode == 2, done
    said = " ".join(done.stderr.split())
    assert f"the folder {missing} does not exist" in said and "--out" in said, said
    assert "Traceback" not in done.stderr
    records = AuditLog(data / "audit", KeyRing.load(data)).read(customer="C1")
    assert [r for r in records if r["operation"] == "cli export"] == []  # nothing exported


def test_export_to_a_folder_or_an_unwritable_path_says_so_before_it_is_audited(
    short_dir: Path,
) -> None:
    # `--out <a folder>` audited "cli export ok", then failed with an IsADirectoryError.
    data = short_dir / "d"
    customers = short_dir / "customers.csv"
    customers.write_text("id,name\nC1,张三\n", encoding="utf-8")
    assert c360(data, {}, "import", "customers", str(customers), "--no-progress").returncode == 0
    # /sys refuses new files even to root (the tests may run as root: a chmod would not do).
    denied = "cannot write /sys/c1.json (Permission denied)"
    for out, said_what in [
        (short_dir, "is a folder: give a file path"),
        (Path("/sys/c1.json"), denied),
    ]:
        done = c360(data, {}, "export", "--customer", "C1", "--by", "po1", "--out", str(out))
        assert done.returncode == 2, done
        said = " ".join(done.stderr.split())
        assert said_what in said, said
        assert "Traceback" not in done.stderr
    records = AuditLog(data / "audit", KeyRing.load(data)).read(customer="C1")
    assert [r for r in records if r["operation"] == "cli export"] == []  # nothing exported
    # No customer: the file made for it is removed again.
    done = c360(data, {}, "export", "--customer", "C9", "--by", "po1",
                "--out", str(short_dir / "c9.json"))  # fmt: skip
    assert done.returncode == 2 and "no customer C9" in done.stderr, done
    assert not (short_dir / "c9.json").exists()
