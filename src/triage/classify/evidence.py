"""Why a prediction: the nearest training examples (a memory kept per class) and the TF-IDF terms that
pushed the predicted class up."""

from __future__ import annotations

from typing import Any

import numpy as np

from triage.schema import Evidence


def snippet(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters of ``text``, cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " …"


def build_memory(
    texts: list[str] | None,
    emb: np.ndarray,
    yi: np.ndarray,
    *,
    n_classes: int,
    per_class: int,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Up to ``per_class`` training examples per class (one copy of each text): their embeddings (float16),
    class indices and evidence snippets."""
    rng = np.random.default_rng(random_state)
    keep: list[int] = []
    for c in range(n_classes):
        idx = np.flatnonzero(yi == c)
        if texts is not None:  # one copy of each text per class
            firsts: dict[str, int] = {}
            for i in idx.tolist():
                firsts.setdefault(texts[i].strip().lower(), i)
            idx = np.array(sorted(firsts.values()), dtype=np.int64)
        if len(idx) > per_class:
            idx = np.sort(rng.choice(idx, per_class, replace=False))
        keep.extend(idx.tolist())
    keep_arr = np.array(keep, dtype=np.int64)
    snippets = (  # evidence snippets, not whole tickets
        [snippet(texts[i]) for i in keep] if texts is not None else [f"training row {i}" for i in keep]
    )
    return emb[keep_arr].astype(np.float16), yi[keep_arr].astype(np.int32), snippets


def example_evidence(
    sims: np.ndarray, texts: list[str], labels: np.ndarray, classes: np.ndarray, k: int
) -> list[Evidence]:
    """The ``k`` memory examples most similar to one input (``sims``: its similarity to each)."""
    return [
        Evidence(kind="example", text=texts[j], label=str(classes[labels[j]]), score=round(float(sims[j]), 4))
        for j in np.argsort(-sims)[:k]
    ]


def term_evidence(
    x: Any, cls: int, coef: np.ndarray, *, offset: int, names: list[str], classes: np.ndarray, k: int
) -> list[Evidence]:
    """Up to ``k`` TF-IDF terms of one design row ``x`` that favour class ``cls`` most over the others.

    ``offset``: the first TF-IDF column (after the embedding); nested terms (``parcel`` in ``my parcel``)
    are shown once.
    """
    x = x.tocoo()
    mask = x.col >= offset
    cols, vals = x.col[mask], x.data[mask]
    if len(cols) == 0:
        return []
    w = coef[cls, cols] - coef[:, cols].mean(axis=0)
    contrib = vals * w
    top = np.argsort(-contrib)[: k * 3]
    seen: set[str] = set()
    out: list[Evidence] = []
    for t in top:
        if contrib[t] <= 0:
            break
        term = names[cols[t] - offset].strip()
        if not term or any(term in s or s in term for s in seen):
            continue
        seen.add(term)
        out.append(
            Evidence(kind="term", text=term, label=str(classes[cls]), score=round(float(contrib[t]), 4))
        )
        if len(out) >= k:
            break
    return out
