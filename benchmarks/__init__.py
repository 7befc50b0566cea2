"""Benchmark suite: ``python -m benchmarks <task>|all [--data-dir DIR] [--out DIR] [--quick]``.

Each task is a module ``benchmarks/<task>.py`` with ``run(ctx) -> list[Row]``; register it in :data:`TASKS`.
Results go to ``benchmarks/results/<task>.json`` and ``.md`` in the one format of :mod:`benchmarks.common`.
"""

from __future__ import annotations

#: Task name -> module holding its ``run(ctx)``; imported lazily, so heavy deps load only when the task runs.
TASKS: dict[str, str] = {
    "language": "benchmarks.language",
    "encoders": "benchmarks.encoders",
    "pii": "benchmarks.pii",
    "kb": "benchmarks.kb",
    "throughput": "benchmarks.throughput",
    "classification": "benchmarks.classification",
    "summarise": "benchmarks.summarize",
    "translate": "benchmarks.translate",
    "sentiment": "benchmarks.sentiment",
    "finetune": "benchmarks.finetune",
    "service": "benchmarks.service",
    "robustness": "benchmarks.robustness",
    "reliability": "benchmarks.reliability",
}

__all__ = ["TASKS"]
