"""``triage train``, ``triage evaluate``, ``triage classify``: the retraining workflow on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _cols(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def train(
    data: Annotated[Path, typer.Option(help="Labelled tickets: CSV, TSV or JSONL.")],
    out: Annotated[
        Path, typer.Option(help="Model directory to write (replaced only once training succeeds).")
    ],
    label_col: Annotated[
        str, typer.Option(help="Column holding the label (queue, category, priority...).")
    ] = "label",
    text_cols: Annotated[
        str | None, typer.Option(help="Comma-separated text columns (default: subject/body/messages fields).")
    ] = None,
    cv: Annotated[
        int | None, typer.Option(min=2, help="Cross-validation folds instead of one split.")
    ] = None,
    validation_size: Annotated[float, typer.Option(help="Held-out fraction when --cv is not given.")] = 0.2,
    features: Annotated[str, typer.Option(help="auto, embedding or hybrid (embedding + TF-IDF).")] = "auto",
    target_precision: Annotated[
        float, typer.Option(help="Precision the abstain threshold is set for.")
    ] = 0.95,
    auto_route_precision: Annotated[
        float, typer.Option(help="Precision the auto-route threshold is set for.")
    ] = 0.99,
    c: Annotated[
        str | None,
        typer.Option("--C", help="Regularisation C, or a comma-separated grid (default 1,10,100)."),
    ] = None,
    balanced: Annotated[bool, typer.Option(help="Weight classes inversely to their frequency.")] = True,
    review_queue: Annotated[
        str, typer.Option(help="Queue named by abstained predictions.")
    ] = "triage-review",
    encoder: Annotated[str, typer.Option(help="Encoder name or sentence-transformers folder.")] = "default",
    name: Annotated[str | None, typer.Option(help="Model name for the model card.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, tsv or jsonl (default: from suffix).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    fine_tune: Annotated[
        bool,
        typer.Option(
            help="Fine-tune multilingual-e5-small SetFit-style on the training split first "
            "(needs torch; minutes on CPU). The saved model then carries its own encoder."
        ),
    ] = False,
    fine_tune_steps: Annotated[
        int | None, typer.Option(min=1, help="Fine-tuning steps (default: two passes over the data).")
    ] = None,
) -> None:
    """Train a calibrated, abstaining classifier head on labelled tickets and save it to OUT."""
    from triage.classify import TicketClassifier
    from triage.classify.data import check_training_data, read_labelled
    from triage.errors import TriageError

    try:
        texts, labels, rows = read_labelled(
            str(data), label_col=label_col, text_cols=_cols(text_cols), fmt=fmt
        )
        check_training_data(texts, labels, row_ids=rows)
        grid = tuple(float(v) for v in c.split(",")) if c else None
        clf = TicketClassifier(
            encoder=encoder,
            features=features,  # type: ignore[arg-type]
            C=grid[0] if grid and len(grid) == 1 else grid,
            class_weight="balanced" if balanced else None,
            validation_size=validation_size,
            cv=cv,
            target_precision=target_precision,
            auto_route_precision=auto_route_precision,
            review_queue=review_queue,
            progress=progress,
            fine_tune={"steps": fine_tune_steps} if fine_tune else False,
        )
        typer.echo(f"training on {len(texts)} rows of {data} ({len(set(labels))} labels)", err=True)
        clf.fit(texts, labels, row_ids=rows)
        extra = {
            "name": name or out.name,
            "data": f"`{data.name}`: {len(texts)} rows, label column `{label_col}`, text "
            f"{'columns ' + text_cols if text_cols else 'from the ticket fields'}.",
        }
        clf.save(out, extra=extra)
    except (TriageError, ValueError) as exc:
        _fail(str(exc))
        return
    m = clf.metrics_
    typer.echo(
        json.dumps(
            {
                "model": str(out),
                "labels": len(clf.classes_),
                "features": clf.features_,
                "C": clf.C_,
                "heldout_accuracy": round(m["accuracy"], 4),
                "heldout_macro_f1": round(m["macro_f1"], 4),
                "ece_before": round(m["ece_before"], 4),
                "ece_after": round(m["ece_after"], 4),
                "abstain_threshold": m["abstain_threshold"],
                "coverage_at_target": round(m["coverage_at_target"], 4),
                "fit_seconds": clf.train_info_["fit_seconds"],
                **({"encoder": clf.encoder_name_} if fine_tune else {}),
            }
        )
    )


def evaluate(
    model: Annotated[str, typer.Option(help="Model directory or bundled model name.")],
    data: Annotated[Path, typer.Option(help="Labelled test tickets: CSV, TSV or JSONL.")],
    label_col: Annotated[str, typer.Option(help="Column holding the true label.")] = "label",
    text_cols: Annotated[str | None, typer.Option(help="Comma-separated text columns.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for report.json, confusion.png, precision_coverage.png.")
    ] = None,
    plots: Annotated[bool, typer.Option(help="Write the PNG plots (needs matplotlib).")] = True,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, tsv or jsonl (default: from suffix).")
    ] = None,
) -> None:
    """Evaluate MODEL on labelled DATA: accuracy, macro-F1, per-class table, ECE, coverage, confusion PNG."""
    from triage.classify import TicketClassifier
    from triage.classify.data import read_labelled
    from triage.classify.evaluate import evaluate as run_evaluation
    from triage.classify.evaluate import plot_confusion, plot_precision_coverage
    from triage.errors import TriageError

    try:
        clf = TicketClassifier.load(model)
        clf.progress = True
        texts, labels, rows = read_labelled(
            str(data), label_col=label_col, text_cols=_cols(text_cols), fmt=fmt
        )
        unlabelled = [r for r, label in zip(rows, labels, strict=True) if not label]
        if unlabelled:
            _fail(f"{len(unlabelled)} rows have no label (rows {unlabelled[:10]}): label or drop them")
        report = run_evaluation(clf, texts, [str(v) for v in labels])
        written: list[str] = []
        folder = out or Path(f"{data.stem}-evaluation")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
        written.append(str(folder / "report.json"))
        if plots:
            written.append(str(plot_confusion(report, folder / "confusion.png")))
            written.append(
                str(
                    plot_precision_coverage(
                        report.curve,
                        folder / "precision_coverage.png",
                        threshold=report.abstain_threshold,
                        target=clf.target_precision,
                    )
                )
            )
    except TriageError as exc:
        _fail(str(exc))
        return
    typer.echo(report.summary())
    typer.echo(report.per_class_markdown())
    typer.echo("written: " + ", ".join(written), err=True)


def classify(
    text: Annotated[str, typer.Argument(help="Ticket text, or - to read one ticket per line from stdin.")],
    model: Annotated[str, typer.Option(help="Model directory or bundled model name.")] = "bitext-category",
    top_k: Annotated[int, typer.Option(min=1, help="Labels listed per prediction.")] = 3,
) -> None:
    """Classify TEXT with one head and print the prediction (label, score, automation, evidence) as JSON."""
    from triage.classify import TicketClassifier
    from triage.errors import TriageError

    try:
        clf = TicketClassifier.load(model)
        texts = [line.strip() for line in sys.stdin if line.strip()] if text == "-" else [text]
        for pred in clf.predictions(texts, top_k=top_k):
            typer.echo(pred.model_dump_json(exclude_none=True))
    except TriageError as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add ``train``, ``evaluate`` and ``classify`` to the ``triage`` command line."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("classify")(classify)
