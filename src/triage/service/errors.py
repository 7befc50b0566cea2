"""Structured JSON errors: ``{"error": {"code", "message", "fields"}}``; never a stack trace to clients."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("triage.service")


class FieldError(BaseModel):
    """One failing field: its location (``body.tickets.2.subject``) and what is wrong."""

    loc: str
    message: str
    type: str | None = None


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. validation_error, unauthorized.")
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every error the service returns has this shape."""

    error: ErrorBody


class ServiceError(Exception):
    """An error with an HTTP status and a code, rendered as :class:`ErrorResponse`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or []
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, fields=fields or []))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


#: What each error status means, as the OpenAPI spec documents it.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be read: an invalid Content-Length header, or a body that is not UTF-8 JSON.",
    401: "Missing or wrong bearer token (when the server has TRIAGE_API_TOKEN), or a bad webhook signature.",
    413: "Request body or batch too large.",
    422: "The request failed validation (malformed JSON included); `fields` names the failing fields.",
    499: "The client closed the connection before the answer (nginx's convention; the request was cancelled "
    "and logged, the client never reads this).",
    500: "An unexpected server error; the server log has the details (never a stack trace to the client).",
    503: "Models are still loading (Retry-After), failed to load, or the feature is not configured.",
    504: "The request took longer than the per-request time limit.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for ``statuses``: each one documented with the :class:`ErrorResponse` shape."""
    unknown = sorted(set(statuses) - set(ERROR_DESCRIPTIONS))
    if unknown:
        raise ValueError(f"no description for status(es) {unknown}: add them to ERROR_DESCRIPTIONS")
    return {s: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


#: FastAPI's 400 detail when reading the body fails other than by a JSON syntax error (invalid UTF-8, ...).
_UNPARSABLE_BODY = "There was an error parsing the body"


def _loc(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors for validation, HTTP and unexpected exceptions."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            FieldError(loc=_loc(err.get("loc", ())), message=str(err.get("msg", "")), type=err.get("type"))
            for err in exc.errors()
        ]
        first = fields[0] if fields else None
        message = f"invalid request: {first.loc}: {first.message}" if first else "invalid request"
        return error_response(422, "validation_error", message, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        message = str(exc.detail)
        if exc.status_code == 400 and message == _UNPARSABLE_BODY:  # FastAPI's words for a non-UTF-8 body
            message = (
                "the request body could not be read as JSON (not UTF-8, or nested too deeply): send UTF-8 "
                "encoded JSON with Content-Type: application/json"
            )
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error: the server log has the details")
