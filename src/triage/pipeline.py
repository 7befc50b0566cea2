"""The ``Triager``: builds the configured steps from the registry and runs them over a batch of tickets.

Each ticket is normalised, its language detected and its text encoded once; later steps (classification,
sentiment, knowledge base...) read the shared embedding. The steps come from :mod:`triage.steps` (their
declared ``requires`` / ``assigns`` order them, their ``Options`` validate ``config.options``), so a
pipeline that cannot work fails when it is built, not on the first ticket. A step that fails on one ticket
records the failure in that ticket's ``errors`` and the rest of the batch goes on.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from triage.config import TriageConfig
from triage.core_steps import EncodeStep, LanguageStep, NormalizeStep
from triage.encoders import Encoder, get_encoder
from triage.errors import ConfigError
from triage.schema import StepError, Ticket, TriageResult
from triage.steps import (
    BUILTIN_STEPS,
    PipelineAnalysis,
    Step,
    StepOptions,
    TicketState,
    analyze,
    available_steps,
    register_step,
    single_threaded_blas,
    validate_options,
)
from triage.tickets import TicketLike

__all__ = [
    "BUILTIN_STEPS",
    "EncodeStep",
    "LanguageStep",
    "NormalizeStep",
    "Step",
    "TicketLike",
    "TicketState",
    "Triager",
    "available_steps",
    "register_step",
    "single_threaded_blas",
]


class Triager:
    """Triage tickets: language, and whatever components the config enables.

    Call it with one ticket (a :class:`Ticket`, a dict using any accepted field names, or a plain string) to
    get one :class:`TriageResult`, or with a list to get a list. Invalid records in a list give a result with
    an error instead of failing the batch.

    Args:
        config: pipeline settings; defaults work offline.
        encoder: an encoder instance to share (built lazily from ``config.encoder`` when omitted).
    """

    def __init__(self, config: TriageConfig | None = None, *, encoder: Encoder | None = None) -> None:
        self.config = config or TriageConfig()
        self._encoder = encoder
        known = available_steps()
        unknown = [s for s in self.config.steps if s not in known]
        if unknown:
            raise ConfigError(f"unknown pipeline steps {unknown}; available here: {known}")
        #: The run order, each step's providers and its declarations (``triage steps`` prints it).
        self.analysis: PipelineAnalysis = analyze(self.config.steps)
        if self.analysis.problems:
            raise ConfigError("; ".join(self.analysis.problems))
        #: Each step's options, validated by its ``Options`` model.
        self.options: dict[str, StepOptions] = {
            name: validate_options(spec, self.config.options.get(name))
            for name, spec in self.analysis.specs.items()
        }
        self._steps: list[Step] | None = None

    @property
    def encoder(self) -> Encoder:
        """The shared encoder (loaded on first use)."""
        if self._encoder is None:
            self._encoder = get_encoder(self.config.encoder)
        return self._encoder

    @property
    def steps(self) -> list[Step]:
        """The step objects, built on first use."""
        if self._steps is None:
            specs = self.analysis.specs
            self._steps = [specs[name].build(self, self.options[name]) for name in self.analysis.order]
        return self._steps

    @overload
    def __call__(self, tickets: TicketLike) -> TriageResult: ...

    @overload
    def __call__(self, tickets: Sequence[TicketLike]) -> list[TriageResult]: ...

    def __call__(self, tickets: TicketLike | Sequence[TicketLike]) -> TriageResult | list[TriageResult]:
        """Triage one ticket or a batch."""
        if isinstance(tickets, Ticket | dict | str):
            return self.triage_batch([tickets])[0]
        return self.triage_batch(list(tickets))

    def iter_triage(
        self, records: Iterable[TicketLike], *, batch_size: int | None = None
    ) -> Iterator[TriageResult]:
        """Stream results for an iterable of tickets, ``batch_size`` at a time, in input order."""
        size = batch_size or self.config.batch_size
        batch: list[TicketLike] = []
        done = 0
        for record in records:
            batch.append(record)
            if len(batch) >= size:
                yield from self.triage_batch(batch, start_index=done)
                done += len(batch)
                batch = []
        if batch:
            yield from self.triage_batch(batch, start_index=done)

    def triage_batch(self, records: Sequence[TicketLike], *, start_index: int = 0) -> list[TriageResult]:
        """Triage a batch; results are in input order, one per record."""
        results: list[TriageResult] = []
        states: list[TicketState] = []
        for offset, record in enumerate(records):
            ticket, error = _to_ticket(record)
            fallback_id = f"row-{start_index + offset}"
            if ticket is None:
                results.append(
                    TriageResult(ticket_id=_record_id(record) or fallback_id, errors=[error] if error else [])
                )
                continue
            result = TriageResult(ticket_id=ticket.id or fallback_id)
            states.append(TicketState(ticket=ticket, result=result))
            results.append(result)
        for step in self.steps:
            self._run_step(step, states)
        return results

    def _run_step(self, step: Step, states: list[TicketState]) -> None:
        requires = set(self.analysis.providers.get(step.name, ()))
        spec = self.analysis.specs.get(step.name)
        if spec is None or spec.source == "factory":  # the older contract: ``requires`` names steps
            requires |= set(getattr(step, "requires", ()))
        ready: list[TicketState] = []
        for state in states:
            missing = sorted(requires & state.failed)
            if not missing:
                ready.append(state)
                continue
            state.failed.add(step.name)
            state.result.errors.append(
                StepError(step=step.name, type="Skipped", message=f"skipped because {missing} failed")
            )
        if not ready:
            return
        start = time.perf_counter()
        before = [_snapshot(s.result) for s in ready]
        try:
            step.run(ready)
        except Exception:  # noqa: BLE001 - isolate the failing ticket(s) by retrying one at a time
            for state, snapshot in zip(ready, before, strict=True):
                _restore(state, snapshot)
                try:
                    step.run([state])
                except Exception as exc:  # noqa: BLE001
                    _restore(state, snapshot)
                    state.failed.add(step.name)
                    state.result.errors.append(
                        StepError(step=step.name, type=type(exc).__name__, message=str(exc)[:500])
                    )
        per_ticket = (time.perf_counter() - start) * 1000 / len(ready)
        for state in ready:
            state.result.timings_ms[step.name] = round(per_ticket, 3)


#: Result fields that ``model_dump`` leaves out (kept in memory only): snapshots copy them apart.
_NOT_DUMPED = tuple(name for name, info in TriageResult.model_fields.items() if info.exclude)
Snapshot = tuple[dict[str, Any], dict[str, Any]] | TriageResult


def _snapshot(result: TriageResult) -> Snapshot:
    """A result's state before a step, to undo the step's partial writes if it fails.

    A ``model_dump`` (done in Rust, ~10x cheaper than a deep copy of the models) plus deep copies of the
    fields the dump excludes; :func:`_restore` validates it back into models. A result holding a value its
    schema does not describe (a custom step's doing) is deep-copied instead.
    """
    try:
        dumped = result.model_dump(warnings="error")
    except PydanticSerializationError:
        return result.model_copy(deep=True)
    return dumped, {name: copy.deepcopy(getattr(result, name)) for name in _NOT_DUMPED}


def _restore(state: TicketState, snapshot: Snapshot) -> None:
    """Undo a failed step's partial writes to a result (the object identity is kept for the caller)."""
    if isinstance(snapshot, TriageResult):
        fresh, kept = snapshot.model_copy(deep=True), {}
    else:
        fresh, kept = TriageResult.model_validate(snapshot[0]), snapshot[1]
    for name in TriageResult.model_fields:
        setattr(state.result, name, copy.deepcopy(kept[name]) if name in kept else getattr(fresh, name))


def _to_ticket(record: TicketLike) -> tuple[Ticket | None, StepError | None]:
    if isinstance(record, Ticket):
        return record, None
    try:
        return Ticket.model_validate(record), None
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'ticket'}: {err['msg']}" for err in exc.errors()
        )
        return None, StepError(step="validate", type="ValidationError", message=details)


def _record_id(record: TicketLike) -> str | None:
    if isinstance(record, dict):
        for key in ("id", "ticket_id", "ticketId", "number", "key"):
            if record.get(key) is not None:
                return str(record[key])
    return None
