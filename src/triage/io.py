"""Read tickets from JSONL / CSV / Parquet files (or stdin) and write results as JSONL.

Reading never stops at a bad row: each row comes back as a :class:`Record` holding either the parsed ticket
fields or the reason it could not be read, with its 1-based row number. Whatever goes wrong with one row
(broken or too deeply nested JSON, a wrong field count, any exception) becomes that row's ``error``.

Text files are decoded with :func:`resolve_encoding`: a byte-order mark (UTF-8, UTF-16, UTF-32) or a
BOM-less UTF-16 layout is detected, else UTF-8 (or the ``encoding`` asked for). Bytes that are not valid in
that encoding become U+FFFD *and are flagged*: the row gets a warning naming them and the issue
``"undecodable"``. NUL bytes are removed from the row's text and flagged the same way (``"nul_bytes"``).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from triage.errors import InputError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: Rows nested deeper than this (JSON objects / lists) are refused with an error record: deeper structures
#: only come from broken or hostile input, and they would overflow recursive code further on.
MAX_NESTING = 100

_UNDECODABLE = "triage-undecodable"
#: An undecodable byte ``b`` is read as the lone surrogate U+DC00+b: no valid decoding yields one.
_MARKER = re.compile("[\udc00-\udcff]")


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error(_UNDECODABLE, _mark_undecodable)


@dataclass(frozen=True)
class Record:
    """One input row: ``data`` (ticket fields) or ``error`` (why the row is unusable).

    ``warnings``: what was repaired while reading (it was still read); ``issues``: short codes of the input
    problems found (``"undecodable"``, ``"nul_bytes"``) for the run's report.
    """

    row: int
    data: dict[str, Any] | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def sniff_encoding(head: bytes, encoding: str | None = None) -> str:
    """The codec to read a text file whose first bytes are ``head``.

    A byte-order mark wins over a matching ``encoding`` family (``utf-8`` + a UTF-8 BOM reads as
    ``utf-8-sig``); an explicit ``encoding`` of another family is used as given. Without either, BOM-less
    UTF-16 is recognised by its NUL bytes in every other position; anything else reads as UTF-8.
    """
    bom = next((name for mark, name in _BOMS if head.startswith(mark)), None)
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(
                f"unknown encoding {encoding!r}: pass a Python codec name such as utf-8, utf-16, cp1252 "
                "or latin-1"
            ) from None
        if bom and name.split("-")[:2] == bom.split("-")[:2]:
            return bom
        return name
    if bom:
        return bom
    pairs = len(head) // 2
    if pairs >= 2:
        even_nul = head[0 : 2 * pairs : 2].count(0)
        odd_nul = head[1 : 2 * pairs : 2].count(0)
        if odd_nul >= 0.3 * pairs and even_nul == 0:
            return "utf-16-le"
        if even_nul >= 0.3 * pairs and odd_nul == 0:
            return "utf-16-be"
    return "utf-8"


def _binary(path: str | Path) -> IO[bytes]:
    if str(path) == "-":
        return sys.stdin.buffer
    return open(path, "rb")


def resolve_encoding(path: str | Path, encoding: str | None = None) -> str:
    """The codec :func:`read_records` will use for a text file (see :func:`sniff_encoding`)."""
    if str(path) == "-":
        peek = getattr(sys.stdin.buffer, "peek", None)
        return sniff_encoding(peek(4096)[:4096] if peek else b"", encoding)
    with open(path, "rb") as handle:
        return sniff_encoding(handle.read(4096), encoding)


def _open_text(path: str | Path, encoding: str) -> IO[str]:
    raw = _binary(path)
    return io.TextIOWrapper(raw, encoding=encoding, errors=_UNDECODABLE, newline="")  # type: ignore[arg-type]


def _undecodable(text: str, encoding: str) -> tuple[str, str | None]:
    """``text`` with undecodable-byte markers turned into U+FFFD, and a warning naming them (or None)."""
    found = [(m.start(), ord(m.group()) - 0xDC00) for m in _MARKER.finditer(text)]
    if not found:
        return text, None
    shown = " ".join(f"0x{b:02x}" for _, b in found[:4]) + (" ..." if len(found) > 4 else "")
    warning = (
        f"{len(found)} byte(s) not valid {encoding} ({shown}, first at column {found[0][0] + 1}) were "
        "replaced with U+FFFD: pass --encoding with the file's real encoding (e.g. cp1252 or latin-1)"
    )
    return _MARKER.sub("\ufffd", text), warning


SUFFIX_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMATS = ("jsonl", "csv", "tsv", "parquet")


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """``jsonl``, ``csv``, ``tsv`` or ``parquet``, from ``fmt`` or the file suffix."""
    if fmt:
        fmt = fmt.lower()
    else:
        suffix = Path(str(path)).suffix.lower()
        fmt = SUFFIX_FORMATS.get(suffix, "jsonl" if str(path) == "-" else "")
    if fmt not in FORMATS:
        raise InputError(
            f"cannot tell the format of {path}: use a .jsonl, .csv, .tsv or .parquet file, or pass --format"
        )
    return fmt


def read_records(
    path: str | Path,
    *,
    fmt: str | None = None,
    id_col: str | None = None,
    text_cols: Sequence[str] | None = None,
    thread_col: str | None = None,
    encoding: str | None = None,
) -> Iterator[Record]:
    """Yield every row of a JSONL, CSV/TSV or Parquet file as a :class:`Record`.

    Rows are read lazily (Parquet one record batch at a time), so memory stays flat for any file size.

    Args:
        id_col: column holding the ticket id (default: the ticket schema's aliases, e.g. ``id``).
        text_cols: columns joined (newline-separated) into the ticket body; default: the schema's aliases.
        thread_col: column holding the message thread: a list of messages (``{"role", "text"}`` objects or
            plain strings), or in CSV a JSON string of such a list.
        encoding: the text codec (default: detected from a byte-order mark, else UTF-8); see
            :func:`resolve_encoding`. Not used for Parquet.
    """
    fmt = detect_format(path, fmt)
    if not (str(path) == "-" or Path(path).exists()):
        raise InputError(f"input file not found: {path}")
    if fmt == "parquet":
        rows_iter: Iterator[Record] = _parquet_rows(path)
        yield from _mapped(rows_iter, id_col, text_cols, thread_col)
        return
    codec = resolve_encoding(path, encoding)
    with _open_text(path, codec) as handle:
        rows = (
            _jsonl_rows(handle, codec)
            if fmt == "jsonl"
            else _csv_rows(handle, delimiter="\t" if fmt == "tsv" else ",", encoding=codec)
        )
        yield from _mapped(rows, id_col, text_cols, thread_col)


def _mapped(
    rows: Iterator[Record], id_col: str | None, text_cols: Sequence[str] | None, thread_col: str | None
) -> Iterator[Record]:
    for record in rows:
        try:
            mapped = map_record(record, id_col=id_col, text_cols=text_cols, thread_col=thread_col)
            yield _without_nul(mapped)
        except Exception as exc:  # noqa: BLE001 - one row's failure, of any kind, is that row's error
            yield Record(record.row, error=f"cannot read this row: {_describe(exc)}", issues=record.issues)


def _describe(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def nesting_depth(value: Any, limit: int = MAX_NESTING) -> int:
    """How deeply ``value``'s dicts and lists nest (iterative; stops counting past ``limit``)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


_TOO_DEEP = f"nested more than {MAX_NESTING} levels deep (at most {MAX_NESTING} are read): flatten it"


def _too_deep(value: Any) -> str | None:
    return _TOO_DEEP if nesting_depth(value) > MAX_NESTING else None


def _without_nul(record: Record) -> Record:
    """Remove NUL bytes from a row's strings, with a warning that names the fields they were in."""
    if record.data is None:
        return record
    count = 0
    fields: list[str] = []

    def clean(value: Any, field: str) -> Any:
        nonlocal count
        if isinstance(value, str):
            if "\x00" not in value:
                return value
            count += value.count("\x00")
            if field not in fields:
                fields.append(field)
            return value.replace("\x00", "")
        if isinstance(value, dict):
            return {k: clean(v, field) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, field) for v in value]
        return value

    data = {key: clean(value, str(key)) for key, value in record.data.items()}
    if not count:
        return record
    warning = f"{count} NUL byte(s) removed from {', '.join(fields)} (a binary or mis-encoded input?)"
    return dataclasses.replace(
        record,
        data=data,
        warnings=(*record.warnings, warning),
        issues=(*record.issues, "nul_bytes"),
    )


