"""Pydantic models for tickets in and results out.

``Ticket`` accepts the field names common helpdesk exports use (``title``, ``description``, ``content``...)
and keeps unknown fields in ``metadata``, so nothing a user hands in is silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

SCHEMA_VERSION = "1.0"

Role = Literal["customer", "agent", "note"]
_ROLE_ALIASES: dict[str, Role] = {
    **dict.fromkeys(
        ["customer", "requester", "end-user", "end_user", "enduser", "user", "client", "contact"], "customer"
    ),
    **dict.fromkeys(["agent", "staff", "support", "operator", "admin", "assignee"], "agent"),
    **dict.fromkeys(["note", "internal", "private", "system", "internal_note"], "note"),
}


def _choices(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Message(BaseModel):
    """One message of a ticket thread."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    role: Role = Field("customer", validation_alias=_choices("role", "sender", "author_role", "from_role"))
    text: str = Field(validation_alias=_choices("text", "body", "content", "message", "plain_body", "Body"))
    created_at: datetime | None = Field(
        None, validation_alias=_choices("created_at", "created", "date", "timestamp")
    )

    @field_validator("role", mode="before")
    @classmethod
    def _normalise_role(cls, value: Any) -> Any:
        if value is None:
            return "customer"
        key = str(value).strip().lower()
        if key not in _ROLE_ALIASES:
            # the value is not echoed: a misplaced field can hold personal data
            raise ValueError("unknown message role: use customer, agent or note")
        return _ROLE_ALIASES[key]

    @field_validator("text", mode="before")
    @classmethod
    def _text_to_str(cls, value: Any) -> Any:
        return "" if value is None else value


_TICKET_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "ticket_id", "ticketId", "TicketID", "number", "TicketNumber", "key"),
    "subject": ("subject", "title", "Title", "Subject", "summary", "short_description"),
    "body": ("body", "description", "content", "text", "message", "comment", "Body", "description_text"),
    "messages": ("messages", "thread", "conversation", "comments", "articles"),
    "channel": ("channel", "via", "source"),
    "customer_id": (
        "customer_id",
        "requester_id",
        "customer",
        "requester",
        "customer_email",
        "CustomerUserID",
    ),
    "created_at": ("created_at", "created", "createdAt", "Created", "date", "timestamp"),
    "metadata": ("metadata", "meta", "custom_fields"),
}
_KNOWN_KEYS = {alias for names in _TICKET_ALIASES.values() for alias in names}


class Ticket(BaseModel):
    """A helpdesk ticket: a subject, a body and/or a thread of messages.

    At least one of ``subject``, ``body`` or ``messages`` must hold text.
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str | None = Field(None, validation_alias=_choices(*_TICKET_ALIASES["id"]))
    subject: str | None = Field(None, validation_alias=_choices(*_TICKET_ALIASES["subject"]))
    body: str | None = Field(None, validation_alias=_choices(*_TICKET_ALIASES["body"]))
    messages: list[Message] = Field(
        default_factory=list, validation_alias=_choices(*_TICKET_ALIASES["messages"])
    )
    channel: str | None = Field(None, validation_alias=_choices(*_TICKET_ALIASES["channel"]))
    customer_id: str | None = Field(None, validation_alias=_choices(*_TICKET_ALIASES["customer_id"]))
    created_at: datetime | None = Field(None, validation_alias=_choices(*_TICKET_ALIASES["created_at"]))
    metadata: dict[str, Any] = Field(
        default_factory=dict, validation_alias=_choices(*_TICKET_ALIASES["metadata"])
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_fields(cls, data: Any) -> Any:
        """Move fields triage does not know into ``metadata`` instead of dropping them."""
        if isinstance(data, str):
            return {"body": data}
        if not isinstance(data, dict):
            return data
        extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        if not extra:
            return data
        known = {k: v for k, v in data.items() if k in _KNOWN_KEYS}
        meta_key = next((k for k in _TICKET_ALIASES["metadata"] if k in known), "metadata")
        meta = dict(known.get(meta_key) or {})
        for key, value in extra.items():
            meta.setdefault(key, value)
        known[meta_key] = meta
        return known

    @field_validator("id", "customer_id", "channel", mode="before")
    @classmethod
    def _scalar_to_str(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return str(value)
        return value

    @model_validator(mode="after")
    def _require_text(self) -> Ticket:
        if not any(part.strip() for part in (self.subject or "", self.body or "")) and not any(
            m.text.strip() for m in self.messages
        ):
            raise ValueError(
                "ticket has no text: give at least one of subject, body or messages "
                "(also accepted: title, description, content, text, thread)"
            )
        return self

    @property
    def customer_text(self) -> str:
        """Subject, body and the customer's messages: what classification and sentiment read."""
        parts = [self.subject or "", self.body or ""]
        parts += [m.text for m in self.messages if m.role == "customer"]
        return "\n".join(p.strip() for p in parts if p and p.strip())

    @property
    def full_text(self) -> str:
        """Every piece of text on the ticket, agent replies and notes included."""
        parts = [self.subject or "", self.body or ""] + [m.text for m in self.messages]
        return "\n".join(p.strip() for p in parts if p and p.strip())


