"""Where models live: the bundled heads inside the package, model names resolved to folders.

How a model folder is written and verified (manifest of sha256 hashes, atomic swap, no executable formats)
is :mod:`triage.persist`; its names are re-exported here for code written against earlier versions.
"""

from __future__ import annotations

from pathlib import Path

from triage import bundled
from triage.errors import TriageError
from triage.persist import (  # noqa: F401 - re-exported: the persistence API used to live here
    MANIFEST,
    SAFE_SUFFIXES,
    ModelIntegrityError,
    current_umask,
    is_bundled,
    load_arrays,
    ordinary_mode,
    require_listed,
    sha256_file,
    staged_directory,
    swap_in_directory,
    verify_manifest,
    write_manifest,
)

#: The bundled models (trained heads that ship inside the package); code reads ``bundled.MODELS_DIR``.
BUNDLED_MODELS_DIR: Path = bundled.MODELS_DIR


#: The models a complete installation bundles (a missing one means a broken install, not a typo).
SHIPPED_MODELS = ("bitext-category", "bitext-intent", "sentiment")


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """A model directory: an existing path, or the name of a bundled model (``triage/bundled/models``)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = bundled.MODELS_DIR / str(name_or_path)
    if shipped.exists():
        return shipped
    if str(name_or_path) in SHIPPED_MODELS:
        raise TriageError(
            f"the bundled model {name_or_path!r} is missing from the installed package ({shipped}): "
            f"reinstall it with `{bundled.REINSTALL}`"
        )
    raise TriageError(f"model {name_or_path!r} not found: give a directory, or one of {bundled_models()}")


def bundled_models() -> list[str]:
    """Names of the models shipped inside the package (``triage/bundled/models``)."""
    if not bundled.MODELS_DIR.exists():
        return []
    return sorted(p.name for p in bundled.MODELS_DIR.iterdir() if (p / MANIFEST).exists())
