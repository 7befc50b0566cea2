"""``triage translate``: translate a text offline, and list the language pairs available."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``translate`` and ``translation-pairs`` to the ``triage`` CLI."""

    @app.command("translate")
    def translate(
        text: Annotated[str, typer.Argument(help="Text to translate.")],
        to: Annotated[str, typer.Option("--to", help="Target language (ISO code, e.g. en, pt).")] = "en",
        source: Annotated[
            str | None, typer.Option("--from", help="Source language (default: detected).")
        ] = None,
        model: Annotated[
            list[Path] | None,
            typer.Option(help="Model folder (Marian/NLLB/M2M100 or CTranslate2); repeatable."),
        ] = None,
        quality: Annotated[
            bool, typer.Option(help="Score the translation with the multilingual encoder.")
        ] = False,
    ) -> None:
        """Translate TEXT into --to; prints JSON with the translation, the original and the backend."""
        from triage.errors import TriageError
        from triage.translate import Translator

        try:
            encoder = None
            if quality:
                from triage.encoders import get_encoder

                encoder = get_encoder("default")
            translator = Translator(model or [], encoder=encoder)
            result = translator.translate(text, target=to, source=source)
        except TriageError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        typer.echo(result.model_dump_json())

    @app.command("translation-pairs")
    def translation_pairs(
        model: Annotated[
            list[Path] | None, typer.Option(help="Also load this model folder; repeatable.")
        ] = None,
    ) -> None:
        """List the language pairs translatable offline here (bundled model plus --model folders)."""
        from triage.errors import TriageError
        from triage.translate import Translator

        try:
            translator = Translator(model or [], encoder=None)
        except TriageError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        by_backend = {b.name: sorted(f"{s}->{t}" for s, t in b.pairs()) for b in translator.backends}
        typer.echo(
            json.dumps(
                {
                    "pairs": [f"{s}->{t}" for s, t in translator.available_pairs()],
                    "backends": by_backend,
                    "pivot": translator.pivot,
                }
            )
        )
