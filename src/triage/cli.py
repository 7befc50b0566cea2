"""The ``triage`` command line: demo, info, steps, language, and the command groups of ``commands/``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from triage import __version__

app = typer.Typer(
    name="triage", help="Offline, multilingual helpdesk triage.", no_args_is_help=True, add_completion=False
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Offline, multilingual helpdesk triage."""


def _load_config(path: Path | None) -> Any:
    from triage.config import TriageConfig

    return TriageConfig.from_file(path) if path else TriageConfig()


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def demo(
    input: Annotated[
        Path | None, typer.Option(help="Ticket file (default: the bundled sample backlog).")
    ] = None,
    kb: Annotated[
        Path | None, typer.Option(help="Knowledge-base folder (default: the bundled sample KB).")
    ] = None,
    output: Annotated[Path, typer.Option(help="Where to save the results.")] = Path("triage-demo-output"),
) -> None:
    """Triage the bundled multilingual sample backlog, print a table and save the results."""
    from triage.bundled import BundledDataError, sample_kb_path, sample_tickets_path
    from triage.errors import TriageError
    from triage.io import read_records, write_jsonl
    from triage.pipeline import Triager

    try:
        source = input or sample_tickets_path()
        kb_dir = kb or (sample_kb_path() if input is None else input.parent / "kb")
    except BundledDataError as exc:
        _fail(f"{exc}; or pass --input FILE (and --kb FOLDER)")
    if not source.exists():
        _fail(f"ticket file not found at {source}; pass --input FILE")
    records = [r for r in read_records(source) if r.data is not None]
    try:
        triager = Triager(_demo_config(source, kb_dir))
        typer.echo(f"triaging {len(records)} tickets with steps: {', '.join(triager.config.steps)}", err=True)
        results = triager([r.data for r in records if r.data is not None])
    except TriageError as exc:  # a missing model or a damaged install: the message says how to fix it
        _fail(str(exc))
    meta = [(r.data or {}).get("metadata", {}) for r in records]
    typer.echo(_table(results, [m.get("expected_language") for m in meta]))
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "results.jsonl", "w", encoding="utf-8") as handle:
        write_jsonl(results, handle)
    typer.echo("")
    for line in _demo_scores(results, meta):
        typer.echo(line)
    typer.echo(f"results saved to {output}/results.jsonl")


def _demo_config(backlog: Path, kb_dir: Path) -> Any:
    """The default pipeline, plus KB suggestions and similar tickets when the sample KB is there."""
    from triage.config import TriageConfig, default_steps

    steps = default_steps()
    options: dict[str, Any] = {}
    extra = []
    if kb_dir.exists():
        extra.append("kb")
        options["kb"] = {"path": str(kb_dir.resolve()), "k": 3}
    extra.append("similar")
    options["similar"] = {"path": str(backlog.resolve()), "k": 3}
    at = steps.index("summarize")
    return TriageConfig(steps=steps[:at] + extra + steps[at:], options=options)


def _demo_scores(results: list[Any], meta: list[dict[str, Any]]) -> list[str]:
    """Accuracy lines against the sample backlog's labels (language and category)."""
    lang = [(r.language, m.get("expected_language")) for r, m in zip(results, meta, strict=True)]
    labelled = [(a, b) for a, b in lang if b]
    lines = [f"language correct on {sum(a == b for a, b in labelled)}/{len(labelled)} tickets"]
    cats = [(r.category, m.get("expected_category")) for r, m in zip(results, meta, strict=True)]
    cats = [(c, e) for c, e in cats if c is not None and e]
    if cats:
        decided = [(c, e) for c, e in cats if not c.abstained]
        lines.append(
            f"category correct on {sum(c.label == e for c, e in cats)}/{len(cats)} tickets (top-1); "
            f"{sum(c.label == e for c, e in decided)}/{len(decided)} of those not sent to review"
        )
    return lines


def _table(results: list[Any], expected: list[str | None]) -> str:
    header = (
        f"{'ticket':<7} {'lang':<4} {'ok':<3} {'category':<18} {'prio':<4} {'sentiment':<9} "
        f"{'kb article':<24} {'similar':<7} summary"
    )
    lines = [header, "-" * 110]
    for res, exp in zip(results, expected, strict=True):
        mark = "" if exp is None else ("yes" if res.language == exp else "NO")
        category = res.category.label if res.category else "-"
        if res.category and res.category.abstained:
            category = f"({category})"
        priority = res.priority.label if res.priority else "-"
        sentiment = res.sentiment.label if res.sentiment else "-"
        article = "-"
        if res.suggestions:
            top = res.suggestions[0]
            article = f"({top.article_id})" if getattr(top, "abstained", False) else top.article_id
        similar = res.similar[0].ticket_id if res.similar else "-"
        summary = " ".join(res.summary.text.split())[:40] if res.summary else "-"
        if res.errors:
            summary = f"ERROR {res.errors[0].step}: {res.errors[0].message[:30]}"
        lines.append(
            f"{res.ticket_id:<7} {res.language:<4} {mark:<3} {category[:18]:<18} {priority:<4} "
            f"{sentiment:<9} {article[:24]:<24} {similar:<7} {summary}"
        )
    return "\n".join(lines)


@app.command()
def info() -> None:
    """Show which models and backends are available offline, and how to add the missing ones."""
    from triage.info import availability

    typer.echo(f"triage {__version__} (Python {sys.version.split()[0]})")
    for item in availability():
        status = "ok     " if item.available else "missing"
        line = f"  [{status}] {item.component:<11} {item.name:<34} {item.detail}"
        if item.how_to_add:
            line += f"  -> {item.how_to_add}"
        typer.echo(line)


@app.command()
def steps(
    config: Annotated[
        Path | None, typer.Option(help="Pipeline config (.json/.toml); default: the default.")
    ] = None,
    all_steps: Annotated[bool, typer.Option("--all", help="Analyse every step available here.")] = False,
) -> None:
    """Show the pipeline's steps in run order: what each requires, assigns and takes as options.

    Like spaCy's ``analyze_pipes``: a requirement no step assigns is printed as a problem (exit code 1).
    """
    from triage.errors import TriageError
    from triage.steps import analyze, available_steps

    try:
        names = available_steps() if all_steps else _load_config(config).steps
        analysis = analyze(names)
    except (TriageError, ValueError, OSError) as exc:
        _fail(str(exc))
    typer.echo(analysis.table())
    if analysis.problems:
        raise typer.Exit(1)


@app.command()
def language(text: Annotated[str, typer.Argument(help="Text to identify.")]) -> None:
    """Detect the language of TEXT."""
    from triage.language import detect_language

    guess = detect_language(text)
    typer.echo(json.dumps({"language": guess.language, "confidence": guess.confidence}))


#: Modules under ``triage.commands`` that add commands: each defines ``register(app: typer.Typer)``.
#: Adding a command group is one line here.
COMMAND_MODULES = [
    "classify",
    "sentiment",
    "kb",
    "summarize",
    "translate",
    "pii",
    "batch",
    "service",
    "models",
]


def _register_commands() -> None:
    import importlib
    import importlib.util

    for name in COMMAND_MODULES:
        module = f"triage.commands.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(app)


def main() -> None:
    """Console-script entry point."""
    app()


_register_commands()

if __name__ == "__main__":
    main()
