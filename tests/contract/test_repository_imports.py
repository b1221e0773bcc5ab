"""Repositories talk to the GraphStore protocol only, never to a backend module."""

from __future__ import annotations

import ast
from pathlib import Path

import graph.repositories

BACKENDS = ("graph.falkordb", "graph.neo4j", "graph.embedded", "graph.connect")
DRIVERS = ("falkordb", "redis", "neo4j")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_repository_imports_a_backend_or_a_driver() -> None:
    files = sorted(Path(graph.repositories.__file__).parent.glob("*.py"))
    assert len(files) > 3
    offenders = {
        f"{path.name}: {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(BACKENDS) or name.split(".")[0] in DRIVERS
    }
    assert offenders == set()
