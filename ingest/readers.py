"""Read what banks really export as numbered raw records; one bad line never stops a run.

Formats by extension: ``.jsonl``/``.ndjson`` (JSON Lines), ``.xlsx``/``.xlsm``/``.xls``/``.ods``
(first sheet, python-calamine), ``.parquet`` (pyarrow); every other extension (``.csv``,
``.txt``, ``.asc``, ``.dat``, none) is delimited text. For text the encoding is detected (UTF-8,
UTF-8 with a BOM, UTF-16 with a BOM, GB18030/GBK, or what charset-normalizer recognises when
neither of those two fits most lines) and the delimiter sniffed among ``,`` ``;`` tab ``|``
(double-quote quoting); both can be given instead. A header naming a column twice is refused.

A file that cannot be read at all (binary, no known encoding, a broken spreadsheet) raises
UnsupportedFile with one sentence before anything is read further. A bad line later (bytes not
valid in the file's encoding or, in a GB18030 file, UTF-8 Chinese; a giant field; a wrong
number of values, a stray opening quote, a spreadsheet number beyond a float's exact whole
numbers, a spreadsheet cell holding an error such as #N/A) comes back as a record with
``error`` set and its line number; reading goes on. Every format's values go through one
check (:func:`value_problems`: length, encoding, precision); a JSON Lines line longer than any
record (``max_line``) is refused unread.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from shared.echo import echo
from shared.json_keys import duplicate_key, duplicate_key_reason

# The length limit is shared with the API's writes (shared.validators); re-exported here.
from shared.validators import MAX_FIELD_CHARS, field_too_long

JSONL_SUFFIXES = (".jsonl", ".ndjson")
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = (",", ";", "\t", "|")
# The longest JSON Lines line a CRM import reads (bytes; characters when not UTF-8): ten values
# at MAX_FIELD_CHARS written as \uXXXX escapes (6 bytes a character) fit. A longer line is
# one dead letter, read past without being held or parsed, so a pasted dump of 150 million
# characters costs nothing (it cost 1.5 GB and 50 s, QA session 23). Posts have their own.
MAX_JSONL_LINE = 10 * 6 * MAX_FIELD_CHARS
# A header cell longer than this is no column name: the file is not delimited text.
MAX_COLUMN_NAME = 256
_SAMPLE_BYTES = 256 * 1024
_SNIFF_LINES = 50
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes kept by errors="surrogateescape"
_HAN = re.compile("[\u4e00-\u9fff]")  # CJK unified ideographs (the common ones)
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DOS_EOF = "\x1a"  # Ctrl-Z: a dead letter "1 values but the header has 4 columns" (QA, s26)
_CHINESE = ("gb2312", "gbk", "gb18030", "hz", "big5", "big5hkscs", "cp950", "cp936")

# The csv module's own limit (128 KiB) would turn a long field into an exception that ends the
# file; lift it so only MAX_FIELD_CHARS decides, per record.
csv.field_size_limit(2**31 - 1)


class UnsupportedFile(ValueError):
    """The file is not one c360 can read; the message is one sentence a person can act on."""


@dataclass
class RawRecord:
    """One input record: ``line`` is the physical line it starts on (1-based, header is 1);
    for spreadsheets the sheet row, for Parquet the row number (1-based)."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None
    # A broken record as the reader has it, for its dead letter: its text, or its cells.
    raw: str | list[str] | dict[str, Any] | None = None
    column: str | None = None  # the source column ``error`` is about, when one is
    # A record refused for its values (:func:`checked`): each such column's reason (``error``
    # is the first), and its other values, so the importer can tell their problems too (a
    # dead letter lists every problem of its record). Empty / None otherwise.
    problems: dict[str, str] = field(default_factory=dict)
    others: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReadOptions:
    """What a person (``--encoding``/``--delimiter``) or a mapping's ``[source]`` fixes."""

    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class Source:
    """An opened input: its format, detected encoding/delimiter, header, and a record reader."""

    path: Path
    format: str  # "text" | "jsonl" | "sheet" | "parquet"
    header: list[str] | None
    encoding: str | None = None
    delimiter: str | None = None
    options: ReadOptions = field(default_factory=ReadOptions)
    # JSON Lines: a line longer than this (bytes; characters when not UTF-8) is a dead letter,
    # read on to its end but never held whole nor parsed.
    max_line: int = MAX_JSONL_LINE

    def records(self) -> Iterator[RawRecord]:
        if self.format == "text":
            return _read_text(self)
        if self.format == "jsonl":
            return _read_jsonl(self)
        if self.format == "sheet":
            return _read_sheet(self.path)
        return _read_parquet(self.path)

    def key_data(self, columns: list[str]) -> Iterator[dict[str, Any] | None]:
        """Per record, in ``records()`` order, its ``columns`` (those it has), or None for a
        broken record: what the first pass needs for duplicate keys. Delimited text skips
        building the records (the first pass reads every line, while the graph server idles)."""
        if self.format == "text":
            return _read_text_keys(self, columns)
        return (r.data for r in self.records())

    def describe(self) -> str:
        if self.format == "sheet":
            return "spreadsheet, first sheet"
        if self.format != "text":
            return {"jsonl": "JSON Lines", "parquet": "Parquet"}[self.format]
        shown = {"\t": "tab"}.get(self.delimiter or "", self.delimiter)
        return f"text, {self.encoding}, delimiter {shown!r}"


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in SHEET_SUFFIXES:
        return "sheet"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "text"


