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
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from sklearn.base import ClassifierMixin

from triage.classify.calibration import fit_temperature, softmax
from triage.classify.data import as_texts, check_training_data
from triage.classify.encoding import (
    check_encoder,
    default_encoder_name,
    embed_texts,
    resolve_encoder,
    texts_and_embeddings,
)
from triage.classify.estimator import Estimator, HasMethods, Integral, Interval, Options, Real, SequenceOf
from triage.classify.evidence import build_memory, example_evidence, term_evidence
from triage.classify.features import (
    design,
    fit_vectorizers,
    full_coef,
    logistic_regression,
    scaler,
    standardised,
    term_names,
    vectorizer_state,
    vectorizers_from_state,
)
from triage.classify.persistence import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    Stored,
    dump_state,
    load_state,
    object_array,
    read_config,
    required_files,
    stored_params,
    write_json_file,
)
from triage.classify.selection import (
    DEFAULT_C_GRID,
    SCORE_DECIMALS,
    c_grid,
    choose,
    choose_thresholds,
    heldout_logits,
    heldout_metrics,
    make_folds,
    threshold_summary,
)
from triage.encoders import Encoder, canonical_family, encoder_family
from triage.errors import EncoderMismatchError, InputError
from triage.persist import opening, read_json, require_listed, saving
from triage.schema import LabelScore, Prediction, Ticket

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_C_GRID",
    "FORMAT_VERSION",
    "SCORE_DECIMALS",
    "WEIGHTS_FILE",
    "TicketClassifier",
]

FORMAT_VERSION = 1
KIND = "TicketClassifier"
VOCAB_FILE = "vocabulary.json"
MEMORY_FILE = "examples.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
#: Sub-folder of a saved model holding its fine-tuned encoder layers (``fine_tune=True``).
FINE_TUNED_DIR = "encoder"

FeatureMode = Literal["auto", "embedding", "hybrid"]

_POSITIVE = Interval(Real, 0, None, closed="neither")
_PRECISION = Interval(Real, 0, 1, closed="right")
_COUNT = Interval(Integral, 0)


