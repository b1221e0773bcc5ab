"""Dead letters, checkpoints and column mappings: the small file-backed pieces of ingest."""

import multiprocessing
from pathlib import Path

import orjson
import pytest

from ingest.checkpoint import Checkpoint
from ingest.deadletter import DeadLetters
from ingest.mapping import ColumnMapping, MappingError


def test_dead_letters_beside_input_rewritten_and_removed_when_empty(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    with DeadLetters.beside(source) as dead:
        dead.add(3, {"id": "c1"}, ["phone: bad"])
        dead.add(7, None, ["not valid JSON"])
    assert dead.path == tmp_path / "customers.dead.jsonl"
    lines = [orjson.loads(x) for x in dead.path.read_bytes().splitlines()]
    assert lines == [
        {"line": 3, "raw": {"id": "c1"}, "reasons": ["phone: bad"]},
        {"line": 7, "raw": None, "reasons": ["not valid JSON"]},
    ]
    with DeadLetters.beside(source) as again:
        again.add(9, {}, ["x"])
    assert len(again.path.read_bytes().splitlines()) == 1
    # A run without bad rows removes the previous run's file.
    clean = DeadLetters.beside(source)
    with clean:
        assert clean.count == 0
    assert clean.count == 0
    assert not clean.path.exists()


def test_checkpoint_persists_each_change(tmp_path: Path) -> None:
    path = tmp_path / "cp" / "imports.json"
    cp = Checkpoint(path)
    assert cp.get("a", 0) == 0
    cp.set("a", {"batches": 2})
    cp.set("b", 1)
    assert Checkpoint(path).get("a") == {"batches": 2}
    cp.clear("a")
    assert Checkpoint(path).get("a") is None
    assert Checkpoint(path).get("b") == 1
    assert [p.name for p in path.parent.iterdir()] == ["imports.json"]


def test_checkpoint_unreadable_file_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "imports.json"
    path.write_text("{torn", encoding="utf-8")
    assert Checkpoint(path).get("a") is None


def test_mapping_renames_translates_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[columns]\n"客户号" = "id"\n"姓名" = "name"\n"性别" = "gender"\n'
        '[values.gender]\n"1" = "M"\n"2" = "F"\n[defaults]\ncurrency = "CNY"\n',
        encoding="utf-8",
    )
    mapping = ColumnMapping.load(path)
    row = {"客户号": "C1", "姓名": "张三", "性别": "2", "other": "x", "currency": ""}
    assert mapping.apply(row) == {
        "id": "C1",
        "name": "张三",
        "gender": "F",
        "other": "x",
        "currency": "CNY",
    }
    assert ColumnMapping.identity().apply({"a": "1"}) == {"a": "1"}


def test_mapping_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid TOML"):
        ColumnMapping.load(bad)
    bad.write_text("[colums]\na = 'b'\n", encoding="utf-8")
    with pytest.raises(MappingError, match="unknown section"):
        ColumnMapping.load(bad)
    with pytest.raises(MappingError, match="does not exist"):
        ColumnMapping.load(tmp_path / "missing.toml")


def test_checkpoint_changes_by_two_holders_keep_each_others_keys(tmp_path: Path) -> None:
    # Two imports of different inputs at once: each holds the file from its start.
    path = tmp_path / "imports.json"
    first, second = Checkpoint(path), Checkpoint(path)
    first.set("a.csv", {"batches": 1})
    second.set("b.csv", {"batches": 1})
    first.set("a.csv", {"batches": 2})
    assert Checkpoint(path).get("b.csv") == {"batches": 1}
    second.clear("b.csv")
    assert orjson.loads(path.read_bytes()) == {"a.csv": {"batches": 2}}


def _checkpoint_many(path: Path, key: str, times: int) -> None:
    cp = Checkpoint(path, durable=False)
    for n in range(times):
        cp.set(key, n)


def test_checkpoint_processes_writing_at_once_lose_no_entry(tmp_path: Path) -> None:
    path = tmp_path / "imports.json"
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_checkpoint_many, args=(path, f"input-{k}.csv", 300)) for k in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    assert orjson.loads(path.read_bytes()) == {f"input-{k}.csv": 299 for k in range(3)}
