"""``SentimentScorer``: per-ticket and per-message sentiment, the thread's trajectory, escalation cues and an
escalation risk, on the shared multilingual embedding.

>>> scorer = SentimentScorer()                                     # doctest: +SKIP
>>> scorer("Harmadszor írok, a jelszó-visszaállító link nem működik!").label   # doctest: +SKIP
'negative'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from triage.encoders import Encoder
from triage.errors import EncoderMismatchError, InputError
from triage.normalize import normalize_text
from triage.schema import Cue, MessageSentiment, SentimentResult, Ticket
from triage.sentiment.cues import CueDetector
from triage.sentiment.data import LABELS
from triage.sentiment.head import SentimentHead
from triage.tickets import Part, as_list
from triage.tickets import ticket_parts as _ticket_parts

#: Default bundled model (``models/sentiment``).
DEFAULT_MODEL = "sentiment"
#: Texts with fewer letters than this are not scored (neutral, zero confidence).
MIN_LETTERS = 2
#: A trajectory change of at least this much between the first and the last customer part is a trend.
TREND_DELTA = 0.3
#: Noisy-OR contributions to the escalation risk, per cue kind present (and for negativity / worsening).
RISK_WEIGHTS: dict[str, float] = {
    "legal": 0.5,
    "churn": 0.45,
    "repeat_contact": 0.3,
    "frustration": 0.25,
    "urgency": 0.2,
    "outage": 0.2,
    "deadline": 0.15,
    "money": 0.15,
    "shouting": 0.15,
    "negativity": 0.5,
    "worsening": 0.25,
}
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class TextSentiment:
    """Sentiment of one text: label, score = P(positive) - P(negative) in [-1, 1], calibrated confidence."""

    label: str
    score: float
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    warning: str | None = None


class CustomerPart(Part):
    """A customer's part of a ticket: a :class:`triage.tickets.Part` whose role is ``customer``.

    ``index`` reads ``message_index`` (``None`` for subject and body), for callers written against the
    sentiment scorer's earlier part type.
    """

    @property
    def index(self) -> int | None:
        """The message's position in the thread: :attr:`message_index`."""
        return self.message_index


def _load_fix(model: str | Path | SentimentHead) -> str:
    """How to fix a sentiment model that does not load: reinstall for the bundled one, else save a head."""
    from triage import bundled
    from triage.models import SHIPPED_MODELS, is_bundled

    if str(model) in SHIPPED_MODELS or is_bundled(Path(str(model))):
        return (
            f"it ships with {bundled.DISTRIBUTION}, so the installation is incomplete or was modified: "
            f"reinstall it with `{bundled.REINSTALL}`"
        )
    return (
        "pass a directory written by SentimentHead.save (fit one with triage.sentiment.SentimentHead on "
        f"your labelled texts), or leave the model unset to use the bundled {DEFAULT_MODEL!r} head"
    )


def count_letters(text: str) -> int:
    """Letters in any script (digits, punctuation, emoji and symbols do not count)."""
    return len(_LETTER.findall(text))


def trend_of(trajectory: Sequence[float], delta: float = TREND_DELTA) -> str | None:
    """``worsening`` / ``improving`` when the last point differs from the first by ``delta`` or more."""
    if len(trajectory) < 2:
        return None
    change = trajectory[-1] - trajectory[0]
    if change <= -delta:
        return "worsening"
    if change >= delta:
        return "improving"
    return "stable"


def escalation_risk(score: float, cues: Sequence[Cue], trend: str | None) -> float:
    """Noisy-OR of negativity, each cue kind present and a worsening trend (see :data:`RISK_WEIGHTS`)."""
    keep = 1.0 - RISK_WEIGHTS["negativity"] * max(0.0, -score)
    for kind in {c.kind for c in cues}:
        keep *= 1.0 - RISK_WEIGHTS.get(kind, 0.0)
    if trend == "worsening":
        keep *= 1.0 - RISK_WEIGHTS["worsening"]
    return round(1.0 - keep, 4)


