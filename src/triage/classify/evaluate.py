"""Evaluate a trained :class:`~triage.classify.TicketClassifier` on labelled data; plots are optional.

``evaluate(model, X, y)`` gives accuracy, macro-F1, a per-class table, the confusion matrix, the expected
calibration error and the coverage / precision at the model's abstain threshold. ``plot_confusion`` and
``plot_precision_coverage`` write PNGs with matplotlib (imported only when called:
``pip install 'helpdesk-triage[plots]'``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from triage.classify.calibration import expected_calibration_error, precision_coverage_curve
from triage.errors import InputError, ModelNotAvailableError


@dataclass
class EvaluationReport:
    """What :func:`evaluate` measured. Rates are fractions in [0, 1]."""

    n: int
    accuracy: float
    macro_f1: float
    ece: float
    abstain_threshold: float
    coverage: float
    precision_at_threshold: float
    accuracy_on_accepted: float
    automation: dict[str, float]
    per_class: dict[str, dict[str, float]]
    labels: list[str]
    confusion: list[list[int]]
    unknown_labels: dict[str, int] = field(default_factory=dict)
    curve: dict[str, list] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def per_class_markdown(self) -> str:
        """The per-class precision / recall / F1 / support table as Markdown."""
        lines = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, row in self.per_class.items():
            lines.append(
                f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
                f"{int(row['support'])} |"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """A few lines for a terminal."""
        text = (
            f"n={self.n}  accuracy={self.accuracy:.4f}  macro-F1={self.macro_f1:.4f}  ECE={self.ece:.4f}\n"
            f"abstain threshold {self.abstain_threshold:.4f}: coverage {self.coverage:.3f}, "
            f"precision on accepted {self.precision_at_threshold:.4f}\n"
            f"automation: " + ", ".join(f"{k} {v:.3f}" for k, v in self.automation.items())
        )
        if self.unknown_labels:
            text += f"\nlabels the model was not trained on (always counted wrong): {self.unknown_labels}"
        return text


def evaluate(
    model: Any, X: Any, y: Sequence[Any], *, embeddings: np.ndarray | None = None
) -> EvaluationReport:
    """Score ``model`` on inputs ``X`` (texts, tickets or embeddings) with true labels ``y``.

    Labels the model does not know are counted as errors and listed in ``unknown_labels``.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.array([str(v).strip() for v in y], dtype=object)
    started = time.perf_counter()
    proba = model.predict_proba(X, embeddings=embeddings)
    if len(proba) != len(y_true):
        raise InputError(f"{len(proba)} inputs but {len(y_true)} labels")
    if len(y_true) == 0:
        raise InputError("no evaluation rows")
    elapsed = time.perf_counter() - started
    classes = [str(c) for c in model.classes_]
    pred = np.array(classes, dtype=object)[proba.argmax(1)]
    conf = proba.max(1)
    correct = pred == y_true
    unknown = {
        str(k): int(v)
        for k, v in zip(*np.unique(y_true[~np.isin(y_true, classes)], return_counts=True), strict=True)
    }
    labels = classes + sorted(unknown)
    p, r, f, s = precision_recall_fscore_support(y_true, pred, labels=labels, zero_division=0)
    present = s > 0  # macro-F1 over the labels that occur in the evaluation data
    levels = [model.automation_level(c) for c in conf]
    accepted = conf >= model.abstain_threshold_
    return EvaluationReport(
        n=int(len(y_true)),
        accuracy=float(correct.mean()),
        macro_f1=float(f[present].mean()) if present.any() else 0.0,
        ece=expected_calibration_error(conf, correct),
        abstain_threshold=float(model.abstain_threshold_),
        coverage=float(accepted.mean()),
        precision_at_threshold=float(correct[accepted].mean()) if accepted.any() else 0.0,
        accuracy_on_accepted=float(correct[accepted].mean()) if accepted.any() else 0.0,
        automation={
            k: float(np.mean([lv == k for lv in levels])) for k in ("auto_route", "suggest", "abstain")
        },
        per_class={
            labels[i]: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i in range(len(labels))
            if s[i] > 0 or labels[i] in classes
        },
        labels=labels,
        confusion=confusion_matrix(y_true, pred, labels=labels).tolist(),
        unknown_labels=unknown,
        curve=precision_coverage_curve(conf, correct, points=51),
        seconds=round(elapsed, 3),
    )


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ModelNotAvailableError(
            "plots need matplotlib: pip install 'helpdesk-triage[plots]' (or pip install matplotlib)"
        ) from exc
    return plt


def plot_confusion(report: EvaluationReport, path: str | Path, *, normalize: bool = True) -> Path:
    """Write the confusion matrix (rows: true label, columns: predicted) as a PNG."""
    plt = _pyplot()
    cm = np.asarray(report.confusion, dtype=np.float64)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    n = len(report.labels)
    size = max(5.0, 0.35 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(n), report.labels, rotation=90, fontsize=7 if n > 20 else 9)
    ax.set_yticks(range(n), report.labels, fontsize=7 if n > 20 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if cm[i, j] >= 0.005:
                    ax.text(
                        j,
                        i,
                        f"{cm[i, j]:.2f}" if normalize else int(cm[i, j]),
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if cm[i, j] > 0.5 else "black",
                    )
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_precision_coverage(
    curve: dict[str, list], path: str | Path, *, threshold: float | None = None, target: float | None = None
) -> Path:
    """Precision and coverage against the confidence threshold, with the chosen threshold marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve["threshold"], curve["precision"], label="precision of accepted")
    ax.plot(curve["threshold"], curve["coverage"], label="coverage (accepted share)")
    if threshold is not None:
        ax.axvline(min(threshold, 1.0), color="grey", linestyle="--", label=f"threshold {threshold:.3f}")
    if target is not None:
        ax.axhline(target, color="red", linestyle=":", label=f"target precision {target:.2f}")
    ax.set_xlabel("confidence threshold")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