# --- encodings ---------------------------------------------------------------------------


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise UnsupportedFile(
            f"unknown encoding {name!r}; use e.g. utf-8, gb18030, utf-16"
        ) from exc


def _decodes(line: bytes, encoding: str) -> str | None:
    try:
        return line.decode(encoding)
    except UnicodeDecodeError:
        return None


def _mostly_gb2312(text: str) -> bool:
    # Real Chinese text is almost all GB2312's common characters; a Latin code page read as
    # GB18030 turns into rare extension characters instead.
    wide = [c for c in text if not c.isascii()]
    common = sum(1 for c in wide if _encodes(c, "gb2312"))
    return bool(wide) and common >= 0.8 * len(wide)


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def detect_encoding(sample: bytes, complete: bool) -> str | None:
    """The encoding of a text sample, or None if it does not look like text.

    ``complete``: the sample is the whole file (otherwise its last line may be cut). A few bad
    lines do not change the verdict: they become dead letters when the file is read."""
    return detect_encodings(sample, complete)[0]


def detect_encodings(sample: bytes, complete: bool) -> tuple[str | None, list[str]]:
    """:func:`detect_encoding`'s pick, and when that is a single-byte code page told from
    another only by a guess, every code page the sample reads as just as well (the pick
    first); else an empty list."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", []
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", []
    if _too_many_controls(sample.count(b"\x00"), len(sample)):
        return None, []  # NUL bytes without a UTF-16 BOM: binary (a stray one is a bad line)
    lines = sample.split(b"\n")
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    wide = [line for line in lines if not line.isascii()]
    if not wide:
        return "utf-8", []
    # Per line: valid UTF-8 (random or GBK bytes almost never are), else GB18030 when the text
    # it gives is mostly GB2312's common characters. A file mixing the two (one line re-typed
    # on another system) takes the encoding of most lines; the others are dead letters when
    # read, never mojibake. A Latin code page only when neither fits most lines.
    rest = [line for line in wide if _decodes(line, "utf-8") is None]
    utf8 = len(wide) - len(rest)
    chinese = [text for line in rest if (text := _decodes(line, "gb18030")) is not None]
    gbk = len(chinese) if _mostly_gb2312("".join(chinese)) else 0
    if 2 * (utf8 + gbk) >= len(wide):
        return ("utf-8" if utf8 >= gbk else "gb18030"), []
    from charset_normalizer import from_bytes  # imported lazily: only unusual files need it

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return None, []
    # Chinese exports are GBK or GB2312 in name; GB18030 is the superset that reads them all.
    if best.encoding in _CHINESE:
        return "gb18030", []
    return best.encoding, _guessed_code_pages(best, list(matches))


# Western (Latin-1, cp1252) and Central European (cp1250, Latin-2) code pages give other
# letters for the same bytes (è/č, ø/ř, æ/ć), and charset-normalizer often cannot tell them
# apart: a Latin-1 file of French, German and Danish names was read as cp1250, every è a č
# (QA, session 26). When one of these reads the sample as well as the pick, the pick is a
# guess: the file is refused, naming the candidates, rather than imported as mojibake.
_RIVAL_PAGES = frozenset({"cp1252", "iso8859-1", "iso8859-15", "cp1250", "iso8859-2"})
_CHAOS_MARGIN = 0.01  # charset-normalizer's "mess" ratio: equal within this is a tie
_CANDIDATES_SHOWN = 6


def _guessed_code_pages(best: Any, matches: list[Any]) -> list[str]:
    """The code pages (``best``'s first) reading the sample with no more mess than ``best``,
    when one of them is a rival of another script (:data:`_RIVAL_PAGES`); else []. Matches
    giving the very same text are one match in charset-normalizer's list (not rivals)."""
    tied = [m for m in matches if m.chaos <= best.chaos + _CHAOS_MARGIN]
    names = list(dict.fromkeys(codecs.lookup(m.encoding).name for m in [best, *tied]))
    if not any(n in _RIVAL_PAGES for n in names[1:]):
        return []
    return names[:_CANDIDATES_SHOWN]


def _looks_binary(text: str) -> bool:
    return _too_many_controls(len(_CONTROL.findall(text)), len(text))


def _too_many_controls(count: int, length: int) -> bool:
    """Whether ``count`` control bytes in a sample of ``length`` make it binary: more than one
    in 200 (and than 2). A stray one (a NUL pasted into a name) leaves the file text: its
    record is a dead letter (``name: contains a control character``), the rest imports."""
    return count > max(2, length // 200)


# --- delimited text ----------------------------------------------------------------------


def sniff_delimiter(lines: list[str]) -> str:
    """The candidate giving the most rows with the header's (more than one) column count."""
    best, best_score = ",", (-1, 0)
    for candidate in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=candidate))
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows[1:] if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _open_text(source: Source) -> io.TextIOWrapper:
    raw = source.path.open("rb")
    # surrogateescape keeps undecodable bytes in the text, so one bad line is found and
    # dead-lettered by its record instead of ending the whole file.
    return io.TextIOWrapper(raw, encoding=source.encoding, errors="surrogateescape", newline="")


