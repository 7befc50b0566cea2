"""Calibration and abstain helpers: temperature scaling, expected calibration error, precision thresholds.

All functions are plain numpy so they can be reused by any head (category, intent, sentiment, priority).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (numerically stable)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def fit_temperature(
    logits: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``softmax(logits / T)`` on ``y``.

    Temperature scaling (Guo et al. 2017) keeps the argmax, so accuracy is unchanged; only confidence moves.
    ``y`` holds class indices into the columns of ``logits``. A weak prior on ``log T`` (weight
    ``1 / n``) keeps the temperature finite when the held-out data has no errors (the likelihood alone
    would send it to 0).
    """
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if len(y) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(y)), y])) + 0.5 * log_t**2 / len(y)

    res = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded")
    return float(np.exp(res.x))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15) -> float:
    """ECE: the weighted mean gap between confidence and accuracy over ``n_bins`` equal-width bins."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if len(confidence) == 0:
        return 0.0
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(ece)


@dataclass(frozen=True)
class ThresholdChoice:
    """A confidence threshold and what it gives on the data it was chosen on."""

    threshold: float
    precision: float
    coverage: float
    target: float
    achieved: bool


def threshold_for_precision(confidence: np.ndarray, correct: np.ndarray, target: float) -> ThresholdChoice:
    """The lowest threshold whose accepted set (confidence >= threshold) has precision >= ``target``.

    Predictions are sorted by confidence; the largest top-k whose precision reaches the target sets the
    threshold, so coverage is as high as the target allows. When even the most confident prediction misses
    the target, the threshold is 1.0 + 1e-9 (abstain on everything) and ``achieved`` is False.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    n = len(confidence)
    if n == 0:
        return ThresholdChoice(1.0 + 1e-9, 0.0, 0.0, target, False)
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, n + 1)
    ok = np.flatnonzero(precision >= target)
    if len(ok) == 0:
        return ThresholdChoice(1.0 + 1e-9, 0.0, 0.0, target, False)
    k = int(ok[-1])
    threshold = float(confidence[order][k])
    accepted = confidence >= threshold
    return ThresholdChoice(
        threshold=threshold,
        precision=float(correct[accepted].mean()),
        coverage=float(accepted.mean()),
        target=target,
        achieved=True,
    )


def precision_coverage_curve(
    confidence: np.ndarray, correct: np.ndarray, *, points: int = 101
) -> dict[str, list]:
    """Precision and coverage of the accepted set at evenly spaced thresholds in [0, 1] (for plots)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    thresholds = np.linspace(0.0, 1.0, points)
    precision, coverage = [], []
    for t in thresholds:
        accepted = confidence >= t
        coverage.append(float(accepted.mean()) if len(confidence) else 0.0)
        precision.append(float(correct[accepted].mean()) if accepted.any() else 1.0)
    return {"threshold": thresholds.round(4).tolist(), "precision": precision, "coverage": coverage}
