"""The ``redact`` pipeline step: masks personal data right after normalisation, before anything reads it.

Options (``TriageConfig.options["redact"]``):

- ``keep_mapping``: ``"none"`` (default: the originals are dropped), ``"memory"``
  (``result.redaction_mapping``, never serialised) or ``"encrypted"`` (``result.redaction_vault``,
  a Fernet token; needs a key).
- ``key`` or ``key_env`` (default ``TRIAGE_PII_KEY``): the Fernet key or passphrase for ``"encrypted"``.
- ``types``, ``regions``, ``phone_library``: passed to :class:`triage.pii.Redactor`.

Steps that report character offsets (the summary's sentences and facts) map them back to the text before
masking with :func:`original_span`: the step records, per part, where each placeholder sits in the masked
normalised text and which span of the unmasked normalised text it replaced (positions only, never a value).
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, ClassVar, Literal

from pydantic import Field

from triage.errors import ConfigError, TriageError
from triage.pii.redactor import DEFAULT_REGIONS, PLACEHOLDER_RE, PiiMapping, Redactor
from triage.schema import MaskedSegment, StepError, Ticket
from triage.steps import StepContext, StepOptions, TicketState, get_step, options_for, validate_options

__all__ = ["RedactOptions", "RedactStep", "original_offset", "original_span"]


def original_offset(segments: Sequence[MaskedSegment], position: int, *, end: bool) -> int:
    """``position`` in a masked text, as an offset in the text before masking.

    ``segments``: ``(masked start, masked end, original start, original end)`` of each placeholder, in order.
    A position strictly inside a placeholder maps to the start (``end=False``) or the end (``end=True``) of
    the value it replaced, so a span never cuts a masked value in half.
    """
    before = bisect.bisect_left(segments, position, key=itemgetter(0)) - 1  # the last one starting earlier
    if before < 0:
        return position
    _, masked_end, original_start, original_end = segments[before]
    if position < masked_end:
        return original_end if end else original_start
    return position + original_end - masked_end


def original_span(segments: Sequence[MaskedSegment], start: int, end: int) -> tuple[int, int]:
    """The span of the text before masking that ``masked[start:end]`` came from."""
    return original_offset(segments, start, end=False), original_offset(segments, end, end=True)


_MAX_METADATA_ITEMS = 1000
_MAX_METADATA_DEPTH = 6


class RedactOptions(StepOptions):
    """Options of the ``redact`` step."""

    keep_mapping: Literal["none", "memory", "encrypted"] = Field(
        "none", description="none: originals dropped; memory: result.redaction_mapping; encrypted: a vault."
    )
    key: str | None = Field(None, description="Fernet key or passphrase for keep_mapping='encrypted'.")
    key_env: str = Field("TRIAGE_PII_KEY", description="Environment variable holding the key.")
    types: list[str] | None = Field(None, description="Entity types to mask (default: all).")
    regions: list[str] | None = Field(None, description="Regions of phone/ID formats (default: built-in).")
    phone_library: bool | None = Field(None, description="Use the phonenumbers library when installed.")


class RedactStep:
    """Mask each ticket's text (normalised text, per-message texts and the ticket itself) with one mapping
    per ticket, and record the counts by type in ``result.redactions``.

    Fails closed: if masking a ticket fails, its texts are emptied (later steps see nothing) and the
    ticket gets a ``redact`` error, so raw text never reaches encoding, indexes or logs.
    """

    name = "redact"
    requires: ClassVar[tuple[str, ...]] = ("state.text", "state.message_texts", "state.normalized")
    #: It rewrites what it reads, so it runs right after ``normalize``, before any step reads the text.
    assigns: ClassVar[tuple[str, ...]] = (
        "state.ticket",
        "state.text",
        "state.message_texts",
        "state.normalized",
        "result.redactions",
    )
    Options = RedactOptions

    def __init__(
        self, context: StepContext | None = None, options: RedactOptions | None = None, **kwargs: Any
    ) -> None:
        if kwargs:
            options = validate_options(get_step(self.name), kwargs)
        options = options_for(type(self), context, options)
        self.keep_mapping = options.keep_mapping
        self._key: str | None = None
        if self.keep_mapping == "encrypted":
            self._key = options.key or os.environ.get(options.key_env)
            if not self._key:
                raise ConfigError(
                    f"redact keep_mapping='encrypted' needs a key: set options.redact.key or the "
                    f"{options.key_env} environment variable (make one with: "
                    "python -c 'import triage.pii as p; print(p.generate_key())')"
                )
        #: Raw ticket fields are cut to this before masking, as NormalizeStep cuts them before normalising.
        self.max_input_chars = context.config.max_input_chars if context is not None else 1_000_000
        self.redactor = Redactor(
            options.types,
            regions=options.regions if options.regions is not None else DEFAULT_REGIONS,
            phone_library=options.phone_library,
        )

    def run(self, states: list[TicketState]) -> None:
        for state in states:
            try:
                self._mask(state)
            except Exception as exc:  # noqa: BLE001 - fail closed: no raw text may go on down the pipeline
                state.text = ""
                state.message_texts = ["" for _ in state.message_texts]
                state.normalized = {}
                state.ticket = state.ticket.model_copy(
                    update={"subject": None, "body": "", "messages": [], "customer_id": None, "metadata": {}}
                )
                state.failed.add(self.name)
                state.result.errors.append(
                    StepError(
                        step=self.name,
                        type=type(exc).__name__,
                        message=f"masking failed, ticket text withheld from later steps: {str(exc)[:200]}",
                    )
                )

    def _mask(self, state: TicketState) -> None:
        mapping = PiiMapping()
        for text in (state.ticket.full_text, state.text, *state.message_texts):
            mapping.reserve(text)
        redact = self.redactor.redact
        track = self._redact_tracked
        raw = state.ticket
        # The normalised texts first: what is found there (a name after a closing the raw HTML hides) is then
        # masked wherever it occurs in the raw fields too (the mapping's known values).
        state.text = redact(state.text, mapping).text
        messages = [track(t, mapping) for t in state.message_texts]
        parts = (raw.subject, raw.body)
        cleaned = {k: track(v, mapping) for k, v in state.normalized.items() if k in parts}
        seen = len(mapping)
        state.ticket = self.mask_ticket(raw, mapping)
        if len(mapping) > seen:  # the raw fields held values the normalised texts did not show: mask those
            state.text = redact(state.text, mapping).text
            messages = [track(t, mapping, done) for t, done in messages]
            cleaned = {k: track(t, mapping, done) for k, (t, done) in cleaned.items()}
        state.message_texts = [t for t, _ in messages]
        # Later steps read normalised parts from this cache by the ticket's (now masked) raw text; the old
        # entries held unmasked text, reachable whenever masking left a raw field unchanged.
        state.normalized = {
            masked: cleaned[original][0]
            for original, masked in ((raw.subject, state.ticket.subject), (raw.body, state.ticket.body))
            if original is not None and masked is not None and original in cleaned
        }
        # Where the placeholders sit, so offsets into the masked parts can be given in the unmasked ones.
        spans = state.result.masked_parts
        spans.clear()
        for source, original in (("subject", raw.subject), ("body", raw.body)):
            if original is not None and original in cleaned:
                spans[(source, None)] = (len(cleaned[original][0]), cleaned[original][1])
        for index, (text, done) in enumerate(messages):
            spans[("message", index)] = (len(text), done)
        counts: dict[str, int] = {}
        for placeholder in mapping:
            kind = placeholder[1:].rsplit("_", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        state.result.redactions = counts
        if self.keep_mapping == "memory":
            state.result.redaction_mapping = mapping.to_dict()
        elif self.keep_mapping == "encrypted" and self._key:
            state.result.redaction_vault = mapping.encrypt(self._key)

    def _redact_tracked(
        self, text: str, mapping: PiiMapping, done: Sequence[MaskedSegment] = ()
    ) -> tuple[str, tuple[MaskedSegment, ...]]:
        """``text`` masked, and where each placeholder of the result sits (see :func:`original_offset`).

        ``done``: the segments of an earlier pass that masked ``text`` already; the result's segments then
        point into the text before that pass, the one the user gave.
        """
        redaction = self.redactor.redact(text, mapping)
        masked = redaction.text
        placed: list[MaskedSegment] = []
        replaced: list[tuple[int, int, int]] = []  # this pass: start, end in ``text``; length change
        shift = 0
        for entity in redaction.entities:
            at = entity.start + shift
            found = PLACEHOLDER_RE.match(masked, at)
            if found is None:  # the redactor puts one placeholder where each entity was
                raise TriageError(f"no placeholder at offset {at} of the masked text: the redactor changed")
            start, end = original_span(done, entity.start, entity.end)
            placed.append((at, found.end(), start, end))
            change = found.end() - at - (entity.end - entity.start)
            replaced.append((entity.start, entity.end, change))
            shift += change
        moved = following = 0  # both lists are in order: one walk moves the earlier placeholders
        for masked_start, masked_end, original_start, original_end in done:
            while following < len(replaced) and replaced[following][1] <= masked_start:
                moved += replaced[following][2]
                following += 1
            if following < len(replaced) and replaced[following][0] < masked_end:
                continue  # masked again as part of a longer value: that placeholder covers it
            placed.append((masked_start + moved, masked_end + moved, original_start, original_end))
        return masked, tuple(sorted(placed))

    def mask_ticket(self, ticket: Ticket, mapping: PiiMapping) -> Ticket:
        """A copy of ``ticket`` with subject, body, messages, customer id and metadata strings masked."""
        limit = self.max_input_chars

        def text(value: str | None) -> str | None:
            return None if value is None else self.redactor.redact(value[:limit], mapping).text

        messages = [m.model_copy(update={"text": text(m.text)}) for m in ticket.messages]
        budget = [_MAX_METADATA_ITEMS]
        return ticket.model_copy(
            update={
                "subject": text(ticket.subject),
                "body": text(ticket.body),
                "messages": messages,
                "customer_id": text(ticket.customer_id),
                "metadata": self._mask_value(ticket.metadata, mapping, 0, budget),
            }
        )

    def _mask_value(self, value: Any, mapping: PiiMapping, depth: int, budget: list[int]) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > _MAX_METADATA_DEPTH:
            return None if not isinstance(value, int | float | bool) else value
        if isinstance(value, str):
            return self.redactor.redact(value[: self.max_input_chars], mapping).text
        if isinstance(value, dict):
            return {k: self._mask_value(v, mapping, depth + 1, budget) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._mask_value(v, mapping, depth + 1, budget) for v in value]
        return value
