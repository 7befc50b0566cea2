"""Backlog scoring at scale: chunked readers/writers, crash-safe resumable runs, local processes and Dask.

- :func:`score_file`: a JSONL / CSV / Parquet file (or stdin) in, JSONL (full results) or CSV / Parquet
  (flattened columns) out, with ``OUTPUT.errors.jsonl`` and ``OUTPUT.report.json`` beside it.
- :func:`triage_dataframe`: map the Triager over a Dask DataFrame's partitions.
- :func:`flatten_result`, :data:`FLAT_COLUMNS`: the flat view of a result.
"""

from triage.batch.flatten import FLAT_COLUMNS, flatten_result
from triage.batch.report import build_report, label_drift, render_report, training_profiles
from triage.batch.runner import ScoreOptions, ScoringInterrupted, score_file

__all__ = [
    "FLAT_COLUMNS",
    "ScoreOptions",
    "ScoringInterrupted",
    "build_report",
    "flatten_result",
    "label_drift",
    "render_report",
    "score_file",
    "training_profiles",
    "triage_dataframe",
]


def __getattr__(name: str):  # the Dask mapping imports pandas/dask only when asked for
    if name == "triage_dataframe":
        from triage.batch.dask_frames import triage_dataframe

        return triage_dataframe
    raise AttributeError(name)