class SentimentScorer:
    """Sentiment, trajectory, cues and escalation risk for texts and tickets.

    Args:
        model: a bundled model name (default ``"sentiment"``), a saved :class:`SentimentHead` directory, or a
            fitted head.
        encoder: the encoder to embed texts (default: the one the model was trained with); must match the
          model.
        cues: the cue detector (default: all cue kinds).
        max_chars: texts are scored on their first ``max_chars`` characters (flagged in ``warnings``).
        max_input_chars: longer texts are not messages: neutral with zero confidence and a warning.
        detect_language: detect each text's language to gate the lexical head (off: embedding head only).
    """

    def __init__(
        self,
        model: str | Path | SentimentHead = DEFAULT_MODEL,
        *,
        encoder: Encoder | None = None,
        cues: CueDetector | None = None,
        max_chars: int = 4000,
        max_input_chars: int = 100_000,
        detect_language: bool = True,
    ) -> None:
        self.model = model
        self._encoder = encoder
        self.cues = cues or CueDetector()
        self.max_chars = max_chars
        self.max_input_chars = max_input_chars
        self.detect_language = detect_language
        self._head: SentimentHead | None = model if isinstance(model, SentimentHead) else None
        self._detector: Any = None

    @property
    def head(self) -> SentimentHead:
        """The sentiment head (loaded on first use; the manifest's hashes are checked)."""
        if self._head is None:
            from triage.errors import ModelNotAvailableError, TriageError

            try:
                self._head = SentimentHead.load(self.model, encoder=self._encoder)
            except TriageError as exc:
                if isinstance(exc, EncoderMismatchError):
                    raise
                raise ModelNotAvailableError(
                    f"sentiment model {self.model!r} cannot be loaded ({exc}); {_load_fix(self.model)}"
                ) from exc
        return self._head

    @property
    def encoder(self) -> Encoder:
        """The encoder (the model's own, built on first use, unless one was given)."""
        if self._encoder is None:
            from triage.encoders import get_encoder

            self._encoder = get_encoder("default")
        from triage.encoders import canonical_family, encoder_family

        if encoder_family(self._encoder) != canonical_family(self.head.encoder_name):
            raise EncoderMismatchError(
                f"the sentiment model was trained on {self.head.encoder_name!r} embeddings, but the encoder "
                f"is {encoder_family(self._encoder)!r}: use the same encoder (TriageConfig.encoder) or "
                "retrain the head"
            )
        return self._encoder

    def _languages(self, texts: Sequence[str]) -> list[str | None]:
        if not self.detect_language:
            return [None] * len(texts)
        if self._detector is None:
            from triage.language import LanguageDetector

            self._detector = LanguageDetector()
        return [guess.language for guess in self._detector.detect([t[: self.max_chars] for t in texts])]

    # ------------------------------------------------------------------ texts
    def score_texts(
        self,
        texts: Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        languages: Sequence[str | None] | None = None,
    ) -> list[TextSentiment]:
        """Score each text; ``embeddings`` (e5 ``query:`` vectors of the same texts) skip encoding.

        Texts without letters (empty, emoji-only, numbers) and texts over ``max_input_chars`` are neutral with
        zero confidence and a warning; they never raise.
        """
        texts = ["" if t is None else str(t) for t in texts]
        out: list[TextSentiment | None] = [None] * len(texts)
        todo: list[int] = []
        for i, text in enumerate(texts):
            if len(text) > self.max_input_chars:
                out[i] = _neutral(
                    f"text of {len(text)} characters is too long to be one message "
                    f"(max_input_chars={self.max_input_chars}); not scored: split it"
                )
            elif count_letters(text[: self.max_chars]) < MIN_LETTERS:
                out[i] = _neutral("no words to score (empty, emoji, numbers or symbols only)")
            else:
                todo.append(i)
        if todo:
            cut = [texts[i][: self.max_chars] for i in todo]
            if embeddings is None:
                emb = self.encoder.encode(cut, kind="query")
            else:
                emb = np.asarray(embeddings, dtype=np.float32)[todo]
            langs = list(languages) if languages is not None else self._languages(cut)
            if languages is not None:
                langs = [langs[i] for i in todo]
            proba = self.head.predict_proba(cut, embeddings=emb, languages=langs)
            for j, i in enumerate(todo):
                warning = (
                    f"scored on the first {self.max_chars} of {len(texts[i])} characters"
                    if len(texts[i]) > self.max_chars
                    else None
                )
                out[i] = _from_proba(proba[j], warning)
        return [o for o in out if o is not None]

    # ------------------------------------------------------------------ tickets
    @overload
    def __call__(self, x: str | Ticket | dict[str, Any]) -> SentimentResult: ...

    @overload
    def __call__(self, x: Sequence[str | Ticket | dict[str, Any]]) -> list[SentimentResult]: ...

    def __call__(self, x: Any) -> SentimentResult | list[SentimentResult]:
        """One text or ticket gives one :class:`SentimentResult`; a list gives a list."""
        tickets, single = as_list(x, (str, Ticket, dict))
        results = self.score_tickets(tickets)
        return results[0] if single else results

    def score_tickets(self, tickets: Sequence[str | Ticket | dict[str, Any]]) -> list[SentimentResult]:
        """Full results for tickets (a string is a ticket body): normalises, encodes and scores each."""
        items: list[tuple[list[CustomerPart], str, list[str]]] = []
        for t in tickets:
            if isinstance(t, str) and not t.strip():  # empty text: neutral with zero confidence, not an error
                items.append(([], "", []))
                continue
            try:
                ticket = (
                    t
                    if isinstance(t, Ticket)
                    else Ticket.model_validate({"body": t} if isinstance(t, str) else t)
                )
            except ValueError as exc:
                raise InputError(f"not a ticket: {exc}") from exc
            parts = ticket_parts(ticket)
            text = "\n".join(p.text for p in parts if p.text)
            items.append((parts, text, []))
        return self.assemble(items)

    def assemble(
        self,
        items: Sequence[tuple[list[CustomerPart], str, list[str]]],
        *,
        ticket_embeddings: Sequence[np.ndarray | None] | None = None,
        ticket_languages: Sequence[str | None] | None = None,
        part_languages: Sequence[dict[int, str]] | None = None,
        per_message: bool = True,
    ) -> list[SentimentResult]:
        """Score a batch: ``items`` are (parts, ticket text, warnings) per ticket. Customer parts of
        threads are
        encoded in ONE batch; the ticket-level score reuses ``ticket_embeddings`` where given."""
        n = len(items)
        ticket_texts = [text for _, text, _ in items]
        t_emb = list(ticket_embeddings) if ticket_embeddings is not None else [None] * n
        langs = (
            list(ticket_languages)
            if ticket_languages is not None
            else self._languages([t[: self.max_chars] for t in ticket_texts])
        )
        # ticket level
        need = [
            i
            for i in range(n)
            if t_emb[i] is None
            and count_letters(ticket_texts[i][: self.max_chars]) >= MIN_LETTERS
            and len(ticket_texts[i]) <= self.max_input_chars
        ]
        if need:
            vecs = self.encoder.encode([ticket_texts[i][: self.max_chars] for i in need], kind="query")
            for i, v in zip(need, vecs, strict=True):
                t_emb[i] = v
        dim = next((len(v) for v in t_emb if v is not None), 1)
        emb = np.stack([v if v is not None else np.zeros(dim, np.float32) for v in t_emb])
        ticket_scores = self.score_texts(ticket_texts, embeddings=emb, languages=langs)
        # per customer part of threads
        flat: list[tuple[int, CustomerPart]] = []
        if per_message:
            for i, (parts, _, _) in enumerate(items):
                trail = [p for p in parts if p.source != "subject" and p.text]
                if len(trail) >= 2:
                    flat += [(i, p) for p in trail]
        part_scores: list[TextSentiment] = []
        if flat:
            p_langs: list[str | None] = []
            for i, p in flat:
                lang = (
                    part_languages[i].get(p.message_index, langs[i])
                    if part_languages is not None and p.message_index is not None
                    else langs[i]
                )
                p_langs.append(lang)
            part_scores = self.score_texts([p.text for _, p in flat], languages=p_langs)
        by_ticket: dict[int, list[tuple[CustomerPart, TextSentiment]]] = {}
        for (i, p), s in zip(flat, part_scores, strict=True):
            by_ticket.setdefault(i, []).append((p, s))
        results = []
        for i, (parts, _, warnings) in enumerate(items):
            ts = ticket_scores[i]
            cues = [
                c
                for p in parts
                for c in self.cues.detect(p.text, message_index=p.message_index, source=p.source)
            ]
            scored = by_ticket.get(i, [])
            messages = [
                MessageSentiment(
                    message_index=p.message_index,
                    source=p.source,
                    label=s.label,
                    score=s.score,
                    confidence=s.confidence,
                )
                for p, s in scored
            ]
            trajectory = [s.score for _, s in scored if s.confidence > 0] or (
                [ts.score] if ts.confidence else []
            )
            trend = trend_of(trajectory)
            all_warnings = list(warnings) + ([ts.warning] if ts.warning else [])
            results.append(
                SentimentResult(
                    label=ts.label,
                    score=ts.score,
                    confidence=ts.confidence,
                    cues=cues,
                    trajectory=trajectory,
                    messages=messages,
                    trend=trend,
                    escalation_risk=escalation_risk(ts.score, cues, trend),
                    warnings=all_warnings,
                )
            )
        return results


