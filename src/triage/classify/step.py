"""The ``classify`` pipeline step: runs the configured classifier heads on the shared embedding.

Configure heads in ``TriageConfig.options["classify"]``::

    {"heads": {"category": "bitext-category", "intent": "bitext-intent", "queue": "models/my-queue"}}

A head named ``category`` fills ``result.category``, ``priority`` fills ``result.priority``, any other name
fills ``result.labels[name]``; a multi-label :class:`~triage.classify.TicketTagger` head fills
``result.tags[name]``. Values are bundled model names (``models/<name>``) or directories. Default: the
bundled ``bitext-category`` and ``bitext-intent`` heads (both ship in the wheel: a missing or damaged one is
an error that says to reinstall the package, never a result silently without a category).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import Field

from triage.classify.model import TicketClassifier
from triage.classify.tags import TicketTagger, load_head
from triage.errors import ModelNotAvailableError, TriageError
from triage.steps import StepContext, StepOptions, TicketState, options_for, single_threaded_blas

#: Bundled heads run when the config names none: head name -> bundled model name.
DEFAULT_HEADS: dict[str, str] = {"category": "bitext-category", "intent": "bitext-intent"}


def default_heads() -> dict[str, str]:
    """The bundled default heads (head name -> bundled model name).

    Raises :class:`~triage.errors.ModelNotAvailableError` naming ``pip install --force-reinstall
    helpdesk-triage`` when one of them is missing from the installed package (a damaged one is refused
    with the same fix when it loads: its manifest's hashes do not match).
    """
    from triage import bundled, models

    missing = [
        model
        for model in DEFAULT_HEADS.values()
        if not (bundled.MODELS_DIR / model / models.MANIFEST).is_file()
    ]
    if missing:
        raise ModelNotAvailableError(
            f"the bundled classifier head(s) {missing} are missing from the installed package "
            f"({bundled.MODELS_DIR}): the installation is incomplete; reinstall it with "
            f"`{bundled.REINSTALL}`, or name the heads to run in options.classify.heads"
        )
    return dict(DEFAULT_HEADS)


class ClassifyOptions(StepOptions):
    """Options of the ``classify`` step."""

    heads: dict[str, str | Path] | None = Field(
        None, min_length=1, description="Head name -> bundled model name or folder (default: bundled heads)."
    )
    top_k: int = Field(3, ge=1, description="Labels listed per prediction.")
    evidence: bool = Field(True, description="Attach neighbours and terms to each prediction.")


class ClassifyStep:
    """Run each configured :class:`TicketClassifier` head on the batch's embeddings (no re-encoding, except
    for a head trained with ``fine_tune=True``, which embeds with its own fine-tuned encoder).

    Options (``config.options["classify"]``): see :class:`ClassifyOptions`.
    """

    name = "classify"
    requires: ClassVar[tuple[str, ...]] = ("state.embedding", "state.text")
    assigns: ClassVar[tuple[str, ...]] = (
        "result.category",
        "result.priority",
        "result.labels",
        "result.tags",
    )
    Options = ClassifyOptions

    def __init__(self, context: StepContext, options: ClassifyOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        heads = options.heads if options.heads is not None else default_heads()
        self.top_k = options.top_k
        self.evidence = options.evidence
        encoder = context.encoder
        self.heads: dict[str, TicketClassifier | TicketTagger] = {
            str(head): load_head(model, encoder=encoder) for head, model in heads.items()
        }

    def run(self, states: list[TicketState]) -> None:
        """Classify every ticket of the batch with every head; fills category / priority / labels."""
        if not states:
            return
        missing = [s.result.ticket_id for s in states if s.embedding is None]
        if missing:
            raise TriageError(
                f"tickets {missing[:5]} have no embedding: the encode step must run before classify"
            )
        emb = np.stack([s.embedding for s in states]).astype(np.float32)
        texts = [s.text for s in states]
        with single_threaded_blas():  # small products: a second BLAS thread only slows them down
            self._run_heads(states, emb, texts)

    def _run_heads(self, states: list[TicketState], emb: np.ndarray, texts: list[str]) -> None:
        for head, model in self.heads.items():
            if isinstance(model, TicketTagger):
                for state, tags in zip(states, model.predictions(texts, embeddings=emb), strict=True):
                    state.result.tags[head] = tags
                continue
            # a head with its own fine-tuned encoder embeds the texts itself
            own = getattr(model, "fine_tuned_encoder_", None) is not None
            preds = model.predictions(
                texts, embeddings=None if own else emb, top_k=self.top_k, evidence=self.evidence
            )
            for state, pred in zip(states, preds, strict=True):
                if head == "category":
                    state.result.category = pred
                elif head == "priority":
                    state.result.priority = pred
                else:
                    state.result.labels[head] = pred
