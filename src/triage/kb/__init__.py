"""Knowledge base and similar tickets: hybrid (dense + BM25) search on FAISS, suggested replies that cite
their source article, similar and duplicate tickets, and emerging-trend clusters.

- :class:`HybridIndex`: the one index under both: FAISS vectors + BM25 over the same ids, the encoder, and a
  crash-safe versioned store (``save``/``load``/``editing``).
- :class:`KnowledgeBase`: articles (with language variants) chunked and indexed; ``add``/``upsert``/``remove``
  without a rebuild; ``search`` takes a query or a list of them.
- :class:`ReplySuggester`: top articles, the matching passage and a draft reply in the customer's language;
  abstains when no article clearly stands out; logs agent feedback to JSONL (:class:`FeedbackLog`).
- :class:`TicketIndex`, :func:`find_duplicates`, :func:`community_detection`, :func:`trend_clusters`.
- Results (:class:`ArticleHit`, :class:`SearchResult`, ...) are pydantic models in :mod:`triage.kb.results`.

The names are imported on first use, so ``triage.kb.results`` loads without numpy, FAISS or an encoder.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from triage.kb.articles import Article, ArticleVariant, load_articles
    from triage.kb.base import KnowledgeBase, reciprocal_rank_fusion
    from triage.kb.hybrid import HybridIndex
    from triage.kb.index import VectorIndex
    from triage.kb.results import ArticleHit, DuplicatePair, SearchResult, SuggestionSet, Trend
    from triage.kb.similar import (
        TicketIndex,
        community_detection,
        find_duplicates,
        group_duplicates,
        trend_clusters,
    )
    from triage.kb.suggest import FeedbackLog, ReplySuggester, draft_reply

#: exported name -> the module that defines it
_EXPORTS = {
    "Article": "articles",
    "ArticleVariant": "articles",
    "load_articles": "articles",
    "KnowledgeBase": "base",
    "reciprocal_rank_fusion": "base",
    "HybridIndex": "hybrid",
    "VectorIndex": "index",
    "ArticleHit": "results",
    "DuplicatePair": "results",
    "SearchResult": "results",
    "SuggestionSet": "results",
    "Trend": "results",
    "TicketIndex": "similar",
    "community_detection": "similar",
    "find_duplicates": "similar",
    "group_duplicates": "similar",
    "trend_clusters": "similar",
    "FeedbackLog": "suggest",
    "ReplySuggester": "suggest",
    "draft_reply": "suggest",
}

__all__ = [
    "Article",
    "ArticleHit",
    "ArticleVariant",
    "DuplicatePair",
    "FeedbackLog",
    "HybridIndex",
    "KnowledgeBase",
    "ReplySuggester",
    "SearchResult",
    "SuggestionSet",
    "TicketIndex",
    "Trend",
    "VectorIndex",
    "community_detection",
    "draft_reply",
    "find_duplicates",
    "group_duplicates",
    "load_articles",
    "reciprocal_rank_fusion",
    "trend_clusters",
]


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'triage.kb' has no attribute {name!r}")
    value = getattr(import_module(f"triage.kb.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
