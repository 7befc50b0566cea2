"""``triage serve``: the HTTP service (FastAPI + uvicorn)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Annotated, Any

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    config: Annotated[Path | None, typer.Option(help="Pipeline config (.json or .toml).")] = None,
    kb: Annotated[
        str | None, typer.Option(help="Knowledge base for /v1/kb/search (saved store or article folder).")
    ] = None,
    feedback: Annotated[str | None, typer.Option(help="JSONL feedback log (default: beside the KB).")] = None,
    encoder: Annotated[
        str | None, typer.Option(help="Encoder override (name, folder or module:factory).")
    ] = None,
    max_batch: Annotated[int | None, typer.Option(min=1, help="Most tickets per request (64).")] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(min=1024, help="Largest request body (1 MiB).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=0.001, help="Per-request time limit in seconds (30).")
    ] = None,
    batch_window_ms: Annotated[
        float | None,
        typer.Option(min=0, max=1000, help="Batching wait, ms (0: batches form while the model is busy)"),
    ] = None,
    batch_max_tickets: Annotated[
        int | None, typer.Option(min=1, help="Most tickets in one model call (32; 1 with a 0 window: off).")
    ] = None,
    encoder_batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="Tickets per encoder call inside a micro-batch (the config's batch_size)."),
    ] = None,
    public_docs: Annotated[
        bool, typer.Option("--public-docs", help="Serve /docs and /openapi.json without the token.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (each loads the models once).")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve triage over HTTP: POST /v1/triage, /v1/kb/search, /v1/feedback, /v1/webhooks/{zammad,znuny};
    GET /healthz, /readyz; docs at /docs.

    Set TRIAGE_API_TOKEN in the environment to require `Authorization: Bearer <token>` (never pass the token
    on the command line, where other users can see it).
    """
    try:
        import uvicorn

        from triage.service.settings import ServiceSettings
    except ImportError as exc:
        typer.secho(
            f"error: the service needs its extra: pip install 'helpdesk-triage[service]' ({exc})", err=True
        )
        raise typer.Exit(2) from exc
    overrides = {
        "TRIAGE_CONFIG": str(config) if config else None,
        "TRIAGE_KB": kb,
        "TRIAGE_FEEDBACK": feedback,
        "TRIAGE_ENCODER": encoder,
        "TRIAGE_MAX_BATCH": max_batch,
        "TRIAGE_MAX_BODY_BYTES": max_body_bytes,
        "TRIAGE_TIMEOUT_S": timeout,
        "TRIAGE_BATCH_WINDOW_MS": batch_window_ms,
        "TRIAGE_BATCH_MAX_TICKETS": batch_max_tickets,
        "TRIAGE_ENCODER_BATCH_SIZE": encoder_batch_size,
        "TRIAGE_PUBLIC_DOCS": "1" if public_docs else None,
    }
    for key, value in overrides.items():
        if value is not None:
            os.environ[key] = str(value)
    try:
        ServiceSettings.from_env()  # fail here, with a clear message, rather than in every worker
    except ValueError as exc:
        typer.secho(f"error: invalid service settings: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not os.environ.get("TRIAGE_API_TOKEN"):
        typer.secho("note: TRIAGE_API_TOKEN is not set: the API needs no token", err=True)
    uvicorn.run(
        "triage.service.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=_log_config(log_level),
    )


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, plus the ``triage`` loggers (e.g. "triage service ready in ...") on stderr."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["triage"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def register(app: typer.Typer) -> None:
    """Add ``triage serve`` to the CLI."""
    app.command(name="serve")(serve)