class LabelScore(BaseModel):
    """A label with its probability."""

    label: str
    score: float


class Evidence(BaseModel):
    """Why a prediction was made: a neighbour example, a weighted term, or a named rule."""

    kind: Literal["example", "term", "rule", "cue"]
    text: str
    label: str | None = None
    score: float | None = None


class Prediction(BaseModel):
    """One classification output: the label, its calibrated score and why.

    ``abstained=True`` means the score is below the head's threshold: route to ``review_queue``.
    """

    label: str
    score: float
    top_k: list[LabelScore] = Field(default_factory=list)
    abstained: bool = False
    automation: Literal["auto_route", "suggest", "abstain"] | None = None
    review_queue: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class Cue(BaseModel):
    """An escalation or frustration signal found in the text, with its span."""

    kind: str
    text: str
    start: int
    end: int
    message_index: int | None = None
    source: Literal["subject", "body", "message"] | None = Field(
        None, description="Ticket part the span is in (offsets index that part's normalised text)."
    )


class MessageSentiment(BaseModel):
    """Sentiment of one customer part of a ticket: the body (``message_index`` None) or a thread message."""

    message_index: int | None = None
    source: Literal["subject", "body", "message"] = "message"
    label: Literal["negative", "neutral", "positive"]
    score: float
    confidence: float


class SentimentResult(BaseModel):
    """Sentiment of a ticket: label, score in [-1, 1], confidence, cues and per-message trajectory."""

    label: Literal["negative", "neutral", "positive"]
    score: float
    confidence: float
    cues: list[Cue] = Field(default_factory=list)
    trajectory: list[float] = Field(default_factory=list)
    messages: list[MessageSentiment] = Field(
        default_factory=list, description="Sentiment of each customer part of a thread (body, then messages)."
    )
    trend: Literal["worsening", "stable", "improving"] | None = Field(
        None, description="Direction of the trajectory (None with fewer than two customer parts)."
    )
    escalation_risk: float | None = Field(
        None, description="0-1 chance-like score that the customer escalates (negativity, cues, trend)."
    )
    warnings: list[str] = Field(default_factory=list)


SummarySource = Literal["subject", "body", "message"]

#: What the summary's ``start``/``end`` offsets index; the same with and without PII masking.
OFFSETS_DESCRIPTION = (
    "Character offset into the normalised text of the part named by source/message_index, as the ticket gave "
    "it and before any masking: triage.normalize.normalize_text(field).text, field being the ticket's "
    "subject, body or messages[message_index].text; that text's [start:end], whitespace folded, is the "
    "sentence or fact quoted. With the redact step on the offsets are the same, while `text` is masked: a "
    "result never quotes the original span. None when no span can be given (masking on and a field over "
    "max_input_chars)."
)


class SummaryPoint(BaseModel):
    """A sentence picked for a summary, pointing back to the part of the ticket it came from.

    ``start``/``end`` index the part's normalised text as given, before any masking: for ``normalized =
    triage.normalize.normalize_text(ticket.body).text`` (or the subject, or ``ticket.messages[message_index]
    .text``), ``" ".join(normalized[start:end].split())`` is the sentence; with masking on, ``text`` is the
    masked sentence (the original is never quoted) and :func:`triage.pii.unmask` of it with the ticket's
    mapping gives that span; the offsets tell how long a masked value was, never what it was.
    ``message_index`` indexes ``Ticket.messages`` when ``source == "message"``.
    """

    text: str = Field(description="The sentence, whitespace folded (masked when the redact step ran).")
    source: SummarySource = "body"
    message_index: int | None = None
    role: Role = "customer"
    start: int | None = Field(None, description=OFFSETS_DESCRIPTION)
    end: int | None = Field(None, description="End of the span (exclusive); see start.")
    score: float | None = None