def _clean_header(names: list[str]) -> list[str]:
    return [n.strip().lstrip("\ufeff").strip() for n in names]


def _check_header(path: Path, header: list[str]) -> list[str]:
    """``header``, or UnsupportedFile when it names a column twice: the records are dicts by
    column, so one of the two values would be dropped without a word (which one is right, only
    the person who exported the file knows). Blank names (trailing empty columns) may repeat."""
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise UnsupportedFile(
                f"{path.name}: the header names the column {echo(name)!r} twice; "
                "rename or remove one of them"
            )
        seen.add(name)
    return header


class _Runaway(Exception):
    """A record ran over more lines and characters than any well-formed one can hold."""


class _Lines:
    """The file's physical lines as the csv reader takes them, the current record's kept: a
    record that a stray quote ran on into the lines after it is taken apart again (its first
    line a dead letter, the others read again as records). ``limit`` caps what one record may
    buffer, so a stray quote in a large file never holds the rest of the file in memory."""

    def __init__(self, fh: io.TextIOWrapper, limit: int) -> None:
        self._fh = fh
        self._again: deque[str] = deque()
        self.limit = limit
        self.taken: list[str] = []  # the current record's lines
        self.size = 0
        self.consumed = 0  # lines handed out: the current record starts on consumed + 1
        self.ended = False  # the file ended while a record was open (an unclosed quote)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            line = self._again.popleft()
        else:
            try:
                line = next(self._fh)
            except StopIteration:
                self.ended = bool(self.taken)
                raise
        self.consumed += 1
        self.taken.append(line)
        if len(self.taken) > 1:
            self.size += len(line)
            if self.size > self.limit:
                raise _Runaway
        else:
            self.size = len(line)
        return line

    def new_record(self) -> None:
        self.taken, self.size, self.ended = [], 0, False

    def again(self, lines: list[str]) -> None:
        """Hand ``lines`` out again, before the rest of the file."""
        self._again.extendleft(reversed(lines))
        self.consumed -= len(lines)


def _unclosed(line: int, lines: int, ended: bool) -> str:
    where = "runs to the end of the file" if ended else f"runs over {lines} lines"
    return (
        f"a quoted value on line {line} is not closed as expected (the record {where}): "
        "check the quoting; the lines after it were read again"
    )


def _shown(line: str) -> str:
    # The dead letter's raw text: undecodable bytes (kept as surrogates) cannot be JSON.
    return _UNDECODABLE.sub("\ufffd", line.rstrip("\r\n"))


def _text_rows(source: Source) -> Iterator[tuple[int, list[str] | None, str, str | None]]:
    """(line, values, "", None) per non-empty record after the header, or (line, None,
    reason, raw text or None) for a record that cannot be read; both readers walk the file
    through this, so their records match one for one.

    A record over several lines that is not a record (a wrong number of values, the file
    ending inside its quotes, unreadable): a stray opening quote ran it on into the following
    lines. Its first line is a dead letter and the lines after it are read again, so one bad
    quote costs one line, not the rest of the file. Quoted line breaks in a well-formed record
    stay one record."""
    width = len(source.header or [])
    delimiter = source.delimiter or ","
    # Twice a field (doubled quotes) per column, with its quotes and delimiter.
    limit = max(width, 1) * (2 * MAX_FIELD_CHARS + 3) + 2
    with _open_text(source) as fh:
        lines = _Lines(fh, limit)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            next(reader)
        except (StopIteration, csv.Error, _Runaway):
            return
        while True:
            start = lines.consumed + 1
            lines.new_record()
            values: list[str] | None = None
            reason = ""
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                reason = f"not valid delimited text ({exc})"
            except _Runaway:
                pass  # over several lines: taken apart below
            taken = lines.taken
            if lines.ended or (len(taken) > 1 and (values is None or len(values) != width)):
                yield start, None, _unclosed(start, len(taken), lines.ended), _raw_shown(taken[0])
                lines.again(taken[1:])
                # A fresh reader: the old one may be inside the quote.
                reader = csv.reader(lines, delimiter=delimiter)
                continue
            if values is None:
                yield start, None, reason, None
            elif _repeats_header(values, source.header):
                yield start, None, _header_again(start), _raw_shown("".join(taken))
            elif values == [_DOS_EOF]:
                continue  # an old DOS tool's end-of-file mark after the last line
            elif len(values) > 1 or (values and values[0].strip()):
                # A line of nothing but spaces or tabs is an empty line too (it was a dead
                # letter, "1 values but the header has 4 columns": QA, session 24).
                yield start, values, "", None


def _repeats_header(values: list[Any], header: list[str] | None) -> bool:
    """A record that is the header again (two exports joined with ``cat``: QA, session 26, a
    customer with the id "id" named "name" was imported); the first value decides cheaply."""
    if not header or len(values) != len(header) or not isinstance(values[0], str):
        return False
    if _clean_header(values[:1]) != header[:1]:
        return False
    return _clean_header([str(v) for v in values]) == header


