"""The step contract: what a pipeline step is, what it declares, and the registry that finds it.

Modelled on spaCy's ``Language.factory``: every step class declares

- ``name``: the name a config lists it under;
- ``Options``: a pydantic model of its options (``TriageConfig.options[name]``), validated once, when the
  pipeline is built, with one error type (:class:`~triage.errors.ConfigError`);
- ``requires``: what it reads (``"state.embedding"``, ``"result.language"``...), and ``assigns``: what it
  writes. The pipeline orders the configured steps so each runs after the steps assigning what it requires,
  and refuses, when built, a pipeline where nothing assigns a requirement, naming the step that would
  (:func:`analyze` is the analysis, printed by ``triage steps``).

Built-in steps are listed in :data:`BUILTIN_STEPS` and imported on first use; third-party steps register
through the ``triage.steps`` entry point group (``mystep = "my_package.steps:MyStep"``) or
:func:`register_step`. Components import this module and :mod:`triage.tickets`, never the pipeline.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from triage.errors import ConfigError
from triage.schema import Ticket, TriageResult

if TYPE_CHECKING:
    from triage.config import TriageConfig
    from triage.encoders import Encoder

__all__ = [
    "BUILTIN_STEPS",
    "ENTRY_POINT_GROUP",
    "NoOptions",
    "PipelineAnalysis",
    "Step",
    "StepContext",
    "StepOptions",
    "StepSpec",
    "TicketState",
    "analyze",
    "available_steps",
    "get_step",
    "options_for",
    "register_step",
    "single_threaded_blas",
    "validate_options",
]

#: The entry point group third-party packages register steps in.
ENTRY_POINT_GROUP = "triage.steps"

#: Built-in steps, imported on first use: name -> ``"module:StepClass"``.
BUILTIN_STEPS: dict[str, str] = {
    "normalize": "triage.core_steps:NormalizeStep",
    "language": "triage.core_steps:LanguageStep",
    "encode": "triage.core_steps:EncodeStep",
    "redact": "triage.pii.step:RedactStep",
    "classify": "triage.classify.step:ClassifyStep",
    "sentiment": "triage.sentiment.step:SentimentStep",
    "priority": "triage.sentiment.step:PriorityStep",
    "kb": "triage.kb.step:KnowledgeBaseStep",
    "similar": "triage.kb.step:SimilarTicketsStep",
    "summarize": "triage.summarize.step:SummarizeStep",
    "translate": "triage.translate.step:TranslateStep",
}


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


class StepOptions(BaseModel):
    """Base of every step's ``Options``: unknown keys are refused; values are never echoed in errors
    (an option may hold a key)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, arbitrary_types_allowed=True)


class NoOptions(StepOptions):
    """A step that takes no options."""


@runtime_checkable
class StepContext(Protocol):
    """What a step is built from: the pipeline's config and its shared encoder (loaded on first use)."""

    @property
    def config(self) -> TriageConfig: ...

    @property
    def encoder(self) -> Encoder: ...


class Step(Protocol):
    """One pipeline stage: built as ``StepClass(context, options)``; ``run`` fills each state of a batch.

    A step that fails raises; the pipeline retries it ticket by ticket and records the failure in that
    ticket's ``errors`` (and skips, for it, the steps needing what the failed step produces).
    """

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]
    assigns: ClassVar[tuple[str, ...]]

    def run(self, states: list[TicketState]) -> None: ...


@dataclass(frozen=True)
class StepSpec:
    """A registered step: its declarations and how to build it.

    ``requires`` entries are attributes (``"state.text"``) or, for steps written against the older contract,
    step names (``"encode"``); ``build(context, options)`` makes the step.
    """

    name: str
    build: Callable[[StepContext, StepOptions], Step]
    options: type[StepOptions] = NoOptions
    requires: tuple[str, ...] = ()
    assigns: tuple[str, ...] = ()
    description: str = ""
    source: str = "builtin"


_REGISTERED: dict[str, StepSpec] = {}
_REGISTRY_LOCK = threading.Lock()


