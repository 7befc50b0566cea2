"""The steps every pipeline starts with: ``normalize``, ``language`` and ``encode``.

They read only the pipeline config (no options of their own): ``max_chars`` / ``max_input_chars``,
``language_min_confidence`` and ``batch_size``.
"""

from __future__ import annotations

from typing import ClassVar

from triage.language import LanguageDetector
from triage.normalize import normalize_text
from triage.steps import NoOptions, StepContext, StepOptions, TicketState
from triage.tickets import join_model_text

__all__ = ["EncodeStep", "LanguageStep", "NormalizeStep"]


class NormalizeStep:
    """Strip HTML, quoted replies and signatures; cut over-long text (said in the result's warnings)."""

    name = "normalize"
    requires: ClassVar[tuple[str, ...]] = ()
    assigns: ClassVar[tuple[str, ...]] = ("state.text", "state.message_texts", "state.normalized")
    Options = NoOptions

    def __init__(self, context: StepContext, options: StepOptions | None = None) -> None:
        self.max_chars = context.config.max_chars
        self.max_input_chars = context.config.max_input_chars

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
    requires: ClassVar[tuple[str, ...]] = ("state.text", "state.message_texts")
    assigns: ClassVar[tuple[str, ...]] = (
        "result.language",
        "result.language_confidence",
        "result.message_languages",
    )
    Options = NoOptions

    def __init__(self, context: StepContext, options: StepOptions | None = None) -> None:
        self.detector = LanguageDetector(min_confidence=context.config.language_min_confidence)
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
    requires: ClassVar[tuple[str, ...]] = ("state.text",)
    assigns: ClassVar[tuple[str, ...]] = ("state.embedding",)
    Options = NoOptions

    def __init__(self, context: StepContext, options: StepOptions | None = None) -> None:
        self.encoder = context.encoder
        self.batch_size = context.config.batch_size

    def run(self, states: list[TicketState]) -> None:
        vectors = self.encoder.encode([s.text for s in states], kind="query", batch_size=self.batch_size)
        for state, vec in zip(states, vectors, strict=True):
            state.embedding = vec
