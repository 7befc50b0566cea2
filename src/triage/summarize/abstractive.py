"""Abstractive summaries with a transformers seq2seq model (BART, T5, mT5, Pegasus...) from a local folder.

No such model ships with triage (none is available offline on PyPI); point ``model`` at a folder saved with
``save_pretrained`` (or a hub id where the hub is reachable and ``local_files_only=False``). Inputs
longer than the model's window are truncated (reported per text), texts are batched by length, and the
generated length is bounded by ``max_new_tokens``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import ModelNotAvailableError

_HOW_TO_ADD = (
    "save a seq2seq summarisation model with `model.save_pretrained(DIR)` and "
    "`tokenizer.save_pretrained(DIR)` "
    "(e.g. facebook/bart-large-cnn or a fine-tuned mT5 on a machine with hub access) and pass model=DIR; "
    "needs `pip install 'helpdesk-triage[transformers]'`"
)


@dataclass(frozen=True)
class GeneratedSummary:
    """One abstractive summary and whether its input was cut to fit the model."""

    text: str
    truncated: bool
    input_tokens: int


class AbstractiveSummarizer:
    """Summarise texts with a local seq2seq model.

    Args:
        model: a folder with ``config.json``, weights and tokenizer files (or a hub id with
            ``local_files_only=False``).
        max_input_tokens: inputs are truncated to this many tokens (and to the model's own limit).
        max_new_tokens / min_new_tokens: bounds on the generated summary length, in tokens.
        num_beams: beam search width (1 = greedy).
        batch_size: texts per ``generate`` call; texts are sorted by length to limit padding.
        prefix: text put before each input; defaults to the model's ``task_specific_params`` summarisation
            prefix (``"summarize: "`` for T5) or nothing.
        device: torch device ("cpu", "cuda", ...).
        local_files_only: never contact the hub (default).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        max_input_tokens: int = 512,
        max_new_tokens: int = 80,
        min_new_tokens: int = 4,
        num_beams: int = 2,
        batch_size: int = 8,
        prefix: str | None = None,
        device: str = "cpu",
        local_files_only: bool = True,
    ) -> None:
        if (
            max_input_tokens < 8
            or max_new_tokens < 1
            or min_new_tokens < 0
            or min_new_tokens > max_new_tokens
        ):
            raise ValueError("need max_input_tokens >= 8 and 0 <= min_new_tokens <= max_new_tokens (>= 1)")
        if batch_size < 1 or num_beams < 1:
            raise ValueError("batch_size and num_beams must be >= 1")
        self.model_name = str(model)
        if local_files_only and not Path(model).is_dir():
            raise ModelNotAvailableError(f"summarisation model folder {model!s} not found: {_HOW_TO_ADD}")
        self.max_input_tokens = max_input_tokens
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens
        self.num_beams = num_beams
        self.batch_size = batch_size
        self.device = device
        self.local_files_only = local_files_only
        self._prefix = prefix
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                import torch  # noqa: F401
                from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer
            except ImportError as exc:
                raise ModelNotAvailableError(
                    f"abstractive summaries need torch and transformers: {_HOW_TO_ADD}"
                ) from exc
            try:
                config = AutoConfig.from_pretrained(self.model_name, local_files_only=self.local_files_only)
            except (OSError, ValueError) as exc:
                raise ModelNotAvailableError(
                    f"cannot read a model config from {self.model_name}: {exc}"
                ) from exc
            if not getattr(config, "is_encoder_decoder", False):
                raise ModelNotAvailableError(
                    f"{self.model_name} is a {config.model_type!r} model, not an encoder-decoder "
                    "(seq2seq) one: "
                    f"{_HOW_TO_ADD}"
                )
            try:
                tokenizer = AutoTokenizer.from_pretrained(
                    self.model_name, local_files_only=self.local_files_only
                )
                model = AutoModelForSeq2SeqLM.from_pretrained(
                    self.model_name, local_files_only=self.local_files_only
                )
            except (OSError, ValueError) as exc:
                raise ModelNotAvailableError(
                    f"cannot load the seq2seq model in {self.model_name}: {exc}"
                ) from exc
            model.eval().to(self.device)
            if self._prefix is None:
                params = getattr(config, "task_specific_params", None) or {}
                self._prefix = (params.get("summarization") or {}).get("prefix", "")
                if not self._prefix and config.model_type in ("t5", "mt5", "umt5", "longt5"):
                    self._prefix = "summarize: "
            self._tokenizer, self._model = tokenizer, model

    @property
    def input_limit(self) -> int:
        """Tokens kept per input: ``max_input_tokens`` capped by the tokenizer's own limit."""
        self._load()
        own = getattr(self._tokenizer, "model_max_length", None) or self.max_input_tokens
        own = own if own < 1_000_000 else self.max_input_tokens  # "no limit" sentinel of some tokenizers
        positions = getattr(self._model.config, "max_position_embeddings", None) or own
        return int(min(self.max_input_tokens, own, positions))

    def generate(self, texts: Sequence[str]) -> list[GeneratedSummary]:
        """Summarise ``texts`` (in order); an empty text gives an empty summary."""
        import torch

        self._load()
        prefix = self._prefix or ""
        limit = self.input_limit
        out: list[GeneratedSummary | None] = [None] * len(texts)
        todo = [i for i, t in enumerate(texts) if t and t.strip()]
        for i, t in enumerate(texts):
            if not (t and t.strip()):
                out[i] = GeneratedSummary("", False, 0)
        # Length without truncation decides both the sort order and the "truncated" flag.
        lengths = {
            i: len(self._tokenizer(prefix + texts[i], add_special_tokens=True, verbose=False)["input_ids"])
            for i in todo
        }
        todo.sort(key=lambda i: lengths[i])
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            enc = self._tokenizer(
                [prefix + texts[i] for i in batch],
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=limit,
            ).to(self.device)
            with torch.inference_mode():
                ids = self._model.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    min_new_tokens=self.min_new_tokens,
                    num_beams=self.num_beams,
                    no_repeat_ngram_size=3 if self.max_new_tokens > 8 else 0,
                    early_stopping=self.num_beams > 1,
                )
            decoded = self._tokenizer.batch_decode(ids, skip_special_tokens=True)
            for i, text in zip(batch, decoded, strict=True):
                out[i] = GeneratedSummary(" ".join(text.split()), lengths[i] > limit, min(lengths[i], limit))
        return [o if o is not None else GeneratedSummary("", False, 0) for o in out]


def thread_text(parts: Sequence[Any]) -> str:
    """A thread as model input: one line per part, ``Customer: ...`` / ``Agent: ...``."""
    labels = {"customer": "Customer", "agent": "Agent", "note": "Note"}
    lines = []
    for part in parts:
        text = " ".join(part.text.split())
        if text:
            label = "Subject" if part.source == "subject" else labels.get(part.role, "Customer")
            lines.append(f"{label}: {text}")
    return "\n".join(lines)
