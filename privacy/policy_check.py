"""A candidate policy's tests and invariants, run in a child process of their own.

A proposal is Rego its proposer wrote, and regopy runs it in native code: a test module that
uses ``with input as`` on a rule calling a builtin segfaults librego_shared.so, and
``numbers.range(1, 8000000)`` holds the interpreter (and, in process, the event loop) for tens of
seconds. So the hub never compiles or evaluates a candidate itself: :func:`check_in_child`
runs ``python -m privacy.policy_check`` with the candidate on stdin, a wall-clock limit
(killed when it runs out) and an address-space limit (memory), and awaits it without blocking
the loop. A crash, a timeout or an exhausted memory limit is :class:`CandidateCheckFailed`
for that proposal only. The policy that decides requests stays in process
(privacy/engines/embedded.py).

Inside an HTTP request the child's time is also bounded by the request's deadline
(``C360_REQUEST_TIMEOUT_S``, shared/deadline.py), less a margin: a proposal slower than what is
left of the request is refused as ``POLICY_TEST_TIMEOUT`` (its refusal and audit record written
in time), not cut off with the hub's generic 504.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from shared.deadline import deadline_at

__all__ = [
    "CRASHED",
    "DEADLINE_MARGIN_S",
    "ERROR",
    "OUT_OF_MEMORY",
    "TIMED_OUT",
    "CandidateCheckFailed",
    "Results",
    "check_candidate",
    "check_in_child",
]

Results = list[tuple[str, bool, str]]  # (name, ok, message): what PolicyAdmin reports

# CandidateCheckFailed.reason, also the GraphQL error's extensions.reason.
CRASHED, TIMED_OUT = "POLICY_TEST_CRASHED", "POLICY_TEST_TIMEOUT"
OUT_OF_MEMORY, ERROR = "POLICY_TEST_OUT_OF_MEMORY", "POLICY_TEST_ERROR"
_ROOT = Path(__file__).resolve().parent.parent  # the directory holding the privacy package
_STDERR_TAIL = 300  # characters of the child's stderr a message quotes
_RESULTS_MAX = 16 << 20  # bytes of results the hub reads from the child at most
# Seconds of the request's time kept back when its deadline limits the child: enough to kill
# the child, answer the refusal and write the request's audit record (an fsync, a thread hop)
# before the deadline, also on a loaded machine.
DEADLINE_MARGIN_S = 1.0


class CandidateCheckFailed(ValueError):
    """The child running a candidate's tests crashed, ran out of time or memory, or failed;
    the message says what happened and what to do, ``reason`` is one of the constants."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_candidate(modules: dict[str, str], data: dict[str, Any]) -> Results:
    """The Rego tests, then the invariants, of this candidate (in the calling process: the
    child's job; the hub calls :func:`check_in_child`)."""
    # Imported here: the parent needs none of the engine to start a child.
    from privacy.policy_invariants import run_invariants_sync
    from privacy.policy_set import PolicySet
    from privacy.policy_tests import run_policy_tests

    candidate = PolicySet(modules, data)
    results = [(r.name, r.ok, r.message) for r in run_policy_tests(candidate)]
    # The invariants compile the candidate's decision modules on their own, too.
    results += [(r.name, r.ok, r.message) for r in run_invariants_sync(candidate)]
    return results


async def check_in_child(
    modules: dict[str, str], data: dict[str, Any], timeout_s: float, memory_mb: int
) -> Results:
    """:func:`check_candidate` in a child process, at most ``timeout_s`` seconds (wall clock;
    less when the request's deadline comes sooner, see :func:`_limit`) and ``memory_mb`` MiB
    of address space (0: no limit). CandidateCheckFailed otherwise."""
    loop = asyncio.get_running_loop()
    limit_s, by_request = _limit(timeout_s, loop.time())
    if limit_s <= 0:  # the request has no time left for any test: say so, start nothing
        raise _timed_out(limit_s, by_request)
    ends_at = loop.time() + limit_s
    payload = json.dumps({"modules": modules, "data": data}, ensure_ascii=False).encode()
    env = _child_env()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "privacy.policy_check",
        str(memory_mb),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=_ROOT,
    )
    try:
        async with asyncio.timeout_at(ends_at):
            out, err = await _talk(proc, payload)
    except TimeoutError:
        raise _timed_out(limit_s, by_request) from None
    finally:
        # Killed on a timeout and on a cancelled request alike: no candidate outlives its call.
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    return _results(proc.returncode, out, err, memory_mb)


def _limit(timeout_s: float, now: float) -> tuple[float, bool]:
    """The child's time: ``timeout_s`` (C360_POLICY_TEST_TIMEOUT_S), or what is left of the
    current request's deadline less :data:`DEADLINE_MARGIN_S` when that is less; and whether
    the request's deadline is what set it. ``now`` is the loop's time."""
    when = deadline_at()
    if when is None:
        return timeout_s, False
    left = when - now - DEADLINE_MARGIN_S
    return (left, True) if left < timeout_s else (timeout_s, False)


