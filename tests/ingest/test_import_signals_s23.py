"""Session 23 review: `c360 import` killed by SIGTERM (a container stopped, systemd) left its
temp folders behind: the UTF-8 copy of a customer export a [sql] mapping reads in GBK
(`c360-sql-*`, in the temp folder) and a dry run's scratch graph (`/tmp/c360-dry-*`). The CLI
now unwinds on SIGTERM, and an import removes what runs killed harder (SIGKILL) left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

C360 = str(Path(sys.executable).parent / "c360")
MAPPING = (
    '[source]\nencoding = "gb18030"\n\n'
    '[sql]\nquery = """SELECT "客户号" AS id, "姓名" AS name FROM read_csv(\'{file}\')"""\n'
)


def _nohup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup c360 import ...` starts it


def _import(folder: Path, data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "C360_DATA_DIR": str(folder / "d"), "TMPDIR": str(folder / "tmp")}
    return subprocess.Popen(
        [C360, "import", "customers", str(data), "--mapping", str(folder / "map.toml"),
         "--dry-run", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_nohup,
    )  # fmt: skip


def _setup(folder: Path, rows: int) -> Path:
    (folder / "tmp").mkdir()
    (folder / "map.toml").write_text(MAPPING, encoding="utf-8")
    data = folder / "gbk.csv"
    data.write_bytes(("客户号,姓名\n" + "G1234567,张三丰\n" * rows).encode("gb18030"))
    return data


def test_sigterm_while_copying_leaves_no_temp_folder(short_dir: Path) -> None:
    data = _setup(short_dir, 8_000_000)  # ~130 MB: seconds of copying
    proc = _import(short_dir, data)
    try:
        copy: list[Path] = []
        deadline = time.monotonic() + 120
        while not copy or copy[0].stat().st_size == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no copy begun in 120 s"
            time.sleep(0.01)
            copy = list((short_dir / "tmp").glob("c360-sql-*/gbk.csv"))  # its own TMPDIR
        scratch = list(Path("/tmp").glob(f"c360-dry-{proc.pid}-*"))  # the dry run's graph
        print(f"copied {copy[0].stat().st_size} of {data.stat().st_size} bytes")
        proc.send_signal(signal.SIGHUP)  # ignored as nohup asked: it goes on
        time.sleep(0.3)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)  # half copied
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert "Traceback" not in err, err
        assert list((short_dir / "tmp").iterdir()) == []  # the copy of the export is gone
        assert len(scratch) == 1 and not scratch[0].exists(), scratch  # and the scratch graph
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for left in Path("/tmp").glob(f"c360-dry-{proc.pid}-*"):
            shutil.rmtree(left)  # only when the test failed


def test_an_import_removes_the_temp_folders_of_dead_runs(short_dir: Path) -> None:
    data = _setup(short_dir, 2)
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: no process has its pid
    dead = gone.pid
    stale = [short_dir / "tmp" / f"c360-sql-{dead}-abc", Path(f"/tmp/c360-dry-{dead}-abc")]
    live = Path(f"/tmp/c360-dry-{os.getpid()}-live")  # this test's: alive, kept
    try:
        for folder in [*stale, live]:
            folder.mkdir()
            (folder / "gbk.csv").write_text("客户号,姓名\n", encoding="utf-8")
        proc = _import(short_dir, data)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        assert [p for p in stale if p.exists()] == []
        assert live.is_dir()
    finally:
        for folder in [*stale, live]:
            shutil.rmtree(folder, ignore_errors=True)
