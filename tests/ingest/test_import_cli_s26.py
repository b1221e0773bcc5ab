"""QA session 26 on `c360 import` through typer's CliRunner: file names with rich markup, a full
disk, a resume whose dead letters were moved. Each test has its own short data dir (short_dir)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def test_a_file_name_with_brackets_is_shown_as_it_is(short_dir: Path) -> None:
    path = short_dir / "x[red]y.csv"
    path.write_text("id,phone\nU1,13812345678\nU2,not-a-phone\n", encoding="utf-8")
    env = {"C360_DATA_DIR": str(short_dir / "d"), "COLUMNS": "200"}
    done = CliRunner().invoke(app, ["import", "customers", str(path), "--no-progress"], env=env)
    assert done.exit_code == 0, done.output
    assert (short_dir / "x[red]y.dead.jsonl").exists()
    # The table's row and the closing line: "[red]" was taken for markup, "xy.dead.jsonl" shown.
    assert done.output.count("x[red]y.dead.jsonl") == 2, done.output


def test_a_full_dead_letter_disk_is_named_with_what_was_committed(short_dir: Path) -> None:
    # /dev/full: every write fails with ENOSPC, as on a full disk. It was "the import stopped:
    # OSError: [Errno 28] No space left on device", exit 1.
    path = short_dir / "bad.csv"
    rows = "".join(f"U{i},13812345678\n" for i in range(4)) + "U9,not-a-phone\n"
    path.write_text("id,phone\n" + rows, encoding="utf-8")
    env = {"C360_DATA_DIR": str(short_dir / "d"), "COLUMNS": "300"}
    args = ["import", "customers", str(path), "--no-progress", "--batch-size", "2"]
    done = CliRunner().invoke(app, [*args, "--dead-letters", "/dev/full"], env=env)
    assert done.exit_code == 2, done.output
    # The batches before the bad row's: committed, or still being written when it failed.
    said = " ".join(done.output.split())
    assert re.fullmatch(
        r"error: the disk under /dev is full; free space and run the same command again to "
        r"resume \((2|4) records committed\)",
        said,
    ), said


def test_a_graph_log_line_of_a_full_disk_since_the_import_began_is_found(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    from ingest.disk_full import graph_log_says_full

    log = tmp_path / "falkordb.log"
    began = datetime(2026, 12, 2, 15, 31, 0)
    old = "25700:M 01 Dec 2026 09:00:00.000 # Short write while writing to the AOF file: (No space left on device)\n"  # noqa: E501
    log.write_text(old + "25700:M 02 Dec 2026 15:30:00.000 * Ready to accept connections\n")
    assert not graph_log_says_full(log, began)  # an earlier incident is not this import's
    new = old.replace("01 Dec 2026 09:00:00", "02 Dec 2026 15:31:02")
    with log.open("a") as f:
        f.write(new + "25800:M 02 Dec 2026 15:31:03.000 * Server initialized\n")
    assert graph_log_says_full(log, began)
    assert not graph_log_says_full(log, began + timedelta(minutes=1))
    assert not graph_log_says_full(tmp_path / "missing.log", began)


_FILL_UP = """
import resource, signal, sys
from pathlib import Path
from ingest.deadletter import DeadLetters

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
letters = DeadLetters(Path(sys.argv[1]))
try:
    with letters:
        for line in range(2, 100):
            letters.add(line, {"id": f"U{line}", "name": "x" * 150}, ["phone: not a phone"])
except OSError as exc:
    print(exc.filename)
"""


def test_a_dead_letter_the_disk_had_no_room_for_is_cut_off_not_left_torn(tmp_path: Path) -> None:
    import subprocess
    import sys

    import orjson

    path = tmp_path / "x.dead.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _FILL_UP, str(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(path)  # the error names the file
    data = path.read_bytes()
    assert 0 < len(data) < 1000 and data.endswith(b"\n")  # whole lines only
    assert [orjson.loads(x)["line"] for x in data.splitlines()] == list(
        range(2, 2 + len(data.splitlines()))
    )
