"""``triage sentiment TEXT``, ``triage cues TEXT`` and ``triage priority-rules``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _read_text(text: str) -> str:
    if text == "-":
        import sys

        return sys.stdin.read()
    return text


def sentiment(
    text: Annotated[str, typer.Argument(help="Ticket text to score (- reads stdin).")],
    vip: Annotated[bool, typer.Option(help="Treat the customer as VIP for the priority suggestion.")] = False,
    metadata: Annotated[
        str | None,
        typer.Option(help='Ticket metadata as JSON for the priority rules, e.g. \'{"tier": "gold"}\'.'),
    ] = None,
    rules: Annotated[Path | None, typer.Option(help="Priority rules file (.json/.toml).")] = None,
    model: Annotated[str, typer.Option(help="Sentiment model: bundled name or directory.")] = "sentiment",
) -> None:
    """Sentiment (label, score in [-1, 1], confidence), escalation cues with spans, and a P1-P4 suggestion."""
    from triage.errors import TriageError
    from triage.sentiment import PriorityRules, SentimentScorer, suggest_priority

    body = _read_text(text)
    try:
        meta: dict[str, Any] = json.loads(metadata) if metadata else {}
    except json.JSONDecodeError as exc:
        _fail(f"--metadata is not valid JSON: {exc}")
    if not isinstance(meta, dict):
        _fail("--metadata must be a JSON object")
    if vip:
        meta["vip"] = True
    try:
        priority_rules = PriorityRules.from_file(rules) if rules else PriorityRules()
        result = SentimentScorer(model)(body) if body.strip() else None
    except TriageError as exc:
        _fail(str(exc))
    if result is None:
        from triage.schema import SentimentResult

        result = SentimentResult(label="neutral", score=0.0, confidence=0.0, warnings=["empty text"])
    priority = suggest_priority(priority_rules, cues=result.cues, sentiment=result, metadata=meta)
    out = result.model_dump(mode="json")
    out["priority"] = {"label": priority.label, "reasons": [e.text for e in priority.evidence]}
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def cues(text: Annotated[str, typer.Argument(help="Text to scan (- reads stdin).")]) -> None:
    """Escalation cues only (no model needed): kind, matched text and span."""
    from triage.sentiment import detect_cues

    found = detect_cues(_read_text(text))
    typer.echo(json.dumps([c.model_dump(exclude_none=True) for c in found], ensure_ascii=False, indent=2))


def priority_rules(
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the rules here instead of stdout.")
    ] = None,
) -> None:
    """Print the default priority rules as JSON: edit them and set options.priority.rules to the file."""
    from triage.sentiment import PriorityRules

    text = json.dumps(PriorityRules().model_dump(mode="json"), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add the sentiment commands to the ``triage`` CLI."""
    app.command("sentiment")(sentiment)
    app.command("cues")(cues)
    app.command("priority-rules")(priority_rules)
