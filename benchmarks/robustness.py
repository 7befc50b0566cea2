"""Worst-case inputs: how long normalisation, cue detection, sentence splitting, PII redaction and the whole
Triager take on megabyte-sized and regex-hostile texts.

These inputs used to carry wall-clock bounds in the unit tests (e.g. "1 MB single line < 1 s"), which
flaked on a loaded CI machine. The tests now check only what comes out; the speed is measured here. Rows:

* ``seconds``: best of a few runs at the size the tests use; the anchor is the bound the test asserted.
* ``ratio_2x``: time at twice the size over time at the size: about 2 for linear work, about 4 for
  quadratic (the anchor is 2.0). Cases cut to a fixed budget (cues, sentences, the Triager) read about 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.common import Context, Row, busy_warning


@dataclass
class Case:
    """One worst-case input: ``make(scale)`` builds it, ``run(input)`` is what is timed."""

    name: str
    make: Callable[[int], Any]
    run: Callable[[Any], Any]
    bound: float  # seconds the unit test used to assert
    source: str  # where that bound was


def _best(run: Callable[[Any], Any], arg: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(arg)
        best = min(best, time.perf_counter() - start)
    return best


def _normalize_cases() -> list[Case]:
    from triage.normalize import normalize_text

    line = "Hello, my order 12345 has not arrived yet: could you check the delivery status?\n"
    chunk = "<div><p>Hello &amp; <b>welcome</b> to the <a href='https://example.com'>shop</a></p></div>\n"
    prefix = "<p>x</p><div>y</div>"
    inputs: dict[str, tuple[Callable[[int], str], float]] = {  # name -> (make(scale), former bound)
        "1MB-plain-lines": (lambda s: (line * (s * 1_000_000 // len(line) + 1))[: s * 1_000_000], 1.0),
        "1MB-single-line": (lambda s: ("lorem ipsum dolor sit amet " * 40000 * s)[: s * 1_000_000], 1.0),
        "1MB-html": (lambda s: f"<html><body>{chunk * (s * 1_000_000 // len(chunk))}</body></html>", 3.0),
        "hostile-open-tags": (lambda s: prefix + "<a" * 200_000 * s, 3.0),
        "hostile-attributes": (lambda s: prefix + '<a title=x"y z=\'w">' * 40_000 * s, 3.0),
        "hostile-comments": (lambda s: prefix + "<!-- >" * 100_000 * s, 3.0),
        "hostile-cdata": (lambda s: prefix + "<![cdata[ >" * 80_000 * s, 3.0),
        "hostile-reply-header": (lambda s: "On " + "x " * 200 + "\n" + "a\n" * 300_000 * s, 3.0),
        "hostile-many-headers": (lambda s: ("On " + "a " * 150 + ":\n") * 3000 * s, 3.0),
        "hostile-quote-marks": (lambda s: ">" * 500_000 * s, 3.0),
        "hostile-whitespace": (lambda s: "x" + " \t" * 300_000 * s + "y", 3.0),
        "hostile-newlines": (lambda s: "\n" * 500_000 * s + "word", 3.0),
    }
    cases = [
        Case(f"normalize/{name}", make, normalize_text, bound, "tests/test_normalize.py")
        for name, (make, bound) in inputs.items()
    ]
    for tag in ("div", "blockquote", "table"):
        cases.append(
            Case(
                f"normalize/nested-{tag}-20000",
                lambda s, tag=tag: (
                    f"<html><body>{f'<{tag}>' * 20_000 * s}Hello deep world"
                    f"{f'</{tag}>' * 20_000 * s}</body></html>"
                ),
                normalize_text,
                10.0,
                "tests/test_fuzz.py",
            )
        )
    return cases


def _other_cases() -> list[Case]:
    from triage.config import TriageConfig
    from triage.pii import Redactor
    from triage.pipeline import Triager
    from triage.sentiment import CueDetector, detect_cues
    from triage.summarize import split_sentences

    class ConstantEncoder:  # the Triager without a model: only the text handling is timed
        name = "constant"

        def encode(self, texts, *, kind="query", batch_size=32):
            return np.ones((len(texts), 4), dtype=np.float32) / 2.0

    triager = Triager(TriageConfig(steps=["normalize", "encode"], redact=True), encoder=ConstantEncoder())
    redactor = Redactor()
    alphabet = list("abc XYZ 0123456789 +-()./@:\n") + ["é", "ж", "<", ">"]
    big_body = "Hello, my number is +36 30 123 4567. " + "the export still fails after the update. " * 50_000

    def cues_big(s: int) -> str:
        return "lorem ipsum dolor sit amet " * 40_000 * s + " URGENT"

    return [
        Case("cues/1MB-default-cut", cues_big, detect_cues, 2.0, "tests/test_sentiment_cues.py"),
        Case("cues/1MB-scanned-whole", cues_big, lambda t: CueDetector(max_chars=len(t)).detect(t), 2.0,
             "tests/test_sentiment_cues.py, for the cut scan"),
        Case("sentences/1MB-no-punctuation", lambda s: "word " * 200_000 * s,
             lambda t: split_sentences(t, max_chars=400, max_sentences=50), 5.0, "tests/test_summarize.py"),
        Case("sentences/rejected-boundaries", lambda s: "x. " * 100_000 * s + "\n" + "abc\n" * 100_000 * s,
             split_sentences, 10.0, "tests/test_summarize.py"),
        Case("redact/1MB-random", lambda s: "".join(np.random.default_rng(0).choice(alphabet, 1_000_000 * s)),
             redactor.redact, 30.0, "tests/test_fuzz.py"),
        Case("triager/2MB-body-redacted", lambda s: {"id": "big", "body": (big_body * s)[: 2_000_000 * s]},
             triager, 60.0, "tests/test_fuzz.py"),
    ]  # fmt: skip


def run(ctx: Context) -> list[Row]:
    cases = _normalize_cases() + _other_cases()
    repeat = 1 if ctx.quick else 3
    rows: list[Row] = []
    for case in cases:
        one = case.make(1)
        seconds = _best(case.run, one, repeat)
        rows.append(
            Row(case.name, "seconds", seconds, case.bound, f"former unit-test bound ({case.source})",
                f"{busy_warning()}best of {repeat}; input {len(str(one)):,} chars")
        )  # fmt: skip
        if not ctx.quick:
            two = case.make(2)
            ratio = _best(case.run, two, repeat) / max(seconds, 1e-9)
            rows.append(
                Row(case.name, "ratio_2x", ratio, 2.0, "linear work (quadratic reads about 4)",
                    f"{busy_warning()}time at {len(str(two)):,} chars / time at {len(str(one)):,}")
            )  # fmt: skip
        ctx.log(f"  {case.name}: {seconds:.3f} s")
    return rows
