"""The classifier's features and linear model: the standardised embedding, optionally with word and
character TF-IDF (``hybrid``), and logistic-regression weights over all classes.

Plain functions of arrays and fitted vectorizers, so that fitting, predicting and persistence share them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from triage.errors import EncoderMismatchError, InputError

WORD_TFIDF: dict[str, Any] = {
    "analyzer": "word",
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "lowercase": True,
    "max_features": 50_000,
    "token_pattern": r"(?u)\b\w+\b",
    "dtype": np.float32,
}
CHAR_TFIDF: dict[str, Any] = {
    "analyzer": "char_wb",
    "ngram_range": (2, 5),
    "sublinear_tf": True,
    "lowercase": True,
    "max_features": 50_000,
    "dtype": np.float32,
}


def scaler(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale (std, at least 1e-6) of each embedding dimension, float32."""
    return emb.mean(axis=0).astype(np.float32), np.maximum(emb.std(axis=0), 1e-6).astype(np.float32)


def standardised(
    emb: np.ndarray, mean: np.ndarray, scale: np.ndarray, *, dim: int, encoder_name: str
) -> np.ndarray:
    """The embedding centred, scaled and divided by sqrt(dim); a width other than ``dim`` is an encoder
    mismatch."""
    if emb.shape[1] != dim:
        raise EncoderMismatchError(
            f"embeddings have dimension {emb.shape[1]} but this model was trained on "
            f"{dim}-d vectors from {encoder_name!r}: encode with that encoder"
        )
    return ((emb - mean) / scale) / np.sqrt(emb.shape[1])


def design(z: np.ndarray, texts: list[str] | None, mode: str, vecs: tuple | None) -> Any:
    """The design matrix: standardised embedding ``z`` alone, or (``hybrid``) with the texts' TF-IDF."""
    z = z.astype(np.float32)
    if mode == "embedding":
        return z
    if texts is None:
        raise InputError(
            "this model uses TF-IDF features as well as the embedding: pass the texts "
            "(with embeddings=... to reuse precomputed vectors), not only an embedding array"
        )
    from scipy import sparse

    assert vecs is not None
    parts = [sparse.csr_matrix(z)] + [v.transform(texts) for v in vecs]
    return sparse.hstack(parts, format="csr", dtype=np.float32)


def fit_vectorizers(texts: list[str]) -> tuple:
    """Word 1-2-gram and character 2-5-gram TF-IDF vectorizers fitted on ``texts``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = 2 if len(texts) >= 200 else 1
    word = TfidfVectorizer(min_df=min_df, **WORD_TFIDF).fit(texts)
    char = TfidfVectorizer(min_df=min_df, **CHAR_TFIDF).fit(texts)
    return word, char


def vectorizer_state(vecs: tuple) -> tuple[list[dict[str, int]], dict[str, np.ndarray]]:
    """What a saved model keeps of fitted vectorizers: their vocabularies and ``idf_<i>`` arrays."""
    vocab = [{t: int(j) for t, j in v.vocabulary_.items()} for v in vecs]
    return vocab, {f"idf_{i}": v.idf_.astype(np.float32) for i, v in enumerate(vecs)}


def vectorizers_from_state(vocabs: list[dict[str, int]], arrays: dict[str, np.ndarray]) -> tuple:
    """The fitted vectorizers rebuilt from :func:`vectorizer_state`'s output."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vecs = []
    for i, (spec, vocab) in enumerate(zip((WORD_TFIDF, CHAR_TFIDF), vocabs, strict=True)):
        vec = TfidfVectorizer(**spec, vocabulary=vocab)
        vec.vocabulary_ = vocab
        vec.idf_ = arrays[f"idf_{i}"].astype(np.float64)
        vecs.append(vec)
    return tuple(vecs)


def term_names(vecs: tuple | None) -> list[str]:
    """Feature names of the TF-IDF columns, in design-matrix order."""
    names: list[str] = []
    for vec in vecs or ():
        names.extend(vec.get_feature_names_out().tolist())
    return names


def logistic_regression(C: float, class_weight: str | None, max_iter: int) -> Any:
    """An unfitted scikit-learn logistic regression with these settings."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter)


def full_logits(lr: Any, X: Any, n_classes: int) -> np.ndarray:
    """Decision scores over all classes (classes missing from a training fold get -inf-like scores)."""
    out = np.full((X.shape[0], n_classes), -1e4, dtype=np.float64)
    scores = lr.decision_function(X)
    if scores.ndim == 1:  # binary
        scores = np.stack([-scores / 2, scores / 2], axis=1)
    out[:, lr.classes_] = scores
    return out


def full_coef(lr: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts over all classes as softmax logits (binary: made symmetric)."""
    coef, intercept = lr.coef_, lr.intercept_
    if coef.shape[0] == 1:  # binary: sklearn keeps one row; make it symmetric softmax logits
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    full_c = np.zeros((n_classes, coef.shape[1]), dtype=np.float32)
    full_i = np.full(n_classes, -1e4, dtype=np.float32)
    full_c[lr.classes_] = coef
    full_i[lr.classes_] = intercept
    return full_c, full_i
