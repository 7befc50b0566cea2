"""Webhook adapters: Zammad and Znuny/OTRS ticket payloads in, results their triggers can use out.

- Zammad: the default webhook body of a trigger (``{"ticket": {...}, "article": {...}}``, see Zammad's admin
  docs "Webhook payload") or a REST ticket with ``articles``. The answer carries ``tags``, ``group`` and
  ``priority`` by Zammad name, plus ``ticket_update``: a body for ``PUT /api/v1/tickets/{id}``.
- Znuny/OTRS: the GenericInterface ``Ticket::Generic`` invoker data (``{"Event": {...}, "Ticket": {...,
  "Article": {...}, "Articles": [...]}}``) or a ``TicketGet`` response (``{"Ticket": [{...}]}``). The answer
  carries ``Queue``, ``Priority`` and ``DynamicField`` entries in the shape of a ``TicketUpdate`` request.

Category -> group/queue and priority -> helpdesk priority names come from :class:`ServiceSettings`; a
prediction that abstained changes nothing and adds a ``triage-review`` tag instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from triage.schema import Ticket, TriageResult
from triage.service.errors import FieldError, ServiceError

_ZAMMAD_ROLES = {"customer": "customer", "agent": "agent", "system": "note"}
_ZNUNY_ROLES = {"customer": "customer", "agent": "agent", "system": "note"}


def _fail(loc: str, message: str) -> ServiceError:
    return ServiceError(
        422,
        "validation_error",
        f"invalid webhook payload: {loc}: {message}",
        fields=[FieldError(loc=loc, message=message)],
    )


def _name(value: Any) -> str | None:
    """Zammad sends related objects either expanded (``{"name": ...}``) or as plain names."""
    if isinstance(value, Mapping):
        value = value.get("name") or value.get("email") or value.get("login")
    return None if value in (None, "") else str(value)


def _ticket(data: dict[str, Any], where: str) -> Ticket:
    try:
        return Ticket.model_validate(data)
    except ValidationError as exc:
        fields = [
            FieldError(loc=".".join([where, *(str(p) for p in e["loc"])]), message=e["msg"], type=e["type"])
            for e in exc.errors()
        ]
        raise ServiceError(
            422,
            "validation_error",
            f"invalid webhook payload: {fields[0].loc}: {fields[0].message}",
            fields=fields,
        ) from exc


# ------------------------------------------------------------------------------------------- Zammad
def zammad_ticket(payload: Mapping[str, Any]) -> Ticket:
    """Map a Zammad webhook (or REST) ticket payload to a :class:`Ticket`."""
    ticket = payload.get("ticket")
    if not isinstance(ticket, Mapping):
        raise _fail("body.ticket", "Zammad payloads carry the ticket under 'ticket' (an object)")
    articles = payload.get("articles")
    if articles is None:
        articles = [payload["article"]] if isinstance(payload.get("article"), Mapping) else []
    if not isinstance(articles, list):
        raise _fail("body.articles", "must be a list of article objects")
    messages = []
    for i, art in enumerate(articles):
        if not isinstance(art, Mapping):
            raise _fail(f"body.articles.{i}", "must be an object")
        sender = str(_name(art.get("sender")) or "customer").lower()
        role = "note" if art.get("internal") else _ZAMMAD_ROLES.get(sender, "customer")
        if art.get("body"):
            messages.append({"role": role, "text": str(art["body"]), "created_at": art.get("created_at")})
    first = articles[0] if articles else {}
    customer = ticket.get("customer")
    data = {
        "id": str(ticket.get("number") or ticket.get("id") or "") or None,
        "subject": ticket.get("title"),
        "messages": messages,
        "channel": _name(first.get("type")) or _name(ticket.get("create_article_type")),
        "customer_id": _name(customer) if customer else _scalar(ticket.get("customer_id")),
        "created_at": ticket.get("created_at"),
        "metadata": {
            "source": "zammad",
            "zammad_ticket_id": ticket.get("id"),
            "group": _name(ticket.get("group")),
            "priority": _name(ticket.get("priority")),
            "state": _name(ticket.get("state")),
        },
    }
    return _ticket(data, "body.ticket")


def _scalar(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class ZammadUpdate(BaseModel):
    """A body for Zammad's ``PUT /api/v1/tickets/{id}`` (fields by name; empty when nothing should change)."""

    group: str | None = None
    priority: str | None = None


class ZammadWebhookResponse(BaseModel):
    """What a Zammad trigger (or a small relay calling Zammad's API) needs: tags, group, priority."""

    ticket_id: str | None = Field(None, description="Zammad ticket number.")
    zammad_ticket_id: int | str | None = Field(None, description="Zammad's internal ticket id (for the API).")
    tags: list[str] = Field(default_factory=list, description="Tags to add (POST /api/v1/tags/add).")
    group: str | None = None
    priority: str | None = None
    ticket_update: ZammadUpdate = Field(default_factory=ZammadUpdate)
    result: TriageResult


def _tags(result: TriageResult) -> list[str]:
    tags = [f"lang:{result.language}"]
    if result.category is not None:
        tags.append(f"category:{result.category.label}")
        if result.category.abstained:
            tags.append("triage-review")
    if result.priority is not None:
        tags.append(f"priority:{result.priority.label}")
    if result.sentiment is not None:
        tags.append(f"sentiment:{result.sentiment.label}")
        tags += sorted({f"cue:{c.kind}" for c in result.sentiment.cues})
    for name, pred in result.labels.items():
        if not pred.abstained:
            tags.append(f"{name}:{pred.label}")
    return tags


