"""Priority suggestion P1-P4 from category, sentiment, escalation cues and customer metadata, with reasons.

Every rule that fires adds points and is listed as evidence, so an agent sees *why* a ticket is P1. The
points, thresholds and floors live in :class:`PriorityRules`, which a helpdesk can change without code:
``triage sentiment rules > rules.json``, edit it, and point the pipeline at it with
``options = {"priority": {"rules": "rules.json"}}`` (JSON or TOML).

>>> rules = PriorityRules()
>>> suggest_priority(rules, cues=[], sentiment=None, metadata={"vip": True}).label
'P3'
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from triage.errors import InputError
from triage.schema import Cue, Evidence, Prediction, SentimentResult

Level = Literal["P1", "P2", "P3", "P4"]
LEVELS: tuple[Level, ...] = ("P1", "P2", "P3", "P4")
_TRUE = {"1", "true", "yes", "y", "on", "vip", "x"}


class SentimentRule(BaseModel):
    """Points when the ticket's sentiment score is at or below ``max_score`` (the strongest matching rule)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    max_score: float = Field(ge=-1.0, le=1.0)
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    points: float


class MetadataRule(BaseModel):
    """Points when a ticket metadata field matches.

    ``keys``: field names to look up (dotted paths such as ``customer.vip`` reach into nested objects; the
    first
    present key is used). With ``values`` the field must equal one of them (case-insensitive); without, the
    field must be truthy (``true``, ``1``, ``"yes"``...).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    keys: list[str] = Field(min_length=1)
    values: list[str] | None = None
    points: float


class Floor(BaseModel):
    """A minimum level when every named rule fired (rule names as in the evidence: ``cue:legal``,
    ``vip_customer``, ``category:payment``...)."""

    model_config = ConfigDict(extra="forbid")

    when: list[str] = Field(min_length=1)
    at_least: Level


class PriorityRules(BaseModel):
    """The helpdesk-editable weights of the priority rules (defaults are a reasonable start, not gospel).

    A ticket's points are the sum of: the points of each cue *kind* found (counted once per kind), the
    strongest matching sentiment rule, ``worsening_trend`` when the customer gets angrier message by message,
    the category's points (when the classifier did not abstain) and the matching metadata rules. Points at or
    above ``thresholds[P1]`` give P1, and so on; below ``thresholds[P3]`` give P4. ``floors`` then raise the
    level where a combination must never be low (a legal threat is at least P2).
    """

    model_config = ConfigDict(extra="forbid")

    thresholds: dict[str, float] = Field(default_factory=lambda: {"P1": 6.0, "P2": 3.5, "P3": 1.5})
    cues: dict[str, float] = Field(
        default_factory=lambda: {
            "outage": 2.5,
            "legal": 3.0,
            "churn": 2.5,
            "urgency": 2.0,
            "repeat_contact": 1.5,
            "deadline": 1.5,
            "money": 1.0,
            "frustration": 1.0,
            "shouting": 0.5,
        }
    )
    sentiment: list[SentimentRule] = Field(
        default_factory=lambda: [
            SentimentRule(name="very_negative", max_score=-0.6, min_confidence=0.5, points=1.5),
            SentimentRule(name="negative", max_score=-0.25, points=0.75),
        ]
    )
    worsening_trend: float = 1.0
    categories: dict[str, float] = Field(
        default_factory=lambda: {
            # the bundled bitext-category labels (matched case-insensitively) ...
            "payment": 1.0,
            "account": 0.5,
            "cancellation_fee": 1.0,
            "refund": 0.5,
            "invoice": 0.5,
            "delivery": 0.5,
            "shipping_address": 0.0,
            "order": 0.0,
            "contact": -0.5,
            "feedback": -0.5,
            "newsletter": -1.0,
            # ... and common queue names of other helpdesks
            "cancel": 1.0,
            "subscription": 0.5,
            "shipping": 0.5,
            "outage": 2.0,
            "security": 2.0,
        }
    )
    min_category_score: float = Field(0.0, ge=0.0, le=1.0)
    metadata: list[MetadataRule] = Field(
        default_factory=lambda: [
            MetadataRule(name="vip_customer", keys=["vip", "is_vip", "VIP", "customer.vip"], points=2.0),
            MetadataRule(
                name="premium_tier",
                keys=["tier", "plan", "customer_tier", "sla", "customer.tier", "organization.tier"],
                values=["enterprise", "premium", "platinum", "gold", "business"],
                points=1.0,
            ),
            MetadataRule(
                name="helpdesk_priority_high",
                keys=["priority", "Priority", "priority_id"],
                values=["urgent", "high", "critical", "4", "5", "1 very high", "2 high"],
                points=1.5,
            ),
        ]
    )
    floors: list[Floor] = Field(
        default_factory=lambda: [
            Floor(when=["cue:legal"], at_least="P2"),
            Floor(when=["cue:outage", "vip_customer"], at_least="P1"),
            Floor(when=["cue:churn", "vip_customer"], at_least="P1"),
        ]
    )

    @field_validator("thresholds")
    @classmethod
    def _check_thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [k for k in ("P1", "P2", "P3") if k not in value]
        if missing or set(value) - {"P1", "P2", "P3"}:
            raise ValueError(f"thresholds needs exactly P1, P2 and P3 (points); got {sorted(value)}")
        if not value["P1"] > value["P2"] > value["P3"]:
            raise ValueError(f"thresholds must decrease: P1 > P2 > P3, got {value}")
        return value

    @field_validator("cues")
    @classmethod
    def _check_cues(cls, value: dict[str, float]) -> dict[str, float]:
        from triage.sentiment.cues import CUE_KINDS

        unknown = sorted(set(value) - set(CUE_KINDS))
        if unknown:
            raise ValueError(f"unknown cue kinds {unknown}; known: {list(CUE_KINDS)}")
        return value

    @model_validator(mode="after")
    def _sort_sentiment(self) -> PriorityRules:
        self.sentiment = sorted(self.sentiment, key=lambda r: r.max_score)
        return self

    @classmethod
    def from_file(cls, path: str | Path) -> PriorityRules:
        """Read rules from ``.json`` or ``.toml``; a bad file is an :class:`InputError` naming the field."""
        path = Path(path)
        if not path.exists():
            raise InputError(
                f"priority rules file {path} not found (write one with `triage sentiment rules`)"
            )
        text = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(
                f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}"
            ) from exc
        return cls.parse(data, source=str(path))

    @classmethod
    def parse(cls, data: Any, *, source: str = "priority rules") -> PriorityRules:
        """Validate a mapping (as read from a file or given inline in the pipeline options)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'rules'}: {err['msg']}" for err in exc.errors()
            )
            raise InputError(f"{source}: {problems}") from exc

    def level_for(self, points: float) -> Level:
        """The level for a number of points (before floors)."""
        for level in ("P1", "P2", "P3"):
            if points >= self.thresholds[level]:
                return level  # type: ignore[return-value]
        return "P4"


