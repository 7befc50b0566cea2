"""Crash-safe output: committed parts, then one atomic final file.

While a run goes on, results live in ``OUTPUT.parts/``: each chunk is written to a temporary file, flushed
to disk and renamed to ``part-<n>.<ext>`` (with its errors in ``part-<n>.errors.jsonl``); then one line
is appended to ``commits.jsonl`` (the commit marker). A part without a commit line is incomplete and is
discarded on ``--resume``, so a crash or Ctrl-C at any moment never duplicates or skips a row.
At the end, the parts are concatenated (streaming, flat memory) into a temporary file that is renamed to
OUTPUT; ``OUTPUT.errors.jsonl`` and ``OUTPUT.report.json`` are written the same way. A write that fails
removes its temporary file; the committed parts stay, so ``--resume`` can finish the run.

Before anything is scored, :meth:`RunStore.check` refuses an output path that cannot work (a folder, a
parent that is a file, a folder that cannot be written) and a disk that is already too small (see
:meth:`RunStore.check_space`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
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


#: Environment variable that replaces the measured free bytes of the output's filesystem (tests, dry runs).
FREE_BYTES_ENV = "TRIAGE_SCORE_FREE_BYTES"
#: Output bytes per input byte assumed before anything is scored. Deliberately low (the full pipeline
#: writes more JSONL than it reads), so no run is refused on a disk that could hold it; from the first
#: commit on, the measured bytes per row are projected instead (:meth:`RunStore.check_space`).
OUTPUT_RATIO = {"jsonl": 1.0, "csv": 0.25, "parquet": 0.1}


def free_bytes(folder: Path) -> int:
    """Free bytes on ``folder``'s filesystem (or :data:`FREE_BYTES_ENV` when set)."""
    override = os.environ.get(FREE_BYTES_ENV)
    if override:
        try:
            return int(override)
        except ValueError:
            raise InputError(f"{FREE_BYTES_ENV}={override!r} is not a number of bytes") from None
    return shutil.disk_usage(folder).free


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


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
        #: Bytes of the committed parts (results and errors): what the final assembly copies.
        self.parts_bytes = 0
        #: The nearest existing folder of OUTPUT, found by :meth:`check` (free space is measured there).
        self.check_folder: Path | None = None

    # ------------------------------------------------------------------ checks before scoring
    def check(self) -> None:
        """Refuse an output path that would only fail at the end: raises :class:`InputError` saying why."""
        name = self.output
        if name.is_dir():
            raise InputError(
                f"-o {name} is a folder: name the output file, e.g. -o {name / ('scored.' + _EXT[self.fmt])}"
            )
        for path, what in ((self.errors_path, "errors file"), (self.report_path, "report")):
            if path.is_dir():
                raise InputError(
                    f"the {what} would go to {path}, which is a folder: move it away or choose -o"
                )
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder} is a file, but the run keeps its parts there: move it away")
        ancestor = name.absolute().parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise InputError(f"cannot write {name}: {ancestor} is a file, not a folder; choose another -o")
        try:
            handle, probe = tempfile.mkstemp(prefix=".triage-write-check-", dir=ancestor)
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            raise InputError(
                f"cannot write {name}: {ancestor} is not writable ({exc.strerror}); choose another -o or "
                "fix its permissions"
            ) from exc
        self.check_folder = ancestor

    def check_space(
        self, *, input_bytes: int | None = None, rows_done: int = 0, rows_total: int | None = None
    ) -> None:
        """Refuse to go on when the output's filesystem cannot hold the rest of the run.

        The run needs the parts plus, at the end, the final file assembled from them (about twice the
        output). Before any commit the output is estimated from ``input_bytes`` (:data:`OUTPUT_RATIO`);
        after one, from the bytes per row measured so far and ``rows_total``.
        """
        if rows_done and rows_total:
            projected = self.parts_bytes / rows_done * max(rows_total, rows_done)
            basis = f"{_size(self.parts_bytes / rows_done)} a row measured so far x {rows_total} rows"
        elif input_bytes is not None:
            projected = max(self.parts_bytes, input_bytes * OUTPUT_RATIO[self.fmt])
            basis = f"at least {OUTPUT_RATIO[self.fmt]:g} x the input's {_size(input_bytes)}"
        else:
            return  # stdin before the first commit: nothing to estimate from
        needed = int(projected - self.parts_bytes + projected)
        folder = self.folder if self.folder.is_dir() else (self.check_folder or self.output.absolute().parent)
        free = free_bytes(folder)
        if free >= needed:
            return
        where = (
            f"{rows_done} rows are committed in {self.folder}: free some space, then run the same command "
            "with --resume"
            if rows_done
            else "free some space or choose another -o"
        )
        raise InputError(
            f"not enough free space for {self.output}: the rest of the run needs about {_size(needed)} "
            f"(the output is estimated at {_size(projected)}, {basis}; the final file is assembled from "
            f"the parts, so about twice that) but {folder} has {_size(free)} free; {where}"
        )

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
            self.parts_bytes = sum(
                p.stat().st_size for part in self._parts(commits) for p in part if p.exists()
            )
            return commits
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.settings_path, json.dumps(dict(settings), indent=2).encode("utf-8"))
        self.commits_path.touch()
        _fsync_dir(self.folder)
        return []

    def discard(self) -> None:
        """Remove the parts folder (a run that failed before committing anything)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def committed_rows(self) -> int:
        """Rows in the complete commit lines on disk (read-only; 0 when there is no run)."""
        rows = 0
        try:
            with open(self.commits_path, encoding="utf-8") as handle:
                for line in handle:
                    if line.endswith("\n"):
                        rows += int(json.loads(line).get("records", 0))
        except (OSError, ValueError):
            return rows
        return rows

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
        errors = _lines_bytes([json.dumps(e, ensure_ascii=False) for e in outcome.errors])
        _atomic_write(self._part(outcome.index), data)
        _atomic_write(self._errors_part(outcome.index), errors)
        _fsync_dir(self.folder)
        self.parts_bytes += len(data) + len(errors)
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

    def finalize(
        self,
        commits: list[dict[str, Any]],
        report: Mapping[str, Any],
        *,
        publishing: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        """Concatenate the committed parts into OUTPUT (atomically), then remove the parts folder.

        On failure (a full disk, a signal) the temporary files are removed and the parts are kept.
        ``publishing``: a context in which the last steps (renames, report, cleanup) run, e.g. one that
        holds signals back so a completed run is never left half-published.
        """
        tmp_out = self.output.with_name(f".{self.output.name}.tmp")
        tmp_err = self.errors_path.with_name(f".{self.errors_path.name}.tmp")
        try:
            self._assemble(commits, tmp_out, tmp_err)
            with publishing():
                os.replace(tmp_out, self.output)
                os.replace(tmp_err, self.errors_path)
                _atomic_write(
                    self.report_path, json.dumps(dict(report), indent=2, ensure_ascii=False).encode("utf-8")
                )
                shutil.rmtree(self.folder)
        except BaseException:
            for tmp in (tmp_out, tmp_err):
                _unlink_quietly(tmp)
            raise

    def _assemble(self, commits: list[dict[str, Any]], tmp_out: Path, tmp_err: Path) -> None:
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
