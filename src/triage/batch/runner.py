"""``score_file``: stream a backlog through the Triager in chunks, crash-safe and resumable.

Nothing is lost: every row lands in the output or, with its row number and the reason, in the errors
file, whatever went wrong with it. A run that stops (Ctrl-C, SIGTERM, a full disk, a dead worker) keeps
what it committed for ``--resume``; one that stops before its first commit leaves nothing behind.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import BrokenExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.batch.engines import make_engine
from triage.batch.report import build_report, merge_stats, render_report, training_profiles
from triage.batch.writers import RunStore, output_format
from triage.config import TriageConfig
from triage.errors import InputError, TriageError
from triage.io import Record, detect_format, read_records, resolve_encoding


class ScoringInterrupted(TriageError):
    """The run stopped early (Ctrl-C or SIGTERM); the committed rows are kept and ``--resume`` continues.

    ``signal_number``: the signal that stopped it; ``exit_code``: 128 + that number (130 for Ctrl-C,
    143 for SIGTERM), as a shell reports a process ended by it.
    """

    def __init__(self, message: str, committed_rows: int, signal_number: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.committed_rows = committed_rows
        self.signal_number = int(signal_number)
        self.exit_code = 128 + self.signal_number


class _Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGINT / SIGTERM while a run is going on."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


class _Signals:
    """SIGINT and SIGTERM stop the run the same way (between two safe points, never inside a commit)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.deferred = False
        #: The run's store once it exists (what an interruption reports as kept).
        self.store: RunStore | None = None

    def hold(self) -> None:
        """From now on signals are only recorded: the run is already stopping."""
        self.deferred = True

    def handle(self, signal_number: int, frame: Any) -> None:
        self.received = signal_number
        if not self.deferred:
            raise _Stop(signal_number)

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only; a run in another thread keeps the defaults
            return
        previous = {sig: signal.signal(sig, self.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Signals that arrive inside this block are ignored (the run is completing: it will finish)."""
        self.deferred = True
        try:
            yield
        finally:
            self.deferred = False

    @contextmanager
    def deferred_here(self) -> Iterator[None]:
        """A signal that arrives inside this block takes effect when it ends."""
        with self.held():
            yield
        if self.received is not None:
            raise _Stop(self.received)


@dataclass
class ScoreOptions:
    """Settings of one ``score_file`` run (the CLI's options).

    ``chunk_size`` rows are scored and committed together: the unit of progress, of parallel work and of
    what a crash can cost. ``encoder``: an encoder spec (see :func:`triage.batch.workers.resolve_encoder`).
    """

    fmt: str | None = None
    #: Text encoding of the input (default: from a byte-order mark, else UTF-8); see triage.io.
    encoding: str | None = None
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


def _settings(
    input: str, options: ScoreOptions, in_fmt: str, out_fmt: str, encoding: str | None
) -> dict[str, Any]:
    source: dict[str, Any] = {"input": input if input == "-" else str(Path(input).resolve())}
    if input != "-":
        source["input_bytes"] = os.path.getsize(input)
    return {
        **source,
        "format": in_fmt,
        "encoding": encoding,
        "output_format": out_fmt,
        "id_col": options.id_col,
        "text_cols": list(options.text_cols) if options.text_cols else None,
        "thread_col": options.thread_col,
        "steps": list(options.config.steps),
    }


def _peeked(records: Iterator[Record]) -> Iterator[Record]:
    """``records``, with the first one read now: an unreadable file fails here, before any model loads."""
    first = next(records, None)
    return records if first is None else itertools.chain([first], records)


def score_file(input: str | Path, output: str | Path, options: ScoreOptions | None = None) -> dict[str, Any]:
    """Triage every row of ``input`` (a file or ``"-"``) into ``output``; returns the run summary.

    Every row ends up in OUTPUT or in ``OUTPUT.errors.jsonl`` (with its row number and the reason). The
    end-of-run report (counts, distributions, abstain rate, throughput, drift, input problems) goes to
    ``OUTPUT.report.json``. Before scoring, the output path and the free space are checked
    (:meth:`RunStore.check`). On Ctrl-C or SIGTERM, :class:`ScoringInterrupted` is raised after the last
    complete chunk is committed; ``options.resume`` continues from there.
    """
    signals = _Signals()
    with signals.installed():
        try:
            return _score_file(input, output, options or ScoreOptions(), signals)
        except _Stop as stop:  # between the run's own checkpoints (e.g. a second Ctrl-C while stopping)
            store = signals.store
            committed = store.committed_rows() if store is not None else 0
            raise _interrupted(store, committed, stop.signal_number) from None


def _score_file(
    input: str | Path, output: str | Path, options: ScoreOptions, signals: _Signals
) -> dict[str, Any]:
    input = str(input)
    output = Path(output)
    if output.is_dir():
        raise InputError(f"-o {output} is a folder: name the output file, e.g. -o {output / 'scored.jsonl'}")
    in_fmt = detect_format(input, options.fmt)
    out_fmt = output_format(output, options.output_format)
    if input != "-" and not Path(input).is_file():
        raise InputError(f"input file not found: {input}")
    store = RunStore(output, out_fmt)
    store.check()
    encoding = None if in_fmt == "parquet" else resolve_encoding(input, options.encoding)
    records = _peeked(
        read_records(
            input,
            fmt=in_fmt,
            id_col=options.id_col,
            text_cols=options.text_cols,
            thread_col=options.thread_col,
            encoding=encoding,
        )
    )
    settings = _settings(input, options, in_fmt, out_fmt, encoding)
    total = _count_rows(input, in_fmt)
    resuming = options.resume and store.folder.is_dir()
    if not resuming:  # a new run: checked before anything is created
        store.check_space(input_bytes=settings.get("input_bytes"))
    signals.store = store
    commits = store.open(settings, resume=options.resume, overwrite=options.overwrite)
    done_rows = sum(c["records"] for c in commits)
    engine = None
    try:
        if resuming:  # the parts on disk count
            store.check_space(input_bytes=settings.get("input_bytes"), rows_done=done_rows, rows_total=total)
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
    except BaseException as exc:
        signals.hold()
        if engine is not None:
            engine.close(cancel=True)
        if not commits:  # nothing committed yet: leave no parts folder that would demand --resume
            store.discard()
        if isinstance(exc, _Stop):
            raise _interrupted(store, done_rows, exc.signal_number) from None
        raise
    from tqdm import tqdm

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
        with signals.deferred_here():  # a commit is never cut short: the message counts what is on disk
            commits.append(store.commit(outcome))
            rows_this_run += outcome.records
            new_chunks += 1
        bar.update(outcome.records)
        bar.set_postfix(errors=sum(c["stats"].get("row_errors", 0) for c in commits[-50:]), refresh=False)
        store.check_space(rows_done=done_rows + rows_this_run, rows_total=total)

    stopped_by: int | None = None
    finished = False
    try:
        for index, chunk in _chunks(records, options.chunk_size, len(commits)):
            if options.max_chunks is not None and new_chunks + len(pending) >= options.max_chunks:
                stopped_by = signal.SIGINT
                break
            pending.append(engine.submit(index, chunk))
            while len(pending) >= engine.max_inflight:
                commit_next()
        while pending:
            commit_next()
        finished = True
    except _Stop as stop:
        stopped_by = stop.signal_number
    except KeyboardInterrupt:
        stopped_by = signal.SIGINT
    except (OSError, BrokenExecutor) as exc:
        raise _failed(exc, store, commits) from exc
    finally:
        if not finished:
            signals.hold()
        bar.close()
        engine.close(cancel=not finished)
        if not finished and not commits:
            store.discard()  # nothing committed: leave nothing that would demand --resume
    elapsed = time.perf_counter() - started
    committed = sum(c["records"] for c in commits)
    if stopped_by is not None:
        raise _interrupted(store, committed, stopped_by)
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
        extra={
            "engine": engine.description,
            "resumed_after_rows": done_rows,
            "steps": options.config.steps,
            "input_encoding": encoding,
        },
    )
    report["throughput"]["startup_s"] = round(startup, 2)
    try:
        store.finalize(commits, report, publishing=signals.held)
    except _Stop as stop:
        raise _interrupted(store, committed, stop.signal_number) from None
    except OSError as exc:
        raise _failed(exc, store, commits) from exc
    counts = report["counts"]
    return {
        "output": str(output),
        "errors_file": str(store.errors_path),
        "report_file": str(store.report_path),
        **counts,
        "error_rate": round(counts["row_errors"] / counts["rows"], 4) if counts["rows"] else 0.0,
        "resumed_after_rows": done_rows,
        "elapsed_s": report["throughput"]["elapsed_s"],
        "rows_per_s": report["throughput"]["rows_per_s"],
        "report": report,
    }


def _interrupted(store: RunStore | None, committed: int, signal_number: int) -> ScoringInterrupted:
    if store is None or not store.folder.exists():
        message = "interrupted before any row was committed: nothing was kept; run the same command again"
    else:
        message = (
            f"interrupted: {committed} rows are committed in {store.folder}; run the same command with "
            "--resume to continue without re-scoring them"
        )
    return ScoringInterrupted(message, committed, signal_number)


def _failed(exc: BaseException, store: RunStore, commits: list[dict[str, Any]]) -> TriageError:
    """A run-level failure (disk, a dead worker) as an error that says what is kept and how to go on."""
    what = "a worker process died (out of memory?)" if isinstance(exc, BrokenExecutor) else str(exc)
    if not commits:
        return TriageError(f"the run failed: {what}; nothing was committed or kept")
    rows = sum(c["records"] for c in commits)
    return TriageError(
        f"the run failed: {what}; {rows} rows are committed in {store.folder}: fix the cause, then run "
        "the same command with --resume"
    )


__all__ = ["ScoreOptions", "ScoringInterrupted", "render_report", "score_file"]
