"""Map the Triager over a Dask DataFrame's partitions (model loaded once per Dask worker process)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from triage.batch.flatten import FLAT_COLUMNS
from triage.batch.workers import config_to_json, get_triager, score_records
from triage.config import TriageConfig
from triage.io import Record, map_record

#: Columns of the frame :func:`triage_dataframe` returns: the flattened result, the full result as JSON,
#: and ``error`` (why a row could not be scored; its other columns are then empty).
RESULT_COLUMNS = [*FLAT_COLUMNS, "result_json", "error"]


def _meta() -> Any:
    import pandas as pd

    dtypes = {
        name: ("int64" if kind == "int64" and name == "row" else "float64" if kind == "float64" else "object")
        for name, kind in FLAT_COLUMNS.items()
    }
    dtypes |= {"result_json": "object", "error": "object"}
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def score_partition(
    frame: Any,
    config_json: str,
    encoder_spec: str | None = None,
    id_col: str | None = None,
    text_cols: Sequence[str] | None = None,
    thread_col: str | None = None,
) -> Any:
    """Score one pandas partition; returns a frame with :data:`RESULT_COLUMNS`, one row per input row.

    ``row`` is the input's index value when it is an integer (else the 1-based position in the partition).
    """
    import pandas as pd

    if len(frame) == 0:
        return _meta()
    triager = get_triager(config_json, encoder_spec)
    integer_index = pd.api.types.is_integer_dtype(frame.index.dtype)
    records = []
    for position, (index, row) in enumerate(zip(frame.index, frame.to_dict("records"), strict=True), start=1):
        data = {str(k): v for k, v in row.items() if not _missing(v) and v != ""}
        number = int(index) if integer_index else position
        record = map_record(
            Record(number, data=data), id_col=id_col, text_cols=text_cols, thread_col=thread_col
        )
        records.append(record)
    outcome = score_records(triager, records, want_lines=True, want_flats=True)
    rows: list[dict[str, Any]] = [
        {**flat, "result_json": line, "error": None}
        for flat, line in zip(outcome.flats, outcome.lines, strict=True)
    ]
    for err in outcome.errors:
        rows.append(
            {
                **dict.fromkeys(FLAT_COLUMNS),
                "row": err["row"],
                "ticket_id": err.get("id"),
                "result_json": None,
                "error": err["error"],
            }
        )
    rows.sort(key=lambda r: r["row"])
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return out.astype(_meta().dtypes.to_dict())


def triage_dataframe(
    ddf: Any,
    config: TriageConfig | None = None,
    *,
    encoder: str | None = None,
    id_col: str | None = None,
    text_cols: Sequence[str] | None = None,
    thread_col: str | None = None,
) -> Any:
    """Lazily triage every row of a Dask DataFrame; returns a Dask DataFrame of :data:`RESULT_COLUMNS`.

    Each Dask worker process builds one :class:`~triage.pipeline.Triager` for ``config`` the first time it
    scores a partition and reuses it for every later partition (the models load once per worker).
    Rows that are not valid tickets are kept, with the reason in ``error``.

    Example::

        from distributed import Client, LocalCluster
        import dask.dataframe as dd
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
        ddf = dd.read_csv("backlog-*.csv", blocksize="16MB")
        out = triage_dataframe(ddf, id_col="ref", text_cols=["title", "description"])
        out.to_parquet("scored/")
    """
    config_json = config_to_json(config or TriageConfig())
    return ddf.map_partitions(
        score_partition,
        config_json,
        encoder,
        id_col,
        list(text_cols) if text_cols else None,
        thread_col,
        meta=_meta(),
    )
