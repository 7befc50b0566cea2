"""Where model files live and how they are checked: manifests with sha256, no executable formats.

Every saved model or index directory carries ``manifest.json``: ``{"files": {name: sha256}, ...}``. Loading
verifies each hash, so a tampered or truncated file is a clear error, and refuses pickle-style formats.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from triage import bundled
from triage.errors import TriageError

MANIFEST = "manifest.json"
#: Suffixes triage will load: data-only formats that cannot execute code.
SAFE_SUFFIXES = {
    ".json",
    ".npz",
    ".npy",
    ".safetensors",
    ".md",
    ".txt",
    ".jsonl",
    ".csv",
    ".sqlite",
    ".faiss",
    ".index",
    ".png",
    ".model",
    ".onnx",
}
#: The bundled models (trained heads that ship inside the package, ``triage/bundled/models``).
BUNDLED_MODELS_DIR: Path = bundled.MODELS_DIR


class ModelIntegrityError(TriageError):
    """A model file does not match its manifest, is missing, or is in an unsafe format."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(directory: str | Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Hash every file in ``directory`` (recursively, manifest excepted) and write ``manifest.json``."""
    directory = Path(directory)
    files = {
        p.relative_to(directory).as_posix(): sha256_file(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {"files": files, **(extra or {})}
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)
    return manifest


def swap_in_directory(tmp: str | Path, directory: str | Path) -> None:
    """Put the fully written ``tmp`` folder in place of ``directory`` (same parent).

    The old directory is moved aside before the new one is renamed in and removed only afterwards, so a crash
    never leaves the path without a complete model.
    """
    tmp, directory = Path(tmp), Path(directory)
    old = None
    if directory.exists():
        old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
        os.replace(directory, old)
    os.replace(tmp, directory)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def current_umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def ordinary_mode(path: str | Path, *, directory: bool = False) -> None:
    """Give ``path`` the mode a newly created file (or folder) gets under the umask.

    ``mkdtemp`` makes folders 0700 and some writers (safetensors) files 0600; a saved model is ordinary data.
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


@contextmanager
def staged_directory(directory: str | Path) -> Iterator[Path]:
    """A fresh sibling folder to write a model into; it replaces ``directory`` when the block succeeds.

    On an exception the partial folder is removed and ``directory`` is left as it was (see
    :func:`swap_in_directory`).
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    ordinary_mode(tmp, directory=True)
    try:
        yield tmp
        swap_in_directory(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def is_bundled(directory: str | Path) -> bool:
    """Whether ``directory`` is (inside) the package's bundled models folder."""
    try:
        Path(directory).resolve().relative_to(BUNDLED_MODELS_DIR.resolve())
    except ValueError:
        return False
    return True


def _integrity_error(directory: Path, problem: str, fix: str) -> ModelIntegrityError:
    """The error for a bad model file; for a bundled model the fix is reinstalling the package."""
    if is_bundled(directory):
        fix = (
            f"the files bundled with {bundled.DISTRIBUTION} were modified or are incomplete: "
            f"reinstall it with `{bundled.REINSTALL}`"
        )
    return ModelIntegrityError(f"{problem}; {fix}")


def verify_manifest(directory: str | Path) -> dict[str, Any]:
    """Check every file listed in ``manifest.json``; raise :class:`ModelIntegrityError` on any mismatch.

    For a bundled model (under :data:`BUNDLED_MODELS_DIR`) the message says to reinstall the package.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.exists():
        raise _integrity_error(
            directory,
            f"{directory} has no {MANIFEST}",
            "it was not saved by triage, refusing to load it",
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    listed = manifest.get("files", {})
    for file in directory.rglob("*"):
        name = file.relative_to(directory).as_posix()
        if file.is_file() and name not in listed and file.suffix.lower() not in SAFE_SUFFIXES | {""}:
            raise ModelIntegrityError(
                f"{file}: a file triage did not write ({file.suffix}) sits in the model directory; "
                "remove it or re-save the model"
            )
    for name, expected in listed.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ModelIntegrityError(f"{path}: manifest entry {name!r} points outside the model directory")
        file = directory / name
        if Path(name).suffix.lower() not in SAFE_SUFFIXES:
            raise ModelIntegrityError(
                f"{file}: unsupported file type; triage loads only data formats {SAFE_SUFFIXES}"
            )
        if not file.exists():
            raise _integrity_error(
                directory, f"{file} is listed in the manifest but missing", "restore it or re-save the model"
            )
        if sha256_file(file) != expected:
            raise _integrity_error(
                directory,
                f"{file} does not match the sha256 in its manifest: modified or corrupted",
                "restore the original file or re-save the model",
            )
    return manifest


#: The models a complete installation bundles (a missing one means a broken install, not a typo).
SHIPPED_MODELS = ("bitext-category", "bitext-intent", "sentiment")


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """A model directory: an existing path, or the name of a bundled model (``triage/bundled/models``)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = BUNDLED_MODELS_DIR / str(name_or_path)
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
    if not BUNDLED_MODELS_DIR.exists():
        return []
    return sorted(p.name for p in BUNDLED_MODELS_DIR.iterdir() if (p / MANIFEST).exists())
