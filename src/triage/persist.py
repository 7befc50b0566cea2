"""One way to persist: a folder of data-only files, a ``manifest.json`` of their sha256, an atomic swap.

Every saver in triage (classifier and tagger heads, the sentiment head, the knowledge base and ticket index,
converted encoders) writes through :func:`saving` and every loader reads through :func:`opening`:

>>> with saving(folder, kind="TicketTagger", encoder="multilingual-e5-small") as tmp:  # doctest: +SKIP
...     write_json(tmp / "config.json", config)
...     np.savez(tmp / "weights.npz", coef=coef)
>>> directory, manifest = opening(folder, kind="TicketTagger", required=["config.json"])  # doctest: +SKIP

The folder is written beside its final place and swapped in whole, so a crash never leaves a half-written
model; loading verifies every hash, refuses files the manifest does not vouch for and formats that could
execute code (pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage import bundled
from triage.errors import ModelIntegrityError

if TYPE_CHECKING:
    import numpy as np

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
        Path(directory).resolve().relative_to(bundled.MODELS_DIR.resolve())
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


def _read_manifest(directory: Path) -> dict[str, Any]:
    """``manifest.json`` parsed and shape-checked; an unreadable or truncated one is an integrity error."""
    path = directory / MANIFEST
    if not path.exists():
        raise _integrity_error(
            directory,
            f"{directory} has no {MANIFEST}",
            "it was not saved by triage, refusing to load it; re-save it with triage",
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _integrity_error(
            directory, f"{path} is unreadable or truncated ({exc})", "restore it or re-save the model"
        ) from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise _integrity_error(
            directory,
            f'{path} has no valid "files" map of name -> sha256',
            "restore it or re-save the model",
        )
    if not files:
        raise _integrity_error(
            directory, f"{path} lists no files, so it verifies nothing", "restore it or re-save the model"
        )
    return manifest


def _on_disk(directory: Path) -> list[str]:
    """Every file under ``directory`` (relative names), the manifests of nested models excepted."""
    return sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.name != MANIFEST
    )


def verify_manifest(directory: str | Path, required: Iterable[str] | None = None) -> dict[str, Any]:
    """Check every file listed in ``manifest.json``; raise :class:`ModelIntegrityError` on any mismatch.

    Args:
        required: the files the caller's loader reads (relative names). Each must be listed (and so
            verified), and no other file may sit in the folder unlisted: what the manifest does not vouch for
            is refused, not skipped. Without it only the listed files are checked (and unlisted files in a
            format triage does not write are refused).

    An unreadable, truncated or empty manifest is an integrity error too. For a bundled model (under
    :data:`triage.bundled.MODELS_DIR`) the message says to reinstall the package.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    manifest = _read_manifest(directory)
    listed: dict[str, str] = manifest["files"]
    for name in _on_disk(directory):
        if name in listed:
            continue
        file = directory / name
        if required is not None:
            raise _integrity_error(
                directory,
                f"{file} is not listed in {path}, so nothing vouches for it",
                "remove it, or re-save the model so the manifest covers it",
            )
        if file.suffix.lower() not in SAFE_SUFFIXES | {""}:
            raise ModelIntegrityError(
                f"{file}: a file triage did not write ({file.suffix}) sits in the model directory; "
                "remove it or re-save the model"
            )
    require_listed(directory, manifest, required or ())
    for name, expected in listed.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ModelIntegrityError(f"{path}: manifest entry {name!r} points outside the model directory")
        file = directory / name
        if Path(name).suffix.lower() not in SAFE_SUFFIXES:
            raise ModelIntegrityError(
                f"{file}: unsupported file type; triage loads only data formats {SAFE_SUFFIXES}"
            )
        if not file.is_file():
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


def require_listed(directory: str | Path, manifest: dict[str, Any], names: Iterable[str]) -> None:
    """Raise :class:`ModelIntegrityError` unless the verified ``manifest`` lists every one of ``names``.

    For files a loader decides to read only after looking at the config (e.g. a vocabulary).
    """
    directory = Path(directory)
    for name in names:
        if name not in manifest.get("files", {}):
            raise _integrity_error(
                directory,
                f"{directory / name} is not listed in {directory / MANIFEST} (the loader needs it)",
                "restore the manifest or re-save the model",
            )


def load_arrays(path: str | Path, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, read without pickle; ``keys`` must all be present.

    A file that is not an npz, holds object (pickled) arrays or lacks a key is a :class:`ModelIntegrityError`
    (the same error a hash mismatch gives), never a raw numpy traceback.
    """
    import zipfile

    import numpy as np

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, AttributeError, TypeError) as exc:
        raise _integrity_error(
            path.parent,
            f"{path} is not a plain numpy archive ({exc})",
            "triage never pickles weights: restore the original file or re-save the model",
        ) from None
    missing = [key for key in keys or () if key not in arrays]
    if missing:
        raise _integrity_error(
            path.parent,
            f"{path} lacks the arrays {missing}",
            "restore the original file or re-save the model",
        )
    return arrays


@contextmanager
def saving(directory: str | Path, *, kind: str, **manifest_extra: Any) -> Iterator[Path]:
    """A staged folder to write a model into; on success it gets its manifest and replaces ``directory``.

    ``kind`` is recorded as the manifest's ``type`` (checked by :func:`opening`); ``manifest_extra`` (e.g.
    ``encoder=...``) is recorded beside it. On an exception nothing at ``directory`` changes.
    """
    with staged_directory(directory) as tmp:
        yield tmp
        write_manifest(tmp, {"type": kind, **manifest_extra})


def opening(
    directory: str | Path, *, kind: str | None = None, required: Iterable[str] | None = None
) -> tuple[Path, dict[str, Any]]:
    """Verify a saved folder (see :func:`verify_manifest`) and return it with its manifest.

    ``kind``: the manifest ``type`` the caller loads; a folder saved as another kind is refused with a
    message naming both (a manifest without a ``type`` is accepted, as older saves have none).
    """
    directory = Path(directory)
    manifest = verify_manifest(directory, required=required)
    found = manifest.get("type")
    if kind is not None and found is not None and found != kind:
        raise ModelIntegrityError(
            f"{directory} holds a {found}, not a {kind}: give the folder {kind}.save() wrote"
        )
    return directory, manifest


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as UTF-8 JSON (sorted keys, indented) -- the config file of a saved folder."""
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")


def read_json(path: str | Path) -> Any:
    """Read a JSON file of a verified folder; an unparsable one is a :class:`ModelIntegrityError`."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"{path} is not valid JSON ({exc})"
        raise _integrity_error(path.parent, problem, "re-save the model") from None
