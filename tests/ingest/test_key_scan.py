"""The first pass reads only key columns (``Source.key_data``): record for record the same walk
as ``records()``, so duplicate keys and record numbers come out the same on messy files."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.kinds import KINDS
from ingest.mapping import ColumnMapping
from ingest.readers import MAX_FIELD_CHARS, RawRecord, open_source
from ingest.validation import scan


class RecordsOnly:
    """The same file without ``key_data``: scan() then walks its full records."""

    def __init__(self, source: Any) -> None:
        self.path = source.path
        self.header = source.header
        self._source = source

    def records(self) -> Iterator[RawRecord]:
        return self._source.records()


def _messy(rng: random.Random, rows: int) -> bytes:
    lines = ["code,name,id,phone"]  # the key is not the first column
    for _ in range(rows):
        key = f"C{rng.randrange(40)}"
        choice = rng.random()
        if choice < 0.05:
            lines.append(f"{key},too,many,values,here")
        elif choice < 0.08:
            lines.append("")
        elif choice < 0.11:
            lines.append(f'{key},"unclosed,{key},1')
        elif choice < 0.13:
            lines.append(f"{key},{'x' * (MAX_FIELD_CHARS + 1)},{key},1")
        elif choice < 0.16:
            lines.append(f"X,名字,{key},\udcff")
        elif choice < 0.2:
            lines.append(f" first , 名字 ,  {key} ,1")
        else:
            lines.append(f"{key},名字,{rng.choice([key, '', ' '])},1")
    return "\r\n".join(lines).encode("utf-8", errors="surrogateescape") + b"\r\n"


@pytest.mark.parametrize("seed", range(6))
def test_key_walk_finds_what_the_record_walk_finds(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(_messy(random.Random(seed), 400))
    source = open_source(path)
    spec, mapping = KINDS["customers"], ColumnMapping.identity()
    assert source.key_data(["id"]) is not None
    found = scan(source, spec, mapping)
    assert found == scan(RecordsOnly(source), spec, mapping)
    assert found[1]  # the file does hold duplicate keys
    keys = list(source.key_data(["id", "phone", "absent"]))
    records = [r.data for r in source.records()]
    assert len(keys) == len(records)
    for key, data in zip(keys, records, strict=True):
        assert key == (None if data is None else {"id": data["id"], "phone": data["phone"]})


def test_a_mapped_key_column_is_read_from_its_source_column(tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text("kid;name\nK1;a\nK2;b\nK1;c\n", encoding="utf-8")
    source = open_source(path)
    mapping = ColumnMapping(columns={"kid": "id"})
    # (The last row of K1, index 2, is its key's repeated one.)
    assert scan(source, KINDS["customers"], mapping) == (3, {0}, [], frozenset({2}))
    assert scan(RecordsOnly(source), KINDS["customers"], mapping) == (3, {0}, [], frozenset({2}))
