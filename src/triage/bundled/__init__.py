"""Data files that ship inside the ``helpdesk-triage`` package: the default heads and the demo samples.

>>> from triage.bundled import sample_kb_path, sample_tickets_path
>>> sample_tickets_path().name
'tickets.jsonl'

``models/<name>/`` holds the bundled heads (``bitext-category``, ``bitext-intent``, ``sentiment``), each
with a ``manifest.json`` of sha256 hashes; ``samples/`` holds the multilingual sample backlog
(``tickets.jsonl``) and the sample knowledge base (``kb/``). All are data-only formats (JSON, NPZ, Markdown).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from triage.errors import BundledDataError

#: The distribution to reinstall when a bundled file is missing or damaged.
DISTRIBUTION = "helpdesk-triage"
#: What to run to restore the bundled files.
REINSTALL = f"pip install --force-reinstall {DISTRIBUTION}"

__all__ = [
    "DISTRIBUTION",
    "MODELS_DIR",
    "REINSTALL",
    "SAMPLES_DIR",
    "BundledDataError",
    "sample_kb_path",
    "sample_tickets_path",
]


def _package_dir() -> Path:
    """This package's folder on disk (wheels are always installed unpacked, never run from a zip)."""
    root = resources.files(__name__)
    if not isinstance(root, Path):  # pragma: no cover - only for zip imports, which pip never produces
        raise BundledDataError(
            f"triage.bundled is not a folder on disk ({root!r}); install {DISTRIBUTION} with pip"
        )
    return root


#: Bundled model heads, one folder per model name.
MODELS_DIR: Path = _package_dir() / "models"
#: The demo's sample backlog and knowledge base.
SAMPLES_DIR: Path = _package_dir() / "samples"


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise BundledDataError(
            f"the bundled {what} is missing from the installed package ({path}); "
            f"the installation is incomplete: reinstall it with `{REINSTALL}`"
        )
    return path


def sample_tickets_path() -> Path:
    """The multilingual sample backlog (JSONL, 30 tickets in 6 languages) that ``triage demo`` triages."""
    return _existing(SAMPLES_DIR / "tickets.jsonl", "sample backlog")


def sample_kb_path() -> Path:
    """The sample knowledge base (a folder of Markdown help articles with language variants)."""
    return _existing(SAMPLES_DIR / "kb", "sample knowledge base")
