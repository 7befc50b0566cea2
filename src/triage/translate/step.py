"""The opt-in ``translate`` pipeline step: the customer's text into the agent's language."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from triage.schema import StepError
from triage.steps import StepContext, StepOptions, TicketState, options_for
from triage.translate.languages import normalize_language
from triage.translate.translator import TranslationUnavailable, Translator


class TranslateOptions(StepOptions):
    """Options of the ``translate`` step (see :class:`~triage.translate.Translator`)."""

    models: list[Any] = Field(default_factory=list, description="Model folders, specs or backends.")
    bundled: bool = Field(True, description="Use the bundled en<->pt Bergamot model.")
    target: str | None = Field(None, description="Target language (default: config.agent_language).")
    quality: bool = Field(True, description="Score translations with the shared encoder.")
    pivot: str = "en"
    cache_size: int = Field(20_000, ge=0)
    per_sentence_language: bool = True
    quality_threshold: float = 0.02


class TranslateStep:
    """Translate each ticket's customer text into ``config.agent_language`` (opt-in: name it in steps).

    Options (``TriageConfig.options["translate"]``): :class:`TranslateOptions`; with ``quality`` the
    translation is scored with the shared encoder, reusing the ticket embedding.

    A ticket already in the target language gets no translation; an undetermined language gets a warning;
    a pair no model covers gets a ``TranslationUnavailable`` entry in the ticket's ``errors`` (the rest of
    the batch is translated).
    """

    name = "translate"
    requires: ClassVar[tuple[str, ...]] = ("state.text", "result.language", "result.message_languages")
    assigns: ClassVar[tuple[str, ...]] = ("result.translation",)
    Options = TranslateOptions

    def __init__(self, context: StepContext, options: TranslateOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        self.target = normalize_language(options.target or context.config.agent_language)
        self.use_quality = options.quality
        self.translator = Translator(
            options.models,
            bundled=options.bundled,
            encoder=(lambda: context.encoder) if self.use_quality else None,
            pivot=options.pivot,
            cache_size=options.cache_size,
            per_sentence_language=options.per_sentence_language,
            quality_threshold=options.quality_threshold,
        )

    @staticmethod
    def _language(state: TicketState) -> str:
        lang = state.result.language
        if lang == "und":
            known = [m for m in state.result.message_languages if m != "und"]
            if known:
                lang = Counter(known).most_common(1)[0][0]
        return lang

    def run(self, states: list[TicketState]) -> None:
        todo: list[TicketState] = []
        langs: list[str] = []
        for state in states:
            lang = self._language(state)
            if not state.text.strip():
                continue
            if lang == "und":
                state.result.warnings.append("translate: language undetermined, text not translated")
                continue
            if normalize_language(lang) == self.target:
                continue
            try:
                self.translator.route(lang, self.target)
            except TranslationUnavailable as exc:
                state.result.errors.append(
                    StepError(step=self.name, type="TranslationUnavailable", message=str(exc))
                )
                continue
            todo.append(state)
            langs.append(lang)
        if not todo:
            return
        embeddings = None
        if self.use_quality and all(s.embedding is not None for s in todo):
            embeddings = np.stack([s.embedding for s in todo])  # the encode step's query embedding of s.text
        translations = self.translator.translate(
            [s.text for s in todo], target=self.target, source=langs, source_embeddings=embeddings
        )
        for state, translation in zip(todo, translations, strict=True):
            state.result.translation = translation
            if translation.needs_review:
                state.result.warnings.append(
                    f"translation {translation.source_language}->{translation.target_language} "
                    "flagged for review "
                    f"(quality {translation.quality})"
                )