def _spec_of_class(cls: type, source: str) -> StepSpec:
    """The spec a step class declares (``name``, ``Options``, ``requires``, ``assigns``, docstring)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f'step class {cls.__qualname__} declares no name: give it `name = "my_step"`')
    options = getattr(cls, "Options", NoOptions)
    if not (isinstance(options, type) and issubclass(options, BaseModel)):
        raise ConfigError(
            f"step {name!r}: Options must be a pydantic model (subclass triage.steps.StepOptions)"
        )
    doc = (cls.__doc__ or "").strip().splitlines()
    return StepSpec(
        name=name,
        build=cls,
        options=options,
        requires=tuple(getattr(cls, "requires", ())),
        assigns=tuple(getattr(cls, "assigns", ())),
        description=doc[0] if doc else "",
        source=source,
    )


def register_step(step: type | str, factory: Callable[[Any], Step] | None = None) -> StepSpec:
    """Register a step class (``register_step(MyStep)``, usable as a decorator) under its declared name.

    The older form ``register_step("name", factory)`` registers a factory called with the pipeline that
    returns a step object (its ``requires`` are step names; it takes no options).
    """
    if isinstance(step, str):
        if factory is None:
            raise ConfigError(f"register_step({step!r}) needs a factory, or pass a step class instead")
        spec = StepSpec(name=step, build=lambda context, _options: factory(context), source="factory")
    else:
        spec = _spec_of_class(step, "register_step")
    with _REGISTRY_LOCK:
        _REGISTERED[spec.name] = spec
    return spec


def unregister_step(name: str) -> None:
    """Remove a step registered with :func:`register_step` (tests, plugins being reloaded)."""
    with _REGISTRY_LOCK:
        _REGISTERED.pop(name, None)


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_steps() -> list[str]:
    """Names of every step that can run here: built-in, registered and entry-point steps."""
    return list(dict.fromkeys([*BUILTIN_STEPS, *_REGISTERED, *_entry_points()]))


def get_step(name: str) -> StepSpec:
    """The spec of the step called ``name`` (importing its module on first use).

    Raises :class:`~triage.errors.ConfigError` naming the available steps for an unknown name, or saying
    which package failed to import for a step that is listed but cannot load.
    """
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in BUILTIN_STEPS:
        module, _, attr = BUILTIN_STEPS[name].partition(":")
        return _spec_of_class(getattr(importlib.import_module(module), attr), "builtin")
    found = _entry_points().get(name)
    if found is None:
        raise ConfigError(f"unknown pipeline steps [{name!r}]; available here: {available_steps()}")
    try:
        loaded = found.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin: say which one and why
        raise ConfigError(
            f"the step {name!r} (entry point {found.value!r} in group {ENTRY_POINT_GROUP!r}) failed to "
            "import: "
            f"{type(exc).__name__}: {exc}; reinstall the package that provides it, or remove it from steps"
        ) from exc
    return _spec_of_class(loaded, f"entry point {found.value}")


def validate_options(spec: StepSpec, options: Any) -> StepOptions:
    """``options`` (a mapping, or None) validated by the step's ``Options`` model.

    Raises :class:`~triage.errors.ConfigError` naming the step, each bad field and what it accepts
    (never the value given: an option may be a secret).
    """
    if isinstance(options, spec.options):
        return options
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ConfigError(
            f"options.{spec.name} must be a mapping of option -> value, not {type(options).__name__}"
        )
    try:
        return spec.options.model_validate(options)
    except ValidationError as exc:
        known = sorted(spec.options.model_fields)
        problems = []
        unknown = sorted(str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden")
        if unknown:
            problems.append(f"unknown {spec.name} options {unknown}; known: {known}")
        for error in exc.errors():
            if error["type"] == "extra_forbidden":
                continue
            where = ".".join(str(p) for p in error["loc"])
            field_info = spec.options.model_fields.get(str(error["loc"][0])) if error["loc"] else None
            what = f" ({field_info.description})" if field_info and field_info.description else ""
            if error["type"] == "missing":
                problems.append(f"the {spec.name!r} step needs options.{spec.name}.{where}{what}")
            else:
                problems.append(f"options.{spec.name}.{where}: {error['msg']}{what}")
        raise ConfigError("; ".join(problems)) from None


def options_for(step: type, context: StepContext | None, options: StepOptions | None = None) -> Any:
    """A step's options: ``options`` when given (the pipeline validated them), else the step's entry of
    ``context.config.options`` validated by its ``Options`` -- so a step built on its own checks the same."""
    if options is not None:
        return options
    given = context.config.options.get(step.name) if context is not None else None
    return validate_options(_spec_of_class(step, "direct"), given)


@dataclass(frozen=True)
class PipelineAnalysis:
    """The configured steps in run order, what each needs and provides, and what is wrong.

    ``providers[step]``: the steps whose output ``step`` reads (it is skipped for a ticket when one of them
    failed on it); ``problems``: a requirement nothing in the pipeline assigns, with the step that would.
    """

    order: list[str]
    specs: dict[str, StepSpec]
    providers: dict[str, list[str]]
    problems: list[str]

    def table(self) -> str:
        """The analysis as text, like spaCy's ``analyze_pipes``: each step, what it reads, writes, takes."""
        lines = []
        for i, name in enumerate(self.order, 1):
            spec = self.specs[name]
            options = ", ".join(
                f"{field}={info.default!r}" if not info.is_required() else f"{field} (required)"
                for field, info in spec.options.model_fields.items()
            )
            lines += [
                f"{i}. {name}: {spec.description}",
                f"   requires: {', '.join(spec.requires) or '-'}",
                f"   assigns:  {', '.join(spec.assigns) or '-'}",
                f"   options:  {options or '-'}",
            ]
            if self.providers.get(name):
                lines.append(f"   skipped for a ticket when these failed: {', '.join(self.providers[name])}")
        lines.append("")
        lines.extend([f"problem: {p}" for p in self.problems] or ["problems: none"])
        return "\n".join(lines)