class SummaryFact(BaseModel):
    """A fact found in the ticket (order/invoice number, date, amount, error code, version, product name).

    ``start``/``end`` index the part's normalised text as given, before any masking (see
    :class:`SummaryPoint`).
    """

    kind: str
    text: str
    source: SummarySource = "body"
    message_index: int | None = None
    start: int | None = Field(None, description=OFFSETS_DESCRIPTION)
    end: int | None = Field(None, description="End of the span (exclusive); see start.")


class Summary(BaseModel):
    """A short summary of a ticket or thread.

    ``text`` is the summary to show. The structured fields are optional: ``problem`` (what the customer
    reports), ``request`` (what they ask for), ``tried`` (steps already taken), ``status`` (the latest agent
    action or resolution) and ``facts``; each points back to the message it came from.
    """

    text: str
    method: str = "extractive"
    sentences: list[SummaryPoint] = Field(default_factory=list)
    problem: SummaryPoint | None = None
    request: SummaryPoint | None = None
    tried: list[SummaryPoint] = Field(default_factory=list)
    status: SummaryPoint | None = None
    facts: list[SummaryFact] = Field(default_factory=list)


class Suggestion(BaseModel):
    """A knowledge-base article suggested for the ticket, with the passage that matched."""

    article_id: str
    title: str
    score: float
    passage: str = ""
    url: str | None = None
    language: str | None = None
    draft: str | None = None
    draft_language: str | None = None
    needs_translation: bool = False
    abstained: bool = False
    rank: int | None = None
    margin: float | None = None


class SimilarTicket(BaseModel):
    """A past ticket that looks like this one."""

    ticket_id: str
    score: float
    subject: str | None = None
    resolution: str | None = None
    duplicate: bool = False
    rank: int | None = None


class Translation(BaseModel):
    """A translation of the ticket text; the original is always kept (in the ticket and in ``original``).

    ``quality`` is a cross-lingual embedding agreement between source and output (higher is better);
    ``needs_review`` flags a translation to check. ``pivot_language`` is set when the text went through a
    pivot (usually English) because no model covers the pair directly.
    """

    text: str
    source_language: str
    target_language: str
    backend: str
    quality: float | None = None
    needs_review: bool = False
    original: str | None = None
    pivot_language: str | None = None


#: Where a placeholder sits in a masked text and what it replaced: (masked start, end, original start, end).
MaskedSegment = tuple[int, int, int, int]


class StepError(BaseModel):
    """A failure of one pipeline step on one ticket; the rest of the batch is unaffected."""

    step: str
    type: str
    message: str


class TriageResult(BaseModel):
    """Everything triage found out about one ticket."""

    ticket_id: str
    language: str = "und"
    language_confidence: float = 0.0
    message_languages: list[str] = Field(default_factory=list)
    category: Prediction | None = None
    priority: Prediction | None = None
    labels: dict[str, Prediction] = Field(default_factory=dict)
    tags: dict[str, list[LabelScore]] = Field(
        default_factory=dict, description="Multi-label heads: head name -> assigned tags with probabilities."
    )
    sentiment: SentimentResult | None = None
    summary: Summary | None = None
    suggestions: list[Suggestion] = Field(default_factory=list)
    similar: list[SimilarTicket] = Field(default_factory=list)
    translation: Translation | None = None
    warnings: list[str] = Field(default_factory=list)
    errors: list[StepError] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    redactions: dict[str, int] | None = Field(
        None, description="Distinct values masked by the redact step, by type (None when it did not run)."
    )
    redaction_vault: str | None = Field(
        None, description="The placeholder mapping, encrypted (redact keep_mapping='encrypted')."
    )
    redaction_mapping: dict[str, str] | None = Field(
        None, exclude=True, repr=False,
        description="Placeholder -> original (redact keep_mapping='memory'); in memory only, not serialised.",
    )
    schema_version: str = SCHEMA_VERSION
    _masked_parts: dict[tuple[str, int | None], tuple[int, tuple[MaskedSegment, ...]]] = PrivateAttr(
        default_factory=dict
    )

    @property
    def masked_parts(self) -> dict[tuple[str, int | None], tuple[int, tuple[MaskedSegment, ...]]]:
        """Set by the redact step: per part, ``(source, message_index)`` -> (length of its masked normalised
        text, where each placeholder sits). Positions only, never a value; not serialised. Steps that report
        offsets map them back to the unmasked text with :func:`triage.pii.step.original_span`."""
        return self._masked_parts

    @property
    def ok(self) -> bool:
        """True when no step failed on this ticket."""
        return not self.errors