def _header_again(line: int) -> str:
    return (
        f"the header repeats on line {line}: were two exports concatenated? the line is not "
        "imported; remove it (or import the files one by one)"
    )


def _read_text(source: Source) -> Iterator[RawRecord]:
    header = source.header or []
    width = len(header)
    encoding = source.encoding or ""
    for line, values, reason, raw in _text_rows(source):
        if values is None:
            yield RawRecord(line, None, reason, raw)
        else:
            yield _text_record(line, header, width, values, encoding)


def _read_text_keys(source: Source, columns: list[str]) -> Iterator[dict[str, Any] | None]:
    # The same records as _read_text; only the wanted values are kept, None for a bad one.
    header = source.header or []
    width = len(header)
    # No column name repeats (refused when opened, but blank ones): one index per name.
    at = {name: i for i, name in enumerate(header)}
    wanted = [(name, at[name]) for name in dict.fromkeys(columns) if name in at]
    encoding = source.encoding or ""
    for _line, values, _reason, _raw in _text_rows(source):
        if values is None or len(values) != width:
            yield None
            continue
        joined = "".join(values)
        # Per value, as _text_record judges (two joined values are not one value).
        suspect = len(joined) > MAX_FIELD_CHARS or (
            not joined.isascii() and any(_foreign(v, encoding) for v in values)
        )
        # A record that may be broken: its own checks decide.
        if suspect and _text_record(0, header, width, values, encoding).data is None:
            yield None
            continue
        yield {name: values[i] for name, i in wanted}


def _text_record(
    line: int, header: list[str], width: int, values: list[str], encoding: str
) -> RawRecord:
    # A dead letter keeps its values (each cut to RAW_SHOWN characters, undecodable bytes as
    # U+FFFD), by column when they fit the header.
    if len(values) != width:
        reason = f"{len(values)} values but the header has {width} columns"
        return RawRecord(line, None, reason, [_raw_shown(v) for v in values])
    data = dict(zip(header, values, strict=True))
    if problems := value_problems(data, encoding):
        return _refused(line, data, problems, {k: _raw_shown(v) for k, v in data.items()})
    return RawRecord(line, data)


# --- values: one check for every format ------------------------------------------------------


def value_problems(
    data: dict[str, Any], encoding: str = "", *, cells: bool = False
) -> dict[str, str]:
    """Per column of a record as a reader has it, why its value cannot be imported: text over
    MAX_FIELD_CHARS (the API's limit too), bytes not of the file's ``encoding`` (a UTF-8 line
    in a GB18030 file: mojibake, :func:`_foreign`); with ``cells`` (a spreadsheet's or
    Parquet file's), a number a float cannot hold exactly (an 18-digit ID number). Every
    reader (delimited text, JSON Lines, spreadsheets, Parquet) judges its values here; text
    nested in a JSON value counts as its field's."""
    problems: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, str):
            found = _text_problem(name, value, encoding)
        elif isinstance(value, float):
            found = _precision_problem(name) if cells and _imprecise_value(value) else None
        elif isinstance(value, dict | list):
            found = next(
                (f for text in _nested_texts(value) if (f := _text_problem(name, text, encoding))),
                None,
            )
        else:
            found = None
        if found is not None:
            problems[name] = found
    return problems


def _text_problem(name: str, value: str, encoding: str) -> str | None:
    if (found := field_too_long(name, value)) is not None:  # a dead letter, not a crash
        return found
    if _foreign(value, encoding):
        return f"{name}: bytes that are not valid {encoding}: re-export the file in one encoding"
    return None


def _nested_texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _nested_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_texts(item)


def _refused(
    line: int, data: dict[str, Any], problems: dict[str, str], raw: str | dict[str, Any]
) -> RawRecord:
    """The dead letter of a record with ``problems`` (value_problems): ``raw`` is what it
    keeps of the record; its other values go on to be judged for their own problems."""
    first = next(iter(problems))
    others = {k: v for k, v in data.items() if k not in problems}
    return RawRecord(line, None, problems[first], raw, first, problems, others)


def _foreign(value: str, encoding: str) -> bool:
    """``value`` holds bytes that are not ``encoding``'s: undecodable ones (kept by
    surrogateescape), or in a GB18030 file Chinese text in UTF-8. Those bytes are valid
    GB18030 too, but they read as rare characters (mojibake). GBK text that is also valid UTF-8
    reading as Chinese needs rare (GB2312 level-2) characters: none of 800 000 random names of
    2-6 common ones was."""
    if value.isascii():
        return False
    if _UNDECODABLE.search(value):
        return True
    if encoding != "gb18030":
        return False
    try:
        text = value.encode("gb18030").decode("utf-8")
    except UnicodeError:
        return False
    return _HAN.search(text) is not None


# A JSON array of objects or values, or an object: not a header such as "[id],[name]".
_JSON_START = re.compile(r'[\ufeff\s]*(\[)\s*[{\["\d-]|[\ufeff\s]*(\{)\s*"')