class TicketClassifier(ClassifierMixin, Estimator):
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

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "encoder": [str, HasMethods("encode", name="an encoder")],
        "features": [Options("auto", "embedding", "hybrid")],
        "C": [None, _POSITIVE, SequenceOf(_POSITIVE)],
        "class_weight": [Options("balanced"), None],
        "validation_size": [Interval(Real, 0, 1, closed="neither")],
        "cv": [None, Interval(Integral, 2)],
        "target_precision": [_PRECISION],
        "auto_route_precision": [_PRECISION],
        "abstain_threshold": [None, Interval(Real, 0, None)],
        "calibrate": [bool],
        "review_queue": [str],
        "memory_per_class": [_COUNT],
        "evidence_examples": [_COUNT],
        "evidence_terms": [_COUNT],
        "refit": [bool],
        "max_iter": [Interval(Integral, 1)],
        "random_state": [None, _COUNT],
        "batch_size": [Interval(Integral, 1)],
        "progress": [bool],
        "fine_tune": [bool, None, dict, HasMethods("to_dict", name="a FineTuneConfig")],
    }
    _fit_hint: ClassVar[str] = "call fit(texts, labels) or TicketClassifier.load(dir)"
    #: The learned state and where a saved model keeps it (drives both :meth:`save` and :meth:`load`).
    _state: ClassVar[tuple[Stored, ...]] = (
        Stored("encoder_name_", "config", "encoder.name", load=canonical_family),
        Stored("embedding_dim_", "config", "encoder.dim", load=int),
        Stored("classes_", "config", "classes", save=lambda c: [str(x) for x in c], load=object_array),
        Stored("features_", "config", "features"),
        Stored("C_", "config", "C"),
        Stored("temperature_", "config", "temperature", load=float),
        Stored("abstain_threshold_", "config", "abstain_threshold", load=float),
        Stored("auto_route_threshold_", "config", "auto_route_threshold", load=float),
        Stored("train_info_", "config", "train", default=dict),
        Stored("coef_", "array", "coef"),
        Stored("intercept_", "array", "intercept"),
        Stored("emb_mean_", "array", "emb_mean"),
        Stored("emb_scale_", "array", "emb_scale"),
        Stored("memory_embeddings_", "array", "memory_embeddings"),
        Stored("memory_labels_", "array", "memory_labels"),
        Stored("memory_texts_", "json", MEMORY_FILE, indent=None),
        Stored("metrics_", "json", METRICS_FILE, default=dict),
    )

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

    # ------------------------------------------------------------------ encoder and inputs
    def _get_encoder(self) -> Encoder:
        enc = getattr(self, "_encoder_obj", None)
        if enc is None:
            enc = self._encoder_obj = resolve_encoder(self.encoder)
        return enc

    def _encoder_identity(self, dim: int | None) -> tuple[str, int]:
        if getattr(self, "fine_tuned_encoder_", None) is not None:
            return self.fine_tuned_encoder_.family, int(self.fine_tuned_encoder_.dim)
        if isinstance(self.encoder, str):
            name = default_encoder_name(self.encoder)
            if name is not None and dim is not None:
                return name, dim
        enc = self._get_encoder()
        return encoder_family(enc), int(enc.dim)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(self._get_encoder(), texts, batch_size=self.batch_size, progress=self.progress)

    def _inputs(self, X: Any, embeddings: np.ndarray | None) -> tuple[list[str] | None, np.ndarray]:
        """Texts (or None) and embeddings for ``X``; encodes only what was not given."""
        return texts_and_embeddings(X, embeddings, self._embed, dim=getattr(self, "embedding_dim_", 0))

    def _design(self, texts: list[str] | None, emb: np.ndarray, mode: str, vecs: tuple | None) -> Any:
        z = standardised(
            emb, self.emb_mean_, self.emb_scale_, dim=self.embedding_dim_, encoder_name=self.encoder_name_
        )
        return design(z, texts, mode, vecs)

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
        self._validate_params()
        texts = as_texts(X)
        n_rows = len(texts) if texts is not None else len(np.asarray(X))
        labels = check_training_data(texts, list(y), n_rows=n_rows, row_ids=row_ids)
        classes = sorted(set(labels))
        self.classes_ = np.array(classes, dtype=object)
        index = {c: i for i, c in enumerate(classes)}
        yi = np.array([index[label] for label in labels], dtype=np.int64)
        folds = make_folds(
            yi, cv=self.cv, validation_size=self.validation_size, random_state=self.random_state
        )
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
        grid = c_grid(self.C)
        # 1. held-out logits of every candidate (one split, or cv folds out-of-fold) -> the best one
        oof, held = heldout_logits(
            texts,
            emb,
            yi,
            folds,
            modes,
            grid,
            n_classes=len(classes),
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            encoder_name=self.encoder_name_,
            progress=self.progress,
        )
        best, self.selection_ = choose([(m, c) for m in modes for c in grid], oof, held, yi)
        self.features_, self.C_ = best

        # 2. calibration and thresholds on the chosen candidate's held-out logits
        logits_h, y_h = oof[best][held], yi[held]
        raw = softmax(logits_h)
        self.temperature_ = fit_temperature(logits_h, y_h) if self.calibrate else 1.0
        cal = softmax(logits_h, self.temperature_)
        pred_h = cal.argmax(1)
        correct = pred_h == y_h
        conf = cal.max(1)
        self.abstain_threshold_, self.auto_route_threshold_, abstain = choose_thresholds(
            conf, correct, self.target_precision, self.auto_route_precision, self.abstain_threshold
        )
        self.heldout_ = {"confidence": conf.astype(np.float32), "correct": correct, "y": y_h, "pred": pred_h}

        # 3. the final model, on all the data (or the training split with refit=False and one split)
        fit_idx = np.arange(len(yi)) if self.refit or len(folds) > 1 else folds[0][0]
        fit_texts = [texts[i] for i in fit_idx] if texts is not None else None
        self.emb_mean_, self.emb_scale_ = scaler(emb[fit_idx])
        self.vectorizers_ = fit_vectorizers(fit_texts) if self.features_ == "hybrid" else None
        lr = logistic_regression(self.C_, self.class_weight, self.max_iter).fit(
            self._design(fit_texts, emb[fit_idx], self.features_, self.vectorizers_), yi[fit_idx]
        )
        self.coef_, self.intercept_ = full_coef(lr, len(classes))
        self.memory_embeddings_, self.memory_labels_, self.memory_texts_ = build_memory(
            texts,
            emb,
            yi,
            n_classes=len(classes),
            per_class=self.memory_per_class,
            random_state=self.random_state,
        )
        self.metrics_ = heldout_metrics(self, y_h, pred_h, raw, cal, abstain.achieved, len(folds))
        self.train_info_ = {
            "n_examples": int(len(yi)),
            "label_counts": {c: int(n) for c, n in sorted(Counter(labels).items())},
            "fit_seconds": round(time.perf_counter() - started, 2),
            "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        return self

    def _fine_tune(self, texts: list[str] | None, labels: list[Any], train_idx: np.ndarray) -> Any:
        """The encoder fine-tuned on the training rows, or None when ``fine_tune`` is off."""
        from triage.classify.finetune import fine_tune_split

        encoder = fine_tune_split(
            self.fine_tune, texts, labels, train_idx, cv=self.cv, progress=self.progress
        )
        previous = getattr(self, "fine_tuned_encoder_", None)
        if encoder is not None or (previous is not None and getattr(self, "_encoder_obj", None) is previous):
            self._encoder_obj = encoder  # the fine-tuned one, or (refit without) back to the configured one
        return encoder

    # ------------------------------------------------------------------ predict
    def _logits(self, texts: list[str] | None, emb: np.ndarray) -> np.ndarray:
        X = self._design(texts, emb, self.features_, self.vectorizers_)
        return np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_

    def decision_function(self, X: Any, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Uncalibrated class scores (logits), shape (n, n_classes); ``X`` may be one text or ticket."""
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
        self.abstain_threshold_, self.auto_route_threshold_, abstain = choose_thresholds(
            conf, correct, self.target_precision, self.auto_route_precision
        )
        summary = threshold_summary(self, conf, correct, inside, abstain.achieved)
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
        terms = evidence and self.features_ == "hybrid" and self.evidence_terms > 0
        out: list[Prediction] = []
        for i in range(len(proba)):
            best = int(order[i, 0])
            score = round(float(proba[i, best]), SCORE_DECIMALS)
            level = self.automation_level(score)
            found = []
            if sims is not None:
                found += example_evidence(
                    sims[i], self.memory_texts_, self.memory_labels_, self.classes_, self.evidence_examples
                )
            if terms:
                found += term_evidence(
                    X_design[i],
                    best,
                    self.coef_,
                    offset=self.embedding_dim_,
                    names=self._term_names(),
                    classes=self.classes_,
                    k=self.evidence_terms,
                )
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
                    evidence=found,
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

    def _term_names(self) -> list[str]:
        names = getattr(self, "_term_names_cache", None)
        if names is None:
            names = self._term_names_cache = term_names(self.vectorizers_)
        return names

    def __call__(self, X: Any, **kwargs: Any) -> Prediction | list[Prediction]:
        """One input gives one :class:`Prediction`, a list gives a list (as SetFit does)."""
        single = isinstance(X, str | dict | Ticket) or (isinstance(X, np.ndarray) and X.ndim == 1)
        preds = self.predictions(X, **kwargs)
        return preds[0] if single else preds

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """Write the model to ``directory`` (config.json, weights.npz, metrics.json, MODEL_CARD.md, manifest).

        The directory is written completely under a temporary name and then swapped in, so a model being
        served from ``directory`` keeps working until the new one is saved.
        """
        from triage.classify.card import write_model_card

        self._check_fitted()
        fine_tuned = getattr(self, "fine_tuned_encoder_", None)
        own = {"fine_tuned": FINE_TUNED_DIR} if fine_tuned is not None else {}
        encoder = {"name": self.encoder_name_, "dim": self.embedding_dim_, **own}
        with saving(directory, kind=KIND, encoder=encoder) as tmp:
            arrays: dict[str, np.ndarray] = {}
            if self.vectorizers_ is not None:
                vocab, arrays = vectorizer_state(self.vectorizers_)
                write_json_file(tmp / VOCAB_FILE, vocab, indent=None)
            if fine_tuned is not None:
                fine_tuned.save(tmp / FINE_TUNED_DIR)
            params = stored_params(self)
            if not isinstance(params["fine_tune"], bool | dict | None):
                params["fine_tune"] = params["fine_tune"].to_dict()
            header = {"format_version": FORMAT_VERSION, "type": KIND, "params": params}
            config = dump_state(self, self._state, tmp, header, arrays=arrays)
            config["encoder"].update(own)
            if extra:
                config["extra"] = extra
            write_json_file(tmp / CONFIG_FILE, config)
            write_model_card(tmp / CARD_FILE, self, extra=extra)
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path, *, encoder: Encoder | str | None = None) -> TicketClassifier:
        """Load a saved model (a directory, or the name of a bundled model such as ``"bitext-category"``).

        The manifest's sha256 are checked first. ``encoder``: the encoder to embed texts with; it must have
        the name and dimension the model was trained with (else :class:`EncoderMismatchError`). Default: the
        model's own encoder, built on first use.
        """
        from triage.models import resolve_model_dir

        directory, manifest = opening(
            resolve_model_dir(directory), kind=KIND, required=required_files(cls._state)
        )
        config = read_config(directory, KIND, FORMAT_VERSION)
        params = dict(config["params"])
        if isinstance(params.get("C"), list):
            params["C"] = tuple(params["C"])
        model = cls(**params)
        hybrid = config.get("features") == "hybrid"
        if hybrid:
            require_listed(directory, manifest, [VOCAB_FILE])
        weights = load_state(
            model, cls._state, directory, config, arrays=["idf_0", "idf_1"] if hybrid else []
        )
        model.n_features_in_ = model.embedding_dim_
        model.vectorizers_ = (
            vectorizers_from_state(read_json(directory / VOCAB_FILE), weights) if hybrid else None
        )
        fine_tuned = config["encoder"].get("fine_tuned")
        if fine_tuned:  # the model carries its own encoder: a shared pipeline encoder is not used
            from triage.classify.finetune import CONFIG, WEIGHTS, FineTunedE5Encoder

            require_listed(directory, manifest, [f"{fine_tuned}/{WEIGHTS}", f"{fine_tuned}/{CONFIG}"])
            encoder = FineTunedE5Encoder.load(directory / fine_tuned)
            if encoder.family != model.encoder_name_:
                raise EncoderMismatchError(
                    f"{directory}: its fine-tuned encoder is {encoder.family!r}, not "
                    f"{model.encoder_name_!r}: retrain"
                )
        check_encoder(directory, model.encoder_name_, model.embedding_dim_, encoder)
        model.encoder = model.encoder_name_ if encoder is None else encoder
        model.fine_tuned_encoder_ = encoder if fine_tuned else None
        if model.coef_.shape[0] != len(model.classes_):
            raise InputError(
                f"{directory}: weights have {model.coef_.shape[0]} classes, config {len(model.classes_)}"
            )
        return model
