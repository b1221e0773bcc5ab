"""Counting a FalkorDB store's hand-offs to its query threads (tests of where reads run)."""

from __future__ import annotations

from typing import Any

import pytest

from graph.falkordb import FalkorDBStore


def count_hand_offs(store: FalkorDBStore, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    executor = store._threads._executor
    hand_offs: list[Any] = []
    real = executor.submit

    def counting(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        hand_offs.append(fn)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(executor, "submit", counting)
    return hand_offs
