"""The sentiment head: a calibrated :class:`~triage.classify.TicketClassifier` on the shared multilingual
embedding, blended with a small character/word TF-IDF head for the languages that head was trained on.

Why two heads: on UMSAB the frozen-embedding head carries sentiment to languages it never saw (leave-one-
language-out), while the TF-IDF head adds +1-2 macro-F1 on the training languages (emoji, slang, negation
words) but hurts on unseen ones. So the blend is gated by language: the lexical head only votes for texts
whose
detected language is one it was trained on. The blend weight and a final temperature are chosen on
out-of-fold predictions (k-fold cross-validation), never on the test set.

Saved as a directory: ``config.json``, ``embedding/`` (a TicketClassifier directory), ``lexical.npz`` +
``lexical_vocab.json``, ``metrics.json``, ``MODEL_CARD.md`` and a sha256 ``manifest.json``; no pickle.
Both heads are estimators like :class:`~triage.classify.TicketClassifier` (``get_params`` / ``set_params``,
parameters checked at ``fit``, ``predict`` / ``predict_proba`` taking one text or a list).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from triage.classify import TicketClassifier, fit_temperature
from triage.classify.calibration import softmax
from triage.classify.encoding import embed_texts, resolve_encoder
from triage.classify.estimator import Estimator, Integral, Interval, Real, SequenceOf
from triage.classify.persistence import (
    CONFIG_FILE,
    Stored,
    dump_state,
    load_state,
    read_config,
    required_files,
    stored_params,
    write_json_file,
)
from triage.errors import InputError
from triage.persist import load_arrays, opening, read_json, require_listed, saving
from triage.sentiment.data import LABELS
from triage.tickets import as_list

FORMAT_VERSION = 1
HEAD_TYPE = "SentimentHead"
EMBEDDING_DIR = "embedding"
LEXICAL_WEIGHTS = "lexical.npz"
LEXICAL_VOCAB = "lexical_vocab.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"

_POSITIVE = Interval(Real, 0, None, closed="neither")

_CHAR = {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True, "lowercase": True}
_WORD = {
    "analyzer": "word",
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "lowercase": True,
    "token_pattern": r"(?u)\b\w+\b|[^\w\s]",
}


class CharGramIndex:
    """Counts the ``char_wb`` n-grams of a fitted vectorizer's vocabulary with numpy, for a batch at once.

    scikit-learn builds every n-gram as a Python string and looks it up (~0.6 ms a ticket). Here each
    character of the vocabulary gets a code 1..K and an n-gram the integer of its codes (``bits`` per
    character), so the n-grams of a whole batch are sums of shifted code arrays, looked up in an
    open-addressing hash table of the vocabulary's keys. The batch is one string: every word padded by a space
    on each side, words and texts two spaces apart; an n-gram across two words holds two spaces and is in no
    vocabulary (scikit-learn pads each word alone), so with ``ngram_range[0]`` 2 or 3 (a padded word has >= 3
    characters) the counts are exactly scikit-learn's.

    Raises:
        ValueError: the vocabulary's n-grams do not fit in 63 bits, or the n-gram range is not covered.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, vocabulary: dict[str, int], ngram_range: tuple[int, int]) -> None:
        self.low, self.high = ngram_range
        self.size = len(vocabulary)
        alphabet = sorted({ord(c) for gram in vocabulary for c in gram})
        self.bits = max(1, len(alphabet).bit_length())
        if self.bits * self.high > 63 or not 2 <= self.low <= 3:
            raise ValueError("vocabulary does not fit the integer n-gram keys")
        self.alphabet = np.asarray(alphabet, dtype=np.uint32)
        code = {c: i + 1 for i, c in enumerate(alphabet)}
        keys = np.fromiter(
            (sum(code[ord(c)] << (self.bits * i) for i, c in enumerate(g)) for g in vocabulary),
            dtype=np.int64,
            count=self.size,
        )
        self.table_bits = max(4, int(2.5 * self.size).bit_length())
        self.mask = (1 << self.table_bits) - 1
        table_keys = [-1] * (self.mask + 1)
        table_ids = [0] * (self.mask + 1)
        self.max_probe = 0
        for key, slot, column in zip(
            keys.tolist(), self._slots(keys).tolist(), vocabulary.values(), strict=True
        ):
            probe = 0
            while table_keys[(slot + probe) & self.mask] != -1:
                probe += 1
            table_keys[(slot + probe) & self.mask] = key
            table_ids[(slot + probe) & self.mask] = column
            self.max_probe = max(self.max_probe, probe)
        self.table_keys = np.asarray(table_keys, dtype=np.int64)
        self.table_ids = np.asarray(table_ids, dtype=np.int64)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        hashed = keys.astype(np.uint64) * self._MULTIPLIER  # wraps modulo 2**64 by design
        return (hashed >> np.uint64(64 - self.table_bits)).astype(np.int64)

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """Vocabulary column of each key, -1 where it is not in the vocabulary."""
        out = np.full(len(keys), -1, dtype=np.int64)
        todo = np.arange(len(keys))
        slots = self._slots(keys)
        for probe in range(self.max_probe + 1):
            at = (slots[todo] + probe) & self.mask
            stored = self.table_keys[at]
            hit = stored == keys[todo]
            out[todo[hit]] = self.table_ids[at[hit]]
            todo = todo[~hit & (stored != -1)]
            if not len(todo):
                break
        return out

    def counts(self, texts: Sequence[str], *, lowercase: bool = True, dtype: Any = np.float32) -> Any:
        """The (texts x vocabulary) n-gram count matrix, CSR with sorted indices, as scikit-learn's."""

        pieces = [" " + "  ".join((t.lower() if lowercase else t).split()) + "  " for t in texts]
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        points = np.frombuffer("".join(pieces).encode("utf-32-le"), dtype=np.uint32)
        where = np.searchsorted(self.alphabet, points)
        known = self.alphabet[np.minimum(where, len(self.alphabet) - 1)] == points
        codes = np.where(known, where + 1, 0).astype(np.int64)
        key, valid = codes.copy(), codes > 0
        starts: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        for n in range(2, self.high + 1):
            key = key[:-1] + (codes[n - 1 :] << (self.bits * (n - 1)))
            valid = valid[:-1] & (codes[n - 1 :] > 0)
            if n >= self.low:
                starts.append(np.flatnonzero(valid))
                keys.append(key[starts[-1]])
        start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        column = self._lookup(np.concatenate(keys) if keys else np.zeros(0, np.int64))
        row = np.repeat(np.arange(len(pieces), dtype=np.int64), lengths)[start[column >= 0]]
        return _count_matrix(row, column[column >= 0], len(pieces), self.size, dtype)