def _lookup(metadata: Mapping[str, Any], dotted: str) -> Any:
    if dotted in metadata:
        return metadata[dotted]
    node: Any = metadata
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value).strip().lower() in _TRUE


def _fmt(points: float) -> str:
    return f"{points:+g}"


def suggest_priority(
    rules: PriorityRules,
    *,
    cues: Sequence[Cue],
    sentiment: SentimentResult | None,
    metadata: Mapping[str, Any] | None = None,
    category: Prediction | None = None,
) -> Prediction:
    """A P1-P4 :class:`Prediction` whose evidence lists every rule that fired (``kind="rule"``).

    ``score`` is the points reached divided by the P1 threshold, capped at 1: an urgency scale, not a
    calibrated probability (``automation`` is always ``"suggest"``).
    """
    fired: list[Evidence] = []
    # cues: each kind counts once; the evidence quotes the first occurrence
    seen: dict[str, Cue] = {}
    for cue in cues:
        seen.setdefault(cue.kind, cue)
    for kind, cue in seen.items():
        points = rules.cues.get(kind, 0.0)
        if points:
            n = sum(c.kind == kind for c in cues)
            where = "" if cue.message_index is None else f" in message {cue.message_index}"
            more = f" (+{n - 1} more)" if n > 1 else ""
            fired.append(
                Evidence(
                    kind="rule",
                    label=f"cue:{kind}",
                    score=points,
                    text=f"{kind.replace('_', ' ')} cue '{cue.text[:60]}'{where}{more} ({_fmt(points)})",
                )
            )
    if sentiment is not None:
        for rule in rules.sentiment:  # sorted: most negative first
            if sentiment.score <= rule.max_score and sentiment.confidence >= rule.min_confidence:
                fired.append(
                    Evidence(
                        kind="rule",
                        label=f"sentiment:{rule.name}",
                        score=rule.points,
                        text=f"{rule.name.replace('_', ' ')} sentiment (score {sentiment.score:+.2f}) "
                        f"({_fmt(rule.points)})",
                    )
                )
                break
        if getattr(sentiment, "trend", None) == "worsening" and rules.worsening_trend:
            fired.append(
                Evidence(
                    kind="rule",
                    label="trend:worsening",
                    score=rules.worsening_trend,
                    text=f"customer getting angrier message by message ({_fmt(rules.worsening_trend)})",
                )
            )
    if category is not None and not category.abstained and category.score >= rules.min_category_score:
        key = category.label.strip().lower()
        points = rules.categories.get(key, 0.0)
        if points:
            fired.append(
                Evidence(
                    kind="rule",
                    label=f"category:{key}",
                    score=points,
                    text=f"category {category.label} ({_fmt(points)})",
                )
            )
    for rule in rules.metadata:
        value = next((v for v in (_lookup(metadata or {}, k) for k in rule.keys) if v is not None), None)
        if value is None:
            continue
        if rule.values is None:
            hit = _truthy(value)
        else:
            hit = str(value).strip().lower() in {v.lower() for v in rule.values}
        if hit:
            fired.append(
                Evidence(
                    kind="rule",
                    label=rule.name,
                    score=rule.points,
                    text=f"{rule.name.replace('_', ' ')} (metadata {value!r}) ({_fmt(rule.points)})",
                )
            )
    points = sum(e.score or 0.0 for e in fired)
    level = rules.level_for(points)
    names = {e.label for e in fired}
    for floor in rules.floors:
        if all(name in names for name in floor.when) and LEVELS.index(floor.at_least) < LEVELS.index(level):
            level = floor.at_least
            fired.append(
                Evidence(
                    kind="rule",
                    label=f"floor:{floor.at_least}",
                    score=0.0,
                    text=f"{' + '.join(floor.when)} means at least {floor.at_least}",
                )
            )
    fired.insert(
        0,
        Evidence(
            kind="rule",
            label="total",
            score=round(points, 3),
            text=f"{points:g} points -> {level} (P1 >= {rules.thresholds['P1']:g}, "
            f"P2 >= {rules.thresholds['P2']:g}, P3 >= {rules.thresholds['P3']:g})",
        ),
    )
    score = round(min(1.0, max(0.0, points / rules.thresholds["P1"])), 4)
    return Prediction(label=level, score=score, automation="suggest", evidence=fired)
