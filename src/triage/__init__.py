"""triage: offline, multilingual AI helpdesk triage.

>>> from triage import Triager
>>> triager = Triager()
>>> result = triager({"subject": "Login", "body": "Nem tudok bejelentkezni a fiókomba."})
>>> result.language
'hu'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

from triage.schema import (  # noqa: E402
    SCHEMA_VERSION,
    LabelScore,
    Message,
    Prediction,
    Ticket,
    TriageResult,
)

if TYPE_CHECKING:
    from triage.config import TriageConfig
    from triage.language import LanguageDetector
    from triage.pipeline import Triager

__all__ = [
    "SCHEMA_VERSION",
    "LabelScore",
    "LanguageDetector",
    "Message",
    "Prediction",
    "Ticket",
    "TriageConfig",
    "TriageResult",
    "Triager",
    "__version__",
]

_LAZY = {
    "Triager": "triage.pipeline",
    "TriageConfig": "triage.config",
    "LanguageDetector": "triage.language",
}


def __getattr__(name: str) -> Any:
    """Import heavy parts on first use so ``import triage`` stays fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