def _count_matrix(rows: np.ndarray, columns: np.ndarray, n_rows: int, size: int, dtype: Any) -> Any:
    """CSR counts of the (row, column) pairs, indices sorted within each row (as scikit-learn leaves them)."""
    from scipy import sparse

    cells, per_cell = np.unique(rows * size + columns, return_counts=True)
    indptr = np.searchsorted(cells // size, np.arange(n_rows + 1))
    return sparse.csr_matrix(
        (per_cell.astype(dtype), (cells % size).astype(np.int32), indptr.astype(np.int32)),
        shape=(n_rows, size),
    )


def _word_counts(vectorizer: Any, texts: list[str]) -> Any:
    """The n-gram count matrix of a fitted ``word`` vectorizer with its default tokenizer, as scikit-learn's.

    Tokens come from the same ``token_pattern.findall``; n-grams are joined by ``map`` instead of a Python
    loop, and looked up with ``map(vocabulary.get)``; counts by numpy.
    """
    pattern = re.compile(vectorizer.token_pattern)
    vocabulary = vectorizer.vocabulary_
    low, high = vectorizer.ngram_range
    rows: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    for row, text in enumerate(texts):
        tokens = pattern.findall(text.lower() if vectorizer.lowercase else text)
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
        ids = np.fromiter(map(vocabulary.get, grams, itertools.repeat(-1)), dtype=np.int64, count=len(grams))
        ids = ids[ids >= 0]
        columns.append(ids)
        rows.append(np.full(len(ids), row, dtype=np.int64))
    flat = np.concatenate(columns) if columns else np.zeros(0, np.int64)
    row_of = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return _count_matrix(row_of, flat, len(texts), len(vocabulary), vectorizer.dtype)


def tfidf_transform(vectorizer: Any, texts: Sequence[str], index: CharGramIndex | None = None) -> Any:
    """``vectorizer.transform(texts)`` for a fitted ``TfidfVectorizer``, 3-5x faster for ``char_wb`` (given
    its ``index``) and plain ``word`` n-grams.

    The counts are scikit-learn's, and the TF-IDF weighting repeats its operations in its order (sublinear
    tf, idf, l2), so the matrix is the same to the bit. Options the fast paths do not cover go through
    ``vectorizer.transform``.
    """
    from sklearn.preprocessing import normalize

    texts = list(texts)
    plain = (
        len(texts) > 0
        and vectorizer.input == "content"
        and vectorizer.preprocessor is None
        and vectorizer.strip_accents is None
        and not vectorizer.binary
        and vectorizer.use_idf
        and vectorizer.norm in ("l2", None)
        and hasattr(vectorizer, "vocabulary_")
        and all(isinstance(t, str) for t in texts)
    )
    if plain and vectorizer.analyzer == "char_wb" and index is not None:
        X = index.counts(texts, lowercase=vectorizer.lowercase, dtype=vectorizer.dtype)
    elif (
        plain
        and vectorizer.analyzer == "word"
        and vectorizer.tokenizer is None
        and vectorizer.stop_words is None
        and re.compile(vectorizer.token_pattern).groups == 0
    ):
        X = _word_counts(vectorizer, texts)
    else:
        return vectorizer.transform(texts)
    if vectorizer.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1.0
    X.data *= vectorizer.idf_[X.indices]
    return normalize(X, norm=vectorizer.norm, copy=False) if vectorizer.norm else X


class LexicalHead(Estimator):
    """Logistic regression on character 2-5-grams and word 1-2-grams (TF-IDF), saved as JSON + npz.

    Args:
        C: inverse regularisation.
        char_features / word_features: vocabulary sizes kept (most frequent n-grams).
        max_iter: solver iterations.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "C": [_POSITIVE],
        "char_features": [Interval(Integral, 1)],
        "word_features": [Interval(Integral, 1)],
        "max_iter": [Interval(Integral, 1)],
    }

    def __init__(
        self,
        *,
        C: float = 0.3,
        char_features: int = 50_000,
        word_features: int = 20_000,
        max_iter: int = 3000,
    ) -> None:
        self.C = C
        self.char_features = char_features
        self.word_features = word_features
        self.max_iter = max_iter

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> LexicalHead:
        """Fit vocabularies and weights; returns ``self``."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._validate_params()
        texts = list(texts)
        self.char_ = TfidfVectorizer(
            min_df=2, max_features=self.char_features, dtype=np.float32, **_CHAR
        ).fit(texts)
        self.word_ = TfidfVectorizer(
            min_df=2, max_features=self.word_features, dtype=np.float32, **_WORD
        ).fit(texts)
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(self._design(texts), np.asarray(labels))
        if list(lr.classes_) != list(range(len(LABELS))):
            raise InputError(f"training labels must cover 0..{len(LABELS) - 1}, got {list(lr.classes_)}")
        self.coef_ = lr.coef_.astype(np.float32)
        self.intercept_ = lr.intercept_.astype(np.float32)
        return self

    def _design(self, texts: Sequence[str]) -> Any:
        from scipy import sparse

        char = tfidf_transform(self.char_, texts, self._char_index())
        return sparse.hstack([char, tfidf_transform(self.word_, texts)], format="csr")

    def warm_up(self) -> None:
        """Build the fast n-gram counter now (~0.1 s) rather than on the first prediction."""
        self._char_index()

    def _char_index(self) -> CharGramIndex | None:
        """The fast n-gram counter for ``char_`` (built on first use; None where it does not apply)."""
        if getattr(self, "_index_for", None) is not self.char_:
            try:
                ok = self.char_.analyzer == "char_wb" and hasattr(self.char_, "vocabulary_")
                self._index = CharGramIndex(self.char_.vocabulary_, self.char_.ngram_range) if ok else None
            except ValueError:
                self._index = None
            self._index_for = self.char_
        return self._index

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Logits, shape (n, 3); ``texts`` may be one text."""
        self._check_fitted()
        texts, _ = as_list(texts)
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        return np.asarray(self._design(list(texts)) @ self.coef_.T, dtype=np.float64) + self.intercept_

    def save(self, directory: Path) -> None:
        """Write ``lexical.npz`` (weights, idf) and ``lexical_vocab.json`` into ``directory``."""
        vocab = {
            "char": {t: int(i) for t, i in self.char_.vocabulary_.items()},
            "word": {t: int(i) for t, i in self.word_.vocabulary_.items()},
            "params": {"C": self.C, "char_features": self.char_features, "word_features": self.word_features},
        }
        write_json_file(directory / LEXICAL_VOCAB, vocab, indent=None)
        np.savez_compressed(
            directory / LEXICAL_WEIGHTS,
            coef=self.coef_.astype(np.float16),
            intercept=self.intercept_,
            idf_char=self.char_.idf_.astype(np.float32),
            idf_word=self.word_.idf_.astype(np.float32),
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalHead:
        """Read what :meth:`save` wrote (the caller checks the manifest)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vocab = read_json(directory / LEXICAL_VOCAB)
        weights = load_arrays(directory / LEXICAL_WEIGHTS, ["coef", "intercept", "idf_char", "idf_word"])
        head = cls(**vocab.get("params", {}))
        for name, spec, key in (("char_", _CHAR, "char"), ("word_", _WORD, "word")):
            vec = TfidfVectorizer(dtype=np.float32, vocabulary=vocab[key], **spec)
            vec.vocabulary_ = vocab[key]
            vec.idf_ = weights[f"idf_{key}"].astype(np.float64)
            setattr(head, name, vec)
        head.coef_ = weights["coef"].astype(np.float32)
        head.intercept_ = weights["intercept"].astype(np.float32)
        return head


def _per_language_macro_f1(y: np.ndarray, pred: np.ndarray, languages: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(
        np.mean(
            [
                f1_score(y[languages == lang], pred[languages == lang], average="macro")
                for lang in np.unique(languages)
            ]
        )
    )


class SentimentHead(Estimator):
    """Three-way sentiment (negative / neutral / positive) over precomputed embeddings (+ texts).

    Args:
        C: regularisation grid for the embedding head (chosen by TicketClassifier on held-out data).
        lexical: also train the TF-IDF head and blend it in for its training languages.
        lexical_C: regularisation of the TF-IDF head.
        folds: cross-validation folds used to choose the blend weight and the temperature.
        weights: candidate blend weights of the embedding head (the rest goes to the lexical head).
        random_state: seed for the folds.
        progress: show progress bars.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "C": [SequenceOf(_POSITIVE, min_length=1)],
        "lexical": [bool],
        "lexical_C": [_POSITIVE],
        "folds": [Interval(Integral, 2)],
        "weights": [SequenceOf(Interval(Real, 0, 1), min_length=1)],
        "random_state": [None, Interval(Integral, 0)],
        "progress": [bool],
    }
    _fitted_attr: ClassVar[str] = "embedding_"
    _fit_hint: ClassVar[str] = "call fit() or SentimentHead.load(dir)"
    #: The learned state ``config.json`` keeps (drives both :meth:`save` and :meth:`load`); the embedding
    #: head is the ``embedding/`` folder, the lexical head ``lexical.npz`` + ``lexical_vocab.json``.
    _state: ClassVar[tuple[Stored, ...]] = (
        Stored("weight_", "config", "weight", load=float),
        Stored("temperature_", "config", "temperature", load=float),
        Stored("lexical_languages_", "config", "lexical_languages", load=list, default=list),
        Stored("cv_", "config", "cv", default=dict),
        Stored("train_info_", "config", "train", default=dict),
    )

    def __init__(
        self,
        *,
        C: Sequence[float] = (0.03, 0.1, 0.3, 1.0),
        lexical: bool = True,
        lexical_C: float = 0.3,
        folds: int = 5,
        weights: Sequence[float] = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0),
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.C = tuple(C)
        self.lexical = lexical
        self.lexical_C = lexical_C
        self.folds = folds
        self.weights = tuple(weights)
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def _embedding_head(self, C: float | Sequence[float]) -> TicketClassifier:
        return TicketClassifier(
            features="embedding",
            C=C,
            class_weight="balanced",
            calibrate=True,
            memory_per_class=0,
            evidence_examples=0,
            random_state=self.random_state,
        )

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[int | str],
        *,
        embeddings: np.ndarray | None = None,
        languages: Sequence[str],
    ) -> SentimentHead:
        """Train on texts with their languages; labels are 0/1/2 or the label names.

        ``embeddings``: the texts' query embeddings (default: encoded here with the default encoder).
        """
        started = time.perf_counter()
        self._validate_params()
        texts = list(texts)
        y = np.array([LABELS.index(v) if isinstance(v, str) else int(v) for v in labels], dtype=np.int64)
        if embeddings is None:
            embeddings = embed_texts(resolve_encoder("default"), texts, batch_size=64, progress=self.progress)
        emb = np.asarray(embeddings, dtype=np.float32)
        langs = np.asarray(list(languages))
        if not (len(texts) == len(y) == len(emb) == len(langs)):
            raise InputError(
                f"{len(texts)} texts, {len(y)} labels, {len(emb)} embeddings, {len(langs)} languages"
            )
        names = [LABELS[i] for i in y]
        # 1. embedding head: C and its temperature chosen by TicketClassifier on its held-out split
        self.embedding_ = self._embedding_head(self.C).fit(texts, names, embeddings=emb)
        if [str(c) for c in self.embedding_.classes_] != sorted(LABELS):
            raise InputError(f"training data must hold all of {LABELS}")
        self._order = [list(self.embedding_.classes_).index(lab) for lab in LABELS]
        # 2. out-of-fold probabilities of both heads -> blend weight and temperature
        from sklearn.model_selection import StratifiedKFold

        strata = np.array([f"{lang}:{label}" for lang, label in zip(langs, y, strict=True)])
        skf = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=self.random_state)
        oof_e = np.zeros((len(y), 3))
        oof_l = np.zeros((len(y), 3))
        splits = list(skf.split(np.zeros(len(y)), strata))
        if self.progress:
            from tqdm import tqdm

            splits = tqdm(splits, desc="cross-validate sentiment heads", unit="fold")
        for tr, va in splits:
            head = self._embedding_head(float(self.embedding_.C_)).fit(
                [texts[i] for i in tr], [names[i] for i in tr], embeddings=emb[tr]
            )
            oof_e[va] = softmax(head.decision_function(emb[va])[:, self._order], head.temperature_)
            if self.lexical:
                lex = LexicalHead(C=self.lexical_C).fit([texts[i] for i in tr], y[tr])
                oof_l[va] = softmax(lex.decision_function([texts[i] for i in va]))
        candidates = self.weights if self.lexical else (1.0,)
        scores = {
            w: _per_language_macro_f1(y, (w * oof_e + (1 - w) * oof_l).argmax(1), langs) for w in candidates
        }
        self.weight_ = float(max(candidates, key=lambda w: (round(scores[w], 4), w)))
        blend = self.weight_ * oof_e + (1 - self.weight_) * oof_l
        self.temperature_ = float(fit_temperature(np.log(np.clip(blend, 1e-9, 1)), y))
        emb_only = _per_language_macro_f1(y, oof_e.argmax(1), langs)
        # 3. lexical head on all data
        self.lexical_ = LexicalHead(C=self.lexical_C).fit(texts, y) if self.lexical else None
        self.lexical_languages_ = sorted(set(langs.tolist())) if self.lexical else []
        self.cv_ = {
            "folds": self.folds,
            "macro_f1_avg_languages_embedding_only": round(emb_only, 5),
            "macro_f1_avg_languages_by_weight": {str(w): round(s, 5) for w, s in scores.items()},
            "weight": self.weight_,
            "temperature": self.temperature_,
        }
        self.train_info_ = {
            "n_examples": int(len(y)),
            "languages": {str(k): int(v) for k, v in zip(*np.unique(langs, return_counts=True), strict=True)},
            "label_counts": {LABELS[k]: int((y == k).sum()) for k in range(3)},
            "embedding_C": float(self.embedding_.C_),
            "fit_seconds": round(time.perf_counter() - started, 1),
            "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        return self

    # ------------------------------------------------------------------ predict
    def predict_proba(
        self,
        texts: str | Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        languages: str | Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """Calibrated probabilities, columns in :data:`LABELS` order (negative, neutral, positive).

        ``texts``: one text or a list (one row each). ``embeddings``: their query embeddings (default: the
        embedding head encodes them). ``languages``: an ISO code per text, or one for all (e.g. the detected
        language); the lexical head votes only for languages it was trained on. ``None`` means "unknown":
        the embedding head alone.
        """
        self._check_fitted()
        texts, _ = as_list(texts)
        if embeddings is not None:
            emb = np.asarray(embeddings, dtype=np.float32)
            if emb.ndim == 1:
                emb = emb[None, :]
            if len(texts) != len(emb):
                raise InputError(f"{len(texts)} texts but {len(emb)} embeddings")
        if not len(texts):
            return np.zeros((0, 3))
        if isinstance(languages, str):
            languages = [languages] * len(texts)
        logits = self.embedding_.decision_function(texts if embeddings is None else emb)
        p_emb = softmax(logits[:, self._order], self.embedding_.temperature_)
        blend = p_emb.copy()
        if self.lexical_ is not None and languages is not None and self.weight_ < 1.0:
            known = set(self.lexical_languages_)
            idx = [i for i, lang in enumerate(languages) if lang in known]
            if idx:
                p_lex = softmax(self.lexical_.decision_function([texts[i] for i in idx]))
                blend[idx] = self.weight_ * p_emb[idx] + (1 - self.weight_) * p_lex
        return softmax(np.log(np.clip(blend, 1e-9, 1)), self.temperature_)

    def predict(
        self,
        texts: str | Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        languages: str | Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """The most probable label (``negative`` / ``neutral`` / ``positive``) per text."""
        proba = self.predict_proba(texts, embeddings=embeddings, languages=languages)
        return np.array(LABELS, dtype=object)[proba.argmax(1)]

    # ------------------------------------------------------------------ persistence
    def save(
        self, directory: str | Path, *, metrics: dict[str, Any] | None = None, card: str | None = None
    ) -> Path:
        """Write the head to ``directory`` (swapped in atomically), with a sha256 manifest."""
        self._check_fitted()
        encoder = {"name": self.embedding_.encoder_name_, "dim": self.embedding_.embedding_dim_}
        with saving(directory, kind=HEAD_TYPE, encoder=encoder) as tmp:
            self.embedding_.save(tmp / EMBEDDING_DIR)
            if self.lexical_ is not None:
                self.lexical_.save(tmp)
            header = {
                "type": HEAD_TYPE,
                "format_version": FORMAT_VERSION,
                "labels": list(LABELS),
                "encoder": encoder,
                "params": stored_params(self, skip=("progress",)),
            }
            write_json_file(tmp / CONFIG_FILE, dump_state(self, self._state, tmp, header))
            if metrics is not None:
                write_json_file(tmp / METRICS_FILE, metrics)
            if card is not None:
                (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path, *, encoder: Any = None) -> SentimentHead:
        """Load a saved head (a directory or a bundled name such as ``"sentiment"``); hashes are checked."""
        from triage.models import resolve_model_dir

        directory, manifest = opening(
            resolve_model_dir(directory), kind=HEAD_TYPE, required=required_files(cls._state)
        )
        config = read_config(directory, HEAD_TYPE, FORMAT_VERSION)
        head = cls(**config["params"])
        load_state(head, cls._state, directory, config)
        head.embedding_ = TicketClassifier.load(directory / EMBEDDING_DIR, encoder=encoder)
        head._order = [list(head.embedding_.classes_).index(lab) for lab in LABELS]
        lexical = LEXICAL_WEIGHTS in manifest["files"]
        if lexical:
            require_listed(directory, manifest, [LEXICAL_VOCAB])
        head.lexical_ = LexicalHead.load(directory) if lexical else None
        metrics = directory / METRICS_FILE
        head.metrics_ = read_json(metrics) if metrics.exists() else {}
        head.directory_ = directory
        return head

    @property
    def encoder_name(self) -> str:
        """Name of the encoder the embeddings must come from."""
        self._check_fitted()
        return str(self.embedding_.encoder_name_)
