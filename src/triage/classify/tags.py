"""``TicketTagger``: multi-label tags (one-vs-rest), each tag with its own calibrated threshold.

A ticket can carry several tags (``vip``, ``legal``, ``bug``...). One logistic regression per tag on the
standardised embedding; each tag's scores are recalibrated (Platt scaling on held-out logits) and its
threshold is the lowest one reaching ``target_precision`` on held-out data (tags that never reach it
keep threshold 1.0 + 1e-9, i.e. are never assigned, and say so in ``metrics_``).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from triage.classify.calibration import threshold_for_precision
from triage.classify.encoding import (
    check_encoder,
    default_encoder_name,
    resolve_encoder,
    texts_and_embeddings,
)
from triage.classify.estimator import Estimator, HasMethods, Integral, Interval, Real
from triage.classify.features import scaler, standardised
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
from triage.encoders import Encoder, canonical_family, encoder_family
from triage.errors import InputError
from triage.persist import opening, saving
from triage.schema import LabelScore

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "TicketTagger", "load_head"]

KIND = "TicketTagger"
FORMAT_VERSION = 1


def _as_tag_lists(y: Sequence[Any], row_ids: Sequence[Any]) -> list[list[str]]:
    out: list[list[str]] = []
    for rid, item in zip(row_ids, y, strict=True):
        if item is None:
            tags: list[str] = []
        elif isinstance(item, str):
            tags = [t.strip() for t in item.replace(";", ",").split(",") if t.strip()]
        elif isinstance(item, list | tuple | set):
            tags = [str(t).strip() for t in item if str(t).strip()]
        else:
            raise InputError(
                f"row {rid}: tags must be a list or a comma-separated string, got {type(item).__name__}"
            )
        out.append(sorted(set(tags)))
    return out


class TicketTagger(Estimator):
    """Multi-label ticket tagger over the shared encoder (one-vs-rest logistic regression).

    Args:
        encoder: encoder name or instance (as for :class:`~triage.classify.TicketClassifier`).
        C: inverse regularisation of each tag's logistic regression.
        validation_size: held-out fraction (or number of rows) for calibration and per-tag thresholds.
        target_precision: precision each tag's threshold is chosen for on held-out data.
        min_examples: tags with fewer positive examples are refused (named in the error).
        random_state: seed of the split.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "encoder": [str, HasMethods("encode", name="an encoder")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "validation_size": [Interval(Real, 0, 1, closed="neither"), Interval(Integral, 1)],
        "target_precision": [Interval(Real, 0, 1, closed="right")],
        "min_examples": [Interval(Integral, 1)],
        "random_state": [None, Interval(Integral, 0)],
    }
    _fit_hint: ClassVar[str] = "call fit(texts, tag_lists) or load(dir)"
    #: The learned state and where a saved tagger keeps it (drives both :meth:`save` and :meth:`load`).
    _state: ClassVar[tuple[Stored, ...]] = (
        Stored("tags_", "config", "tags", save=lambda tags: [str(t) for t in tags], load=object_array),
        Stored("encoder_name_", "config", "encoder.name", load=canonical_family),
        Stored("embedding_dim_", "config", "encoder.dim", load=int),
        Stored("trained_at_", "config", "trained_at", default=str),
        Stored("coef_", "array", "coef"),
        Stored("intercept_", "array", "intercept"),
        Stored("platt_", "array", "platt"),
        Stored("thresholds_", "array", "thresholds"),
        Stored("emb_mean_", "array", "emb_mean"),
        Stored("emb_scale_", "array", "emb_scale"),
        Stored("metrics_", "json", "metrics.json", default=dict),
    )

    def __init__(
        self,
        *,
        encoder: str | Encoder = "default",
        C: float = 10.0,
        validation_size: float = 0.25,
        target_precision: float = 0.9,
        min_examples: int = 4,
        random_state: int | None = 0,
    ) -> None:
        self.encoder = encoder
        self.C = C
        self.validation_size = validation_size
        self.target_precision = target_precision
        self.min_examples = min_examples
        self.random_state = random_state

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "_encoder_obj"):
            self._encoder_obj = resolve_encoder(self.encoder)
        return self._encoder_obj.encode(texts, kind="query")

    def _embeddings(self, X: Any, embeddings: np.ndarray | None) -> np.ndarray:
        return texts_and_embeddings(X, embeddings, self._embed, dim=getattr(self, "embedding_dim_", 0))[1]

    def fit(
        self,
        X: Any,
        y: Sequence[Any],
        *,
        embeddings: np.ndarray | None = None,
        row_ids: Sequence[Any] | None = None,
    ) -> TicketTagger:
        """Train on inputs ``X`` and tag lists ``y`` (lists, or comma-separated strings; empty = no tag)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split

        self._validate_params()
        emb = self._embeddings(X, embeddings)
        ids = list(row_ids) if row_ids is not None else list(range(len(emb)))
        if len(y) != len(emb):
            raise InputError(f"mismatched lengths: {len(emb)} inputs but {len(y)} tag lists")
        tag_lists = _as_tag_lists(y, ids)
        tags = sorted({t for row in tag_lists for t in row})
        if not tags:
            raise InputError("no tags in the training data: every row's tag list is empty")
        Y = np.array([[t in row for t in tags] for row in tag_lists], dtype=bool)
        counts = Y.sum(axis=0)
        rare = [f"{t!r} ({int(c)})" for t, c in zip(tags, counts, strict=True) if c < self.min_examples]
        if rare:
            raise InputError(
                f"tags with fewer than {self.min_examples} examples: {', '.join(rare)}; "
                "add examples or drop them"
            )
        always = [t for t, c in zip(tags, counts, strict=True) if c == len(emb)]
        if always:
            raise InputError(f"tags {always} are on every row: a tag needs rows without it too")
        self.tags_ = np.array(tags, dtype=object)
        self.embedding_dim_ = int(emb.shape[1])
        if isinstance(self.encoder, str):
            self.encoder_name_ = default_encoder_name(self.encoder) or self.encoder
        else:
            self.encoder_name_ = encoder_family(self.encoder)
        self.emb_mean_, self.emb_scale_ = scaler(emb)
        Z = self._features(emb)
        idx = np.arange(len(emb))
        tr, va = train_test_split(idx, test_size=self.validation_size, random_state=self.random_state)
        coef = np.zeros((len(tags), Z.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(tags), dtype=np.float32)
        self.platt_ = np.zeros((len(tags), 2), dtype=np.float32)
        self.thresholds_ = np.ones(len(tags), dtype=np.float32)
        per_tag: dict[str, dict[str, float]] = {}
        for j, tag in enumerate(tags):
            held = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000).fit(Z[tr], Y[tr, j])
            s_va = held.decision_function(Z[va])
            if Y[va, j].any() and not Y[va, j].all():
                platt = LogisticRegression(C=1e4, max_iter=1000).fit(s_va[:, None], Y[va, j])
                a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
            else:
                a, b = 1.0, 0.0
            p_va = 1.0 / (1.0 + np.exp(-(a * s_va + b)))
            choice = threshold_for_precision(p_va, Y[va, j], self.target_precision)
            threshold = choice.threshold if choice.achieved else 1.0 + 1e-9
            full = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000).fit(Z, Y[:, j])
            coef[j], intercept[j] = full.coef_[0], full.intercept_[0]
            self.platt_[j] = (a, b)
            self.thresholds_[j] = max(threshold, 0.5) if choice.achieved else threshold
            assigned = p_va >= self.thresholds_[j]
            per_tag[tag] = {
                "examples": int(counts[j]),
                "threshold": float(self.thresholds_[j]),
                "heldout_precision": float(Y[va, j][assigned].mean()) if assigned.any() else 0.0,
                "heldout_recall": float(assigned[Y[va, j]].mean()) if Y[va, j].any() else 0.0,
                "target_reached": bool(choice.achieved),
            }
        self.coef_, self.intercept_ = coef, intercept
        self.metrics_ = {
            "per_tag": per_tag,
            "n_examples": len(emb),
            "n_heldout": len(va),
            "target_precision": self.target_precision,
        }
        self.trained_at_ = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        return self

    def _features(self, emb: np.ndarray) -> np.ndarray:
        return standardised(
            emb, self.emb_mean_, self.emb_scale_, dim=self.embedding_dim_, encoder_name=self.encoder_name_
        )

    def predict_proba(self, X: Any, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probability of each tag, shape (n, n_tags), columns in ``tags_`` order; ``X`` may be
        one text or ticket."""
        self._check_fitted()
        s = self._features(self._embeddings(X, embeddings)) @ self.coef_.T + self.intercept_
        return 1.0 / (1.0 + np.exp(-(self.platt_[:, 0] * s + self.platt_[:, 1])))

    def predict(self, X: Any, *, embeddings: np.ndarray | None = None) -> list[list[str]]:
        """The tags at or above their thresholds, per row (possibly none)."""
        proba = self.predict_proba(X, embeddings=embeddings)
        return [
            [str(t) for t, on in zip(self.tags_, row >= self.thresholds_, strict=True) if on] for row in proba
        ]

    def predictions(self, X: Any, *, embeddings: np.ndarray | None = None) -> list[list[LabelScore]]:
        """Assigned tags with their probabilities, most probable first."""
        proba = self.predict_proba(X, embeddings=embeddings)
        out = []
        for row in proba:
            on = np.flatnonzero(row >= self.thresholds_)
            on = on[np.argsort(-row[on])]
            out.append([LabelScore(label=str(self.tags_[j]), score=round(float(row[j]), 6)) for j in on])
        return out

    def save(self, directory: str | Path) -> Path:
        """Write config.json, weights.npz, metrics.json and the sha256 manifest (no pickle)."""
        self._check_fitted()
        encoder = {"name": self.encoder_name_, "dim": self.embedding_dim_}
        with saving(directory, kind=KIND, encoder=encoder) as tmp:
            header = {"type": KIND, "format_version": FORMAT_VERSION, "params": stored_params(self)}
            write_json_file(tmp / CONFIG_FILE, dump_state(self, self._state, tmp, header))
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path, *, encoder: Encoder | None = None) -> TicketTagger:
        """Load a saved tagger (manifest checked; a different encoder is an :class:`EncoderMismatchError`)."""
        from triage.models import resolve_model_dir

        directory, _ = opening(resolve_model_dir(directory), kind=KIND, required=required_files(cls._state))
        config = read_config(directory, KIND, FORMAT_VERSION)
        model = cls(**config["params"])
        load_state(model, cls._state, directory, config)
        check_encoder(directory, model.encoder_name_, model.embedding_dim_, encoder)
        model.encoder = encoder if encoder is not None else model.encoder_name_
        return model


def load_head(directory: str | Path, *, encoder: Encoder | None = None) -> Any:
    """Load a saved head of either kind (:class:`TicketClassifier` or :class:`TicketTagger`)."""
    from triage.classify.model import TicketClassifier
    from triage.models import resolve_model_dir

    path = resolve_model_dir(directory)
    try:
        kind = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8")).get("type")
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a saved triage head (no readable config.json): {exc}") from exc
    if kind == "TicketTagger":
        return TicketTagger.load(path, encoder=encoder)
    return TicketClassifier.load(path, encoder=encoder)