def _assigners() -> dict[str, str]:
    """Attribute -> the built-in step that assigns it first (named in "missing" messages)."""
    found: dict[str, str] = {}
    for name in BUILTIN_STEPS:
        for attr in get_step(name).assigns:
            found.setdefault(attr, name)
    return found


def analyze(steps: Sequence[str]) -> PipelineAnalysis:
    """Order ``steps`` by their declarations and check each requirement is assigned by another step.

    A step runs after every configured step that assigns something it requires (a step that rewrites what
    it reads, like ``redact``, goes right after the producer and before the readers); otherwise the
    configured order is kept. Requirements nothing assigns, and cycles, are listed in ``problems``.
    """
    specs = {name: get_step(name) for name in steps}
    assigned: dict[str, list[str]] = {}
    for name in steps:
        for attr in specs[name].assigns:
            assigned.setdefault(attr, []).append(name)
    problems: list[str] = []
    after: dict[str, set[str]] = {name: set() for name in steps}
    needs: dict[str, list[list[str]]] = {name: [] for name in steps}
    for name in steps:
        for need in specs[name].requires:
            if "." not in need:  # a step name (the older contract)
                makers = [need] if need in specs else []
            else:
                makers = [m for m in assigned.get(need, []) if m != name]
            if not makers:
                fix = need if "." not in need else _assigners().get(need)
                hint = f": add {fix!r} to steps" if fix else ""
                problems.append(f"step {name!r} requires {need}, which no step in the pipeline assigns{hint}")
                continue
            after[name].update(makers)
            needs[name].append(makers)
    order: list[str] = []
    pending = list(steps)
    while pending:
        ready = next((n for n in pending if after[n] <= set(order)), None)
        if ready is None:
            problems.append(f"steps {pending} require each other's output (a cycle); remove one of them")
            order.extend(pending)
            break
        order.append(ready)
        pending.remove(ready)
    # skipped for a ticket when the first step (in run order) producing an input failed on it; a later step
    # rewriting that input (redact) fails closed instead
    rank = {name: i for i, name in enumerate(order)}
    first = rank.__getitem__
    providers = {name: list(dict.fromkeys(min(m, key=first) for m in needs[name])) for name in steps}
    return PipelineAnalysis(order=order, specs=specs, providers=providers, problems=problems)


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
    block costs ~15 us. Without threadpoolctl the block does nothing.
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