def _json_advice(path: Path, start: str | None) -> str:
    """What to do with JSON in a file named as delimited text (QA: a WeChat export's JSON
    array was read as CSV, its ``[`` taken for the header, every line a dead letter)."""
    jsonl = path.with_suffix(".jsonl").name
    if start == "[":
        return (
            f"{path.name} is a JSON array, not JSON Lines or delimited text: write one object "
            f"a line (e.g. jq -c '.[]' {path.name} > {jsonl}) and give that file"
        )
    return (
        f"{path.name} holds JSON, not delimited text: if it has one object a line, name it "
        f"{jsonl} (or .ndjson); a single JSON document must be split into one object a line"
    )


def _guessed_advice(path: Path, candidates: list[str]) -> str:
    return (
        f"{path.name}: its encoding can only be guessed: it reads as {', '.join(candidates)}, "
        "each giving other letters (è or č, ø or ř); give it with --encoding (latin-1 or "
        "cp1252 for Western European text, cp1250 for Central European) or as encoding "
        "under [source] in the mapping"
    )


def _open_delimited(path: Path, options: ReadOptions) -> Source:
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        complete = not fh.read(1)
    if not sample.strip():
        return Source(path, "text", [], "utf-8", options.delimiter or ",", options)
    encoding = _check_encoding(options.encoding) if options.encoding else None
    if encoding is None:
        encoding, guessed = detect_encodings(sample, complete)
        if guessed:
            raise UnsupportedFile(_guessed_advice(path, guessed))
    if encoding is None:
        raise UnsupportedFile(
            f"{path.name} is not text (binary, or an encoding c360 cannot recognise); "
            "export it as delimited text or give --encoding"
        )
    text = sample.decode(encoding, errors="surrogateescape")
    if json_start := _JSON_START.match(text):
        raise UnsupportedFile(_json_advice(path, json_start.group(1) or json_start.group(2)))
    if _looks_binary(text):
        raise UnsupportedFile(
            f"{path.name} does not look like delimited text (it holds control bytes); "
            "export it as CSV/text, JSON Lines, .xlsx or .parquet"
        )
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the sample may end mid-line
    delimiter = options.delimiter or sniff_delimiter(lines[:_SNIFF_LINES])
    try:
        first = next(csv.reader(lines, delimiter=delimiter), [])
    except csv.Error as exc:
        raise UnsupportedFile(f"{path.name}: the header line is not readable ({exc})") from exc
    header = _clean_header(first)
    if _UNDECODABLE.search("".join(header)):
        raise UnsupportedFile(
            f"{path.name}: the header is not valid {encoding}; give the right --encoding"
        )
    longest = max(header, key=len, default="")
    if len(longest) > MAX_COLUMN_NAME:
        # One line of thousands of characters without a delimiter (a binary or a text dump):
        # no export names a column like that.
        raise UnsupportedFile(
            f"{path.name} does not look like delimited text: its header holds a column name "
            f"of {len(longest)} characters ({echo(longest, 16)!r}); export it as CSV/text, "
            "JSON Lines, .xlsx or .parquet, or give --delimiter"
        )
    return Source(path, "text", _check_header(path, header), encoding, delimiter, options)


# --- JSON Lines ----------------------------------------------------------------------------


# Characters of a broken line kept in its dead letter (the raw text to fix it by).
RAW_SHOWN = 4096
_UTF8 = ("utf-8", "utf-8-sig")


def _raw_shown(line: str | bytes) -> str:
    """A broken line's text for its dead letter, cut to RAW_SHOWN characters (saying so)."""
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    text = _shown(text)
    if len(text) <= RAW_SHOWN:
        return text
    return f"{text[:RAW_SHOWN]}… [cut: the first {RAW_SHOWN} characters of this line]"


def _not_encoded(encoding: str, path: Path) -> str:
    # The iconv line names the file being read (it said posts.jsonl for every file: QA, s23).
    converted = f"{path.stem}-utf8{path.suffix}"
    return (
        f"the line is not valid {encoding}: convert the file (e.g. iconv -f GB18030 -t UTF-8 "
        f"{path.name} > {converted}) or give its encoding (--encoding, or encoding under "
        "[source] in the mapping)"
    )


def _jsonl_lines(source: Source) -> Iterator[tuple[str | bytes, int | None]]:
    """(line, None) per physical line, or (its first ``max_line`` units, its length) for a
    longer one, whose rest is read past a MiB at a time and dropped. UTF-8 is read as bytes
    (orjson parses them as they are); another encoding is decoded, undecodable bytes kept as
    surrogates (surrogateescape) so that line alone is refused."""
    limit = source.max_line
    encoding = source.encoding or "utf-8"
    with source.path.open("rb") as raw:
        fh: Any = raw
        if encoding not in _UTF8:
            fh = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="\n")
        newline = b"\n" if fh is raw else "\n"
        while line := fh.readline(limit + 1):
            if len(line) <= limit or line.endswith(newline):
                yield line, None
                continue
            size = len(line)
            while rest := fh.readline(1 << 20):
                size += len(rest)
                if rest.endswith(newline):
                    size -= 1  # its length without the line break
                    break
            yield line, size