def _timed_out(limit_s: float, by_request: bool) -> CandidateCheckFailed:
    if by_request:
        ran = (
            f"did not finish within the {limit_s:.1f} s left of the request and were stopped"
            if limit_s > 0
            else f"were not started: less than {DEADLINE_MARGIN_S:g} s of the request was left"
        )
        return CandidateCheckFailed(
            f"the policy tests {ran} (the request timeout, C360_REQUEST_TIMEOUT_S, was reached "
            "first): raise C360_REQUEST_TIMEOUT_S above C360_POLICY_TEST_TIMEOUT_S, or make the "
            "tests and rules cheaper (e.g. smaller numbers.range), then propose again",
            TIMED_OUT,
        )
    return CandidateCheckFailed(
        f"the policy tests did not finish within {limit_s:g} s "
        "(C360_POLICY_TEST_TIMEOUT_S) and were stopped: make the tests and rules cheaper "
        "(e.g. smaller numbers.range), then propose again",
        TIMED_OUT,
    )


async def _talk(proc: asyncio.subprocess.Process, payload: bytes) -> tuple[bytes, bytes]:
    """Send the request, read the results and the tail of stderr. Not communicate(): a
    proposal's Rego may print without end, and all of it would pile up in the hub (the
    child's memory limit is not the hub's); the child sends nothing else to stdout."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(payload)
    await proc.stdin.drain()
    proc.stdin.close()

    async def tail(stream: asyncio.StreamReader) -> bytes:
        kept = b""
        while chunk := await stream.read(65536):
            kept = (kept + chunk)[-_STDERR_TAIL * 4 :]  # UTF-8: at most 4 bytes a character
        return kept

    async def results(stream: asyncio.StreamReader) -> bytes:
        got = b""
        while chunk := await stream.read(65536):
            got += chunk
            if len(got) > _RESULTS_MAX:
                raise CandidateCheckFailed(
                    f"the policy tests' results exceeded {_RESULTS_MAX >> 20} MiB and were "
                    "stopped: fewer or shorter test messages, then propose again",
                    ERROR,
                )
        return got

    out, err = await asyncio.gather(results(proc.stdout), tail(proc.stderr))
    await proc.wait()
    return out, err


# All the child's environment: Rego's opa.runtime() hands a policy the process's environment,
# and the hub's holds its secrets (C360_AUDIT_KEYS, C360_GRAPH_PASSWORD, ...); a proposed test
# could spell them out one pass/fail at a time.
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")


def _child_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
    inherited = os.environ.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join([str(_ROOT), *([inherited] if inherited else [])])
    return env


def _results(code: int | None, out: bytes, err: bytes, memory_mb: int) -> Results:
    tail = err.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
    if "bad_alloc" in tail or "MemoryError" in tail:
        raise CandidateCheckFailed(
            f"the policy tests ran out of memory (C360_POLICY_TEST_MEMORY_MB={memory_mb}) and "
            "were stopped: make the tests and rules build smaller collections (e.g. smaller "
            "numbers.range), then propose again",
            OUT_OF_MEMORY,
        )
    if code is not None and code < 0:
        name = _signal_name(-code)
        raise CandidateCheckFailed(
            f"the policy tests crashed the Rego engine ({name}); regopy does this on `with "
            "input as` over a rule that calls a builtin: pass the input as an argument instead "
            "(as access_test calls decide(q)), then propose again",
            CRASHED,
        )
    if code != 0:
        last = tail.splitlines()[-1] if tail else ""
        raise CandidateCheckFailed(
            f"the policy tests could not run (exit {code}): {last}",
            ERROR,
        )
    try:
        rows = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        return [(str(n), bool(ok), str(m)) for n, ok, m in rows]
    except (ValueError, IndexError, TypeError) as exc:
        raise CandidateCheckFailed(
            f"the policy tests gave no readable results ({type(exc).__name__}); propose again",
            ERROR,
        ) from exc


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name}, signal {number}"
    except ValueError:
        return f"signal {number}"


def _limit_memory(memory_mb: int) -> None:
    """Cap the child's address space ``memory_mb`` MiB above what it holds once regopy is
    loaded: a candidate building a huge collection fails (std::bad_alloc) instead of pressing
    the hub's host. Not from the start: regopy's allocator (snmalloc) reserves 256 GB of address
    space when it loads, and aborts if it cannot."""
    if memory_mb <= 0:
        return
    from regopy import Interpreter

    Interpreter().query("x = 1")  # regopy loaded and its allocator set up
    status = Path("/proc/self/status")
    if not status.is_file():
        return  # not Linux: no cheap measure of the address space held, so no cap
    held_kb = next(
        int(line.split()[1])
        for line in status.read_text().splitlines()
        if line.startswith("VmSize:")
    )
    limit = (held_kb + memory_mb * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str]) -> int:
    _limit_memory(int(argv[0]) if argv else 0)
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    # What the candidate prints (Rego's print) goes nowhere: stdout carries the results only.
    results_fd = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    results = check_candidate(request["modules"], request["data"])
    with os.fdopen(results_fd, "w", encoding="utf-8") as out:
        out.write("\n" + json.dumps(results, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
