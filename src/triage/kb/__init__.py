"""Knowledge base and similar tickets: hybrid (dense + BM25) search on FAISS, suggested replies that cite
their source article, similar and duplicate tickets, and emerging-trend clusters.

- :class:`KnowledgeBase`: articles (with language variants) chunked and indexed; ``add``/``upsert``/``remove``
  without a rebuild; crash-safe ``save``/``load``.
- :class:`ReplySuggester`: top articles, the matching passage and a draft reply in the customer's language;
  abstains when no article clearly stands out; logs agent feedback to JSONL (:class:`FeedbackLog`).
- :class:`TicketIndex`, :func:`find_duplicates`, :func:`community_detection`, :func:`trend_clusters`.
"""

from triage.kb.articles import Article, ArticleVariant, load_articles
from triage.kb.base import ArticleHit, KnowledgeBase, SearchResult, reciprocal_rank_fusion
from triage.kb.index import VectorIndex
from triage.kb.similar import (
    DuplicatePair,
    TicketIndex,
    Trend,
    community_detection,
    find_duplicates,
    group_duplicates,
    trend_clusters,
)
from triage.kb.suggest import FeedbackLog, ReplySuggester, SuggestionSet, draft_reply

__all__ = [
    "Article",
    "ArticleHit",
    "ArticleVariant",
    "DuplicatePair",
    "FeedbackLog",
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
