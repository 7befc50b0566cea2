"""Pipeline configuration: which steps run, with which models, under which limits."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Steps the default pipeline runs, in order (the opt-in ones only when named; see ``default_steps``).
DEFAULT_STEPS: list[str] = [
    "normalize",
    "redact",
    "language",
    "encode",
    "classify",
    "sentiment",
    "priority",
    "kb",
    "similar",
    "summarize",
    "translate",
]
#: Steps that need user-supplied resources (a KB, a ticket index, a translation model) and so are opt-in.
OPT_IN_STEPS = {"redact", "kb", "similar", "translate"}


def default_steps() -> list[str]:
    """The default pipeline: every default step but the opt-in ones (every component ships in the package)."""
    return [s for s in DEFAULT_STEPS if s not in OPT_IN_STEPS]


class TriageConfig(BaseModel):
    """Settings for :class:`triage.pipeline.Triager`.

    Load from a JSON or TOML file with :meth:`from_file`; every field has a working offline default.
    """

    model_config = ConfigDict(extra="forbid")

    steps: list[str] = Field(default_factory=default_steps, description="Steps to run, in order.")
    encoder: str = Field("default", description="Encoder name or sentence-transformers folder.")
    batch_size: int = Field(32, ge=1, le=4096, description="Tickets encoded per batch.")
    max_chars: int = Field(4000, ge=100, description="Model text is cut to this many characters (flagged).")
    max_input_chars: int = Field(
        1_000_000, ge=1000, description="Raw ticket text beyond this is cut before normalisation (flagged)."
    )
    language_min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    agent_language: str = Field("en", description="Language agents read; used by translation.")
    options: dict[str, Any] = Field(default_factory=dict, description="Per-step options, keyed by step name.")
    redact: bool = Field(
        False, description="Mask personal data right after normalize (adds the 'redact' step)."
    )

    @model_validator(mode="after")
    def _insert_redact(self) -> TriageConfig:
        if self.redact and "redact" not in self.steps:
            at = self.steps.index("normalize") + 1 if "normalize" in self.steps else 0
            self.steps.insert(at, "redact")
        return self

    @classmethod
    def from_file(cls, path: str | Path) -> TriageConfig:
        """Read a config from ``.json`` or ``.toml``."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        return cls.model_validate(data)
