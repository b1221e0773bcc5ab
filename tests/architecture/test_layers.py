"""The layering of DESIGN.md, read from the code's own import statements (ast, every import
including those inside functions and under TYPE_CHECKING).

hub -> schema -> resolvers -> graph, privacy, sentiment, insights; ingest -> graph, sentiment;
``shared`` (settings, record models, value checks, platform names) at the bottom, importing
nothing of ours. A new arrow the wrong way fails here with the file and line that drew it.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "shared",
    "graph",
    "sentiment",
    "insights",
    "privacy",
    "ingest",
    "resolvers",
    "schema",
    "console",
    "hub",
)

# What each package may import of ours (itself always). hub is the wiring: anything.
ALLOWED: dict[str, frozenset[str]] = {
    "shared": frozenset(),
    "graph": frozenset({"shared"}),
    "sentiment": frozenset({"shared"}),
    "insights": frozenset({"shared"}),
    "privacy": frozenset({"shared", "graph"}),
    "ingest": frozenset({"shared", "graph", "sentiment"}),
    "resolvers": frozenset({"shared", "graph", "privacy", "sentiment", "insights", "ingest"}),
    "schema": frozenset({"shared", "graph", "privacy", "sentiment", "insights", "resolvers"}),
    "console": frozenset({"shared", "privacy", "ingest"}),
    "hub": frozenset(PACKAGES),
}

# The ingest modules resolvers still use for logic (the brand query language, handle ranking,
# webhook signatures); the shared vocabulary (record models, value checks, platform names) is
# in ``shared``. Do not add to this list: put what both need in ``shared``.
RESOLVERS_FROM_INGEST = frozenset(
    {"ingest.social.accounts", "ingest.social.query_language", "ingest.social.webhook"}
)


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = path.relative_to(ROOT).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = list(parts[: len(parts) - node.level])
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name


def _edges() -> list[tuple[str, str, str]]:
    """(package, imported module, "file:line") for every import of another package of ours."""
    out = []
    for package, path in _modules():
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top in PACKAGES and top != package:
                out.append((package, name, f"{path.relative_to(ROOT)}:{line}"))
    return out


EDGES = _edges()


def _violations(package: str, forbidden: set[str]) -> list[str]:
    return [
        f"{where} imports {name}"
        for owner, name, where in EDGES
        if owner == package and name.split(".")[0] in forbidden
    ]


def test_the_scan_sees_the_code() -> None:
    # Guards the checks below against passing because they read nothing.
    assert sum(1 for _ in _modules()) > 100
    assert ("hub", "schema.root", "hub/app.py") in {(o, n, w.split(":")[0]) for o, n, w in EDGES}


@pytest.mark.parametrize("package", ["schema", "resolvers"])
def test_schema_and_resolvers_never_import_hub(package: str) -> None:
    assert _violations(package, {"hub"}) == []


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "hub"])
def test_nothing_below_hub_imports_hub(package: str) -> None:
    assert _violations(package, {"hub"}) == []


@pytest.mark.parametrize("package", ["graph", "privacy", "sentiment"])
def test_graph_privacy_sentiment_never_import_the_api_layers(package: str) -> None:
    assert _violations(package, {"schema", "resolvers", "hub", "ingest", "console"}) == []


def test_resolvers_never_import_schema() -> None:
    assert _violations("resolvers", {"schema"}) == []


def test_shared_imports_nothing_of_ours() -> None:
    assert _violations("shared", set(PACKAGES)) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_arrow_points_down(package: str) -> None:
    assert _violations(package, set(PACKAGES) - ALLOWED[package] - {package}) == []


def test_resolvers_take_no_new_vocabulary_from_ingest() -> None:
    found = sorted(
        f"{where} imports {name}"
        for owner, name, where in EDGES
        if owner == "resolvers"
        and name.split(".")[0] == "ingest"
        and name not in RESOLVERS_FROM_INGEST
    )
    assert found == []


# Built in two parts so that this file does not match its own search.
_OPTIONAL_PRIVACY = re.compile(r"privacy is (not )?" + "None")


_SKIPPED_DIRS = {".git", ".venv", ".c360", "node_modules", "vendor", "__pycache__"}
_TEXT = {".py", ".md", ".toml", ".rego", ".json", ".js", ".html", ".cfg", ".txt", ".yml"}


def _text_files() -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".c360")]
        for name in files:
            if Path(name).suffix in _TEXT:
                yield Path(folder) / name


def test_privacy_is_never_optional() -> None:
    """No code path tests for a missing privacy layer: every request has one (the bench's
    allow-all one included), so nothing can reveal a value because a part is missing. The
    whole tree is searched, as ``grep -rn`` would."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _text_files()
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if _OPTIONAL_PRIVACY.search(line)
    ]
    assert len(list(_text_files())) > 200  # the search reads the tree
    assert found == []


def test_only_the_bench_builds_the_allow_all_privacy() -> None:
    users = sorted(
        where.split(":")[0]
        for _, name, where in EDGES
        if name == "privacy.allow_all" and not where.startswith("privacy/")
    )
    bench = (ROOT / "bench" / "privacy_overhead.py").read_text(encoding="utf-8")
    assert users == []  # no package of ours
    assert "from privacy.allow_all import" in bench
