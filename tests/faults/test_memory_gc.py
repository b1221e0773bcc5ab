"""The serving process's garbage collector still reaches its oldest generation (hub/gc_tuning.py).

Runs in a fresh interpreter: ``tune_gc`` freezes every object alive and sets the process's
thresholds, which must not leak into the test session.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A process with many start-up objects is tuned; then an object in a reference cycle reaches
# the oldest generation alive (in flight during younger collections, like a slow request's
# state) and dies there, and the process allocates cyclic garbage as requests do: 84 young
# collections' worth, ~2.5 times what the tuned thresholds need for a full collection (33)
# and fewer than CPython's defaults after the freeze needed (121, and promotions past a
# quarter of every start-up object).
SCRIPT = textwrap.dedent(
    """
    import gc, weakref
    from hub.gc_tuning import GEN0_THRESHOLD, tune_gc

    class Request:
        pass

    startup = [[] for _ in range(400_000)]
    tune_gc()
    request = Request()
    request.me = request
    gone = weakref.ref(request)
    gc.collect(1)  # survives the middle generation: now in the oldest
    del request
    for _ in range(84 * GEN0_THRESHOLD):
        garbage = []
        garbage.append(garbage)
    print("freed" if gone() is None else "waiting")
    """
)


def test_garbage_in_the_oldest_generation_is_collected_after_tuning() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "freed"
