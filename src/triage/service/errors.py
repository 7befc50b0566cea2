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


#: Documented error responses, for the OpenAPI spec of every route.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        401: "Missing or wrong bearer token.",
        413: "Request body or batch too large.",
        422: "The request failed validation; `fields` names the failing fields.",
        503: "Models are still loading, or the feature is not configured.",
        504: "The request took longer than the per-request time limit.",
    }
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}


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
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error: the server log has the details")
