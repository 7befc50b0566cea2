"""``triage redact INPUT -o OUTPUT``: mask personal data in a ticket file (JSONL, CSV or plain text)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

_ID_KEYS = {"id", "ticket_id", "ticketId", "TicketID", "number", "TicketNumber", "key"}


def register(app: typer.Typer) -> None:
    """Add ``triage redact`` to the CLI."""
    app.command("redact")(redact)


def redact(
    input: Annotated[str, typer.Argument(help="JSONL, CSV/TSV or .txt file, or - for JSONL on stdin.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Masked file (JSONL; .txt in, .txt out).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv, tsv or txt (default: suffix).")
    ] = None,
    types: Annotated[str | None, typer.Option(help="Comma-separated types to mask (default: all).")] = None,
    key_env: Annotated[
        str, typer.Option(help="Environment variable holding the key that encrypts each row's mapping.")
    ] = "TRIAGE_PII_KEY",
    keep_mapping: Annotated[
        bool, typer.Option(help="Add 'redaction_vault' (the mapping, encrypted with the key) to each row.")
    ] = False,
    phone_library: Annotated[
        bool, typer.Option(help="Validate phones with the phonenumbers library.")
    ] = True,
) -> None:
    """Mask e-mails, phones, IBANs, cards, IDs, names... in every text field; ids and field names are kept.

    Each output row gets ``redactions`` (counts by type). Rows that cannot be read go to
    OUTPUT.errors.jsonl with their row number; the output appears only when the run completes.
    """
    from triage.errors import InputError, TriageError
    from triage.io import detect_format, read_records
    from triage.pii import PiiMapping, Redactor

    def fail(message: str) -> None:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)

    key = os.environ.get(key_env) if keep_mapping else None
    if keep_mapping and not key:
        fail(
            f"--keep-mapping needs a key in ${key_env}; make one with: "
            "python -c 'import triage.pii as p; print(p.generate_key())'"
        )
    try:
        redactor = Redactor(
            [t.strip() for t in types.split(",") if t.strip()] if types else None, phone_library=phone_library
        )
    except (ValueError, ImportError) as exc:
        fail(str(exc))
    is_text = (fmt or "").lower() == "txt" or (
        fmt is None and Path(input).suffix.lower() in {".txt", ".text"}
    )
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    if is_text:
        if not Path(input).is_file():
            fail(f"input file not found: {input}")
        text = Path(input).read_bytes().decode("utf-8", errors="replace")
        masked = redactor.redact(text)
        tmp.write_text(masked.text, encoding="utf-8")
        tmp.replace(output)
        typer.echo(json.dumps({"output": str(output), "redactions": masked.counts}))
        return
    errors_path = output.with_name(output.name + ".errors.jsonl")
    tmp_err = errors_path.with_name(f".{errors_path.name}.tmp-{os.getpid()}")
    counts = {"rows": 0, "row_errors": 0, "masked": 0}
    try:
        detect_format(input, fmt)
        with open(tmp, "w", encoding="utf-8") as out, open(tmp_err, "w", encoding="utf-8") as err:
            for record in read_records(input, fmt=fmt):
                if record.data is None:
                    err.write(
                        json.dumps({"row": record.row, "error": record.error}, ensure_ascii=False) + "\n"
                    )
                    counts["row_errors"] += 1
                    continue
                mapping = PiiMapping()
                row = {
                    k: (v if k in _ID_KEYS else _mask(v, redactor, mapping)) for k, v in record.data.items()
                }
                kinds: dict[str, int] = {}
                for placeholder in mapping:
                    kind = placeholder[1:].rsplit("_", 1)[0]
                    kinds[kind] = kinds.get(kind, 0) + 1
                row["redactions"] = kinds
                if key:
                    row["redaction_vault"] = mapping.encrypt(key)
                out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                counts["rows"] += 1
                counts["masked"] += len(mapping)
    except (InputError, TriageError) as exc:
        tmp.unlink(missing_ok=True)
        tmp_err.unlink(missing_ok=True)
        fail(str(exc))
    tmp.replace(output)
    tmp_err.replace(errors_path)
    typer.echo(json.dumps({"output": str(output), "errors_file": str(errors_path), **counts}))


def _mask(value: Any, redactor: Any, mapping: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redactor.redact(value, mapping).text
    if depth > 20:
        return None
    if isinstance(value, dict):
        return {k: _mask(v, redactor, mapping, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, redactor, mapping, depth + 1) for v in value]
    return value
