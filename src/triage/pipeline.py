"""The ``Triager``: runs the configured steps over a batch of tickets.

Each ticket is normalised, its language detected and its text encoded once; later steps (classification,
sentiment, knowledge base...) read the shared embedding. A step that fails on one ticket records the failure
in that ticket's ``errors`` and the rest of the batch goes on.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

import numpy as np
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from triage.config import TriageConfig
from triage.encoders import Encoder, get_encoder
from triage.errors import TriageError
from triage.language import LanguageDetector
from triage.normalize import normalize_text
from triage.schema import StepError, Ticket, TriageResult
from triage.tickets import join_model_text

TicketLike = Ticket | dict[str, Any] | str


@dataclass
class TicketState:
    """A ticket on its way through the pipeline: inputs, shared intermediate values and the result so far.

    ``normalized`` maps the raw subject and body to their normalised text, so later steps that read the parts
    do not normalise them again; it is keyed by the raw text, so a step that replaces the ticket (``redact``
    masks it) simply misses, and texts cut before normalisation are not in it.
    """

    ticket: Ticket
    result: TriageResult
    text: str = ""
    message_texts: list[str] = field(default_factory=list)
    normalized: dict[str, str] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    failed: set[str] = field(default_factory=set)


class Step(Protocol):
    """One pipeline stage. ``run`` fills fields of each state's result for a whole batch."""

    name: str
    requires: tuple[str, ...]

    def run(self, states: list[TicketState]) -> None: ...


class NormalizeStep:
    """Strip HTML, quoted replies and signatures; cut over-long text (said in the result's warnings)."""

    name = "normalize"
    requires: tuple[str, ...] = ()

    def __init__(self, config: TriageConfig) -> None:
        self.max_chars = config.max_chars
        self.max_input_chars = config.max_input_chars

    def _clean(self, text: str | None, state: TicketState) -> str:
        if not text:
            return ""
        if len(text) > self.max_input_chars:
            state.result.warnings.append(
                f"input text of {len(text)} characters cut to {self.max_input_chars} before normalisation"
            )
            text = text[: self.max_input_chars]
        return normalize_text(text).text

    def run(self, states: list[TicketState]) -> None:
        for state in states:
            ticket = state.ticket
            parts = [self._clean(ticket.subject, state), self._clean(ticket.body, state)]
            for raw, clean in zip((ticket.subject, ticket.body), parts, strict=True):
                if raw and len(raw) <= self.max_input_chars:
                    state.normalized[raw] = clean
            state.message_texts = [self._clean(m.text, state) for m in ticket.messages]
            parts += [
                t for t, m in zip(state.message_texts, ticket.messages, strict=True) if m.role == "customer"
            ]
            text, cut = join_model_text(parts, self.max_chars)  # a thread often repeats the body
            if cut:
                state.result.warnings.append(
                    f"model text cut to its first {len(text)} characters (max_chars={self.max_chars})"
                )
            state.text = text or ticket.customer_text[: self.max_chars]


class LanguageStep:
    """Detect the ticket's language (on the customer's text) and each message's language."""

    name = "language"
    requires = ("normalize",)

    def __init__(self, config: TriageConfig) -> None:
        self.detector = LanguageDetector(min_confidence=config.language_min_confidence)
        self.detector.warm_up()  # the first batch pays for loading, as it always did, not a later ticket

    def run(self, states: list[TicketState]) -> None:
        for state in states:
            guess = self.detector.detect(state.text)
            state.result.language = guess.language
            state.result.language_confidence = guess.confidence
            state.result.message_languages = [self.detector.detect(t).language for t in state.message_texts]


class EncodeStep:
    """Embed each ticket's text once (e5 ``query:`` side); every later step reuses the vector."""

    name = "encode"
    requires = ("normalize",)

    def __init__(self, config: TriageConfig, encoder: Encoder) -> None:
        self.encoder = encoder
        self.batch_size = config.batch_size

    def run(self, states: list[TicketState]) -> None:
        vectors = self.encoder.encode([s.text for s in states], kind="query", batch_size=self.batch_size)
        for state, vec in zip(states, vectors, strict=True):
            state.embedding = vec