def map_record(
    record: Record,
    *,
    id_col: str | None = None,
    text_cols: Sequence[str] | None = None,
    thread_col: str | None = None,
) -> Record:
    """Apply the column mapping of :func:`read_records` to one record (rows from other sources, e.g. Dask)."""
    if record.data is not None and thread_col:
        record = _keep_notes(record, _map_thread(record, thread_col))
    if record.data is not None and (id_col or text_cols):
        record = _keep_notes(record, _map_columns(record, id_col, text_cols))
    return record


def _keep_notes(before: Record, after: Record) -> Record:
    if after is before or (not before.warnings and not before.issues):
        return after
    return dataclasses.replace(after, warnings=before.warnings, issues=before.issues)


def _parquet_rows(path: str | Path, batch_rows: int = 1024) -> Iterator[Record]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(
            "reading Parquet needs pyarrow: pip install 'helpdesk-triage[dask]' (or pyarrow)"
        ) from exc
    source: Any = path
    if str(path) == "-":  # Parquet needs random access: stdin is read into memory
        import pyarrow as pa

        source = pa.BufferReader(sys.stdin.buffer.read())
    try:
        parquet = pq.ParquetFile(source)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise InputError(f"cannot read {path} as Parquet: {exc}") from exc
    number = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            number += 1
            yield Record(number, data={k: v for k, v in row.items() if v is not None and v != ""})