def _routing(result: TriageResult, group_map: Mapping[str, str], priorities: Mapping[str, str]) -> tuple:
    group = None
    if result.category is not None and not result.category.abstained:
        group = group_map.get(result.category.label)
    priority = None
    if result.priority is not None and not result.priority.abstained:
        priority = priorities.get(result.priority.label.lower())
    return group, priority


def zammad_response(
    ticket: Ticket, result: TriageResult, group_map: Mapping[str, str], priorities: Mapping[str, str]
) -> ZammadWebhookResponse:
    group, priority = _routing(result, group_map, priorities)
    return ZammadWebhookResponse(
        ticket_id=ticket.id,
        zammad_ticket_id=ticket.metadata.get("zammad_ticket_id"),
        tags=_tags(result),
        group=group,
        priority=priority,
        ticket_update=ZammadUpdate(group=group, priority=priority),
        result=result,
    )


# ------------------------------------------------------------------------------------------- Znuny
def znuny_ticket(payload: Mapping[str, Any]) -> Ticket:
    """Map Znuny/OTRS GenericInterface data (invoker event or TicketGet response) to a :class:`Ticket`."""
    ticket = payload.get("Ticket")
    where = "body.Ticket"
    if isinstance(ticket, list):  # TicketGet response: {"Ticket": [{...}]}
        if not ticket or not isinstance(ticket[0], Mapping):
            raise _fail(where, "TicketGet responses hold a non-empty list of ticket objects")
        ticket, where = ticket[0], "body.Ticket.0"
    if not isinstance(ticket, Mapping):
        raise _fail(where, "Znuny/OTRS payloads carry the ticket under 'Ticket' (an object)")
    articles = ticket.get("Articles") or ticket.get("Article") or []
    if isinstance(articles, Mapping):
        articles = [articles]
    if not isinstance(articles, list):
        raise _fail(f"{where}.Articles", "must be a list of article objects")
    messages = []
    seen: set[Any] = set()
    for i, art in enumerate(articles):
        if not isinstance(art, Mapping):
            raise _fail(f"{where}.Articles.{i}", "must be an object")
        key = art.get("ArticleID") or id(art)
        if key in seen:
            continue
        seen.add(key)
        sender = str(art.get("SenderType") or "customer").lower()
        visible = art.get("IsVisibleForCustomer")
        role = _ZNUNY_ROLES.get(sender, "customer")
        if visible in (0, "0") and role == "agent":
            role = "note"
        text = art.get("Body")
        if text:
            messages.append({"role": role, "text": str(text), "created_at": art.get("CreateTime")})
    event = payload.get("Event") if isinstance(payload.get("Event"), Mapping) else {}
    data = {
        "id": _scalar(ticket.get("TicketNumber")) or _scalar(ticket.get("TicketID")),
        "subject": ticket.get("Title"),
        "messages": messages,
        "customer_id": _scalar(ticket.get("CustomerUserID")),
        "created_at": ticket.get("Created"),
        "metadata": {
            "source": "znuny",
            "znuny_ticket_id": _scalar(ticket.get("TicketID")),
            "queue": _scalar(ticket.get("Queue")),
            "priority": _scalar(ticket.get("Priority")),
            "state": _scalar(ticket.get("State")),
            "event": _scalar(event.get("Event")),
        },
    }
    return _ticket(data, where)


class DynamicFieldValue(BaseModel):
    Name: str
    Value: str | None


class ZnunyTicketUpdate(BaseModel):
    Queue: str | None = None
    Priority: str | None = None


class ZnunyWebhookResponse(BaseModel):
    """In the shape of a GenericTicketConnector ``TicketUpdate`` request (map it with the invoker's
    response mapping, or forward it): ``Ticket`` (Queue, Priority) and ``DynamicField`` values."""

    TicketID: str | None = None
    TicketNumber: str | None = None
    Ticket: ZnunyTicketUpdate = Field(default_factory=ZnunyTicketUpdate)
    DynamicField: list[DynamicFieldValue] = Field(default_factory=list)
    result: TriageResult


def znuny_response(
    ticket: Ticket, result: TriageResult, group_map: Mapping[str, str], priorities: Mapping[str, str]
) -> ZnunyWebhookResponse:
    queue, priority = _routing(result, group_map, priorities)
    fields = [DynamicFieldValue(Name="TriageLanguage", Value=result.language)]
    if result.category is not None:
        fields += [
            DynamicFieldValue(Name="TriageCategory", Value=result.category.label),
            DynamicFieldValue(Name="TriageConfidence", Value=f"{result.category.score:.3f}"),
            DynamicFieldValue(Name="TriageNeedsReview", Value="1" if result.category.abstained else "0"),
        ]
    if result.priority is not None:
        fields.append(DynamicFieldValue(Name="TriagePriority", Value=result.priority.label))
    if result.sentiment is not None:
        fields.append(DynamicFieldValue(Name="TriageSentiment", Value=result.sentiment.label))
    if result.summary is not None:
        fields.append(DynamicFieldValue(Name="TriageSummary", Value=result.summary.text))
    return ZnunyWebhookResponse(
        TicketID=ticket.metadata.get("znuny_ticket_id"),
        TicketNumber=ticket.id,
        Ticket=ZnunyTicketUpdate(Queue=queue, Priority=priority),
        DynamicField=fields,
        result=result,
    )
