"""``MODEL_CARD.md`` for a saved :class:`~triage.classify.TicketClassifier`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _fine_tune_lines(model: Any) -> list[str]:
    encoder = getattr(model, "fine_tuned_encoder_", None)
    if encoder is None:
        return []
    info = encoder.info
    cfg = info.get("config", {})
    return [
        f"- encoder fine-tuned SetFit-style on the training split ({info.get('n_texts')} texts): "
        f"{info.get('steps')} steps, loss `{cfg.get('loss')}` {info.get('loss_first')} -> "
        f"{info.get('loss_last')}, lr {cfg.get('learning_rate')}, {info.get('seconds')} s; stored in "
        "`encoder/` (the model embeds texts itself)"
    ]


def model_card(model: Any, *, extra: dict[str, Any] | None = None) -> str:
    """Markdown describing the training data, choices, held-out quality, calibration and abstain coverage."""
    m = model.metrics_
    info = model.train_info_
    extra = extra or {}
    lines = [
        f"# Model card: {extra.get('name', 'TicketClassifier')}",
        "",
        extra.get(
            "description", "A calibrated, abstaining ticket classifier (triage.classify.TicketClassifier)."
        ),
        "",
        "## Summary",
        "",
        f"- trained: {info.get('trained_at', '?')} in {info.get('fit_seconds', '?')} s on "
        f"{info.get('n_examples', '?')} examples, {len(model.classes_)} labels",
        f"- encoder: `{model.encoder_name_}` ({model.embedding_dim_}-d); features: **{model.features_}**, "
        f"C = {model.C_} (chosen on held-out macro-F1)",
        *_fine_tune_lines(model),
        f"- held-out data: {m.get('heldout')} ({m.get('n_heldout')} examples)",
        f"- held-out accuracy {_pct(m['accuracy'])}, macro-F1 {_pct(m['macro_f1'])}",
        f"- calibration on held-out data: temperature {m['temperature']:.3f}; expected calibration error "
        f"{m['ece_before']:.4f} before, {m['ece_after']:.4f} after",
    ]
    tuned = m.get("tuned_thresholds")
    if tuned:
        lines += [
            f"- **in use**: temperature and thresholds re-fitted on a separate calibration set ({tuned['n']} "
            f"rows, {tuned['out_of_scope']} out of scope): temperature {tuned['temperature']:.3f}, ECE "
            f"{tuned.get('ece', 0.0):.4f}",
            f"- abstain threshold {tuned['abstain_threshold']:.4f} for precision "
            f"{tuned['target_precision']:.2f}: coverage {_pct(tuned['coverage'])} at precision "
            f"{_pct(tuned['precision'])} on the calibration set",
            f"- auto-route threshold {tuned['auto_route_threshold']:.4f} (precision "
            f"{tuned['auto_route_precision']:.2f}): coverage {_pct(tuned['auto_route_coverage'])}; between "
            "the two thresholds predictions are `suggest`",
        ]
    else:
        lines += [
            f"- abstain threshold {m['abstain_threshold']:.4f} for precision {m['target_precision']:.2f}: "
            f"coverage {_pct(m['coverage_at_target'])} at precision {_pct(m['precision_at_target'])}"
            + (
                ""
                if m.get("target_reached", True)
                else " (target NOT reached on held-out data: abstains on all)"
            ),
            f"- auto-route threshold {m['auto_route_threshold']:.4f} (precision "
            f"{m['auto_route_precision']:.2f}): coverage {_pct(m['auto_route_coverage'])}; between the two "
            "thresholds predictions are `suggest`",
        ]
    for key in ("data", "split", "intended_use", "limitations"):
        if key in extra:
            lines += ["", f"## {key.replace('_', ' ').capitalize()}", "", str(extra[key])]
    lines += [
        "",
        "## Model selection (held-out macro-F1; ties go to the lower calibrated log-loss)",
        "",
        "| features | C | macro-F1 | log-loss |",
        "|---|---|---|---|",
    ]
    for row in m.get("selection", []):
        lines.append(
            f"| {row['features']} | {row['C']:g} | {row['macro_f1']:.4f} | {row.get('log_loss', 0):.4f} |"
        )
    lines += [
        "",
        "## Label distribution and per-class held-out quality",
        "",
        "| label | training examples | precision | recall | F1 | held-out support |",
        "|---|---|---|---|---|---|",
    ]
    counts = info.get("label_counts", {})
    for label, row in m.get("per_class", {}).items():
        lines.append(
            f"| {label} | {counts.get(label, '?')} | {row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['f1']:.3f} | {row['support']} |"
        )
    if "evaluation" in extra:
        lines += ["", "## Evaluation", "", str(extra["evaluation"])]
    lines += [
        "",
        "## Files",
        "",
        "`config.json` (settings, labels, encoder, thresholds), `weights.npz` (logistic-regression weights, "
        "embedding scaler, evidence examples' embeddings), `examples.json` (evidence texts), "
        "`vocabulary.json` (TF-IDF, hybrid only), `metrics.json`, `manifest.json` (sha256 of every file). "
        "No pickle: every file is data.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(path: str | Path, model: Any, *, extra: dict[str, Any] | None = None) -> None:
    """Write :func:`model_card` to ``path``."""
    Path(path).write_text(model_card(model, extra=extra), encoding="utf-8")