def _map_thread(record: Record, thread_col: str) -> Record:
    data = dict(record.data or {})
    if thread_col not in data:
        return record
    value = data.pop(thread_col)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            return Record(
                record.row, error=f"thread column {thread_col!r} is not a JSON list of messages: {exc.msg}"
            )
        except RecursionError:
            return Record(record.row, error=f"thread column {thread_col!r} is {_TOO_DEEP}")
    deep = _too_deep(value)
    if deep:
        return Record(record.row, error=f"thread column {thread_col!r} is {deep}")
    if hasattr(value, "tolist"):  # numpy arrays from Parquet/pandas
        value = value.tolist()
    if not isinstance(value, list):
        return Record(
            record.row,
            error=f"thread column {thread_col!r} must hold a list of messages, got {type(value).__name__}",
        )
    data["messages"] = [{"text": m} if isinstance(m, str) else m for m in value]
    return Record(record.row, data=data)


def _jsonl_rows(handle: IO[str], encoding: str = "utf-8") -> Iterator[Record]:
    for number, line in enumerate(handle, start=1):
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            yield _jsonl_record(number, line, encoding)
        except Exception as exc:  # noqa: BLE001 - one row's failure, of any kind, is that row's error
            yield Record(number, error=f"cannot read this row: {_describe(exc)}")


def _jsonl_record(number: int, line: str, encoding: str) -> Record:
    line, warning = _undecodable(line, encoding)
    notes = {"warnings": (warning,), "issues": ("undecodable",)} if warning else {}
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        if "\x00" in line:
            return Record(
                number,
                error=f"invalid JSON: a raw NUL byte at column {line.index(chr(0)) + 1} (a binary file, or "
                "UTF-16/32 read as UTF-8? pass --encoding)",
                issues=("nul_bytes",),
            )
        return Record(number, error=f"invalid JSON: {exc.msg} at column {exc.colno}", **notes)
    except RecursionError:
        return Record(number, error=f"invalid JSON: {_TOO_DEEP}", **notes)
    if not isinstance(data, dict):
        return Record(number, error=f"expected a JSON object, got {type(data).__name__}", **notes)
    deep = _too_deep(data)
    if deep:
        return Record(number, error=f"row is {deep}", **notes)
    return Record(number, data=data, **notes)


def _csv_rows(handle: IO[str], *, delimiter: str, encoding: str = "utf-8") -> Iterator[Record]:
    reader = csv.DictReader(handle, delimiter=delimiter)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise InputError(f"cannot read the header line: {exc}") from exc
    header_warning = None
    if fieldnames:
        joined, header_warning = _undecodable("\x1f".join(fieldnames), encoding)
        fieldnames = joined.split("\x1f")
        fieldnames[0] = fieldnames[0].removeprefix("\ufeff")
        reader.fieldnames = fieldnames
    number = 1
    while True:
        line_before = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            yield Record(number, error=f"malformed CSV row: {exc}")
            if reader.line_num == line_before:  # no progress: the reader cannot go on
                raise InputError(f"cannot read past CSV row {number}: {exc}") from exc
            continue
        number += 1
        try:
            yield _csv_record(number, row, encoding, header_warning)
        except Exception as exc:  # noqa: BLE001 - one row's failure, of any kind, is that row's error
            yield Record(number, error=f"cannot read this row: {_describe(exc)}")


def _csv_record(number: int, row: dict[Any, Any], encoding: str, header_warning: str | None) -> Record:
    if None in row:
        return Record(
            number, error=f"row has {len(row) - 1 + len(row[None])} fields, header has {len(row) - 1}"
        )
    warnings = [f"header line: {header_warning}"] if header_warning else []
    data: dict[str, Any] = {}
    for key, value in row.items():
        if value in (None, ""):
            continue
        value, warning = _undecodable(value, encoding)
        if warning:
            warnings.append(f"{key}: {warning}")
        data[key] = value
    if not warnings:
        return Record(number, data=data)
    return Record(number, data=data, warnings=tuple(warnings), issues=("undecodable",))


def _map_columns(record: Record, id_col: str | None, text_cols: Sequence[str] | None) -> Record:
    data = dict(record.data or {})
    if id_col:
        if id_col not in data:
            return Record(record.row, error=f"id column {id_col!r} missing")
        data["id"] = data.pop(id_col)
    if text_cols:
        missing = [c for c in text_cols if c not in data and c not in (record.data or {})]
        if len(missing) == len(text_cols):
            if data.get("messages"):  # a thread alone is enough
                return Record(record.row, data=data)
            return Record(record.row, error=f"none of the text columns {list(text_cols)} are present")
        parts = [str(data.pop(c)) for c in text_cols if data.get(c) not in (None, "")]
        data["body"] = "\n".join(parts)
    return Record(record.row, data=data)


def write_jsonl(items: Iterable[Any], handle: IO[str]) -> int:
    """Write pydantic models or dicts as JSON lines; returns the number written."""
    count = 0
    for item in items:
        if hasattr(item, "model_dump_json"):
            handle.write(item.model_dump_json(exclude_none=True))
        else:
            handle.write(json.dumps(item, ensure_ascii=False, default=str))
        handle.write("\n")
        count += 1
    return count
