"""The ``triage`` command line: demo, score, info, language."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from triage import __version__

app = typer.Typer(
    name="triage", help="Offline, multilingual helpdesk triage.", no_args_is_help=True, add_completion=False
)

REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tickets.jsonl"


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


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def demo(
    input: Annotated[
        Path | None, typer.Option(help="Ticket file (default: the bundled sample backlog).")
    ] = None,
    output: Annotated[Path, typer.Option(help="Where to save the results.")] = Path("triage-demo-output"),
) -> None:
    """Triage the bundled multilingual sample backlog, print a table and save the results."""
    from triage.io import read_records, write_jsonl
    from triage.pipeline import Triager

    source = input or REPO_EXAMPLES
    if not source.exists():
        _fail(f"sample backlog not found at {source}; pass --input FILE")
    records = [r for r in read_records(source) if r.data is not None]
    triager = Triager()
    results = triager([r.data for r in records if r.data is not None])
    expected = [(r.data or {}).get("metadata", {}).get("expected_language") for r in records]
    typer.echo(_table(results, expected))
    correct = sum(1 for res, exp in zip(results, expected, strict=True) if exp and res.language == exp)
    labelled = sum(1 for exp in expected if exp)
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "results.jsonl", "w", encoding="utf-8") as handle:
        write_jsonl(results, handle)
    typer.echo(
        f"\nlanguage correct on {correct}/{labelled} labelled tickets; "
        f"results saved to {output}/results.jsonl"
    )


def _table(results: list[Any], expected: list[str | None]) -> str:
    header = (
        f"{'ticket':<8} {'lang':<4} {'conf':>5} {'ok':<3} {'category':<18} {'priority':<9} {'sentiment':<9}"
    )
    lines = [header, "-" * len(header)]
    for res, exp in zip(results, expected, strict=True):
        mark = "" if exp is None else ("yes" if res.language == exp else "NO")
        category = res.category.label if res.category else "-"
        if res.category and res.category.abstained:
            category = f"({category})"
        priority = res.priority.label if res.priority else "-"
        sentiment = res.sentiment.label if res.sentiment else "-"
        lines.append(
            f"{res.ticket_id:<8} {res.language:<4} {res.language_confidence:>5.2f} {mark:<3} "
            f"{category[:18]:<18} {priority:<9} {sentiment:<9}"
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
