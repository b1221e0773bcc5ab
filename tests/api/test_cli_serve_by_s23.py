"""Session 23 review: `serve --by` goes with `--demo` (it was ignored without it), and
`serve --demo` run as a uid with no passwd entry (a container run with --user UID) says to pass
`--by NAME`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.test_cli_settings import c360
from tests.live import free_port

NO_PASSWD_UID = 54321  # no entry in /etc/passwd on the test machines (checked below)


def test_serve_by_without_demo_is_refused(tmp_path: Path) -> None:
    done = c360(tmp_path / "d", {}, "serve", "--by", "alice", "--port", "1")
    assert done.returncode == 2, done
    said = " ".join(done.stderr.split())
    assert "--by names who issues the demo token: it goes with --demo" in said, said
    assert not (tmp_path / "d").exists()  # refused before anything is touched


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="runs the CLI as another uid (needs root and setpriv)",
)
def test_serve_demo_as_a_uid_without_a_passwd_entry_says_to_pass_by(short_dir: Path) -> None:
    import pwd

    with pytest.raises(KeyError):
        pwd.getpwuid(NO_PASSWD_UID)
    home = short_dir / "home"  # short_dir: under /tmp, which that uid can reach
    home.mkdir()
    os.chown(home, NO_PASSWD_UID, NO_PASSWD_UID)
    short_dir.chmod(0o755)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "C360_DATA_DIR": str(home / "d"), "COLUMNS": "300"}  # fmt: skip
    # setpriv: the uid switched as a container's --user does (subprocess's user= cannot exec
    # a venv whose interpreter lies under /root).
    setpriv = ["setpriv", f"--reuid={NO_PASSWD_UID}", f"--regid={NO_PASSWD_UID}", "--clear-groups"]
    done = subprocess.run(
        [*setpriv, sys.executable, "-c", "from hub.cli import main; main()", "serve", "--demo",
         "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done
    said = " ".join(done.stderr.split())
    assert f"cannot tell the OS user (uid {NO_PASSWD_UID} has no passwd entry" in said, said
    assert "pass --by NAME" in said, said