def _neutral(warning: str) -> TextSentiment:
    return TextSentiment(
        label="neutral",
        score=0.0,
        confidence=0.0,
        probabilities=dict.fromkeys(LABELS, round(1 / 3, 4)),
        warning=warning,
    )


def _from_proba(p: np.ndarray, warning: str | None = None) -> TextSentiment:
    k = int(np.argmax(p))
    return TextSentiment(
        label=LABELS[k],
        score=round(float(p[2] - p[0]), 4),
        confidence=round(float(p[k]), 4),
        probabilities={lab: round(float(v), 4) for lab, v in zip(LABELS, p, strict=True)},
        warning=warning,
    )


def ticket_parts(
    ticket: Ticket,
    message_texts: Sequence[str] | None = None,
    *,
    normalized: Mapping[str, str] | None = None,
) -> list[CustomerPart]:
    """The customer's parts of a ticket, normalised: subject, body, then each customer message (agents and
    notes are skipped): :func:`triage.tickets.ticket_parts` (uncut) with ``role == "customer"``.

    ``message_texts``: already normalised messages (the pipeline's), one per message; ``normalized``: raw
    text -> its normalised text, for texts normalised already (the pipeline's).
    """
    if message_texts is None:  # only the customer's messages are read: the others are not normalised
        message_texts = [normalize_text(m.text).text if m.role == "customer" else "" for m in ticket.messages]
    parts = _ticket_parts(ticket, message_texts, normalized=normalized, max_part_chars=None)
    return [CustomerPart(p.text, p.source, p.role, p.message_index) for p in parts if p.role == "customer"]
