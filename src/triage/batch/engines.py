"""Where chunks are scored: in this process, in a pool of local processes, or on a Dask cluster.

Every engine takes chunks in input order and hands back :class:`ChunkOutcome` futures; the runner commits
them in the same order, so output order and the resume point never depend on which worker was fastest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from triage.batch.workers import (
    ChunkOutcome,
    config_to_json,
    get_triager,
    init_process_worker,
    score_chunk,
    warm_worker,
)
from triage.config import TriageConfig
from triage.errors import TriageError
from triage.io import Record


class Engine(Protocol):
    """Scores chunks; ``max_inflight`` bounds how many are submitted ahead of the commit point."""

    max_inflight: int
    description: str

    def submit(self, index: int, records: Sequence[Record]) -> Any: ...

    def result(self, handle: Any) -> ChunkOutcome: ...

    def warm_up(self) -> None:
        """Start every worker and load its models, so timings measure scoring only."""
        ...

    def close(self, *, cancel: bool = False) -> None: ...


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class InlineEngine:
    """Score in this process (``--workers 1``): the Triager's models load once, here."""

    max_inflight = 1

    def __init__(
        self, config: TriageConfig, encoder_spec: str | None, *, want_lines: bool, want_flats: bool
    ) -> None:
        self.config_json = config_to_json(config)
        self.encoder_spec = encoder_spec
        self.want = (want_lines, want_flats)
        self.triager = get_triager(self.config_json, encoder_spec)
        self.description = "in-process"

    def submit(self, index: int, records: Sequence[Record]) -> Any:
        return score_chunk(self.config_json, self.encoder_spec, records, index, *self.want)

    def result(self, handle: Any) -> ChunkOutcome:
        return handle

    def warm_up(self) -> None:
        return None  # the models loaded in __init__

    def close(self, *, cancel: bool = False) -> None:
        return None


class ProcessEngine:
    """``--workers N`` on one machine: N spawned processes, each loading the models once (initializer)
    with native threads capped to its share of the cores.

    Workers never outlive this process: they get the kernel's parent-death signal (SIGKILL if the parent
    is killed), ignore Ctrl-C (the parent coordinates), and ``close(cancel=True)`` ends them at once
    instead of waiting for the chunks they hold (those were not committed and are scored again on resume).
    """

    def __init__(
        self,
        config: TriageConfig,
        encoder_spec: str | None,
        *,
        workers: int,
        want_lines: bool,
        want_flats: bool,
        threads_per_worker: int | None = None,
    ) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.config_json = config_to_json(config)
        self.encoder_spec = encoder_spec
        self.want = (want_lines, want_flats)
        threads = threads_per_worker or max(1, _cores() // workers)
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_process_worker,
            initargs=(self.config_json, encoder_spec, threads, os.getpid()),
        )
        self.workers = workers
        self.max_inflight = 2 * workers
        self.description = f"{workers} local processes x {threads} threads"

    def submit(self, index: int, records: Sequence[Record]) -> Future:
        return self.pool.submit(
            score_chunk, self.config_json, self.encoder_spec, list(records), index, *self.want
        )

    def result(self, handle: Future) -> ChunkOutcome:
        return handle.result()

    def warm_up(self) -> None:
        # each call holds its worker briefly, so the pool starts all of them (the initializer loads models)
        for future in [self.pool.submit(_hold, 0.5) for _ in range(self.workers)]:
            future.result()

    def close(self, *, cancel: bool = False) -> None:
        if not cancel:
            self.pool.shutdown(wait=True)
            return
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a worker may be deep in a chunk: its result would be thrown away
            process.terminate()
        for process in processes:
            process.join(timeout=30)  # a hang guard: SIGTERM ends a worker unless native code blocks it
            if process.is_alive():
                process.kill()
                process.join()
        self.pool.shutdown(wait=True)


class DaskEngine:
    """``--engine dask``: chunks are submitted to a Dask distributed cluster (``scheduler`` address such as
    ``tcp://host:8786``, or a LocalCluster of ``workers`` processes when no address is given). Each Dask
    worker process builds the Triager once and reuses it for every chunk it receives."""

    def __init__(
        self,
        config: TriageConfig,
        encoder_spec: str | None,
        *,
        scheduler: str | None,
        workers: int,
        want_lines: bool,
        want_flats: bool,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise TriageError("--engine dask needs Dask: pip install 'helpdesk-triage[dask]'") from exc
        self.config_json = config_to_json(config)
        self.encoder_spec = encoder_spec
        self.want = (want_lines, want_flats)
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except OSError as exc:
                raise TriageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
            self.description = f"Dask scheduler {scheduler}"
        else:
            threads = max(1, _cores() // workers)
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
                env={"OMP_NUM_THREADS": str(threads)},
            )
            self.client = Client(self.cluster)
            self.description = f"Dask LocalCluster, {workers} workers"
        n_workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)
        self.max_inflight = 2 * n_workers

    def submit(self, index: int, records: Sequence[Record]) -> Any:
        return self.client.submit(
            score_chunk, self.config_json, self.encoder_spec, list(records), index, *self.want, pure=False
        )

    def result(self, handle: Any) -> ChunkOutcome:
        return handle.result()

    def warm_up(self) -> None:
        self.client.run(warm_worker, self.config_json, self.encoder_spec)  # on every worker

    def close(self, *, cancel: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _hold(seconds: float) -> None:
    import time

    time.sleep(seconds)


def make_engine(
    engine: str,
    config: TriageConfig,
    encoder_spec: str | None,
    *,
    workers: int,
    scheduler: str | None,
    want_lines: bool,
    want_flats: bool,
) -> Engine:
    """Build the engine named ``local`` (in-process or ``workers`` processes) or ``dask``."""
    if engine == "dask":
        return DaskEngine(
            config,
            encoder_spec,
            scheduler=scheduler,
            workers=workers,
            want_lines=want_lines,
            want_flats=want_flats,
        )
    if engine != "local":
        raise TriageError(f"unknown engine {engine!r}: use 'local' or 'dask'")
    if scheduler:
        raise TriageError("--scheduler needs --engine dask")
    if workers <= 1:
        return InlineEngine(config, encoder_spec, want_lines=want_lines, want_flats=want_flats)
    return ProcessEngine(config, encoder_spec, workers=workers, want_lines=want_lines, want_flats=want_flats)