def _read_jsonl(source: Source) -> Iterator[RawRecord]:
    encoding = source.encoding or "utf-8"
    number = 0
    lines = _jsonl_lines(source)
    while True:
        try:
            item = next(lines, None)
        except UnicodeDecodeError as exc:
            # A UTF-16 file whose bytes break the encoding itself (surrogateescape cannot keep
            # them): what follows cannot be found line by line any more.
            why = _not_encoded(encoding, source.path)
            reason = f"{why} (from here to the end of the file: {exc.reason})"
            yield RawRecord(number + 1, None, reason)
            return
        if item is None:
            return
        raw, size = item
        number += 1
        if number == 1:
            raw = (
                raw.removeprefix(codecs.BOM_UTF8)
                if isinstance(raw, bytes)
                else raw.removeprefix("\ufeff")
            )
        if size is not None:
            unit = "bytes" if isinstance(raw, bytes) else "characters"
            reason = (
                f"line longer than {source.max_line} {unit} ({size}): not read; a record "
                "this long is no export's, check the line"
            )
            yield RawRecord(number, None, reason, _raw_shown(raw))
            continue
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield RawRecord(
                number, None, _json_error(raw, encoding, source.path, exc), _raw_shown(raw)
            )
            continue
        if (key := duplicate_key(raw)) is not None:  # as the social webhook refuses a body
            yield RawRecord(number, None, duplicate_key_reason(key), _raw_shown(raw))
            continue
        if not isinstance(value, dict):
            reason = f"expected a JSON object, got {type(value).__name__}"
            yield RawRecord(number, None, reason, _raw_shown(raw))
            continue
        if problems := value_problems(value, encoding):
            yield _refused(number, value, problems, _raw_shown(raw))
            continue
        yield RawRecord(number, value)


def _json_error(raw: str | bytes, encoding: str, path: Path, exc: orjson.JSONDecodeError) -> str:
    # orjson says "str is not valid UTF-8: surrogates not allowed" both for bytes that are not
    # UTF-8 and for undecodable bytes kept as surrogates: say which encoding the line is not.
    undecodable = (
        _decodes(raw, "utf-8") is None
        if isinstance(raw, bytes)
        else _UNDECODABLE.search(raw) is not None
    )
    return _not_encoded(encoding, path) if undecodable else f"not valid JSON ({exc.msg})"


# --- spreadsheets and Parquet ----------------------------------------------------------------


def _cell(value: Any) -> Any:
    # Spreadsheets store ids and phone numbers as floats: 13812345678.0 is "13812345678".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, time):
        return value.isoformat()
    # A Parquet DECIMAL stays a Decimal: an exact number, as a float cell is a number. As text
    # ("12.340") it was judged by the text spelling rules: refused as ambiguous, and with
    # --decimal , read as 12340 (QA, session 26). A number takes no decimal mark.
    if isinstance(value, datetime | date | bool | int | float | str | Decimal) or value is None:
        return value
    return str(value)


def _raw_cell(value: Any) -> Any:
    """A cell as a dead letter keeps it (JSON: a Decimal as its text, every digit)."""
    value = _cell(value)
    return str(value) if isinstance(value, Decimal) else value


# From 2**53 on a float no longer holds every whole number: an 18-digit ID number stored as a
# number cell comes back as a neighbouring number (a different person's id, valid-looking).
_EXACT_FLOAT = 2**53


def _imprecise_value(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and abs(value) >= _EXACT_FLOAT


def _precision_problem(name: str) -> str:
    return (
        f"{name}: stored as a number, precision lost: format the column as text in the "
        "spreadsheet and export again"
    )


def checked(
    number: int,
    row: dict[str, Any],
    value: Callable[[Any], Any] | None = None,
    errors: dict[str, str] | None = None,
) -> RawRecord:
    """A row of cells (a spreadsheet's, a Parquet file's, a SQL transform's result), each
    taken as ``value`` gives it (spreadsheets: :func:`_cell`), its values checked
    (value_problems). ``errors``: the columns whose spreadsheet cell holds an error
    (``#N/A``...), each with its error text (:func:`_sheet_errors`). A dead letter keeps the
    whole row, each cell as it reads (a number a float cannot hold exactly as the float it is,
    ``1.1010519900101014e+17``, never as whole-number text: that would show another,
    valid-looking ID number; an error cell as its error text), each text cut to RAW_SHOWN
    characters."""
    if errors:
        row = {h: errors.get(h, v) for h, v in row.items()}
    data = row if value is None else {h: value(v) for h, v in row.items()}
    problems = value_problems(row, cells=True)
    if errors:
        problems = {
            h: _error_problem(h, errors[h]) if h in errors else problems[h]
            for h in row
            if h in errors or h in problems
        }
    if problems:
        raw = {
            h: repr(v)
            if _imprecise_value(v)
            else _raw_shown(v)
            if isinstance(v, str)
            else _raw_cell(v)
            for h, v in row.items()
        }
        return _refused(number, data, problems, raw)
    return RawRecord(number, data)


def _error_problem(name: str, error: str) -> str:
    if error.startswith("="):  # an uncached formula (_cell_error): no error text starts so
        # The formula itself is in the dead letter's raw, not here: it may quote a value.
        return (
            f"{name}: the spreadsheet cell holds a formula whose value was never computed: "
            "open and save the workbook in Excel or LibreOffice so formula values are "
            "computed, then import it again"
        )
    return f"{name}: the spreadsheet cell holds an error ({error})"


# A cell holding an error (a failed formula's cached #N/A, #DIV/0!, #VALUE!, #REF!...) is
# ``t="e"`` in the sheet's XML; python-calamine gives it as "" like an empty cell, and empty
# means "not given" (the stored value kept, a new record's field null): an error would pass
# silently. So is a formula cell without a cached value (a workbook written by a reporting
# tool or openpyxl and never opened in Excel: QA, session 26, balances read as empty). So the
# first sheet's XML is searched for error cells and formulas without a value (read as a
# stream, in chunks, without parsing) and parsed only when it holds one: a workbook whose
# formulas carry their values (any saved by Excel or LibreOffice) is not parsed in Python.
_XLSX_ERROR_MARKS = re.compile(
    rb"t=[\"']e[\"']|(?:</f>|<f\b[^<>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>"
)
_XLSX_CHUNK = 1 << 20
# Bytes of one chunk kept before the next: more than any mark spans.
_MARK_SPAN = 256


def _sheet_errors(path: Path) -> dict[tuple[int, int], str]:
    """(row, column), both 0-based, to the error text of each error cell of the first sheet
    of an .xlsx/.xlsm or .ods file (an .xlsx formula cell without a cached value: its formula,
    ``=SUM(1,2)``); empty for other formats (.xls, .xlsb: binary, not read
    here), or when the sheet cannot be found (the rows calamine read are all there is then)."""
    import zipfile

    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".ods"):
        return {}
    try:
        with zipfile.ZipFile(path) as book:
            if suffix == ".ods":
                if not _has_error_cell(book, "content.xml", _ODS_ERROR_MARKS):
                    return {}
                with book.open("content.xml") as fh:
                    return _ods_error_cells(fh)
            member = _first_sheet_member(book)
            if member is None or not _has_error_cell(book, member, _XLSX_ERROR_MARKS):
                return {}
            with book.open(member) as fh:
                return _error_cells(fh)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ET.ParseError):
        return {}


