"""The FastAPI app: ``POST /v1/triage``, ``/v1/kb/search``, ``/v1/feedback``, Zammad and Znuny/OTRS webhooks,
``GET /healthz`` and ``/readyz``. OpenAPI docs at ``/docs`` and ``/openapi.json``.

Models load once, in a background thread started with the app: ``/healthz`` answers at once, ``/readyz`` turns
200 when every model is loaded, and scoring calls get 503 until then. The models run on one worker thread.
Tickets of concurrent requests are micro-batched (:mod:`triage.service.batcher`): one triager call serves
every request that arrived within ``batch_window_ms``. Each request is bounded by ``timeout_s``; one that
times out or whose client disconnects is cancelled, and its tickets that have not started never run.

With ``api_token`` set, every path but ``/healthz`` and ``/readyz`` needs the bearer token (checked before the
body is read, so 401 comes before 413 or 422); ``/docs`` and ``/openapi.json`` too unless ``public_docs``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Body, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from triage import __version__
from triage.kb.results import ArticleHit
from triage.schema import Ticket, TriageResult
from triage.service.batcher import Batcher, describe
from triage.service.errors import (
    FieldError,
    ServiceError,
    error_response,
    error_responses,
    install_error_handlers,
)
from triage.service.settings import ServiceSettings
from triage.service.webhooks import (
    ZammadWebhookResponse,
    ZnunyWebhookResponse,
    zammad_response,
    zammad_ticket,
    znuny_response,
    znuny_ticket,
)

log = logging.getLogger("triage.service")
T = TypeVar("T")
WARMUP_TICKET = {"id": "warm-up", "subject": "Login", "body": "Hello, I cannot log in to my account."}


# ------------------------------------------------------------------------------------------- models
class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = __version__


class Readiness(BaseModel):
    ready: bool
    steps: list[str] = Field(default_factory=list)
    encoder: str | None = None
    knowledge_base: bool = False
    load_seconds: float | None = None
    batching: dict[str, float] = Field(
        default_factory=dict,
        description="Micro-batching settings (window_ms, max_tickets) and counters since the start.",
    )


class KBSearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=10_000, description="The customer's question or ticket text.")
    k: int = Field(5, ge=1, le=50, description="Articles to return.")
    language: str | None = Field(None, max_length=16, description="Query language (ISO code), if known.")
    mode: Literal["fused", "dense", "bm25"] | None = None


class KBSearchResponse(BaseModel):
    query: str
    mode: str
    margin: float
    gap: float
    hits: list[ArticleHit]  # the knowledge base's own result model


class FeedbackRequest(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=200)
    article_id: str = Field(min_length=1, max_length=200)
    action: Literal["accepted", "edited", "rejected"]
    edited_text: str | None = Field(None, max_length=100_000)
    agent: str | None = Field(None, max_length=200)
    score: float | None = None
    rank: int | None = Field(None, ge=1)
    language: str | None = Field(None, max_length=16)
    query: str | None = Field(None, max_length=10_000)


class FeedbackResponse(BaseModel):
    recorded: dict[str, Any]


# ------------------------------------------------------------------------------------------- state
class ServiceState:
    """The loaded models, the single worker thread that uses them and the batcher that feeds it."""

    def __init__(self, settings: ServiceSettings, triager: Any | None = None) -> None:
        self.settings = settings
        self.triager = triager
        self.kb: Any | None = None
        self.feedback: Any | None = None
        self.ready = threading.Event()
        self.loaded = threading.Event()  # set when loading ended, ready or failed
        self.load_error: str | None = None
        self.load_seconds: float | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage")
        self.batcher = Batcher(
            lambda tickets: self.triager.triage_batch(tickets),
            self.executor,
            window_s=settings.batch_window_ms / 1000,
            max_tickets=settings.batch_max_tickets,
        )

    def load(self) -> None:
        """Build the Triager, run one ticket through it (every model loads now), open the knowledge base."""
        started = time.perf_counter()
        try:
            from triage.batch.workers import resolve_encoder
            from triage.config import TriageConfig
            from triage.pipeline import Triager

            if self.triager is None:
                path = self.settings.config_path
                # Personal data is masked before anything reads it unless a config file says otherwise.
                config = TriageConfig.from_file(path) if path else TriageConfig(redact=True)
                if self.settings.encoder_batch_size:
                    config = config.model_copy(update={"batch_size": self.settings.encoder_batch_size})
                self.triager = Triager(config, encoder=resolve_encoder(self.settings.encoder))
            self.triager([WARMUP_TICKET])
            self._open_kb()
            self.load_seconds = round(time.perf_counter() - started, 2)
            self.ready.set()
            log.info(
                "triage service ready in %.1f s (steps %s)", self.load_seconds, self.triager.config.steps
            )
        except Exception as exc:  # noqa: BLE001 - reported by /readyz, the server keeps answering
            log.exception("loading the models failed")
            self.load_error = f"{type(exc).__name__}: {exc}"
        finally:
            self.loaded.set()

    def _open_kb(self) -> None:
        options = self.triager.config.options.get("kb") or {}
        for step in self.triager.steps:  # the pipeline's own KB step already opened one: share it
            if getattr(step, "name", None) == "kb" and hasattr(step, "kb"):
                self.kb = step.kb
                self.feedback = getattr(getattr(step, "suggester", None), "feedback", None)
        path = self.settings.kb or options.get("path")
        if self.kb is None and path:
            from triage.kb import KnowledgeBase

            self.kb = KnowledgeBase.open(path, self.triager.encoder)
        feedback_path = self.settings.feedback or options.get("feedback")
        if self.kb is not None and self.feedback is None:
            from triage.kb.suggest import FeedbackLog

            self.feedback = FeedbackLog(feedback_path or f"{str(path).rstrip('/')}.feedback.jsonl")

    async def triage(self, tickets: list[Ticket], request: Request | None = None) -> list[TriageResult]:
        """Triage ``tickets`` in the next micro-batch; results in order (ids ``row-<i>`` where none given)."""
        if not self.ready.is_set():
            raise not_ready(self)
        named = [t if t.id else t.model_copy(update={"id": f"row-{i}"}) for i, t in enumerate(tickets)]
        return await self._guard(self.batcher.submit(named), request)

    async def run(self, fn: Callable[[], T], request: Request | None = None) -> T:
        """Run ``fn`` on the model thread (between batches), within the request time limit."""
        if not self.ready.is_set():
            raise not_ready(self)
        return await self._guard(asyncio.get_running_loop().run_in_executor(self.executor, fn), request)

    async def _guard(self, future: asyncio.Future[T], request: Request | None) -> T:
        """Await ``future`` within ``timeout_s``; on a timeout or a client disconnect, cancel it."""
        watcher = asyncio.ensure_future(_disconnected(request)) if request is not None else None
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                if watcher is None:
                    return await future
                await asyncio.wait({future, watcher}, return_when=asyncio.FIRST_COMPLETED)
                if not future.done():
                    log.info("client disconnected from %s: request cancelled", request.url.path)
                    raise ServiceError(
                        499, "client_closed_request", "the client closed the connection before the answer"
                    )
                return future.result()
        except TimeoutError:
            raise ServiceError(
                504,
                "timeout",
                f"the request took longer than {self.settings.timeout_s:g} s; send fewer tickets, or retry "
                "when the server is less busy",
            ) from None
        finally:
            if watcher is not None:
                watcher.cancel()
            if not future.done():
                future.cancel()  # tickets that have not started leave the queue


async def _disconnected(request: Request) -> None:
    """Return when the client has closed the connection (the body was read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def not_ready(state: ServiceState) -> ServiceError:
    if state.load_error:
        return ServiceError(503, "load_failed", f"the models failed to load: {state.load_error}")
    return ServiceError(
        503,
        "loading",
        "the models are still loading; retry when GET /readyz answers 200",
        headers={"Retry-After": "5"},
    )


# ------------------------------------------------------------------------------------------- auth
class TokenMiddleware:
    """With a token set: 401 for any path but ``public`` without ``Authorization: Bearer <token>``.

    It runs before anything reads the body, so an unauthenticated request never learns more (413, 422).
    """

    def __init__(self, app: Any, token: str | None, public: frozenset[str], docs: frozenset[str]) -> None:
        self.app = app
        self.token = token
        self.public = public
        self.docs = docs

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not self.token or scope.get("path") in self.public:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        scheme, _, given = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode()):
            await self.app(scope, receive, send)
            return
        message = "missing or wrong bearer token (Authorization: Bearer <token>)"
        if scope.get("path") in self.docs:
            message += "; to serve the API docs without a token, start the server with --public-docs"
        await error_response(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})(
            scope, receive, send
        )


