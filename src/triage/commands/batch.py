"""``triage score``: backlog scoring (chunked, crash-safe, resumable; local processes or Dask)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def score(
    input: Annotated[str, typer.Argument(help="JSONL, CSV/TSV or Parquet file of tickets, or - for stdin.")],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Results: .jsonl (full results), .csv or .parquet (flat columns)."
        ),
    ],
    id_col: Annotated[str | None, typer.Option(help="Column with the ticket id.")] = None,
    text_cols: Annotated[
        str | None,
        typer.Option(help="Comma-separated columns joined into the body (e.g. title,description)."),
    ] = None,
    thread_col: Annotated[
        str | None, typer.Option(help="Column with the message thread (a list, or a JSON string in CSV).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Input format: jsonl, csv, tsv or parquet (default: suffix)."),
    ] = None,
    output_format: Annotated[
        str | None, typer.Option(help="Output format: jsonl, csv or parquet (default: from the suffix).")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Pipeline config (.json or .toml).")] = None,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="Encoder override: a name/folder, 'module:factory', or 'hashing' (model-free dry run)."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", "--batch-size", min=1, help="Rows scored and committed together.")
    ] = 256,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (local) or LocalCluster workers.")
    ] = 1,
    engine: Annotated[str, typer.Option(help="local (this machine) or dask.")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786); default: a LocalCluster.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Discard an interrupted run's parts and start again.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar with rate and ETA.")] = True,
    report: Annotated[bool, typer.Option(help="Print the end-of-run report to stderr.")] = True,
) -> None:
    """Triage every ticket in INPUT into OUTPUT.

    Rows that cannot be scored go to OUTPUT.errors.jsonl with their row number and the reason; the report
    (counts, label/priority distribution, abstain rate, throughput, drift) goes to OUTPUT.report.json. The
    run commits every chunk: after a crash or Ctrl-C, the same command with --resume goes on from there.
    """
    from triage.batch import ScoreOptions, ScoringInterrupted, render_report, score_file
    from triage.config import TriageConfig
    from triage.errors import TriageError

    try:
        options = ScoreOptions(
            fmt=fmt,
            output_format=output_format,
            id_col=id_col,
            text_cols=[c.strip() for c in text_cols.split(",") if c.strip()] if text_cols else None,
            thread_col=thread_col,
            config=TriageConfig.from_file(config) if config else TriageConfig(),
            encoder=encoder,
            chunk_size=chunk_size,
            workers=workers,
            engine=engine,
            scheduler=scheduler,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
        )
        summary = score_file(input, output, options)
    except ScoringInterrupted as exc:
        _fail(str(exc), code=130)
        return
    except (TriageError, ValueError, OSError) as exc:
        _fail(str(exc))
        return
    full = summary.pop("report")
    if report:
        typer.echo(render_report(full), err=True)
    typer.echo(json.dumps(summary))


def register(app: typer.Typer) -> None:
    """Add ``triage score`` to the CLI."""
    app.command(name="score")(score)
