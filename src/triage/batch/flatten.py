"""Flattened result columns for CSV and Parquet output.

Every column is read defensively from :class:`~triage.schema.TriageResult`: a component that is not installed
(or did not run) leaves its columns empty (None), so the schema is the same whatever the pipeline holds.
"""

from __future__ import annotations

import json
from typing import Any

#: Output columns, in order, with their Arrow type name (used for the Parquet schema).
FLAT_COLUMNS: dict[str, str] = {
    "row": "int64",
    "ticket_id": "string",
    "language": "string",
    "language_confidence": "float64",
    "category": "string",
    "category_confidence": "float64",
    "category_abstained": "bool",
    "category_automation": "string",
    "review_queue": "string",
    "priority": "string",
    "priority_confidence": "float64",
    "priority_abstained": "bool",
    "labels": "string",
    "sentiment": "string",
    "sentiment_score": "float64",
    "escalation_cues": "int64",
    "summary": "string",
    "top_suggestion": "string",
    "top_suggestion_id": "string",
    "top_suggestion_score": "float64",
    "similar_ticket": "string",
    "translation": "string",
    "warnings": "string",
    "errors": "string",
}


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def _first(items: Any) -> Any:
    return items[0] if items else None


def flatten_result(result: Any, *, row: int | None = None) -> dict[str, Any]:
    """One flat row for ``result`` with exactly the keys of :data:`FLAT_COLUMNS`."""
    category = _get(result, "category")
    priority = _get(result, "priority")
    sentiment = _get(result, "sentiment")
    suggestion = _first(_get(result, "suggestions"))
    similar = _first(_get(result, "similar"))
    labels = _get(result, "labels") or {}
    errors = _get(result, "errors") or []
    warnings = _get(result, "warnings") or []
    cues = _get(sentiment, "cues")
    return {
        "row": row,
        "ticket_id": _get(result, "ticket_id"),
        "language": _get(result, "language"),
        "language_confidence": _get(result, "language_confidence"),
        "category": _get(category, "label"),
        "category_confidence": _get(category, "score"),
        "category_abstained": _get(category, "abstained"),
        "category_automation": _get(category, "automation"),
        "review_queue": _get(category, "review_queue"),
        "priority": _get(priority, "label"),
        "priority_confidence": _get(priority, "score"),
        "priority_abstained": _get(priority, "abstained"),
        "labels": json.dumps({k: v.label for k, v in labels.items()}, ensure_ascii=False) if labels else None,
        "sentiment": _get(sentiment, "label"),
        "sentiment_score": _get(sentiment, "score"),
        "escalation_cues": len(cues) if cues is not None else None,
        "summary": _get(result, "summary", "text"),
        "top_suggestion": _get(suggestion, "title"),
        "top_suggestion_id": _get(suggestion, "article_id"),
        "top_suggestion_score": _get(suggestion, "score"),
        "similar_ticket": _get(similar, "ticket_id"),
        "translation": _get(result, "translation", "text"),
        "warnings": "; ".join(warnings) if warnings else None,
        "errors": "; ".join(f"{e.step}: {e.type}: {e.message}" for e in errors) if errors else None,
    }
