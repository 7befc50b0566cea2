"""Choosing the classifier's settings on held-out data: the split or folds, the out-of-fold logits of every
(features, C) candidate, the winner, and the held-out metrics a model card reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from triage.classify.calibration import (
    ThresholdChoice,
    expected_calibration_error,
    fit_temperature,
    softmax,
    threshold_for_precision,
)
from triage.classify.features import (
    design,
    fit_vectorizers,
    full_logits,
    logistic_regression,
    scaler,
    standardised,
)
from triage.errors import InputError

DEFAULT_C_GRID = (1.0, 10.0, 100.0)
#: Scores are reported, and compared with the thresholds, at this many decimals.
SCORE_DECIMALS = 6

Candidate = tuple[str, float]


def c_grid(C: float | Sequence[float] | None) -> list[float]:
    """The regularisation values to try: ``C`` itself, its items, or :data:`DEFAULT_C_GRID`."""
    return [float(C)] if isinstance(C, int | float) else [float(c) for c in (C or DEFAULT_C_GRID)]


def make_folds(
    yi: np.ndarray, *, cv: int | None, validation_size: float, random_state: int | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``cv`` stratified folds, or one stratified validation split of ``validation_size`` (sorted indices)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    min_count = int(np.bincount(yi).min())
    if cv:
        k = min(int(cv), min_count)
        if k < 2:
            raise InputError("cross-validation needs at least 2 examples of every label")
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
        return [(tr, va) for tr, va in skf.split(np.zeros(len(yi)), yi)]
    n_classes = int(yi.max()) + 1
    n_val = max(int(round(validation_size * len(yi))), n_classes)
    if len(yi) - n_val < n_classes:
        raise InputError(
            f"{len(yi)} examples are too few for a validation split over {n_classes} labels: "
            "add data or use cv=K (cross-validation)"
        )
    idx = np.arange(len(yi))
    tr, va = train_test_split(idx, test_size=n_val, stratify=yi, random_state=random_state)
    return [(np.sort(tr), np.sort(va))]


def heldout_logits(
    texts: list[str] | None,
    emb: np.ndarray,
    yi: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    modes: list[str],
    grid: list[float],
    *,
    n_classes: int,
    class_weight: str | None,
    max_iter: int,
    encoder_name: str,
    progress: bool = False,
) -> tuple[dict[Candidate, np.ndarray], np.ndarray]:
    """Out-of-fold logits of every (mode, C) candidate, and the mask of rows that were held out."""
    oof = {(m, c): np.zeros((len(yi), n_classes), dtype=np.float64) for m in modes for c in grid}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(modes) * len(grid) * len(folds), desc="fit", unit="model")
    held = np.zeros(len(yi), dtype=bool)
    dim = emb.shape[1]
    for train_idx, val_idx in folds:
        held[val_idx] = True
        mean, scale = scaler(emb[train_idx])
        z_tr = standardised(emb[train_idx], mean, scale, dim=dim, encoder_name=encoder_name)
        z_va = standardised(emb[val_idx], mean, scale, dim=dim, encoder_name=encoder_name)
        tr_texts = [texts[i] for i in train_idx] if texts is not None else None
        va_texts = [texts[i] for i in val_idx] if texts is not None else None
        vecs = fit_vectorizers(tr_texts) if "hybrid" in modes and tr_texts is not None else None
        for mode in modes:
            Xtr = design(z_tr, tr_texts, mode, vecs)
            Xva = design(z_va, va_texts, mode, vecs)
            for c in grid:
                lr = logistic_regression(c, class_weight, max_iter).fit(Xtr, yi[train_idx])
                oof[(mode, c)][val_idx] = full_logits(lr, Xva, n_classes)
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    return oof, held


def calibrated_nll(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood after temperature scaling (a tie-breaker between candidates)."""
    proba = softmax(logits, fit_temperature(logits, y))
    return float(-np.mean(np.log(np.maximum(proba[np.arange(len(y)), y], 1e-12))))


