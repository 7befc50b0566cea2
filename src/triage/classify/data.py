"""Checks on training data, and turning tickets / strings / arrays into model inputs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from triage.errors import InputError
from triage.schema import Ticket
from triage.tickets import as_list, model_text


def _rows(rows: Sequence[Any], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def check_training_data(
    texts: Sequence[str] | None,
    labels: Sequence[Any],
    *,
    n_rows: int | None = None,
    row_ids: Sequence[Any] | None = None,
    min_per_class: int = 2,
) -> list[str]:
    """Validate labelled training data; return the labels as strings.

    Raises :class:`InputError` naming the offending rows (``row_ids`` when given, else 0-based indices) for:
    mismatched lengths, empty labels, empty texts, and labels with fewer than ``min_per_class`` examples.
    """
    n = len(texts) if texts is not None else n_rows
    if n is None:
        raise InputError("no training inputs given")
    if len(labels) != n:
        raise InputError(
            f"mismatched lengths: {n} inputs but {len(labels)} labels; give exactly one label per row"
        )
    if n == 0:
        raise InputError("no training rows: the data is empty")
    ids = list(row_ids) if row_ids is not None else list(range(n))
    if len(ids) != n:
        raise InputError(f"row_ids has {len(ids)} entries for {n} rows")
    out: list[str] = []
    empty: list[Any] = []
    for i, label in enumerate(labels):
        text = "" if label is None else str(label).strip()
        if not text or (text.lower() == "nan" and not isinstance(label, str)):
            empty.append(ids[i])
        out.append(text)
    if len(empty) == n:
        raise InputError("the label column is empty: every row lacks a label; check the label column name")
    if empty:
        raise InputError(
            f"{len(empty)} rows have an empty label (rows {_rows(empty)}): label them or drop them"
        )
    if texts is not None:
        blank = [ids[i] for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
        if blank:
            raise InputError(
                f"{len(blank)} rows have no text (rows {_rows(blank)}): fill them in or drop them"
            )
    counts = Counter(out)
    if len(counts) < 2:
        only = next(iter(counts))
        raise InputError(f"only one label ({only!r}) in the training data: a classifier needs at least two")
    rare = sorted(label for label, c in counts.items() if c < min_per_class)
    if rare:
        where: dict[str, list[Any]] = defaultdict(list)
        for i, label in enumerate(out):
            if label in rare:
                where[label].append(ids[i])
        details = "; ".join(f"{label!r} (rows {_rows(where[label])})" for label in rare[:10])
        raise InputError(
            f"{len(rare)} labels have fewer than {min_per_class} examples: {details}. Each label needs at "
            f"least {min_per_class} examples to train and validate; add examples or merge/drop these labels"
        )
    return out


def ticket_text(ticket: Ticket, *, max_chars: int = 4000) -> str:
    """The text a classifier reads: :func:`triage.tickets.model_text`, the pipeline's own rule."""
    return model_text(ticket, max_chars=max_chars)


def as_texts(X: Any) -> list[str] | None:
    """Texts from strings, :class:`Ticket` objects or ticket dicts; ``None`` when ``X`` is a numeric array."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "fiu":
        return None
    items, _ = as_list(X, (str, Ticket, dict))
    texts: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, Ticket):
            texts.append(ticket_text(item))
        elif isinstance(item, dict):
            try:
                texts.append(ticket_text(Ticket.model_validate(item)))
            except Exception as exc:  # noqa: BLE001 - re-raised with the row
                raise InputError(f"row {i}: not a valid ticket: {exc}") from exc
        elif (
            isinstance(item, list | tuple | np.ndarray)
            and len(item)
            and isinstance(item[0], float | np.floating)
        ):
            return None
        else:
            raise InputError(
                f"row {i}: expected a string, a Ticket or a ticket dict, got {type(item).__name__}; "
                "pass embeddings as one (n, dim) float array"
            )
    return texts


def read_labelled(
    path: str,
    *,
    label_col: str,
    text_cols: Sequence[str] | None = None,
    fmt: str | None = None,
) -> tuple[list[str], list[str | None], list[int]]:
    """Read a labelled CSV / JSONL file: (texts, labels, row numbers).

    Texts are built as the pipeline builds them (``text_cols`` joined, or the ticket fields subject / body /
    messages) and normalised. Unreadable rows and rows without text raise :class:`InputError` naming them;
    rows without a label come back with ``None`` so :func:`check_training_data` can name them.
    """
    from triage.io import read_records

    texts: list[str] = []
    labels: list[str | None] = []
    rows: list[int] = []
    bad: list[str] = []
    missing_col = 0
    for record in read_records(path, fmt=fmt, text_cols=text_cols):
        if record.data is None:
            bad.append(f"row {record.row}: {record.error}")
            continue
        data = dict(record.data)
        label = data.pop(label_col, None)
        if label_col not in record.data:
            missing_col += 1
        try:
            ticket = Ticket.model_validate(data)
        except Exception as exc:  # noqa: BLE001 - reported with the row below
            first = str(exc).splitlines()[-1].strip() if str(exc) else type(exc).__name__
            bad.append(f"row {record.row}: {first}")
            continue
        texts.append(ticket_text(ticket))
        labels.append(None if label is None else str(label))
        rows.append(record.row)
    if bad:
        shown = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise InputError(f"{len(bad)} rows of {path} cannot be used: {shown}")
    if rows and missing_col == len(rows):
        raise InputError(
            f"the label column {label_col!r} is empty or missing in {path}: "
            "pass --label-col with the column name"
        )
    return texts, labels, rows
