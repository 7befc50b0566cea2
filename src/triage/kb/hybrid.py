"""``HybridIndex``: the one index under the knowledge base and the similar-ticket index.

It holds FAISS vectors (:class:`~triage.kb.index.VectorIndex`, an ``IndexIDMap`` keyed by int64 ids), BM25
over the same ids (:class:`~triage.kb.lexical.LexicalIndex`), the encoder the vectors came from, and the
persistence: a crash-safe versioned store (:mod:`triage.kb.store`) whose version folder holds
``config.json``, one sqlite file of what the ids stand for and ``dense.faiss`` / ``dense.json``, all under a
:mod:`triage.persist` manifest. :class:`~triage.kb.base.KnowledgeBase` (articles cut into chunks) and
:class:`~triage.kb.similar.TicketIndex` (past tickets) subclass it and add only what is theirs: what an item
is, how it is embedded and how a search ranks and reports it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from triage.encoders import Encoder, canonical_family, encoder_family
from triage.errors import EncoderMismatchError, InputError, ModelIntegrityError, TriageError
from triage.kb.index import VectorIndex
from triage.kb.lexical import LexicalIndex
from triage.kb.store import (
    is_store,
    looks_like_store,
    not_a_store_message,
    read_current,
    save_version,
    store_lock,
)
from triage.persist import read_json, write_json

__all__ = ["HybridIndex", "per_item"]

T = TypeVar("T")


def per_item(value: T | Sequence[T] | None, n: int, what: str) -> list[T | None]:
    """``value`` for each of ``n`` items: one value (a str or None) for all, or a sequence of ``n``."""
    if value is None or isinstance(value, str):
        return [value] * n  # type: ignore[list-item]
    values = list(value)  # type: ignore[arg-type]
    if len(values) != n:
        raise InputError(f"{what} must have one entry per query: {len(values)} for {n}")
    return values


class HybridIndex:
    """Dense (FAISS) + BM25 search over int ids, tied to its encoder, saved as a versioned store.

    Subclasses name their format in the class attributes and fill in the hooks: :meth:`_items` (what ``len``
    and ``in`` count), :meth:`add`, :meth:`_write_table` / :meth:`_read_table` (their sqlite table),
    :meth:`_vector_count`, :meth:`_loaded` and :meth:`_read_source`.
    """

    #: the manifest ``type`` and the ``format`` in ``config.json`` of a save
    KIND: ClassVar[str] = "HybridIndex"
    FORMAT: ClassVar[str] = "triage-hybrid-index"
    FORMAT_VERSION: ClassVar[int] = 1
    #: the sqlite file of a save, and what the index is called in messages
    TABLE: ClassVar[str] = "index.sqlite"
    NOUN: ClassVar[str] = "index"
    #: the command that rebuilds one (named when the encoder does not match)
    REBUILD: ClassVar[str] = "triage kb build SOURCE --out DIR --encoder NAME"
    #: constructor options recorded in ``config.json`` and passed back on load
    OPTIONS: ClassVar[tuple[str, ...]] = ("hnsw_threshold",)
    #: the ``config.json`` key of the next free vector id
    NEXT_ID: ClassVar[str] = "next_id"

    def __init__(self, encoder: Encoder | None = None, *, hnsw_threshold: int | None = 50_000) -> None:
        self._encoder = encoder
        self._encoder_name: str | None = encoder_family(encoder) if encoder is not None else None
        self._dim: int | None = encoder.dim if encoder is not None else None
        self.hnsw_threshold = hnsw_threshold
        self._next_id = 1
        self._dense: VectorIndex | None = None
        self._lexical = LexicalIndex()

    # ------------------------------------------------------------------ hooks
    def _items(self) -> dict[str, Any]:
        """The indexed items by their string id (articles, tickets)."""
        raise NotImplementedError

    def add(self, items: Iterable[Any], *, progress: bool = False) -> int:
        """Index new items; returns how many vectors were added."""
        raise NotImplementedError

    def _write_table(self, db: sqlite3.Connection) -> None:
        """Create and fill the tables of a save."""
        raise NotImplementedError

    def _read_table(self, db: sqlite3.Connection) -> None:
        """Read back what :meth:`_write_table` wrote."""
        raise NotImplementedError

    def _vector_count(self) -> int:
        """How many vectors the table says there are (checked against the FAISS index on load)."""
        return len(self._items())

    def _sizes(self) -> dict[str, int]:
        """Sizes recorded in ``config.json``."""
        return {}

    def _loaded(self) -> None:
        """Called at the end of :meth:`load` (rebuild what is not saved, e.g. BM25)."""

    @classmethod
    def _read_source(cls, path: str | Path) -> list[Any]:
        """The items of a source file or folder (what :meth:`build` and :meth:`open` take besides a save)."""
        raise NotImplementedError

    @classmethod
    def _open_source(cls, path: str | Path, encoder: Encoder | None, **kwargs: Any) -> Self:
        """What :meth:`open` does with a path that is not a saved store: build in memory."""
        return cls.build(path, encoder, **kwargs)

    # ------------------------------------------------------------------ encoder
    @property
    def encoder(self) -> Encoder:
        """The encoder (the one it was built with, or the default one, loaded on first use)."""
        if self._encoder is None:
            from triage.encoders import get_encoder

            self._encoder = get_encoder(self._encoder_name or "default")
            self._check_encoder(self._encoder)
        return self._encoder

    @property
    def encoder_name(self) -> str | None:
        return self._encoder_name

    def _check_encoder(self, encoder: Encoder, where: str | None = None) -> None:
        """Adopt ``encoder`` when none is set; otherwise it must be the encoder the vectors came from."""
        if self._encoder_name is None:
            self._encoder_name, self._dim = encoder_family(encoder), encoder.dim
            return
        family = encoder_family(encoder)
        if family != self._encoder_name or encoder.dim != self._dim:
            where = where or f"this {self.NOUN}"
            raise EncoderMismatchError(
                f"{where} was built with encoder {self._encoder_name!r} ({self._dim}-d) "
                f"but {family!r} ({encoder.dim}-d) is in use: load it with the same encoder, or rebuild it "
                f"with `{self.REBUILD}`"
            )

    def _encode(
        self, texts: list[str], kind: str, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """e5 ``kind`` embeddings of ``texts``, with a progress bar over batches when asked."""
        if not progress or len(texts) <= batch_size:
            return self.encoder.encode(texts, kind=kind, batch_size=batch_size)  # type: ignore[arg-type]
        from tqdm import tqdm

        parts = []
        for start in tqdm(range(0, len(texts), batch_size), desc=f"encode {kind}s", unit="batch"):
            batch = texts[start : start + batch_size]
            parts.append(self.encoder.encode(batch, kind=kind, batch_size=batch_size))  # type: ignore[arg-type]
        return np.vstack(parts)

    def _query_vectors(self, embeddings: np.ndarray, n: int) -> np.ndarray:
        """``embeddings`` as float32 rows, one per query, of the index's size (else the encoder differs)."""
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.shape != (n, self._dim):
            raise EncoderMismatchError(
                f"query embeddings have shape {vectors.shape}, expected ({n}, {self._dim}) from "
                f"{self._encoder_name!r}: use the encoder the {self.NOUN} was built with"
            )
        return vectors

    # ------------------------------------------------------------------ vectors and BM25
    def __len__(self) -> int:
        return len(self._items())

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items()

    def _new_ids(self, n: int) -> list[int]:
        """``n`` fresh vector ids (never reused, also across saves)."""
        ids = list(range(self._next_id, self._next_id + n))
        self._next_id += n
        return ids

    def _index(self, ids: list[int], vectors: np.ndarray, tokens: Sequence[list[str]] | None = None) -> None:
        """Add vectors (and, when given, the BM25 tokens of the same documents) under ``ids``."""
        if self._dense is None:
            self._dense = VectorIndex(self._dim or vectors.shape[1], hnsw_threshold=self.hnsw_threshold)
        self._dense.add(ids, vectors)
        for doc_id, words in zip(ids, tokens, strict=True) if tokens is not None else ():
            self._lexical.add(doc_id, words)

    def _delete(self, ids: list[int]) -> None:
        """Drop ``ids`` from the vectors and from BM25."""
        if self._dense is not None:
            self._dense.remove(ids)
        for doc_id in ids:
            self._lexical.remove(doc_id)

    def _nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (inner products, ids) per row; missing slots are id -1."""
        assert self._dense is not None
        return self._dense.search(vectors, k)

    def _vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of ``ids``."""
        assert self._dense is not None
        return self._dense.reconstruct(ids)

    def _bm25(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, BM25 scores) of every document for the query ``tokens``."""
        return self._lexical.scores(tokens)

    @staticmethod
    def _known(ids: Iterable[str], present: dict[str, Any], what: str) -> list[str]:
        """``ids`` without repeats; any not in ``present`` is an :class:`InputError` naming ``what``."""
        unique = list(dict.fromkeys(ids))
        unknown = [i for i in unique if i not in present]
        if unknown:
            raise InputError(f"no such {what}: {unknown[:5]}")
        return unique

    # ------------------------------------------------------------------ building and opening
    @classmethod
    def build(
        cls,
        source: str | Path | Iterable[Any],
        encoder: Encoder | None = None,
        *,
        progress: bool = False,
        **kwargs: Any,
    ) -> Self:
        """A new index of ``source``: a file or folder (see :meth:`_read_source`) or the items themselves."""
        index = cls(encoder, **kwargs)
        items = cls._read_source(source) if isinstance(source, str | Path) else list(source)
        index.add(items, progress=progress)
        return index

    @classmethod
    def open(cls, path: str | Path, encoder: Encoder | None = None, **kwargs: Any) -> Self:
        """Load the store saved at ``path``, or build one from a source there (``kwargs``: build options)."""
        if is_store(path):
            return cls.load(path, encoder)
        if looks_like_store(path):
            raise TriageError(not_a_store_message(Path(path)))
        return cls._open_source(path, encoder, **kwargs)

    # ------------------------------------------------------------------ persistence
    def settings(self) -> dict[str, Any]:
        """What ``config.json`` records: the format, the encoder, the options, the next id and the sizes."""
        return {
            "format": self.FORMAT,
            "format_version": self.FORMAT_VERSION,
            "encoder": self._encoder_name,
            "dim": self._dim,
            **{name: getattr(self, name) for name in self.OPTIONS},
            self.NEXT_ID: self._next_id,
            **self._sizes(),
        }

    @classmethod
    def files(cls) -> tuple[str, ...]:
        """The files :meth:`load` reads from a version folder (each must be in its manifest)."""
        return ("config.json", cls.TABLE, "dense.faiss", "dense.json")

    def _write(self, folder: Path) -> None:
        write_json(folder / "config.json", self.settings())
        db = sqlite3.connect(folder / self.TABLE)
        try:
            self._write_table(db)
            db.commit()
        finally:
            db.close()
        dense = self._dense or VectorIndex(self._dim or 1, hnsw_threshold=self.hnsw_threshold)
        dense.save(folder, "dense")

    def save(self, path: str | Path) -> Path:
        """Save atomically to the directory ``path`` (a crash mid-save leaves the previous save intact)."""
        if self._encoder_name is None:
            raise TriageError(f"nothing to save: the {self.NOUN} is empty and has no encoder yet")
        saved_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return save_version(
            path,
            self._write,
            kind=self.KIND,
            format=self.FORMAT,
            encoder=self._encoder_name,
            saved_at=saved_at,
        )

    @classmethod
    def load(cls, path: str | Path, encoder: Encoder | None = None) -> Self:
        """Load what :meth:`save` wrote; checks every file's hash and the encoder.

        Raises:
            EncoderMismatchError: ``encoder`` is not the one the index was built with.
            ModelIntegrityError: a file was modified, is missing or is unreadable.
        """
        folder, _ = read_current(path, required=cls.files(), kind=cls.KIND)
        config = read_json(folder / "config.json")
        found = config.get("format") if isinstance(config, dict) else None
        if found != cls.FORMAT:
            raise TriageError(f"{path} is not a {cls.NOUN} (format {found!r})")
        if config.get("format_version", 0) > cls.FORMAT_VERSION:
            raise TriageError(
                f"{path} was saved by a newer triage (format {config['format_version']}); upgrade"
            )
        index = cls(None, **{name: config[name] for name in cls.OPTIONS if name in config})
        index._encoder_name, index._dim = canonical_family(config["encoder"]), config["dim"]
        if encoder is not None:
            index._check_encoder(encoder, where=f"the {cls.NOUN} at {path}")
            index._encoder = encoder
        index._next_id = int(config[cls.NEXT_ID])
        table = folder / cls.TABLE
        db = sqlite3.connect(f"file:{table}?mode=ro", uri=True)
        try:
            index._read_table(db)
        except sqlite3.DatabaseError as exc:
            raise ModelIntegrityError(
                f"{table} is not a readable {cls.NOUN} table ({exc}); rebuild the {cls.NOUN}"
            ) from None
        finally:
            db.close()
        index._dense = VectorIndex.load(folder, "dense")
        if len(index._dense) != index._vector_count():
            raise TriageError(
                f"{folder}: the vector index holds {len(index._dense)} vectors, {cls.TABLE} "
                f"{index._vector_count()}; rebuild the {cls.NOUN}"
            )
        index._loaded()
        return index

    @classmethod
    @contextmanager
    def editing(cls, path: str | Path, encoder: Encoder | None = None) -> Iterator[Self]:
        """Load the store at ``path``, let the block change it, and save it, all under the store's exclusive
        lock: concurrent editors (other processes too) take turns and none loses another's change. Nothing is
        saved when the block raises.

        Example::

            with KnowledgeBase.editing("my-kb") as kb:
                kb.add(new_articles)
        """
        if not is_store(path):
            read_current(path)  # raises the clear "no such store" error, before a lock file is created
        with store_lock(path):
            index = cls.load(path, encoder)
            yield index
            index.save(path)
