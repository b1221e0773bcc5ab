"""Flat memory under policy decisions: regopy loaded before libstdc++, and a bounded cache.

Each leak check runs in a fresh interpreter, because load order is decided once per process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from privacy.decision_cache import DecisionCache
from privacy.engines.embedded import EmbeddedEngine
from privacy.engines.native import rego_loaded_first
from privacy.policy_set import PolicySet, load_policy_set
from privacy.services import PrivacyServices
from privacy.types import Principal, Resource

# 300 decisions over a page of 48 attribute classes as privacy_officer, each with a new
# subject so that nothing is answered from a cache. Leaking, this grew ~900 KB a decision.
DECISIONS = 300
GROWTH_BOUND_KB = 15_000  # 50 KB a decision; the leak made it ~270 000
MEASURE = textwrap.dedent(
    """
    import gc, os, sys
    {first}
    import rapidfuzz  # a C++ extension that loads libstdc++
    from privacy.engines.common import build_input
    from privacy.engines.embedded import _compile_bundle, evaluate
    from privacy.engines.native import rego_loaded_first
    from privacy.policy_set import load_policy_set
    from privacy.types import Principal, Resource

    def rss_kb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    page = [
        Resource("Customer", f"C{{i}}", {{"advisorId": f"A{{i % 8}}", "branchId": f"B{{i % 3}}",
                 "consentMarketing": i % 2 == 0, "consentDataSharing": False}})
        for i in range(48)
    ]
    compiled = _compile_bundle(load_policy_set(None))
    def decide(n):
        who = Principal(f"po{{n}}", ("privacy_officer",), "compliance")
        evaluate(compiled, build_input(who, "read", page))
    for n in range(20):
        decide(n)
    gc.collect()
    before = rss_kb()
    for n in range({decisions}):
        decide(1000 + n)
    gc.collect()
    print(rego_loaded_first(), rss_kb() - before)
    """
)


def _measure(first_import: str) -> tuple[str, int]:
    code = MEASURE.format(first=first_import, decisions=DECISIONS)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    return out[0], int(out[1])


def test_importing_the_hub_first_keeps_policy_decisions_from_growing_native_memory() -> None:
    order, growth_kb = _measure("import hub")
    assert order == "True"
    assert growth_kb < GROWTH_BOUND_KB, f"{growth_kb} KB over {DECISIONS} decisions"


def test_the_load_order_check_sees_libstdcxx_loaded_before_regopy() -> None:
    # The check the engine logs a warning from, on a process in the leaking order.
    order, _ = _measure("")
    assert order == "False"


def test_the_load_order_check_reads_the_order_of_the_list() -> None:
    assert rego_loaded_first(["python", "librego_shared.so", "libstdc++.so.6"]) is True
    assert rego_loaded_first(["python", "libstdc++.so.6", "librego_shared.so"]) is False
    assert rego_loaded_first(["python"]) is None


async def test_policy_answers_are_kept_in_one_bounded_cache_that_a_new_revision_empties() -> None:
    policy_set = load_policy_set(None)
    engine = EmbeddedEngine(policy_set)
    services = PrivacyServices(engine, None, b"k" * 32, decision_cache=DecisionCache(8))
    page = [Resource("Customer", "C1", {"advisorId": "A1", "branchId": "B1"})]
    # Twenty distinct questions (an advisor with a desk role of their own each: the subject's
    # name alone is not one, the policy is told a stand-in for it).
    for n in range(20):
        asker = Principal(f"a{n}", ("advisor", f"desk{n}"), "service")
        decided = await services.decide(asker, "read", page)
        assert decided["C1"].allow is False  # not the advisor's customer
    assert len(services.decision_cache) == 8
    again = await services.decide(asker, "read", page)
    assert again["C1"].reason == decided["C1"].reason
    assert again["C1"].decision_id != decided["C1"].decision_id  # ids are per request
    await engine.reload(PolicySet(policy_set.modules, {**policy_set.data, "soak": 1}))
    await services.decide(asker, "read", page)
    assert len(services.decision_cache) == 1
    await engine.close()