def choose(
    candidates: list[Candidate], oof: dict[Candidate, np.ndarray], held: np.ndarray, yi: np.ndarray
) -> tuple[Candidate, list[dict[str, Any]]]:
    """The candidate with the best held-out macro-F1, and the table of every candidate's scores.

    Ties on macro-F1 (common when held-out data is easy) go to the lower calibrated log-loss, then to the
    embedding-only features (they carry across languages; TF-IDF does not).
    """
    from sklearn.metrics import f1_score

    scores = {
        cand: float(f1_score(yi[held], logits[held].argmax(1), average="macro"))
        for cand, logits in oof.items()
    }
    nll = {cand: calibrated_nll(logits[held], yi[held]) for cand, logits in oof.items()}
    best = max(
        candidates, key=lambda cand: (round(scores[cand], 4), -round(nll[cand], 4), cand[0] == "embedding")
    )
    table = [
        {"features": m, "C": c, "macro_f1": round(scores[(m, c)], 5), "log_loss": round(nll[(m, c)], 5)}
        for (m, c) in candidates
    ]
    return best, table


def heldout_metrics(
    model: Any, y: np.ndarray, pred: np.ndarray, raw: np.ndarray, cal: np.ndarray, reached: bool, n_folds: int
) -> dict[str, Any]:
    """The held-out quality of a fitted ``model`` (its ``metrics_``): accuracy, macro-F1, calibration,
    abstain and auto-route coverage, the selection table and per-class scores."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    classes = model.classes_
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(len(classes)), zero_division=0)
    conf = cal.max(1)
    accepted = conf >= model.abstain_threshold_
    correct = pred == y
    return {
        "heldout": "cross-validation (out-of-fold)" if n_folds > 1 else "stratified validation split",
        "n_heldout": int(len(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "ece_before": expected_calibration_error(raw.max(1), raw.argmax(1) == y),
        "ece_after": expected_calibration_error(conf, correct),
        "temperature": model.temperature_,
        "target_precision": model.target_precision,
        "abstain_threshold": model.abstain_threshold_,
        "target_reached": reached,
        "coverage_at_target": float(accepted.mean()),
        "precision_at_target": float(correct[accepted].mean()) if accepted.any() else 0.0,
        "auto_route_precision": max(model.auto_route_precision, model.target_precision),
        "auto_route_threshold": model.auto_route_threshold_,
        "auto_route_coverage": float((conf >= model.auto_route_threshold_).mean()),
        "features": model.features_,
        "C": model.C_,
        "selection": model.selection_,
        "per_class": {
            str(classes[i]): {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i in range(len(classes))
        },
    }


def round_down(value: float) -> float:
    """Round a threshold down to :data:`SCORE_DECIMALS` so a reported score equal to it is accepted."""
    scale = 10**SCORE_DECIMALS
    return float(np.floor(value * scale) / scale) if value <= 1.0 else value


def choose_thresholds(
    conf: np.ndarray,
    correct: np.ndarray,
    target_precision: float,
    auto_route_precision: float,
    fixed: float | None = None,
) -> tuple[float, float, ThresholdChoice]:
    """The abstain and auto-route thresholds reaching the target precisions on held-out predictions
    (``fixed``: the abstain threshold given instead), and the abstain threshold's choice."""
    abstain = threshold_for_precision(conf, correct, target_precision)
    auto = threshold_for_precision(conf, correct, max(auto_route_precision, target_precision))
    low = round_down(float(fixed) if fixed is not None else abstain.threshold)
    return low, max(round_down(auto.threshold), low), abstain


def threshold_summary(
    model: Any, conf: np.ndarray, correct: np.ndarray, inside: np.ndarray, reached: bool
) -> dict[str, Any]:
    """What thresholds re-chosen on a calibration set give there (``inside``: the in-scope rows)."""
    accepted = conf >= model.abstain_threshold_
    routed = conf >= model.auto_route_threshold_
    return {
        "n": int(len(conf)),
        "out_of_scope": int((~inside).sum()),
        "temperature": float(model.temperature_),
        "ece": expected_calibration_error(conf[inside], correct[inside]) if inside.any() else 0.0,
        "target_precision": float(model.target_precision),
        "abstain_threshold": model.abstain_threshold_,
        "coverage": float(accepted.mean()),
        "precision": float(correct[accepted].mean()) if accepted.any() else 0.0,
        "target_reached": bool(reached),
        "auto_route_precision": float(max(model.auto_route_precision, model.target_precision)),
        "auto_route_threshold": model.auto_route_threshold_,
        "auto_route_coverage": float(routed.mean()),
    }