def _first_sheet_member(book: Any) -> str | None:
    """The zip member of the workbook's first sheet (workbook order, as calamine reads)."""
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    workbook = ET.fromstring(book.read("xl/workbook.xml"))
    first = next((e for e in workbook.iter() if _local(e.tag) == "sheet"), None)
    if first is None or (rid := first.get(rel_ns)) is None:
        return None
    rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next((e.get("Target") for e in rels.iter() if e.get("Id") == rid), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _has_error_cell(book: Any, member: str, marks: re.Pattern[bytes]) -> bool:
    tail = b""
    with book.open(member) as fh:
        while chunk := fh.read(_XLSX_CHUNK):
            text = tail + chunk
            if marks.search(text):
                return True
            tail = text[-_MARK_SPAN:]
    return False


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _column_index(ref: str) -> int:
    number = 0
    for char in ref:
        if not char.isalpha():
            break
        number = number * 26 + ord(char.upper()) - ord("A") + 1
    return number - 1


def _error_cells(fh: Any) -> dict[tuple[int, int], str]:
    # A row's or cell's position is its r attribute, or (optional in the format) the one after
    # the previous row's or cell's.
    errors: dict[tuple[int, int], str] = {}
    row, column = -1, -1
    for event, element in ET.iterparse(fh, events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":
                ref = element.get("r")
                row = int(ref) - 1 if ref else row + 1
                column = -1
            elif tag == "c":
                ref = element.get("r")
                column = _column_index(ref) if ref else column + 1
            continue
        if tag == "c" and (found := _cell_error(element)) is not None:
            errors[(row, column)] = found
        elif tag == "row":
            element.clear()
    return errors


def _cell_error(cell: ET.Element) -> str | None:
    """An .xlsx cell's error text; ``=FORMULA`` for a formula whose value was never computed
    (no cached ``<v>``, or an empty one where the result is no text: a text result may be
    empty); None for a cell holding a value."""
    kind = cell.get("t")
    value = next((e.text for e in cell if _local(e.tag) == "v"), None)
    if kind == "e":
        return value or "#ERROR"
    formula = next((e for e in cell if _local(e.tag) == "f"), None)
    if formula is None or value or kind in ("str", "inlineStr"):
        return None
    return f"={formula.text or '(a shared formula)'}"


# OpenDocument (LibreOffice) marks a cell holding an error calcext:value-type="error", its
# text the error's (#N/A, Err:502); calamine gives it as "" too.
_ODS_ERROR_MARKS = re.compile(rb"value-type=[\"']error[\"']")
_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_CALC = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"


def _ods_error_cells(fh: Any) -> dict[tuple[int, int], str]:
    """:func:`_error_cells` for the first table of an .ods file's content.xml: a row or cell
    repeated (number-rows-repeated, number-columns-repeated) counts as that many, a covered
    cell (under a merged one) as one."""
    errors: dict[tuple[int, int], str] = {}
    cells = (f"{_ODS_TABLE}table-cell", f"{_ODS_TABLE}covered-table-cell")
    tables = 0
    row, column = 0, 0
    pending: list[tuple[int, str]] = []  # the current row's error cells
    for event, element in ET.iterparse(fh, events=("start", "end")):
        tag = element.tag
        if tag == f"{_ODS_TABLE}table":
            if event == "start":
                tables += 1
            elif tables == 1:
                break
            continue
        if event == "start" or tables != 1:
            continue
        if tag in cells:
            repeated = int(element.get(f"{_ODS_TABLE}number-columns-repeated", "1"))
            if element.get(f"{_ODS_CALC}value-type") == "error":
                text = "".join(element.itertext()).strip() or "#ERROR"
                pending += [(column + i, text) for i in range(repeated)]
            column += repeated
        elif tag == f"{_ODS_TABLE}table-row":
            repeated = int(element.get(f"{_ODS_TABLE}number-rows-repeated", "1"))
            for i in range(repeated if pending else 0):
                errors.update(((row + i, c), text) for c, text in pending)
            row, column, pending = row + repeated, 0, []
            element.clear()
    return errors


def _sheet_rows(path: Path) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types per format
        raise UnsupportedFile(f"{path.name} is not a readable spreadsheet ({exc})") from exc


def _sheet_count(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    try:
        return len(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # read once already: the first sheet's error was said there
        return 1


def _header_row(rows: list[list[Any]]) -> int:
    """The index of a sheet's header: its first row holding anything (a sheet may start with
    empty rows above it; the first, empty row was taken for the header: QA, session 24)."""
    return next((i for i, row in enumerate(rows) if any(v not in (None, "") for v in row)), 0)


def _sheet_header(rows: list[list[Any]]) -> list[str]:
    return _clean_header([str(c) for c in rows[_header_row(rows)]]) if rows else []


def _read_sheet(path: Path) -> Iterator[RawRecord]:
    rows = _sheet_rows(path)
    header = _sheet_header(rows)
    first = _header_row(rows) + 1  # the records' first row, 0-based
    # Per sheet row (1-based, as ``number``): its error cells' column names and error texts.
    errors: dict[int, dict[str, str]] = {}
    for (index, column), error in _sheet_errors(path).items():
        if column < len(header) and header[column]:
            errors.setdefault(index + 1, {})[header[column]] = error
    for number, values in enumerate(rows[first:], start=first + 1):
        found = errors.get(number)
        if found is None and all(v in (None, "") for v in values):
            continue
        row = {h: v for h, v in zip(header, values, strict=False) if h}
        if _repeats_header(values, header):
            yield RawRecord(
                number, None, _header_again(number), {h: str(v) for h, v in row.items()}
            )
            continue
        yield checked(number, row, _cell, found)


def _parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for a broken file
        raise UnsupportedFile(f"{path.name} is not a readable Parquet file ({exc})") from exc


def _read_parquet(path: Path) -> Iterator[RawRecord]:
    number = 0
    for batch in _parquet(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            number += 1
            yield checked(number, row, _cell)


# --- entry points ----------------------------------------------------------------------------


def open_source(path: Path, options: ReadOptions | None = None) -> Source:
    """Open ``path`` for reading, detecting format, encoding, delimiter and header.

    Raises UnsupportedFile (one sentence) for what cannot be read at all."""
    options = options or ReadOptions()
    kind = format_of(path)
    if kind == "text":
        return _open_delimited(path, options)
    if kind == "sheet":
        header = _sheet_header(_sheet_rows(path))
        if not header and _sheet_count(path) > 1:
            raise UnsupportedFile(
                f"{path.name}: its first sheet is empty, and c360 reads the first sheet only: "
                "move the data to the first sheet (or delete the sheets before it)"
            )
        return Source(path, kind, _check_header(path, header))
    if kind == "parquet":
        return Source(path, kind, list(_parquet(path).schema_arrow.names))
    encoding = _check_encoding(options.encoding) if options.encoding else _jsonl_encoding(path)
    return Source(path, kind, None, encoding, None, options)


def _jsonl_encoding(path: Path) -> str:
    """UTF-16 when the file starts with its byte-order mark (Windows tools write it), else
    UTF-8 (JSON Lines is UTF-8 by definition: another encoding must be given)."""
    with path.open("rb") as fh:
        head = fh.read(2)
    return "utf-16" if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8"


def read_records(
    path: Path, options: ReadOptions | None = None, *, max_line: int = MAX_JSONL_LINE
) -> Iterator[RawRecord]:
    """Every record of ``path`` (see the module doc); raises UnsupportedFile if unreadable.
    ``max_line``: the longest JSON Lines line read (Source.max_line)."""
    source = open_source(path, options)
    source.max_line = max_line
    return source.records()


def read_header(path: Path, options: ReadOptions | None = None) -> list[str] | None:
    """The header columns (None for JSON Lines, whose keys vary per line)."""
    return open_source(path, options).header


def count_records(path: Path, options: ReadOptions | None = None) -> int:
    """How many records the file holds (for progress totals)."""
    return sum(1 for _ in read_records(path, options))


__all__ = [
    "MAX_FIELD_CHARS",
    "RawRecord",
    "ReadOptions",
    "Source",
    "UnsupportedFile",
    "checked",
    "count_records",
    "detect_encoding",
    "detect_encodings",
    "format_of",
    "open_source",
    "read_header",
    "read_records",
    "sniff_delimiter",
]
