"""Suggested replies grounded in the knowledge base, and the log of what agents did with them."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from triage.errors import ConfigError, InputError
from triage.kb.base import KnowledgeBase
from triage.kb.hybrid import per_item
from triage.kb.results import SearchResult, SuggestionSet
from triage.locking import exclusive_lock
from triage.schema import Suggestion
from triage.tickets import as_list

#: Abstain below this margin: the 90th percentile of margins when the right article is missing (StackFAQ,
#: leave-the-answer-out, even threads), so about 10% of such queries still get a draft.
DEFAULT_MIN_MARGIN = 0.025

__all__ = [
    "DEFAULT_MIN_MARGIN",
    "DRAFT_TEMPLATES",
    "FeedbackLog",
    "ReplySuggester",
    "SuggestionSet",
    "draft_reply",
]

#: Per-language pieces of a draft reply: greeting (with and without a name), intro, link line, closing.
DRAFT_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "hello": "Hello,",
        "hello_name": "Hello {name},",
        "intro": "Thank you for contacting us. This should help:",
        "link": "More details: {url}",
        "bye": "Best regards,",
    },
    "de": {
        "hello": "Guten Tag,",
        "hello_name": "Guten Tag {name},",
        "intro": "vielen Dank für Ihre Nachricht. Folgendes sollte Ihnen weiterhelfen:",
        "link": "Weitere Informationen: {url}",
        "bye": "Mit freundlichen Grüßen",
    },
    "hu": {
        "hello": "Kedves Ügyfelünk!",
        "hello_name": "Kedves {name}!",
        "intro": "Köszönjük, hogy felvette velünk a kapcsolatot. Az alábbiak segíthetnek:",
        "link": "További részletek: {url}",
        "bye": "Üdvözlettel:",
    },
    "ru": {
        "hello": "Здравствуйте!",
        "hello_name": "Здравствуйте, {name}!",
        "intro": "Спасибо за обращение. Вот что должно помочь:",
        "link": "Подробнее: {url}",
        "bye": "С уважением,",
    },
    "fr": {
        "hello": "Bonjour,",
        "hello_name": "Bonjour {name},",
        "intro": "Merci de nous avoir contactés. Voici ce qui devrait vous aider :",
        "link": "Plus de détails : {url}",
        "bye": "Cordialement,",
    },
    "es": {
        "hello": "Hola:",
        "hello_name": "Hola, {name}:",
        "intro": "Gracias por contactarnos. Esto debería ayudarle:",
        "link": "Más información: {url}",
        "bye": "Saludos cordiales,",
    },
    "pt": {
        "hello": "Olá,",
        "hello_name": "Olá, {name},",
        "intro": "Obrigado pelo seu contacto. Isto deve ajudar:",
        "link": "Mais detalhes: {url}",
        "bye": "Com os melhores cumprimentos,",
    },
    "it": {
        "hello": "Buongiorno,",
        "hello_name": "Buongiorno {name},",
        "intro": "Grazie per averci contattato. Ecco cosa dovrebbe aiutarla:",
        "link": "Maggiori dettagli: {url}",
        "bye": "Cordiali saluti,",
    },
    "nl": {
        "hello": "Beste klant,",
        "hello_name": "Beste {name},",
        "intro": "Bedankt voor uw bericht. Dit zou moeten helpen:",
        "link": "Meer informatie: {url}",
        "bye": "Met vriendelijke groet,",
    },
}


def draft_reply(
    passage: str,
    *,
    language: str,
    url: str | None = None,
    name: str | None = None,
    signature: str | None = None,
) -> str:
    """A reply: greeting, the answer passage, the article link and a closing, in ``language`` (English pieces
    when there is no template for it)."""
    pieces = DRAFT_TEMPLATES.get(language, DRAFT_TEMPLATES["en"])
    greeting = pieces["hello_name"].format(name=name.strip()) if name and name.strip() else pieces["hello"]
    parts = [greeting, pieces["intro"], passage.strip()]
    if url:
        parts.append(pieces["link"].format(url=url))
    parts.append(pieces["bye"] + (f"\n{signature}" if signature else ""))
    return "\n\n".join(parts)


Action = Literal["accepted", "edited", "rejected"]
ACTIONS: tuple[str, ...] = ("accepted", "edited", "rejected")


class FeedbackLog:
    """Append-only JSONL log of what agents did with suggestions: ``accepted``, ``edited`` or ``rejected``.

    One line per event, safe to append from several threads and processes (an exclusive lock on
    ``.NAME.lock`` beside the log); read it back with :meth:`read` and
    :meth:`summary` to evaluate suggestions on real usage.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(
        self,
        ticket_id: str,
        article_id: str,
        action: Action,
        *,
        edited_text: str | None = None,
        agent: str | None = None,
        score: float | None = None,
        rank: int | None = None,
        language: str | None = None,
        query: str | None = None,
    ) -> dict[str, Any]:
        """Append one event; returns it. ``edited_text`` is what the agent actually sent (for ``edited``)."""
        if action not in ACTIONS:
            raise InputError(f"feedback action must be one of {ACTIONS}, got {action!r}")
        if not ticket_id or not article_id:
            raise InputError("feedback needs a ticket_id and an article_id")
        event: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "ticket_id": str(ticket_id),
            "article_id": str(article_id),
            "action": action,
        }
        for key, value in (
            ("edited_text", edited_text),
            ("agent", agent),
            ("score", score),
            ("rank", rank),
            ("language", language),
            ("query", query),
        ):
            if value is not None:
                event[key] = value
        line = json.dumps(event, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, exclusive_lock(self.path.with_name(f".{self.path.name}.lock")):
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        return event

    def read(self) -> Iterator[dict[str, Any]]:
        """Every event in the log; a torn line (a crash mid-write) is skipped."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:  # a torn last line after a crash: ignore it
                        continue

    def summary(self) -> dict[str, Any]:
        """Counts per action, the acceptance rate (accepted + edited over all) and the worst articles."""
        events = list(self.read())
        actions = Counter(e["action"] for e in events)
        rejected = Counter(e["article_id"] for e in events if e["action"] == "rejected")
        total = sum(actions.values())
        return {
            "events": total,
            **{a: actions.get(a, 0) for a in ACTIONS},
            "acceptance_rate": (actions["accepted"] + actions["edited"]) / total if total else None,
            "most_rejected": rejected.most_common(5),
        }


class ReplySuggester:
    """Top-``k`` knowledge-base articles for a ticket, with the matching passage and a draft reply.

    The draft is in the customer's language when the article has that language variant; otherwise it is in
    the article's language and ``needs_translation`` is set. The suggester abstains (suggestions kept, no
    draft, ``abstained=True``) when the best article's margin over the other candidates is below
    ``min_margin`` — a relative test, because the encoder's raw cosines are compressed.

    Args:
        kb: the knowledge base.
        k: how many articles to return.
        min_margin: how far the best article's dense score must stand above the mean of the next four
            (:attr:`SearchResult.margin`); the default is calibrated on StackFAQ (see benchmarks/kb.py).
        feedback: path of the JSONL feedback log (optional).
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        k: int = 3,
        min_margin: float = DEFAULT_MIN_MARGIN,
        feedback: str | Path | FeedbackLog | None = None,
        signature: str | None = None,
    ) -> None:
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        self.kb = kb
        self.k = k
        self.min_margin = min_margin
        self.signature = signature
        self.feedback = (
            feedback if isinstance(feedback, FeedbackLog) or feedback is None else FeedbackLog(feedback)
        )

    def suggest(
        self,
        text: str | Sequence[str],
        *,
        language: str | Sequence[str | None] | None = None,
        embedding: np.ndarray | None = None,
        name: str | Sequence[str | None] | None = None,
    ) -> SuggestionSet | list[SuggestionSet]:
        """Suggestions for one ticket text, or a list of them for a list of texts.

        ``language`` / ``name`` (the customer's, for the greeting): one for all or one per text;
        ``embedding``: the e5 query vector(s), when already computed.
        """
        texts, single = as_list(text)
        languages = per_item(language, len(texts), "languages")
        names = per_item(name, len(texts), "names")
        vectors = None if embedding is None else (np.atleast_2d(embedding) if single else embedding)
        results = self.kb.search(texts, self.k, language=languages, embedding=vectors)
        sets = [self._compose(r, lang, who) for r, lang, who in zip(results, languages, names, strict=True)]
        return sets[0] if single else sets

    def suggest_batch(
        self,
        texts: Sequence[str],
        *,
        languages: Sequence[str | None] | None = None,
        embeddings: np.ndarray | None = None,
        names: Sequence[str | None] | None = None,
    ) -> list[SuggestionSet]:
        """:meth:`suggest` for a list of texts (kept for compatibility)."""
        found = self.suggest(list(texts), language=languages, embedding=embeddings, name=names)
        return found  # type: ignore[return-value]

    def _compose(self, result: SearchResult, language: str | None, name: str | None) -> SuggestionSet:
        if not result.hits:
            return SuggestionSet(reason="the knowledge base is empty")
        wanted = (language or "").lower()
        abstained = result.margin < self.min_margin
        reason = (
            f"no article stands out: margin {result.margin:.3f} < {self.min_margin}"
            if abstained
            else f"margin {result.margin:.3f} >= {self.min_margin}"
        )
        suggestions = []
        for rank, hit in enumerate(result.hits, start=1):
            has_language = not wanted or wanted == "und" or hit.language == wanted
            draft = None
            if rank == 1 and not abstained:
                draft = draft_reply(
                    hit.passage, language=hit.language, url=hit.url, name=name, signature=self.signature
                )
            suggestions.append(
                Suggestion(
                    article_id=hit.article_id,
                    title=hit.title,
                    score=round(hit.score, 6),
                    passage=hit.passage,
                    url=hit.url,
                    language=hit.language,
                    draft=draft,
                    draft_language=hit.language if draft else None,
                    needs_translation=not has_language,
                    abstained=abstained,
                    rank=rank,
                    margin=round(result.margin, 4) if rank == 1 else None,
                )
            )
        return SuggestionSet(
            suggestions=suggestions, abstained=abstained, margin=result.margin, reason=reason
        )

    def record_feedback(
        self, ticket_id: str, article_id: str, action: Action, **details: Any
    ) -> dict[str, Any]:
        """Log what the agent did with a suggestion (needs ``feedback=PATH``)."""
        if self.feedback is None:
            raise InputError("this ReplySuggester has no feedback log: pass feedback='feedback.jsonl'")
        return self.feedback.record(ticket_id, article_id, action, **details)
