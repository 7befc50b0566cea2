"""Read tickets from JSONL / CSV / Parquet files (or stdin) and write results as JSONL.

Reading never stops at a bad row: each row comes back as a :class:`Record` holding either the parsed ticket
fields or the reason it could not be read, with its 1-based row number.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from triage.errors import InputError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Record:
    """One input row: ``data`` (ticket fields) or ``error`` (why the row is unusable)."""

    row: int
    data: dict[str, Any] | None = None
    error: str | None = None


def _open_text(path: str | Path) -> IO[str]:
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace", newline="")


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
) -> Iterator[Record]:
    """Yield every row of a JSONL, CSV/TSV or Parquet file as a :class:`Record`.

    Rows are read lazily (Parquet one record batch at a time), so memory stays flat for any file size.

    Args:
        id_col: column holding the ticket id (default: the ticket schema's aliases, e.g. ``id``).
        text_cols: columns joined (newline-separated) into the ticket body; default: the schema's aliases.
        thread_col: column holding the message thread: a list of messages (``{"role", "text"}`` objects or
            plain strings), or in CSV a JSON string of such a list.
    """
    fmt = detect_format(path, fmt)
    if not (str(path) == "-" or Path(path).exists()):
        raise InputError(f"input file not found: {path}")
    if fmt == "parquet":
        rows_iter: Iterator[Record] = _parquet_rows(path)
        yield from _mapped(rows_iter, id_col, text_cols, thread_col)
        return
    with _open_text(path) as handle:
        rows = (
            _jsonl_rows(handle)
            if fmt == "jsonl"
            else _csv_rows(handle, delimiter="\t" if fmt == "tsv" else ",")
        )
        yield from _mapped(rows, id_col, text_cols, thread_col)


def _mapped(
    rows: Iterator[Record], id_col: str | None, text_cols: Sequence[str] | None, thread_col: str | None
) -> Iterator[Record]:
    for record in rows:
        yield map_record(record, id_col=id_col, text_cols=text_cols, thread_col=thread_col)


def map_record(
    record: Record,
    *,
    id_col: str | None = None,
    text_cols: Sequence[str] | None = None,
    thread_col: str | None = None,
) -> Record:
    """Apply the column mapping of :func:`read_records` to one record (rows from other sources, e.g. Dask)."""
    if record.data is not None and thread_col:
        record = _map_thread(record, thread_col)
    if record.data is not None and (id_col or text_cols):
        record = _map_columns(record, id_col, text_cols)
    return record


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
    if hasattr(value, "tolist"):  # numpy arrays from Parquet/pandas
        value = value.tolist()
    if not isinstance(value, list):
        return Record(
            record.row,
            error=f"thread column {thread_col!r} must hold a list of messages, got {type(value).__name__}",
        )
    data["messages"] = [{"text": m} if isinstance(m, str) else m for m in value]
    return Record(record.row, data=data)


def _jsonl_rows(handle: IO[str]) -> Iterator[Record]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(number, error=f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(data, dict):
            yield Record(number, error=f"expected a JSON object, got {type(data).__name__}")
            continue
        yield Record(number, data=data)


def _csv_rows(handle: IO[str], *, delimiter: str) -> Iterator[Record]:
    reader = csv.DictReader(handle, delimiter=delimiter)
    for number, row in enumerate(reader, start=2):
        if None in row:
            yield Record(
                number, error=f"row has {len(row) - 1 + len(row[None])} fields, header has {len(row) - 1}"
            )
            continue
        yield Record(number, data={k: v for k, v in row.items() if v not in (None, "")})


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
