"""Column mappings: turn a foreign CRM export's headers and codes into c360's field names.

A mapping is a TOML file::

    [columns]            # foreign column = our field
    "客户号" = "id"
    "手机" = "phone"
    "性别" = "gender"

    [values.gender]      # per our field: foreign code = our code
    "1" = "M"
    "2" = "F"

    [defaults]           # filled in when the field is missing or empty
    currency = "CNY"

Columns not named in ``[columns]`` pass through unchanged.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class MappingError(ValueError):
    """The mapping file cannot be used; the message says which part is wrong."""


@dataclass(frozen=True)
class ColumnMapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def identity(cls) -> ColumnMapping:
        return cls()

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise MappingError(f"mapping file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"mapping file {path.name} is not valid TOML: {exc}") from exc
        return cls.from_dict(doc, path.name)

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str = "mapping") -> ColumnMapping:
        unknown = set(doc) - {"columns", "values", "defaults"}
        if unknown:
            raise MappingError(
                f"{source} has unknown section(s) {sorted(unknown)}; "
                "use [columns], [values.<field>] and [defaults]"
            )
        columns = doc.get("columns", {})
        values = doc.get("values", {})
        defaults = doc.get("defaults", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise MappingError(f'{source}: [columns] must map names to names ("外部列" = "id")')
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise MappingError(f'{source}: [values.<field>] tables map codes ("1" = "M")')
        if not isinstance(defaults, dict):
            raise MappingError(f"{source}: [defaults] must be a table")
        return cls(
            columns={k.strip(): v for k, v in columns.items()},
            values={f: {str(k): v for k, v in table.items()} for f, table in values.items()},
            defaults=dict(defaults),
        )

    def target(self, column: str) -> str:
        """The field a foreign column lands in."""
        return self.columns.get(column.strip(), column.strip())

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        """Rename columns, translate codes, fill defaults; a pure function of ``row``."""
        out: dict[str, Any] = {}
        for key, value in row.items():
            name = self.target(key)
            table = self.values.get(name)
            if table is not None and value is not None:
                code = value.strip() if isinstance(value, str) else str(value)
                value = table.get(code, value)
            out[name] = value
        for name, value in self.defaults.items():
            if out.get(name) in (None, ""):
                out[name] = value
        return out


__all__ = ["ColumnMapping", "MappingError"]
