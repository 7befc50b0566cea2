"""``triage summarize``: summarise a text, or every ticket of a JSONL/CSV file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``summarize`` command to the ``triage`` CLI."""

    @app.command("summarize")
    def summarize(
        source: Annotated[
            str, typer.Argument(help="A ticket text, or a .jsonl/.csv file of tickets (- for stdin).")
        ],
        output: Annotated[
            Path | None, typer.Option("-o", "--output", help="Write JSONL here (default stdout).")
        ] = None,
        max_sentences: Annotated[int, typer.Option(min=1, help="Sentences in the summary.")] = 3,
        max_words: Annotated[int, typer.Option(min=5, help="Word budget of the summary.")] = 60,
        centrality: Annotated[
            str, typer.Option(help="embedding (multilingual e5), lexical (TF-IDF, no model) or none.")
        ] = "embedding",
        model: Annotated[
            Path | None, typer.Option(help="Local seq2seq model folder for abstractive summaries.")
        ] = None,
        batch_size: Annotated[int, typer.Option(min=1, help="Tickets per batch.")] = 32,
    ) -> None:
        """Summarise SOURCE: one JSON summary per ticket (text, problem, request, tried, status, facts)."""
        from triage.errors import TriageError
        from triage.io import read_records, write_jsonl
        from triage.summarize import Summarizer

        if centrality not in ("embedding", "lexical", "none"):
            typer.secho(
                "error: --centrality must be embedding, lexical or none", fg=typer.colors.RED, err=True
            )
            raise typer.Exit(2)
        encoder = None
        if centrality == "embedding":
            from triage.encoders import get_encoder

            encoder = get_encoder("default")
        try:
            summarizer = Summarizer(
                encoder,
                method="abstractive" if model else "extractive",
                model=model,
                max_sentences=max_sentences,
                max_words=max_words,
                centrality=centrality,  # type: ignore[arg-type]
            )
        except TriageError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        is_file = source == "-" or (len(source) < 4096 and Path(source).is_file())
        handle = open(output, "w", encoding="utf-8") if output else sys.stdout
        try:
            if not is_file:
                write_jsonl([summarizer(source)], handle)
                return
            pending: list[tuple[int, dict | None, str | None]] = []  # (row, ticket, error) in input order

            def flush() -> None:
                tickets = [data for _, data, _ in pending if data is not None]
                summaries = iter(summarizer(tickets) if tickets else [])
                for row, data, error in pending:
                    if data is None:
                        write_jsonl([{"row": row, "error": error}], handle)
                    else:
                        summary = next(summaries)
                        write_jsonl([{"row": row, "summary": json.loads(summary.model_dump_json())}], handle)
                pending.clear()

            for record in read_records(source):
                pending.append((record.row, record.data, record.error))
                if len(pending) >= batch_size:
                    flush()
            flush()
        except TriageError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        finally:
            if output:
                handle.close()
