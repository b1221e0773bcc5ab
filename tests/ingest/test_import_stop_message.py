"""`c360 import` stopped by Ctrl-C (SIGINT) or SIGTERM says what was committed and how to
resume, as an interrupted import does, and exits 130 / 143 (QA: no output at all, although the
checkpoint was kept and a re-run resumed)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.ingest.test_import_process import C360, committed

ROWS = 60_000


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signalled_import_says_what_was_committed(short_dir: Path, sig: signal.Signals) -> None:
    path = short_dir / "customers.csv"
    path.write_text("id,name\n" + "".join(f"S{i:06d},name{i}\n" for i in range(ROWS)))
    env = {**os.environ, "C360_DATA_DIR": str(short_dir / "d"), "COLUMNS": "200"}
    args = [C360, "import", "customers", str(path), "--batch-size", "200", "--no-progress"]
    # Its own session (not the test run's terminal), with SIGINT's default disposition: a test
    # run started in the background (`make test &`, nohup) ignores SIGINT, and a child keeps
    # an ignored signal ignored (CI, session 24: the import ran to its end, exit 0), as an
    # import started in a terminal does not.
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=_default_sigint)  # fmt: skip
    checkpoints = short_dir / "d" / "checkpoints" / "imports.json"
    try:
        deadline = time.monotonic() + 120
        while committed(checkpoints) < 400:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the import never committed a batch"
            time.sleep(0.01)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, (proc.returncode, out, err)
    done = committed(checkpoints)
    assert 0 < done < ROWS, done
    said = " ".join((out + err).split())
    assert "Traceback" not in said, said
    found = re.search(r"stopped by \S+.* after (\d+) records were committed", said)
    assert found is not None, said
    assert int(found.group(1)) == done
    assert "run the same command again to resume" in said, said
