"""``score_file``: stream a backlog through the Triager in chunks, crash-safe and resumable."""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.batch.engines import make_engine
from triage.batch.report import build_report, merge_stats, render_report, training_profiles
from triage.batch.writers import RunStore, output_format
from triage.config import TriageConfig
from triage.errors import InputError, TriageError
from triage.io import Record, detect_format, read_records


class ScoringInterrupted(TriageError):
    """The run stopped early (Ctrl-C); the committed rows are kept and ``--resume`` continues."""

    def __init__(self, message: str, committed_rows: int) -> None:
        super().__init__(message)
        self.committed_rows = committed_rows


@dataclass
class ScoreOptions:
    """Settings of one ``score_file`` run (the CLI's options).

    ``chunk_size`` rows are scored and committed together: the unit of progress, of parallel work and of
    what a crash can cost. ``encoder``: an encoder spec (see :func:`triage.batch.workers.resolve_encoder`).
    """

    fmt: str | None = None
    output_format: str | None = None
    id_col: str | None = None
    text_cols: Sequence[str] | None = None
    thread_col: str | None = None
    config: TriageConfig = field(default_factory=TriageConfig)
    encoder: str | None = None
    chunk_size: int = 256
    workers: int = 1
    engine: str = "local"
    scheduler: str | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
    #: Stop (as if interrupted) after this many chunks are committed in this run; for tests and demos.
    max_chunks: int | None = None


def _count_rows(path: str, fmt: str) -> int | None:
    """Rows in the input for the progress bar's ETA (newlines for text formats; None for stdin)."""
    if path == "-":
        return None
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        count = 0
        last = b"\n"
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                count += block.count(b"\n")
                last = block[-1:]
        count += last != b"\n"
        return max(0, count - (1 if fmt in ("csv", "tsv") else 0))
    except OSError:
        return None


def _chunks(records: Iterator[Record], size: int, start_index: int) -> Iterator[tuple[int, list[Record]]]:
    for index in itertools.count(start_index):
        chunk = list(itertools.islice(records, size))
        if not chunk:
            return
        yield index, chunk


def _settings(input: str, options: ScoreOptions, in_fmt: str, out_fmt: str) -> dict[str, Any]:
    source: dict[str, Any] = {"input": input if input == "-" else str(Path(input).resolve())}
    if input != "-":
        source["input_bytes"] = os.path.getsize(input)
    return {
        **source,
        "format": in_fmt,
        "output_format": out_fmt,
        "id_col": options.id_col,
        "text_cols": list(options.text_cols) if options.text_cols else None,
        "thread_col": options.thread_col,
        "steps": list(options.config.steps),
    }


def score_file(input: str | Path, output: str | Path, options: ScoreOptions | None = None) -> dict[str, Any]:
    """Triage every row of ``input`` (a file or ``"-"``) into ``output``; returns the run summary.

    Every row ends up in OUTPUT or in ``OUTPUT.errors.jsonl`` (with its row number and the reason). The
    end-of-run report (counts, distributions, abstain rate, throughput, drift) goes to
    ``OUTPUT.report.json``. On Ctrl-C, :class:`ScoringInterrupted` is raised after the last complete chunk is
    committed; ``options.resume`` continues from there.
    """
    options = options or ScoreOptions()
    input = str(input)
    output = Path(output)
    in_fmt = detect_format(input, options.fmt)
    out_fmt = output_format(output, options.output_format)
    if input != "-" and not Path(input).is_file():
        raise InputError(f"input file not found: {input}")
    records = read_records(
        input, fmt=in_fmt, id_col=options.id_col, text_cols=options.text_cols, thread_col=options.thread_col
    )
    store = RunStore(output, out_fmt)
    commits = store.open(
        _settings(input, options, in_fmt, out_fmt), resume=options.resume, overwrite=options.overwrite
    )
    done_rows = sum(c["records"] for c in commits)
    engine = None
    try:
        skipped = sum(1 for _ in itertools.islice(records, done_rows))
        if skipped < done_rows:
            raise TriageError(
                f"cannot resume: {done_rows} rows were committed but the input now has only {skipped}; "
                "pass --overwrite to start again"
            )
        load_started = time.perf_counter()
        engine = make_engine(
            options.engine,
            options.config,
            options.encoder,
            workers=options.workers,
            scheduler=options.scheduler,
            want_lines=out_fmt == "jsonl",
            want_flats=out_fmt != "jsonl",
        )
        engine.warm_up()
        startup = time.perf_counter() - load_started
    except BaseException:
        if engine is not None:
            engine.close(cancel=True)
        if not commits:  # nothing committed yet: leave no parts folder that would demand --resume
            store.discard()
        raise
    from tqdm import tqdm

    total = _count_rows(input, in_fmt)
    bar = tqdm(
        total=total,
        initial=done_rows,
        desc=f"triage ({engine.description})",
        unit="row",
        disable=not options.progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    started = time.perf_counter()
    rows_this_run = 0
    pending: deque[Any] = deque()
    new_chunks = 0

    def commit_next() -> None:
        nonlocal rows_this_run, new_chunks
        outcome = engine.result(pending.popleft())
        commits.append(store.commit(outcome))
        rows_this_run += outcome.records
        new_chunks += 1
        bar.update(outcome.records)
        bar.set_postfix(errors=sum(c["stats"].get("row_errors", 0) for c in commits[-50:]), refresh=False)

    interrupted = False
    try:
        for index, chunk in _chunks(records, options.chunk_size, len(commits)):
            if options.max_chunks is not None and new_chunks + len(pending) >= options.max_chunks:
                interrupted = True
                break
            pending.append(engine.submit(index, chunk))
            while len(pending) >= engine.max_inflight:
                commit_next()
        while pending:
            commit_next()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        engine.close(cancel=interrupted)
    elapsed = time.perf_counter() - started
    committed = sum(c["records"] for c in commits)
    if interrupted:
        raise ScoringInterrupted(
            f"interrupted: {committed} rows are committed in {store.folder}; run the same command with "
            "--resume to continue without re-scoring them",
            committed,
        )
    stats = merge_stats(c["stats"] for c in commits)
    try:
        profiles = training_profiles(options.config)
    except Exception:  # noqa: BLE001 - the drift view is a bonus; never lose a finished run over it
        profiles = {}
    report = build_report(
        stats,
        elapsed_s=elapsed,
        rows_this_run=rows_this_run,
        profiles=profiles,
        extra={"engine": engine.description, "resumed_after_rows": done_rows, "steps": options.config.steps},
    )
    report["throughput"]["startup_s"] = round(startup, 2)
    store.finalize(commits, report)
    return {
        "output": str(output),
        "errors_file": str(store.errors_path),
        "report_file": str(store.report_path),
        **report["counts"],
        "resumed_after_rows": done_rows,
        "elapsed_s": report["throughput"]["elapsed_s"],
        "rows_per_s": report["throughput"]["rows_per_s"],
        "report": report,
    }


__all__ = ["ScoreOptions", "ScoringInterrupted", "render_report", "score_file"]
