"""Extractive, thread-aware summaries that work in every language the encoder covers.

A ticket is a list of :class:`Part` (subject, body, messages with their role). Each part is split into
sentences; greetings, thanks, handle-only lines and a subject the body repeats are set aside; every remaining
sentence gets a score from

* a position prior: early customer sentences (the customer's first message states the problem, and gets
  its own bonus) and the latest agent sentences (where the thread stands);
* small multilingual cue bonuses (problem / request / status phrases), a length prior and a penalty for
  service pleasantries;
* optionally centrality: cosine to the centroid of the ticket's sentences (z-scored within the ticket, since
  e5 cosines are compressed), weight 0 by default (see :class:`Weights` for the measurement);

then sentences are picked greedily with maximal marginal relevance (redundancy control by TF-IDF or e5
similarity) under a sentence and word budget: the best customer sentence first, the best agent sentence next
when the thread has agent replies, then whatever adds most. The structured fields (problem, request, tried,
status, facts) come from the same scored sentences and point back to their message.

With ``centrality="embedding"`` the sentences of a whole batch of tickets are encoded in ONE call (the
encoder's cache removes duplicates), and tickets short enough to fit the budget are not encoded at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from triage.encoders import Encoder, Kind
from triage.schema import Summary, SummaryFact, SummaryPoint
from triage.summarize.cues import (
    PLEASANTRY,
    PROBLEM,
    REQUEST,
    STATUS,
    TRIED,
    clean_for_model,
    content_words,
    cue_count,
    display_text,
    find_facts,
    is_boilerplate,
)
from triage.summarize.sentences import Sentence, split_sentences, word_count
from triage.tickets import Part

Centrality = Literal["embedding", "lexical", "none"]


@dataclass
class Candidate:
    """A sentence that may enter the summary, with its features and score."""

    sentence: Sentence
    part: Part
    position: int
    clean: str
    words: int
    boilerplate: bool
    role_rank: int = 0
    first_customer: bool = False
    score: float = 0.0
    cues: dict[str, int] = field(default_factory=dict)

    def point(self) -> SummaryPoint:
        """The candidate as a schema point that names its source."""
        return SummaryPoint(
            text=self.sentence.text,
            source=self.part.source,
            message_index=self.part.message_index,
            role=self.part.role,
            start=self.sentence.start,
            end=self.sentence.end,
            score=round(float(self.score), 4),
        )


@dataclass(frozen=True)
class Weights:
    """Weights of the ranking features.

    Defaults were chosen on half of the TweetSumm train dialogs and checked on the other half
    (``benchmarks/summarize.py``). Centrality has weight 0 by default: every positive weight, with e5 or
    TF-IDF similarity, anchored on all sentences, the customer's or the first message, lowered ROUGE-L there
    (chat turns are short; the central sentence is often a generic one). Similarity still drives redundancy
    control (a light MMR penalty plus a hard near-duplicate cut, see ``duplicate_threshold``). Raise
    ``centrality`` for long single-message e-mails if your own evaluation says so.
    """

    centrality: float = 0.0
    agent_centrality: float = 0.0
    customer_position: float = 0.5
    first_customer: float = 0.5
    agent_recency: float = 1.0
    cue: float = 0.25
    short_penalty: float = 1.0
    pleasantry_penalty: float = 0.75
    redundancy: float = 0.5


_QUESTION = re.compile(r"[?？¿؟]")


def _zscore(values: np.ndarray) -> np.ndarray:
    if values.size < 2:
        return np.zeros_like(values, dtype=np.float64)
    std = float(values.std())
    if std < 1e-9:
        return np.zeros_like(values, dtype=np.float64)
    return np.clip((values - values.mean()) / std, -2.5, 2.5)


def _tfidf_matrix(texts: Sequence[str]) -> np.ndarray:
    """Row-normalised TF-IDF vectors of ``texts`` (idf from these texts only)."""
    docs = [[w.lower() for w in content_words(t)] for t in texts]
    vocab: dict[str, int] = {}
    for doc in docs:
        for word in doc:
            vocab.setdefault(word, len(vocab))
    if not vocab:
        return np.zeros((len(texts), 1))
    df = Counter(w for doc in docs for w in set(doc))
    n = len(docs)
    matrix = np.zeros((n, len(vocab)))
    for i, doc in enumerate(docs):
        for word, count in Counter(doc).items():
            matrix[i, vocab[word]] = (1 + math.log(count)) * (math.log((1 + n) / (1 + df[word])) + 1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class ExtractiveSummarizer:
    """Pick the sentences that say most about a ticket or thread, under a length budget.

    Args:
        encoder: the shared encoder; used only with ``centrality="embedding"``.
        max_sentences: at most this many sentences in ``Summary.text``.
        max_words: word budget for ``Summary.text`` (a first sentence over budget is cut with "…").
        centrality: the sentence similarity behind centrality and redundancy control: ``"lexical"``
            (TF-IDF within the ticket, default: no model, ~1 ms per ticket), ``"embedding"`` (e5 sentence
            embeddings, one encoder call per batch) or ``"none"`` (position and cues only).
        kind: e5 side used to encode sentences (``"passage"`` measured best on TweetSumm).
        max_candidates: per ticket, at most this many sentences are scored (the first and the latest ones);
            bounds the cost of a very long thread or a 1 MB ticket.
        weights: ranking weights.
        batch_size: encoder batch size.
        duplicate_threshold: a sentence at least this redundant (0-1 scale: TF-IDF cosine, or e5 cosine
            rescaled above the ticket's median pair) with one already chosen is never added.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        max_sentences: int = 3,
        max_words: int = 60,
        centrality: Centrality | None = None,
        kind: Kind = "passage",
        max_candidates: int = 40,
        weights: Weights | None = None,
        batch_size: int = 64,
        duplicate_threshold: float = 0.5,
    ) -> None:
        if not 0.0 < duplicate_threshold <= 1.0:
            raise ValueError("duplicate_threshold must be in (0, 1]")
        if max_sentences < 1:
            raise ValueError("max_sentences must be >= 1")
        if max_words < 5:
            raise ValueError("max_words must be >= 5")
        if max_candidates < max_sentences:
            raise ValueError("max_candidates must be >= max_sentences")
        if centrality is None:
            centrality = "lexical"
        if centrality not in ("embedding", "lexical", "none"):
            raise ValueError(f"centrality must be 'embedding', 'lexical' or 'none', not {centrality!r}")
        if centrality == "embedding" and encoder is None:
            raise ValueError(
                "centrality='embedding' needs an encoder; pass encoder= or use centrality='lexical'"
            )
        self.encoder = encoder
        self.max_sentences = max_sentences
        self.max_words = max_words
        self.centrality: Centrality = centrality
        self.kind = kind
        self.max_candidates = max_candidates
        self.weights = weights or Weights()
        self.batch_size = batch_size
        #: What centrality is measured against: "all" sentences, the "customer" sentences, or the "first"
        #: customer message.
        self.anchor = "all"
        self.duplicate_threshold = duplicate_threshold
        #: Sentences sent to the encoder by the last call (for cost accounting).
        self.last_encoded = 0

    # ------------------------------------------------------------------ candidates
    def candidates(self, parts: Sequence[Part]) -> list[Candidate]:
        """Split ``parts`` into sentences with their features (boilerplate included, marked)."""
        out: list[Candidate] = []
        for part in parts:
            if not part.text or not part.text.strip():
                continue
            limit = 4 * self.max_candidates
            for sentence in split_sentences(part.text, max_sentences=limit):
                clean = clean_for_model(sentence.text)
                out.append(
                    Candidate(
                        sentence=sentence,
                        part=part,
                        position=len(out),
                        clean=clean,
                        words=len(content_words(clean)) if clean else 0,
                        boilerplate=is_boilerplate(sentence.text),
                    )
                )
        subject_words = [c for c in out if c.part.source == "subject"]
        if subject_words and len(out) > len(subject_words):
            rest = {w.lower() for c in out if c.part.source != "subject" for w in content_words(c.clean)}
            for cand in subject_words:  # a subject that the body repeats adds nothing to a summary
                words = [w.lower() for w in content_words(cand.clean)]
                if words and sum(w in rest for w in words) >= 0.6 * len(words):
                    cand.boilerplate = True
        if len(out) > self.max_candidates:
            head = (2 * self.max_candidates) // 3
            out = out[:head] + out[-(self.max_candidates - head) :]
        first_customer = next(
            (
                c.part
                for c in out
                if c.part.role == "customer" and c.part.source != "subject" and not c.boilerplate
            ),
            None,
        )
        rank: Counter[str] = Counter()
        for cand in out:
            cand.first_customer = first_customer is not None and cand.part is first_customer
            if not cand.boilerplate and cand.part.source != "subject":
                cand.role_rank = rank[cand.part.role]
                rank[cand.part.role] += 1
            cand.cues = {
                "problem": cue_count(PROBLEM, cand.clean),
                "request": cue_count(REQUEST, cand.clean) + len(_QUESTION.findall(cand.sentence.text)),
                "tried": cue_count(TRIED, cand.clean),
                "status": cue_count(STATUS, cand.clean),
                "pleasantry": cue_count(PLEASANTRY, cand.clean),
            }
        return out

    def _needs_ranking(self, cands: Sequence[Candidate]) -> bool:
        content = [c for c in cands if not c.boilerplate]
        return (
            len(content) > self.max_sentences
            or sum(word_count(c.sentence.text) for c in content) > self.max_words
        )

    # ------------------------------------------------------------------ scoring
    def _score(self, cands: list[Candidate], vectors: np.ndarray | None) -> np.ndarray | None:
        """Set ``score`` on each content candidate; return the redundancy matrix in [0, 1] (or None)."""
        w = self.weights
        content = [c for c in cands if not c.boilerplate]
        if not content:
            return None
        n_agent = max((c.role_rank for c in content if c.part.role != "customer"), default=-1) + 1
        if vectors is not None and len(content) > 1:
            keep = {
                "customer": lambda c: c.part.role == "customer",
                "first": lambda c: c.first_customer,
            }.get(self.anchor, lambda c: True)
            rows = [i for i, c in enumerate(content) if keep(c)] or list(range(len(content)))
            centroid = vectors[rows].mean(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            central = _zscore(vectors @ centroid)
            sims = vectors @ vectors.T
        elif self.centrality != "none" and len(content) > 1:
            tfidf = _tfidf_matrix([c.clean for c in content])
            sims = tfidf @ tfidf.T
            central = _zscore((sims.sum(axis=1) - 1.0) / max(len(content) - 1, 1))
        else:
            central = np.zeros(len(content))
            sims = None
        for i, cand in enumerate(content):
            if cand.part.role == "customer":
                score = w.centrality * float(central[i])
                score += w.customer_position / math.sqrt(1 + cand.role_rank)
                score += w.first_customer * cand.first_customer
                score += w.cue * min(cand.cues["problem"] + cand.cues["request"], 2)
            else:
                score = w.agent_centrality * float(central[i])
                score += w.agent_recency * (cand.role_rank + 1) / n_agent
                score += w.cue * min(cand.cues["status"], 2)
            if cand.words < 4:
                score -= w.short_penalty * (4 - cand.words) / 4
            score -= w.pleasantry_penalty * min(cand.cues["pleasantry"], 1)
            cand.score = score
        if sims is None:
            return None
        if vectors is None:  # TF-IDF cosines are already ~0 for unrelated sentences
            return np.clip(sims, 0.0, 1.0)
        # e5 cosines are compressed (unrelated ~0.75-0.8): measure redundancy above this ticket's median pair.
        off = sims[~np.eye(len(content), dtype=bool)]
        base = float(np.median(off)) if off.size else 0.0
        return np.clip((sims - base) / max(1.0 - base, 1e-6), 0.0, 1.0)

    # ------------------------------------------------------------------ selection
    def _select(self, cands: list[Candidate], redundancy: np.ndarray | None) -> list[Candidate]:
        content = [c for c in cands if not c.boilerplate]
        if not content:
            pool = [c for c in cands if c.words > 0] or cands
            return pool[:1]
        index = {id(c): i for i, c in enumerate(content)}
        chosen: list[Candidate] = []
        words_left = self.max_words

        def add(cand: Candidate) -> None:
            nonlocal words_left
            chosen.append(cand)
            words_left -= word_count(cand.sentence.text)

        def gain(cand: Candidate) -> float:
            if redundancy is None or not chosen:
                return cand.score
            worst = max(redundancy[index[id(cand)], index[id(c)]] for c in chosen)
            return cand.score - self.weights.redundancy * worst

        customers = sorted((c for c in content if c.part.role == "customer"), key=lambda c: -c.score)
        agents = sorted((c for c in content if c.part.role != "customer"), key=lambda c: -c.score)
        if customers:
            add(customers[0])
        if agents and len(chosen) < self.max_sentences:
            fits = [c for c in agents if word_count(c.sentence.text) <= words_left] or (
                agents if not chosen else []
            )
            if fits:
                add(max(fits, key=gain))

        def near_duplicate(cand: Candidate) -> bool:
            if redundancy is None or not chosen:
                return False
            return max(redundancy[index[id(cand)], index[id(c)]] for c in chosen) >= self.duplicate_threshold

        while len(chosen) < self.max_sentences:
            rest = [
                c
                for c in content
                if c not in chosen and word_count(c.sentence.text) <= words_left and not near_duplicate(c)
            ]
            if not rest:
                break
            add(max(rest, key=gain))
        if not chosen:
            add(max(content, key=lambda c: c.score))
        return sorted(chosen, key=lambda c: c.position)

    # ------------------------------------------------------------------ public
    def summarize_parts(self, docs: Sequence[Sequence[Part]]) -> list[Summary]:
        """Summarise a batch of tickets, each given as its parts; one encoder call for the whole batch."""
        all_cands = [self.candidates(parts) for parts in docs]
        vectors: list[np.ndarray | None] = [None] * len(docs)
        self.last_encoded = 0
        if self.centrality == "embedding" and self.encoder is not None:
            todo = [i for i, cands in enumerate(all_cands) if self._needs_ranking(cands)]
            texts = [c.clean for i in todo for c in all_cands[i] if not c.boilerplate]
            if texts:
                encoded = self.encoder.encode(texts, kind=self.kind, batch_size=self.batch_size)
                self.last_encoded = len(texts)
                offset = 0
                for i in todo:
                    n = sum(1 for c in all_cands[i] if not c.boilerplate)
                    vectors[i] = np.asarray(encoded[offset : offset + n], dtype=np.float64)
                    offset += n
        summaries = []
        for parts, cands, vecs in zip(docs, all_cands, vectors, strict=True):
            summaries.append(self._summarize_one(parts, cands, vecs))
        return summaries

    def _summarize_one(
        self, parts: Sequence[Part], cands: list[Candidate], vectors: np.ndarray | None
    ) -> Summary:
        if not cands:
            return Summary(text="", method="extractive")
        if self._needs_ranking(cands):
            redundancy = self._score(cands, vectors)
            chosen = self._select(cands, redundancy)
        else:
            self._score(cands, None)
            chosen = [c for c in cands if not c.boilerplate] or self._select(cands, None)
        text = _join([display_text(c.sentence.text) for c in chosen], self.max_words)
        return Summary(
            text=text,
            method="extractive",
            sentences=[c.point() for c in chosen],
            **structured_fields(parts, cands),
        )

    def __call__(self, parts: Sequence[Part]) -> Summary:
        """Summarise one ticket given as its parts."""
        return self.summarize_parts([parts])[0]


def _join(sentences: Sequence[str], max_words: int) -> str:
    ends = ".!?…。！？:;"
    last = len(sentences) - 1
    text = " ".join(
        s if s[-1:] in ends or i == last else f"{s.rstrip(',')}." for i, s in enumerate(sentences)
    )
    words = text.split()
    if len(words) > max_words and len(sentences) == 1:
        return " ".join(words[:max_words]) + " …"
    return text


def structured_fields(parts: Sequence[Part], cands: Sequence[Candidate]) -> dict[str, object]:
    """problem / request / tried / status / facts from scored candidates (scores set by the ranking)."""
    content = [c for c in cands if not c.boilerplate and c.words > 0]
    customer = [c for c in content if c.part.role == "customer"]
    agent = [c for c in content if c.part.role != "customer"]

    def best(pool: Sequence[Candidate]) -> Candidate | None:
        return max(pool, key=lambda c: (c.score, -c.position)) if pool else None

    problem = (
        best(
            [
                c
                for c in customer
                if c.cues.get("problem") and not c.cues.get("tried") and not c.cues.get("request")
            ]
        )
        or best([c for c in customer if c.cues.get("problem") and not c.cues.get("tried")])
        or best([c for c in customer if c.cues.get("problem")])
        or best([c for c in customer if not c.cues.get("request")])
        or best(customer)
    )
    request = best([c for c in customer if c.cues.get("request") and c is not problem])
    if request is None and problem is not None and problem.cues.get("request"):
        request = problem
    tried = [c for c in customer if c.cues.get("tried") and c is not problem and c is not request][:3]
    status = None
    if agent:
        latest = max(agent, key=lambda c: c.position).part
        pool = [c for c in agent if c.part is latest]
        status = best([c for c in pool if c.cues.get("status")]) or best(pool)
    facts: list[SummaryFact] = []
    seen: set[tuple[str, str]] = set()
    for part in parts:
        for fact in find_facts(part.text[:20_000]):
            key = (fact.kind, fact.text.lower())
            if key in seen:
                continue
            seen.add(key)
            facts.append(
                SummaryFact(
                    kind=fact.kind,
                    text=fact.text,
                    source=part.source,
                    message_index=part.message_index,
                    start=fact.start,
                    end=fact.end,
                )
            )
            if len(facts) >= 25:
                break
    return {
        "problem": problem.point() if problem else None,
        "request": request.point() if request else None,
        "tried": [c.point() for c in tried],
        "status": status.point() if status else None,
        "facts": facts,
    }