_BLAS_CONTROLLER: Any = None
_BLAS_LOCK = threading.Lock()
_BLAS_MODULES = 0  # len(sys.modules) when the controller was built


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run numpy/scipy BLAS on one thread inside the block (restored after it).

    For steps that multiply small matrices (a batch x 384 embeddings by a head's classes or ~1,000 evidence
    examples): there a second BLAS thread costs more in hand-offs than it brings, 9x on the 2-core machine
    when it is busy (measured on the classify heads), and it keeps spinning on the core the next batch's
    encoder needs. The threadpoolctl controller (~10 ms) is built again only after new imports; entering the
    block costs ~15 us.
    Without threadpoolctl the block does nothing.
    """
    global _BLAS_CONTROLLER, _BLAS_MODULES
    with _BLAS_LOCK:
        # rebuilt when modules were imported since: a library loaded later (torch's, scipy's) is limited too
        if _BLAS_CONTROLLER is None or (_BLAS_CONTROLLER and len(sys.modules) != _BLAS_MODULES):
            try:
                from threadpoolctl import ThreadpoolController

                _BLAS_CONTROLLER = ThreadpoolController()
            except Exception:  # noqa: BLE001 - no threadpoolctl, or a library it cannot drive
                _BLAS_CONTROLLER = False
            _BLAS_MODULES = len(sys.modules)
        controller = _BLAS_CONTROLLER
    if not controller:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


StepFactory = Callable[["Triager"], Step]

#: name -> factory building the step for a Triager.
STEP_FACTORIES: dict[str, StepFactory] = {
    "normalize": lambda t: NormalizeStep(t.config),
    "language": lambda t: LanguageStep(t.config),
    "encode": lambda t: EncodeStep(t.config, t.encoder),
}

#: Component steps, imported on first use: name -> "module:callable taking the Triager". Adding a
#: component to the pipeline is one line here (and its name in ``config.DEFAULT_STEPS`` to run by default).
COMPONENT_STEPS: dict[str, str] = {
    "classify": "triage.classify.step:ClassifyStep",
    "sentiment": "triage.sentiment.step:SentimentStep",
    "priority": "triage.sentiment.step:PriorityStep",
    "kb": "triage.kb.step:KnowledgeBaseStep",
    "similar": "triage.kb.step:SimilarTicketsStep",
    "summarize": "triage.summarize:SummarizeStep",
    "translate": "triage.translate:TranslateStep",
    "redact": "triage.pii:RedactStep",
}


def register_step(name: str, factory: StepFactory) -> None:
    """Make a step available to ``TriageConfig.steps`` under ``name``."""
    STEP_FACTORIES[name] = factory


def available_steps() -> list[str]:
    """Names of the steps that can run here (component modules that are installed)."""
    return list(STEP_FACTORIES) + [n for n in COMPONENT_STEPS if n not in STEP_FACTORIES and _importable(n)]


def _importable(name: str) -> bool:
    module = COMPONENT_STEPS[name].split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _factory(name: str) -> StepFactory:
    if name in STEP_FACTORIES:
        return STEP_FACTORIES[name]
    module, attr = COMPONENT_STEPS[name].split(":")
    return getattr(importlib.import_module(module), attr)


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
            raise TriageError(f"unknown pipeline steps {unknown}; available here: {known}")
        steps = self.config.steps
        if "redact" in steps:
            readers = [s for s in steps[: steps.index("redact")] if s != "normalize"]
            if readers:
                raise TriageError(
                    f"'redact' must run right after 'normalize', before {readers} read the raw text"
                )
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
            self._steps = [_factory(name)(self) for name in self.config.steps]
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
        requires = set(step.requires)
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
