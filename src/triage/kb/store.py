"""Crash-safe, versioned directories for indexes: a save never damages the last good copy.

Layout::

    KB_DIR/
      CURRENT.json        {"version": "v000003"}  (replaced atomically: the commit point)
      v000003/            the live copy: data files + manifest.json (sha256 of every file)

``save`` writes a complete new version in a hidden temp folder, fsyncs it, renames it to ``vNNNNNN`` and only
then swaps ``CURRENT.json`` with ``os.replace``. The manifest is :mod:`triage.persist`'s (written by
:func:`~triage.persist.write_manifest`, checked by :func:`~triage.persist.opening`), so a version folder is
verified exactly like any other saved model. A process killed at any moment leaves either the old pointer
(old version intact) or the new one (new version complete); leftovers are cleaned by the next save.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.locking import exclusive_lock
from triage.persist import opening, write_manifest

__all__ = [
    "LOCK",
    "POINTER",
    "is_store",
    "looks_like_store",
    "read_current",
    "save_version",
    "store_lock",
]

POINTER = "CURRENT.json"
#: The lock file every writer holds (load -> change -> save); see :func:`store_lock`.
LOCK = ".lock"
_VERSION = re.compile(r"^v(\d{6,})$")


def is_store(path: str | Path) -> bool:
    """True when ``path`` is a directory saved by :func:`save_version`."""
    return (Path(path) / POINTER).is_file()


def looks_like_store(path: str | Path) -> bool:
    """True for a folder with the traces of :func:`save_version` (a lock, versions, temp folders), committed
    or not: a store whose first save never reached its commit point has no :data:`POINTER` but is not a
    source of articles either."""
    path = Path(path)
    if not path.is_dir():
        return False
    return any(p.name == LOCK or _VERSION.match(p.name) or p.name.startswith(".tmp-") for p in path.iterdir())


@contextmanager
def store_lock(root: str | Path) -> Iterator[Path]:
    """Hold the store's exclusive inter-process lock (``ROOT/.lock``, created with ``ROOT``).

    Every writer holds it from loading the store to committing its change, so concurrent writers take turns
    instead of overwriting each other's versions; readers do not need it (a commit is one atomic rename).
    Re-entrant within a process (:func:`save_version` takes it too).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise TriageError(f"cannot save to {root}: it is a file, not a directory")
    root.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(root / LOCK) as lock:
        yield lock


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)


def _versions(root: Path) -> list[int]:
    return sorted(int(m.group(1)) for p in root.iterdir() if p.is_dir() and (m := _VERSION.match(p.name)))


def save_version(
    root: str | Path, write: Callable[[Path], None], *, kind: str, **manifest_extra: Any
) -> Path:
    """Write a new version of the store at ``root``; ``write(tmp_dir)`` fills it. Returns the new folder.

    ``kind`` and ``manifest_extra`` go into the version's manifest as in :func:`triage.persist.saving`.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise TriageError(f"cannot save to {root}: it is a file, not a directory")
    if root.exists() and not is_store(root) and not looks_like_store(root) and any(root.iterdir()):
        raise TriageError(
            f"cannot save to {root}: the folder is not empty and is not a triage index; choose a new folder"
        )
    with store_lock(root):
        return _save_locked(root, write, {"type": kind, **manifest_extra})


def _save_locked(root: Path, write: Callable[[Path], None], manifest_extra: dict[str, Any]) -> Path:
    """:func:`save_version` once the store's lock is held."""
    for stale in root.glob(".tmp-*"):  # left by a save that was killed
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    number = (max(_versions(root), default=0)) + 1
    name = f"v{number:06d}"
    tmp = root / f".tmp-{name}-{os.getpid()}"
    tmp.mkdir()
    try:
        write(tmp)
        write_manifest(tmp, manifest_extra)
        _fsync_tree(tmp)
        os.rename(tmp, root / name)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer_tmp = root / f".tmp-pointer-{os.getpid()}"
    with open(pointer_tmp, "w", encoding="utf-8") as handle:
        json.dump({"version": name}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, root / POINTER)  # the commit point
    _fsync_dir(root)
    for old in _versions(root):
        if old != number:
            shutil.rmtree(root / f"v{old:06d}", ignore_errors=True)
    return root / name


def read_current(
    root: str | Path, required: Iterable[str] | None = None, *, kind: str | None = None
) -> tuple[Path, dict[str, Any]]:
    """The live version folder of a store and its verified manifest (:func:`triage.persist.opening`).

    ``required``: the files the caller will read; each must be listed in the manifest, and no unlisted file
    may sit in the version folder. ``kind``: the manifest ``type`` expected (older saves have none).
    """
    root = Path(root)
    if not root.exists():
        raise TriageError(f"{root} does not exist")
    if not is_store(root):
        raise TriageError(not_a_store_message(root))
    try:
        name = json.loads((root / POINTER).read_text(encoding="utf-8"))["version"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise TriageError(f"{root / POINTER} is damaged ({exc}); restore it or rebuild the index") from None
    if not _VERSION.match(str(name)):
        raise TriageError(f"{root / POINTER} names an invalid version {name!r}")
    folder = root / name
    if not folder.is_dir():
        raise TriageError(f"{root / POINTER} names {name}, which is missing; restore it or rebuild the index")
    return opening(folder, kind=kind, required=required)


def not_a_store_message(root: Path) -> str:
    """Why ``root`` cannot be opened as a saved index, and how to make one."""
    build = f"build one first, e.g. `triage kb build SOURCE --out {root}`"
    if looks_like_store(root):
        return (
            f"{root} is a triage index folder with no committed version (no {POINTER}: its first save was "
            f"interrupted or is still running); {build}"
        )
    return f"{root} is not a saved triage index (no {POINTER}); {build}"


def cache_root() -> Path:
    """Cache of indexes built on the fly from a source: ``$TRIAGE_CACHE_DIR`` or ``~/.cache/triage``."""
    return Path(os.environ.get("TRIAGE_CACHE_DIR") or Path.home() / ".cache" / "triage")


def source_fingerprint(path: str | Path, *extra: object) -> str:
    """sha256 over a source file or folder (relative names and contents) and ``extra`` settings."""
    import hashlib

    path = Path(path)
    digest = hashlib.sha256(repr(extra).encode())
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else file.name.encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:32]
