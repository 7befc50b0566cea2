"""``triage score``: backlog scoring (chunked, crash-safe, resumable; local processes or Dask)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # pragma: no cover
    from triage.config import TriageConfig

#: ``triage score``'s exit codes (also in its --help and the README).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_TOO_MANY_ERRORS = 3
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT); SIGTERM gives 143: 128 + the signal number


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
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Input text encoding, e.g. utf-8, utf-16, cp1252, latin-1 (default: from a byte-order "
            "mark, else UTF-8). Bytes it cannot decode are flagged per row (warning, report), never silently "
            "replaced."
        ),
    ] = None,
    output_format: Annotated[
        str | None, typer.Option(help="Output format: jsonl, csv or parquet (default: from the suffix).")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Pipeline config (.json or .toml).")] = None,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="Encoder override: a name/folder, 'module:factory', or 'hashing' (model-free dry run of "
            "input, output and resume: steps whose saved models need a real encoder, such as the bundled "
            "classify and sentiment heads, are left out with a note)."
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
    max_error_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Exit with code 3 when more than this share of the rows could not be scored (the outputs "
            "are still written). Default 1.0: only when every row failed.",
        ),
    ] = 1.0,
) -> None:
    """Triage every ticket in INPUT into OUTPUT.

    Rows that cannot be scored go to OUTPUT.errors.jsonl with their row number and the reason.
    The report (counts, distributions, abstain rate, throughput, drift, input problems) goes to
    OUTPUT.report.json. Every chunk is committed: after a crash, Ctrl-C or SIGTERM, the same
    command with --resume goes on from there. The output path and free space are checked first.

    Exit codes:
    0 = the run completed;
    2 = bad input, options or output path, or the run stopped on an error (stderr says what is kept);
    3 = the run completed, but every row (or more than --max-error-rate of them) failed;
    130 = interrupted by Ctrl-C, 143 = by SIGTERM (committed rows kept: rerun with --resume);
    1 = an unexpected internal error.
    """
    from triage.batch import ScoreOptions, ScoringInterrupted, render_report, score_file
    from triage.config import TriageConfig
    from triage.errors import TriageError

    try:
        pipeline = TriageConfig.from_file(config) if config else TriageConfig()
        if encoder == "hashing":
            pipeline, left_out = dry_run_config(pipeline)
            if left_out:
                typer.secho(_left_out_note(left_out), fg=typer.colors.YELLOW, err=True)
        options = ScoreOptions(
            fmt=fmt,
            encoding=encoding,
            output_format=output_format,
            id_col=id_col,
            text_cols=[c.strip() for c in text_cols.split(",") if c.strip()] if text_cols else None,
            thread_col=thread_col,
            config=pipeline,
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
        _fail(str(exc), code=exc.exit_code)
        return
    except (TriageError, ValueError, OSError) as exc:
        _fail(str(exc))
        return
    full = summary.pop("report")
    if report:
        typer.echo(render_report(full), err=True)
    for line in _input_warnings(full, str(summary["report_file"])):
        typer.secho(line, fg=typer.colors.YELLOW, err=True)
    typer.echo(json.dumps(summary))
    too_many = _too_many_errors(summary, max_error_rate)
    if too_many:
        _fail(f"{too_many}; the reasons are in {summary['errors_file']}", code=EXIT_TOO_MANY_ERRORS)


#: Steps that load no model trained on encoder embeddings: a ``--encoder hashing`` dry run always keeps them.
ENCODER_FREE_STEPS = frozenset({"normalize", "redact", "language", "encode", "summarize", "priority"})


def dry_run_config(config: TriageConfig) -> tuple[TriageConfig, dict[str, str]]:
    """``config`` for a ``--encoder hashing`` dry run, and the steps left out (step -> why).

    The hashing encoder is model-free: a step whose saved model (a classifier or sentiment head, a knowledge
    base or ticket index) was built on another encoder's embeddings cannot run on it, so it is left out
    instead of stopping the run. Each other step is built once here with the hashing encoder to find out
    (a head trained on hashing embeddings, say in a test, is kept).
    """
    from triage.batch.hashing import HashingEncoder
    from triage.errors import EncoderMismatchError
    from triage.pipeline import Triager

    triager = Triager(config, encoder=HashingEncoder())  # checks the pipeline; builds no step yet
    left_out: dict[str, str] = {}
    for step in config.steps:
        if step in ENCODER_FREE_STEPS:
            continue
        try:
            triager.analysis.specs[step].build(triager, triager.options[step])
        except EncoderMismatchError as exc:
            left_out[step] = str(exc)
    kept = [step for step in config.steps if step not in left_out]
    return config.model_copy(update={"steps": kept}), left_out


def _left_out_note(left_out: dict[str, str]) -> str:
    steps = ", ".join(left_out)
    lines = [
        f"note: --encoder hashing is a model-free dry run (input, output and resume checks): left out "
        f"step(s) {steps}, whose saved models need the encoder they were trained with; their result fields "
        "stay empty. Run without --encoder hashing for the real triage."
    ]
    lines += [f"  {step}: {why}" for step, why in left_out.items()]
    return "\n".join(lines)


def _input_warnings(report: dict[str, Any], report_file: str) -> list[str]:
    lines = []
    for issue, seen in (report.get("input_issues") or {}).items():
        rows = ", ".join(str(r) for r in seen["first_rows"]) + (
            ", ..." if seen["rows"] > len(seen["first_rows"]) else ""
        )
        lines.append(
            f"warning: {seen['rows']} row(s) {seen.get('meaning') or issue}: rows {rows} (see {report_file})"
        )
    return lines


def _too_many_errors(summary: dict[str, Any], max_error_rate: float) -> str | None:
    rows, failed = int(summary.get("rows", 0)), int(summary.get("row_errors", 0))
    if not rows or not failed:
        return None
    if failed == rows:
        return f"every row failed ({failed} of {rows})"
    if failed / rows > max_error_rate:
        share = f"{failed / rows:.1%}"
        return f"{failed} of {rows} rows failed ({share}), more than --max-error-rate {max_error_rate:g}"
    return None


def register(app: typer.Typer) -> None:
    """Add ``triage score`` to the CLI."""
    app.command(name="score")(score)
