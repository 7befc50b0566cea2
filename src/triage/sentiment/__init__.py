"""Sentiment, frustration and escalation cues, and priority suggestion for tickets in any language.

>>> from triage.sentiment import SentimentScorer, detect_cues, PriorityRules, suggest_priority
>>> [c.kind for c in detect_cues("Уже третий раз пишу: сайт не работает, срочно!")]
['repeat_contact', 'outage', 'urgency']
"""

from __future__ import annotations

from triage.sentiment.cues import CUE_KINDS, PATTERNS, CueDetector, detect_cues
from triage.sentiment.head import LexicalHead, SentimentHead
from triage.sentiment.priority import (
    LEVELS,
    Floor,
    MetadataRule,
    PriorityRules,
    SentimentRule,
    suggest_priority,
)
from triage.sentiment.scorer import SentimentScorer, TextSentiment, escalation_risk, trend_of

__all__ = [
    "CUE_KINDS",
    "LEVELS",
    "PATTERNS",
    "CueDetector",
    "Floor",
    "LexicalHead",
    "MetadataRule",
    "PriorityRules",
    "SentimentHead",
    "SentimentRule",
    "SentimentScorer",
    "TextSentiment",
    "detect_cues",
    "escalation_risk",
    "suggest_priority",
    "trend_of",
]
