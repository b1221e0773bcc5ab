"""Column mappings: how a foreign export's file, headers, codes and formats become c360 fields.

A mapping is a TOML file; every section is optional::

    [source]                     # how to read the file (CLI --encoding/--delimiter/--decimal win)
    encoding = "gb18030"         # default: detected
    delimiter = ";"              # default: sniffed among , ; tab |
    date_formats = ["%y%m%d"]    # strptime patterns for date fields (birthDate) and date-only times
    time_formats = ["%d.%m.%Y %H:%M"]
    timezone = "Europe/Prague"   # zone of times without an offset; default Asia/Shanghai
    decimal = ","                # amounts' decimal mark: "1.000" is 1000 (with ".": 1)

    [sql]                        # a DuckDB query whose column names are c360 fields
    query = "SELECT ... FROM read_csv('trans.asc', delim=';')"

    [columns]                    # foreign column = c360 field
    "客户号" = "id"

    [values.gender]              # per c360 field: foreign code = c360 code
    "1" = "M"

    [defaults]                   # filled in when the field is missing or empty
    currency = "CNY"

Columns not named in ``[columns]`` keep their name; those that are no c360 field are reported
as ignored. A field name c360 does not know refuses the mapping (see :meth:`check`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.readers import ReadOptions
from ingest.records import DATE_FIELDS, MONEY_FIELDS, TIME_FIELDS, read_amount
from ingest.validators import SHANGHAI, to_iso_date, to_utc_iso
from shared.echo import echo

SECTIONS = ("source", "sql", "columns", "values", "defaults")
SOURCE_KEYS = ("encoding", "delimiter", "date_formats", "time_formats", "timezone", "decimal")


class MappingError(ValueError):
    """The mapping file cannot be used; the message says which part is wrong."""


@dataclass(frozen=True)
class SourceFormat:
    """The ``[source]`` section: reading options, value formats, and the zone of naive times."""

    encoding: str | None = None
    delimiter: str | None = None
    date_formats: tuple[str, ...] = ()
    time_formats: tuple[str, ...] = ()
    timezone: ZoneInfo = SHANGHAI
    decimal: str | None = None  # amounts' decimal mark; None: unambiguous amounts only

    @property
    def custom(self) -> bool:
        """Values need this mapping's formats, zone or decimal mark (not the models')."""
        return (
            bool(self.date_formats or self.time_formats or self.decimal)
            or self.timezone != SHANGHAI
        )


@dataclass(frozen=True)
class ColumnMapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    source: SourceFormat = field(default_factory=SourceFormat)
    sql: str | None = None
    folder: Path | None = None  # where the mapping file lives: relative paths in [sql]
    name: str = "mapping"

    @classmethod
    def identity(cls) -> ColumnMapping:
        return cls()

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        try:
            # utf-8-sig: a leading BOM (Windows editors write one) is not TOML; dropped.
            doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError as exc:
            raise MappingError(f"mapping file {path} does not exist") from exc
        except UnicodeDecodeError as exc:
            raise MappingError(
                f"mapping file {path.name} is not UTF-8 text: save it as UTF-8 (e.g. iconv -f "
                f"gbk -t utf-8 {path.name} > {path.stem}-utf8{path.suffix}) and give that file"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"mapping file {path.name} is not valid TOML: {exc}") from exc
        return cls.from_dict(doc, path.name, path.resolve().parent)

    @classmethod
    def from_dict(
        cls, doc: dict[str, Any], source: str = "mapping", folder: Path | None = None
    ) -> ColumnMapping:
        unknown = set(doc) - set(SECTIONS)
        if unknown:
            raise MappingError(
                f"{source} has unknown section(s) {sorted(unknown)}; "
                "use [source], [sql], [columns], [values.<field>] and [defaults]"
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
            columns=_columns(columns, source),
            values={f: {str(k): v for k, v in table.items()} for f, table in values.items()},
            defaults=dict(defaults),
            source=_source(doc.get("source", {}), source),
            sql=_sql(doc.get("sql", {}), source),
            folder=folder,
            name=source,
        )

    # --- checks ------------------------------------------------------------------------

    def check(self, fields: Collection[str], kind: str) -> None:
        """Raise MappingError if any section names a field ``kind`` does not have."""
        named = [("[columns]", f) for f in self.columns.values()]
        named += [("[values]", f) for f in self.values]
        named += [("[defaults]", f) for f in self.defaults]
        for section, name in named:
            if name not in fields:
                raise MappingError(
                    f"{self.name}: {section} names the field {name!r}, which {kind} does not "
                    f"have; valid fields: {', '.join(fields)}"
                )

    def ignored(self, header: Iterable[str], fields: Collection[str]) -> list[str]:
        """Source columns that land in no c360 field (reported, never silently dropped)."""
        return [c for c in header if self.target(c) not in fields]

    def two_columns(self, columns: Iterable[str]) -> str | None:
        """Why ``columns`` (a header) cannot be imported with this mapping, or None: two of
        them land in one field (``phone``, and ``手机`` mapped to phone). A record would keep
        one of the two values without a word; which is right only the exporter knows (as a
        header naming a column twice, or [columns] sending two columns to one field)."""
        by_field: dict[str, str] = {}
        for column in columns:
            if not column.strip():
                continue  # blank names (trailing empty columns) land nowhere
            name = self.target(column)
            if (other := by_field.setdefault(name, column)) != column:
                return _both(name, other, column)
        return None

    def read_options(
        self, encoding: str | None = None, delimiter: str | None = None
    ) -> ReadOptions:
        """The file's reading options: the command line's, else this mapping's [source]."""
        return ReadOptions(encoding or self.source.encoding, delimiter or self.source.delimiter)

    def with_decimal(self, mark: str | None) -> ColumnMapping:
        """This mapping with the command line's decimal mark (``--decimal``), which wins over
        ``[source] decimal`` as --encoding and --delimiter win over theirs; None: unchanged."""
        if mark is None:
            return self
        source = replace(self.source, decimal=_decimal(mark, "--decimal"))
        return replace(self, source=source)

    # --- per record --------------------------------------------------------------------

    def target(self, column: str) -> str:
        """The field a foreign column lands in."""
        return self.columns.get(column.strip(), column.strip())

    def apply(
        self, row: dict[str, Any], failed: dict[str, str] | None = None, *, formats: bool = True
    ) -> dict[str, Any]:
        """Rename columns, translate codes, fill defaults, read dates and times in this
        mapping's formats and zone; a pure function of ``row``. Raises ValueError
        ("field: reason") for a value that does not fit its format; with ``failed``, every
        such field is left out of the result and its reason put there instead (a record's
        every problem is told at once, not the first). ``formats=False`` only renames,
        translates and fills: posts read their ``created_at`` by [source] themselves
        (ingest/social/model.py), and the CRM's time fields are no post's."""
        custom = formats and self.source.custom
        if not (self.columns or self.values or self.defaults or custom):
            return row  # nothing to do (the documented columns): ~2 µs a row saved
        if self.nested:
            row = self._with_nested(row)
        out: dict[str, Any] = {}
        given: dict[str, str] = {}  # field -> the column that gave it
        both: dict[str, str] = {}  # fields two columns of a JSON Lines record land in
        for key, value in row.items():
            name = self.columns.get(key, key)
            if (other := given.setdefault(name, key)) != key:
                # (A header holding both is refused before any record: two_columns.)
                both[name] = _both(name, other, key)
                if failed is None:
                    raise ValueError(both[name])
                continue
            table = self.values.get(name)
            if table is not None and value is not None:
                code = value.strip() if isinstance(value, str) else str(value)
                value = table.get(code, value)
            out[name] = value
        for name, value in self.defaults.items():
            if out.get(name) in (None, ""):
                out[name] = value
        if custom:
            self._formats(out, failed)
        for name, reason in both.items():
            out.pop(name, None)
            if failed is not None:
                failed[name] = reason
        return out

    def defaulted(self, row: dict[str, Any]) -> list[str]:
        """The [defaults] fields ``row`` does not give itself (no column, or an empty one):
        those :meth:`apply` fills. A default is for a new record: the import leaves them out
        of a row whose record the graph holds (ingest.writing), so a partial-update file run
        with an onboarding mapping never resets a stored risk profile or consent (QA, session
        26)."""
        if not self.defaults:
            return []
        if self.nested:
            row = self._with_nested(row)
        given = {self.columns.get(k, k) for k, v in row.items() if v is not None and v != ""}
        return [name for name in self.defaults if name not in given]

    @cached_property
    def nested(self) -> list[tuple[str, list[str]]]:
        """[columns] naming a value inside a JSON object (``"user.screen_name" = "author"``,
        as Weibo's API nests a post's author), with the keys on the way."""
        return [(c, c.split(".")) for c in self.columns if "." in c.strip(".")]

    def _with_nested(self, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with each nested column's value, read by its path, beside its top-level
        keys (a key holding the dotted name itself wins: a CSV header may be so named)."""
        found: dict[str, Any] = {}
        for column, keys in self.nested:
            if column in row:
                continue
            value: Any = row
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                found[column] = value
        return {**row, **found} if found else row

    def unseen(self, keys: Collection[str]) -> list[str]:
        """The [columns] no record held, of the top-level ``keys`` records held (a nested
        column counts as held when its first key was): a mapping for another export."""
        return [c for c in self.columns if c not in keys and c.split(".")[0] not in keys]

    def _formats(self, out: dict[str, Any], failed: dict[str, str] | None) -> None:
        source = self.source
        for name, value in list(out.items()):
            money = name in MONEY_FIELDS and source.decimal is not None
            if (
                value is None
                or value == ""
                or (name not in DATE_FIELDS and name not in TIME_FIELDS and not money)
            ):
                continue
            try:
                if money:
                    out[name] = read_amount(value, source.decimal or ".")
                elif name in DATE_FIELDS:
                    out[name] = to_iso_date(value, source.date_formats)
                else:
                    out[name] = to_utc_iso(
                        value, source.time_formats, source.timezone, source.date_formats
                    )
            except ValueError as exc:
                if failed is None:
                    raise ValueError(f"{name}: {exc}") from exc
                failed[name] = f"{name}: {exc}"
                del out[name]


def _columns(table: dict[str, str], source: str) -> dict[str, str]:
    """``[columns]`` stripped, or MappingError when two source columns land in one field: a
    record would keep one of the two values without a word (as a header naming a column
    twice is refused)."""
    columns: dict[str, str] = {}
    by_field: dict[str, str] = {}
    for key, value in table.items():
        column, name = key.strip(), value.strip()
        if column in columns:
            raise MappingError(f"{source}: [columns] names the column {column!r} twice")
        if name in by_field:
            raise MappingError(
                f"{source}: [columns] sends both {by_field[name]!r} and {column!r} to the "
                f"field {name!r}; map one of them to another field or remove it"
            )
        columns[column] = name
        by_field[name] = column
    return columns


def _both(name: str, column: str, other: str) -> str:
    return (
        f"{name}: the columns {echo(column)!r} and {echo(other)!r} both land in this field; "
        "which value is right only the exporter knows: remove one or map it to another field"
    )


def _strings(value: Any, key: str, source: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise MappingError(f'{source}: [source] {key} must be a pattern or a list ("%y%m%d")')
    return tuple(items)


def _source(table: Any, source: str) -> SourceFormat:
    if not isinstance(table, dict):
        raise MappingError(f"{source}: [source] must be a table")
    # Singular spellings are accepted: date_format = "%y%m%d".
    table = {
        k if k.endswith("s") or not k.endswith("_format") else f"{k}s": v for k, v in table.items()
    }
    unknown = set(table) - set(SOURCE_KEYS)
    if unknown:
        raise MappingError(
            f"{source}: [source] has unknown key(s) {sorted(unknown)}; use {', '.join(SOURCE_KEYS)}"
        )
    zone = SHANGHAI
    if "timezone" in table:
        try:
            zone = ZoneInfo(str(table["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MappingError(
                f"{source}: [source] timezone {table['timezone']!r} is not an IANA zone "
                "(e.g. Asia/Shanghai, Europe/Prague)"
            ) from exc
    delimiter = table.get("delimiter")
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(str(delimiter), str(delimiter))
        if len(delimiter) != 1:
            raise MappingError(f"{source}: [source] delimiter must be one character")
    decimal = table.get("decimal")
    return SourceFormat(
        encoding=table.get("encoding"),
        decimal=None if decimal is None else _decimal(decimal, f"{source}: [source] decimal"),
        delimiter=delimiter,
        date_formats=_strings(table.get("date_formats", []), "date_formats", source),
        time_formats=_strings(table.get("time_formats", []), "time_formats", source),
        timezone=zone,
    )


def _decimal(mark: Any, where: str) -> str:
    """An amounts' decimal mark, "," or "." (``where``: who gave it, for the error)."""
    if mark not in (",", "."):
        raise MappingError(f'{where} must be "," or "."')
    return str(mark)


def _sql(table: Any, source: str) -> str | None:
    if table == {}:
        return None
    if (
        not isinstance(table, dict)
        or not isinstance(table.get("query"), str)
        or set(table) != {"query"}
    ):
        raise MappingError(f'{source}: [sql] holds one key, query = "SELECT ..."')
    return str(table["query"])


__all__ = ["ColumnMapping", "MappingError", "SourceFormat"]