# ------------------------------------------------------------------------------------------- limits
class BodyLimitMiddleware:
    """Reject request bodies over ``max_bytes`` with 413 (by Content-Length, or while reading the body)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = error_response(
            413,
            "payload_too_large",
            f"request body over {self.max_bytes} bytes: send fewer or shorter tickets",
        )
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                await error_response(
                    400,
                    "bad_request",
                    "invalid Content-Length header: send the body's length in bytes, or leave the header out",
                )(scope, receive, send)
                return
            if declared > self.max_bytes:
                await too_big(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await too_big(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# ------------------------------------------------------------------------------------------- app
def create_app(settings: ServiceSettings | None = None, *, triager: Any | None = None) -> FastAPI:
    """Build the service. ``triager``: an already built :class:`~triage.pipeline.Triager` to serve."""
    settings = settings or ServiceSettings.from_env()
    state = ServiceState(settings, triager)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        thread = threading.Thread(target=state.load, name="triage-load", daemon=True)
        thread.start()
        yield
        await state.batcher.close()
        state.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="triage",
        version=__version__,
        description="Offline, multilingual helpdesk triage: language, category, priority, sentiment, "
        "summary, knowledge-base suggestions. Send `Authorization: Bearer <token>` when the server has "
        "TRIAGE_API_TOKEN.",
        lifespan=lifespan,
    )
    app.state.triage = state
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    docs = frozenset(
        p for p in (app.docs_url, app.openapi_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p
    )
    public = frozenset({"/healthz", "/readyz"} | (docs if settings.public_docs else set()))
    app.add_middleware(TokenMiddleware, token=settings.api_token, public=public, docs=docs)  # outermost

    # The token itself is checked by TokenMiddleware; this only documents the scheme in the OpenAPI spec.
    auth = [Depends(HTTPBearer(auto_error=False, description="TRIAGE_API_TOKEN, when the server has one."))]
    # Every status a route can answer besides 200. The body-limit middleware (400, 413) and the error handler
    # (500) apply to every route; the token (401) to every route but the public health checks; scoring routes
    # also validate (422), wait for the models (503) and run under the time limit (504) or are cancelled
    # when the client goes away (499).
    anywhere = (400, 413, 500)
    common = error_responses(*anywhere, 401, 422, 499, 503, 504)

    @app.get("/healthz", response_model=Health, tags=["health"], responses=error_responses(*anywhere))
    def healthz() -> Health:
        """Liveness: the process answers."""
        return Health()

    @app.get("/readyz", response_model=Readiness, tags=["health"], responses=error_responses(*anywhere, 503))
    def readyz() -> Readiness:
        """Readiness: 200 once every model is loaded, 503 before (or when loading failed)."""
        if not state.ready.is_set():
            raise not_ready(state)
        return Readiness(
            ready=True,
            steps=list(state.triager.config.steps),
            encoder=getattr(state.triager.encoder, "name", None),
            knowledge_base=state.kb is not None,
            load_seconds=state.load_seconds,
            batching=describe(state.batcher),
        )

    @app.post(
        "/v1/triage",
        response_model=TriageResult | list[TriageResult],
        dependencies=auth,
        responses=common,
        tags=["triage"],
    )
    async def triage(
        request: Request,
        tickets: Annotated[
            Ticket | list[Ticket],
            Body(
                description="One ticket, or a list of tickets (at most max_batch).",
                examples=[{"id": "T-1", "subject": "Login", "body": "Nem tudok bejelentkezni a fiókomba."}],
            ),
        ],
    ) -> TriageResult | list[TriageResult]:
        """Triage one ticket (object in, object out) or a batch (list in, list out, same order)."""
        if isinstance(tickets, list):
            if len(tickets) > settings.max_batch:
                raise ServiceError(
                    413,
                    "batch_too_large",
                    f"{len(tickets)} tickets in one request; the limit is {settings.max_batch}",
                )
            if not tickets:
                return []
            return await state.triage(tickets, request)
        return (await state.triage([tickets], request))[0]

    @app.post(
        "/v1/kb/search", response_model=KBSearchResponse, dependencies=auth, responses=common, tags=["kb"]
    )
    async def kb_search(request: KBSearchRequest, http: Request) -> KBSearchResponse:
        """Search the knowledge base (dense + BM25 fused): the best articles with the passage that matched."""
        if not state.ready.is_set():
            raise not_ready(state)
        kb = require_kb(state)
        found = await state.run(
            lambda: kb.search(request.query, request.k, language=request.language, mode=request.mode), http
        )
        return KBSearchResponse.model_validate(found.to_dict())

    @app.post(
        "/v1/feedback", response_model=FeedbackResponse, dependencies=auth, responses=common, tags=["kb"]
    )
    async def feedback(request: FeedbackRequest, http: Request) -> FeedbackResponse:
        """Record what the agent did with a suggested article (accepted, edited, rejected).

        ``article_id`` must name an article of the knowledge base (422 otherwise)."""
        if not state.ready.is_set():
            raise not_ready(state)
        kb = require_kb(state)
        if request.article_id not in getattr(kb, "articles", {}):
            raise ServiceError(
                422,
                "unknown_article",
                f"article_id {request.article_id!r} is not in the knowledge base; use an article_id that "
                "/v1/kb/search returned",
                fields=[FieldError(loc="body.article_id", message="not an article of the knowledge base")],
            )
        details = request.model_dump(exclude={"ticket_id", "article_id", "action"}, exclude_none=True)
        event = await state.run(
            lambda: state.feedback.record(request.ticket_id, request.article_id, request.action, **details),
            http,
        )
        return FeedbackResponse(recorded=event)

    @app.post(
        "/v1/webhooks/zammad",
        response_model=ZammadWebhookResponse,
        dependencies=auth,
        responses=common,
        tags=["webhooks"],
    )
    async def zammad_webhook(
        request: Request,
        payload: Annotated[
            dict[str, Any], Body(description="Zammad trigger webhook body: {ticket, article}.")
        ],
    ) -> ZammadWebhookResponse:
        """Zammad trigger webhook: returns tags, group and priority (by Zammad name) and a ticket update."""
        secret = settings.zammad_hmac_secret
        if secret:
            raw = await request.body()
            expected = "sha1=" + hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
            if not hmac.compare_digest(request.headers.get("x-hub-signature", ""), expected):
                raise ServiceError(
                    401, "bad_signature", "X-Hub-Signature does not match the webhook's HMAC secret"
                )
        ticket = zammad_ticket(payload)
        result = (await state.triage([ticket], request))[0]
        return zammad_response(ticket, result, settings.group_map, settings.zammad_priorities)

    @app.post(
        "/v1/webhooks/znuny",
        response_model=ZnunyWebhookResponse,
        dependencies=auth,
        responses=common,
        tags=["webhooks"],
    )
    async def znuny_webhook(
        request: Request,
        payload: Annotated[
            dict[str, Any],
            Body(description="Znuny/OTRS GenericInterface Ticket::Generic data: {Event, Ticket}."),
        ],
    ) -> ZnunyWebhookResponse:
        """Znuny/OTRS invoker (or TicketGet) data: returns Queue, Priority and DynamicField values."""
        ticket = znuny_ticket(payload)
        result = (await state.triage([ticket], request))[0]
        return znuny_response(ticket, result, settings.group_map, settings.znuny_priorities)

    _tidy_union_errors(app)
    return app


def require_kb(state: ServiceState) -> Any:
    if state.kb is None:
        raise ServiceError(
            503,
            "kb_not_configured",
            "no knowledge base is configured: start the server with --kb PATH (or TRIAGE_KB, or the pipeline "
            "config's options.kb.path)",
        )
    return state.kb


def _tidy_union_errors(app: FastAPI) -> None:
    """For ``Ticket | list[Ticket]`` bodies, report only the branch that matches what was sent."""
    handler = app.exception_handlers[RequestValidationError]

    async def tidy(request: Request, exc: RequestValidationError) -> Any:
        body = getattr(exc, "body", None)
        errors = []
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            tag = loc[1] if len(loc) > 1 else None
            if isinstance(tag, str) and "Ticket" in tag:  # a union branch: "Ticket", "list[...Ticket]"
                if tag.startswith("list[") != isinstance(body, list):
                    continue
                loc = [loc[0], *loc[2:]]
            errors.append({**err, "loc": tuple(loc)})
        return await handler(request, RequestValidationError(errors or exc.errors(), body=body))

    app.exception_handlers[RequestValidationError] = tidy


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory triage.service.app:create_app_from_env`` (settings from TRIAGE_*)."""
    return create_app(ServiceSettings.from_env())
