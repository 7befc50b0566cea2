"""What every component reads of a ticket: its parts, its model text, and one way to take one or many.

The bottom contract of the pipeline (no component imports :mod:`triage.pipeline`):

- :class:`Part` and :func:`ticket_parts`: subject, body, then each message with its role, normalised;
- :func:`model_text`: the one text a ticket is embedded and classified by (the ``normalize`` step's rule);
- :func:`as_list` / :func:`as_ticket`: the single-or-list coercion every ``search`` / ``detect`` /
  ``predict`` uses, so each takes a str (or ticket) or a list, like SetFit's ``__call__``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from triage.normalize import normalize_text
from triage.schema import Role, SummarySource, Ticket

__all__ = [
    "MAX_PART_CHARS",
    "Part",
    "PartSource",
    "TicketLike",
    "as_list",
    "as_ticket",
    "customer_parts",
    "join_model_text",
    "model_text",
    "ticket_parts",
]

TicketLike = Ticket | dict[str, Any] | str
PartSource = SummarySource
T = TypeVar("T")

#: Raw text kept per part before normalising: a summary reads the head of a huge body, not all of it.
MAX_PART_CHARS = 50_000


@dataclass(frozen=True)
class Part:
    """One piece of a ticket: its (normalised) text, where it came from and who wrote it."""

    text: str
    source: PartSource = "body"
    role: Role = "customer"
    message_index: int | None = None


def ticket_parts(
    ticket: Ticket,
    message_texts: Sequence[str] | None = None,
    *,
    normalize: bool = True,
    normalized: Mapping[str, str] | None = None,
    max_part_chars: int | None = MAX_PART_CHARS,
) -> list[Part]:
    """The parts of a ticket in reading order: subject, body, then each message with its role.

    ``message_texts`` (the pipeline's normalised message texts) are used when given; otherwise each text is
    normalised here (HTML, quoted replies and signatures stripped) unless ``normalize=False``. Each part is
    cut to its first ``max_part_chars`` characters (a raw text normalised here is cut before normalising;
    ``None``: not cut).
    ``normalized``: raw text -> its normalised text, for texts normalised already (the pipeline's subject and
    body); so in the pipeline every part is the head of the normalised field, and offsets into the part are
    offsets into ``normalize_text(field).text``.
    """
    done = normalized or {}
    limit = max_part_chars

    def clean(text: str | None) -> str:
        if not text:
            return ""
        if normalize and text in done:
            return done[text][:limit]
        text = text[:limit]
        return normalize_text(text).text if normalize else text

    parts = []
    if ticket.subject and ticket.subject.strip():
        parts.append(Part(clean(ticket.subject), "subject", "customer"))
    if ticket.body and ticket.body.strip():
        parts.append(Part(clean(ticket.body), "body", "customer"))
    texts = list(message_texts) if message_texts is not None else [clean(m.text) for m in ticket.messages]
    for index, (message, text) in enumerate(zip(ticket.messages, texts, strict=True)):
        if text.strip():
            parts.append(Part(text[:limit], "message", message.role, index))
    return parts


def customer_parts(ticket: Ticket) -> list[str]:
    """The raw texts the model text is made of: subject, body and the customer's messages, in order."""
    messages = [m.text for m in ticket.messages if m.role == "customer"]
    return [ticket.subject or "", ticket.body or "", *messages]


def join_model_text(texts: Iterable[str], max_chars: int) -> tuple[str, bool]:
    """Join normalised parts into the model text: blanks and repeats dropped, cut at a word boundary.

    Returns the text and whether it was cut (a thread often repeats the body, so repeats go first).
    """
    text = "\n".join(dict.fromkeys(t for t in texts if t))
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars], True


def model_text(ticket: Ticket | Mapping[str, Any] | str, *, max_chars: int = 4000) -> str:
    """The text a ticket is embedded and classified by: its customer parts normalised and joined.

    The ``normalize`` pipeline step builds the same text, so a head trained or an index built on tickets
    sees what the pipeline later gives it. A ticket whose parts normalise to nothing falls back to its raw
    customer text.
    """
    parsed = as_ticket(ticket)
    cleaned = [normalize_text(p).text for p in customer_parts(parsed) if p]
    text, _ = join_model_text(cleaned, max_chars)
    return text or parsed.customer_text[:max_chars]


def as_ticket(record: Ticket | Mapping[str, Any] | str) -> Ticket:
    """A :class:`Ticket` from a ticket, a dict using any accepted field names, or a plain string (the body).

    Raises pydantic's ``ValidationError`` (a ``ValueError``) naming the field for an invalid record.
    """
    return record if isinstance(record, Ticket) else Ticket.model_validate(record)


def as_list(value: T | Sequence[T], single: type | tuple[type, ...] = str) -> tuple[list[T], bool]:
    """``value`` as a list, and whether it was a single item (an instance of ``single``).

    The one single-or-list rule: ``search("text")`` returns one answer, ``search(["a", "b"])`` a list.
    A mapping (a ticket dict) or a :class:`Ticket` counts as single when ``single`` names it.
    """
    if isinstance(value, single):
        return [value], True  # type: ignore[list-item]
    return list(value), False  # type: ignore[arg-type]
