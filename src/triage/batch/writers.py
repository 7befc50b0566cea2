"""Crash-safe output: committed parts, then one atomic final file.

While a run goes on, results live in ``OUTPUT.parts/``: each chunk is written to a temporary file, flushed
to disk and renamed to ``part-<n>.<ext>`` (with its errors in ``part-<n>.errors.jsonl``); then one line
is appended to ``commits.jsonl`` (the commit marker). A part without a commit line is incomplete and is
discarded on ``--resume``, so a crash or Ctrl-C at any moment never duplicates or skips a row.
At the end, the parts are concatenated (streaming, flat memory) into a temporary file that is renamed to
OUTPUT; ``OUTPUT.errors.jsonl`` and ``OUTPUT.report.json`` are written the same way.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from triage.batch.flatten import FLAT_COLUMNS
from triage.batch.workers import ChunkOutcome
from triage.errors import InputError

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_EXT = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}


def output_format(path: Path, fmt: str | None = None) -> str:
    """``jsonl`` (full results), ``csv`` or ``parquet`` (flattened columns), from ``fmt`` or the suffix."""
    fmt = (fmt or _SUFFIXES.get(path.suffix.lower(), "")).lower()
    if fmt not in OUTPUT_FORMATS:
        raise InputError(
            f"cannot tell the output format of {path}: use .jsonl, .csv or .parquet, or pass --output-format"
        )
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise InputError(
                "Parquet output needs pyarrow: pip install 'helpdesk-triage[dask]' (or pyarrow)"
            ) from exc
    return fmt


def arrow_schema() -> Any:
    """The Parquet schema of the flattened columns (fixed, so every part concatenates)."""
    import pyarrow as pa

    types = {"int64": pa.int64(), "string": pa.string(), "float64": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in FLAT_COLUMNS.items()])


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _csv_bytes(rows: list[dict[str, Any]], header: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(FLAT_COLUMNS), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=arrow_schema())
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _lines_bytes(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


class RunStore:
    """The ``OUTPUT.parts/`` folder of one scoring run: committed parts, the commit log and run settings."""

    def __init__(self, output: Path, fmt: str) -> None:
        self.output = output
        self.fmt = fmt
        self.errors_path = output.with_name(output.name + ".errors.jsonl")
        self.report_path = output.with_name(output.name + ".report.json")
        self.folder = output.with_name(output.name + ".parts")
        self.commits_path = self.folder / "commits.jsonl"
        self.settings_path = self.folder / "run.json"

    # ------------------------------------------------------------------ start / resume
    def open(self, settings: Mapping[str, Any], *, resume: bool, overwrite: bool) -> list[dict[str, Any]]:
        """Prepare the parts folder; returns the commits of an earlier run when resuming (else [])."""
        if self.folder.exists() and not resume:
            if not overwrite:
                raise InputError(
                    f"{self.folder} holds an unfinished run: pass --resume to continue it without "
                    "re-scoring its rows, or --overwrite to start again"
                )
            shutil.rmtree(self.folder)
        if resume and self.folder.exists():
            saved = (
                json.loads(self.settings_path.read_text(encoding="utf-8"))
                if self.settings_path.exists()
                else {}
            )
            changed = sorted(k for k in settings if k in saved and saved[k] != settings[k])
            if changed:
                details = ", ".join(f"{k}: {saved[k]!r} then, {settings[k]!r} now" for k in changed)
                raise InputError(
                    f"cannot resume: the run in {self.folder} was started with different settings "
                    f"({details}); rerun with the same input and options, or pass --overwrite to start again"
                )
            commits = self._read_commits()
            self._drop_uncommitted(commits)
            return commits
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.settings_path, json.dumps(dict(settings), indent=2).encode("utf-8"))
        self.commits_path.touch()
        _fsync_dir(self.folder)
        return []

    def discard(self) -> None:
        """Remove the parts folder (a run that failed before committing anything)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _read_commits(self) -> list[dict[str, Any]]:
        commits: list[dict[str, Any]] = []
        if not self.commits_path.exists():
            return commits
        with open(self.commits_path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # torn last line: that chunk was not committed
                commit = json.loads(line)
                if commit["chunk"] != len(commits):
                    raise InputError(f"{self.commits_path} is corrupt (chunk {commit['chunk']} out of order)")
                commits.append(commit)
        # rewrite without a torn tail so later appends stay line-aligned
        _atomic_write(self.commits_path, "".join(json.dumps(c) + "\n" for c in commits).encode("utf-8"))
        return commits

    def _drop_uncommitted(self, commits: list[dict[str, Any]]) -> None:
        keep = {self._part(c["chunk"]).name for c in commits} | {
            self._errors_part(c["chunk"]).name for c in commits
        }
        for path in self.folder.iterdir():
            if path.name.startswith(("part-", ".part-")) and path.name not in keep:
                path.unlink()

    # ------------------------------------------------------------------ per chunk
    def _part(self, index: int) -> Path:
        return self.folder / f"part-{index:08d}.{_EXT[self.fmt]}"

    def _errors_part(self, index: int) -> Path:
        return self.folder / f"part-{index:08d}.errors.jsonl"

    def commit(self, outcome: ChunkOutcome) -> dict[str, Any]:
        """Write one chunk's parts durably, then append its commit line; returns the commit."""
        if self.fmt == "jsonl":
            data = _lines_bytes(outcome.lines)
        elif self.fmt == "csv":
            data = _csv_bytes(outcome.flats)
        else:
            data = _parquet_bytes(outcome.flats)
        _atomic_write(self._part(outcome.index), data)
        _atomic_write(
            self._errors_part(outcome.index),
            _lines_bytes([json.dumps(e, ensure_ascii=False) for e in outcome.errors]),
        )
        _fsync_dir(self.folder)
        commit = {"chunk": outcome.index, "records": outcome.records, "stats": outcome.stats}
        with open(self.commits_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(commit) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return commit

    # ------------------------------------------------------------------ finish
    def _parts(self, commits: list[dict[str, Any]]) -> Iterator[tuple[Path, Path]]:
        for commit in commits:
            yield self._part(commit["chunk"]), self._errors_part(commit["chunk"])

    def finalize(self, commits: list[dict[str, Any]], report: Mapping[str, Any]) -> None:
        """Concatenate the committed parts into OUTPUT (atomically), then remove the parts folder."""
        tmp_out = self.output.with_name(f".{self.output.name}.tmp")
        tmp_err = self.errors_path.with_name(f".{self.errors_path.name}.tmp")
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp_out, arrow_schema()) as writer:
                for part, _ in self._parts(commits):
                    writer.write_table(pq.read_table(part, schema=arrow_schema()))
        else:
            with open(tmp_out, "wb") as out:
                if self.fmt == "csv":
                    out.write(_csv_bytes([], header=True))
                for part, _ in self._parts(commits):
                    with open(part, "rb") as handle:
                        shutil.copyfileobj(handle, out)
        with open(tmp_err, "wb") as err:
            for _, errors in self._parts(commits):
                with open(errors, "rb") as handle:
                    shutil.copyfileobj(handle, err)
        for tmp in (tmp_out, tmp_err):
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp_out, self.output)
        os.replace(tmp_err, self.errors_path)
        _atomic_write(
            self.report_path, json.dumps(dict(report), indent=2, ensure_ascii=False).encode("utf-8")
        )
        shutil.rmtree(self.folder)
