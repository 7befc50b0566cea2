"""A model-free hashing encoder: for dry runs of the batch machinery and for tests, never for real triage."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from triage.encoders.base import Kind, l2_normalize

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEncoder:
    """Bag of hashed word and character-trigram features, L2-normalised (no model, ~microseconds a text).

    It satisfies the :class:`~triage.encoders.Encoder` protocol, so ``triage score --encoder hashing`` can
    check a large backlog's input, output and resume path at full speed before the real models run.
    Embeddings carry no meaning beyond word overlap: trained heads refuse it (encoder name mismatch).
    """

    name = "hashing"

    def __init__(self, dim: int = 384) -> None:
        self.dim = int(dim)

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        words = _TOKEN.findall(text.lower())
        grams = [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for feature in words + grams:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            vec[value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        return vec

    def encode(self, texts: Sequence[str], *, kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``; ``kind`` and ``batch_size`` are accepted for protocol compatibility."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(np.stack([self._vector(t) for t in texts]))
