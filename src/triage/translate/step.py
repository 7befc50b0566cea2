"""The opt-in ``translate`` pipeline step: the customer's text into the agent's language."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from triage.schema import StepError
from triage.translate.languages import normalize_language
from triage.translate.translator import TranslationUnavailable, Translator

if TYPE_CHECKING:  # pragma: no cover
    from triage.pipeline import TicketState, Triager

_OPTIONS = {
    "models",
    "bundled",
    "target",
    "quality",
    "pivot",
    "cache_size",
    "per_sentence_language",
    "quality_threshold",
}


class TranslateStep:
    """Translate each ticket's customer text into ``config.agent_language`` (opt-in: name it in steps).

    Options (``TriageConfig.options["translate"]``): ``models`` (model folders or specs, see
    :class:`~triage.translate.Translator`), ``bundled`` (True: the en<->pt Bergamot model), ``target``
    (default ``agent_language``), ``quality`` (True: score with the shared encoder, reusing the ticket
    embedding), ``pivot`` ("en"), ``cache_size``, ``per_sentence_language``, ``quality_threshold``.

    A ticket already in the target language gets no translation; an undetermined language gets a warning;
    a pair no model covers gets a ``TranslationUnavailable`` entry in the ticket's ``errors`` (the rest of
    the batch is translated).
    """

    name = "translate"
    requires: tuple[str, ...] = ("normalize", "language")

    def __init__(self, triager: Triager) -> None:
        options: dict[str, Any] = dict(triager.config.options.get(self.name, {}))
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"unknown translate options {sorted(unknown)}; known: {sorted(_OPTIONS)}")
        self.target = normalize_language(options.get("target") or triager.config.agent_language)
        self.use_quality = bool(options.get("quality", True))
        self.translator = Translator(
            options.get("models", []),
            bundled=options.get("bundled", True),
            encoder=(lambda: triager.encoder) if self.use_quality else None,
            pivot=options.get("pivot", "en"),
            cache_size=options.get("cache_size", 20_000),
            per_sentence_language=options.get("per_sentence_language", True),
            quality_threshold=options.get("quality_threshold", 0.02),
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
