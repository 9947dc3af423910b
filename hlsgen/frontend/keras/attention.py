"""MultiHeadAttention / QMultiHeadAttention lowered to its primitives: projections, scores, mask,
softmax, context and the output projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...fixed import FixedType
from ...ir.ops import Linear
from ..keras_base import Call, activation_type, quantized_weights

if TYPE_CHECKING:
    from .reader import KerasReader


def mha_check(layer: Any, n: Call) -> list[str]:
    msgs = []
    axes = getattr(layer, "_attention_axes", None)
    if axes is not None and tuple(axes) != (1,):
        msgs.append(
            f"attention_axes={tuple(axes)} is not supported (only the default, attention over tokens)"
        )
    if n.kwargs.get("return_attention_scores"):
        msgs.append("return_attention_scores=True is not supported")
    mask = n.kwargs.get("attention_mask")
    if mask is not None and not isinstance(mask, str):
        msgs.append(
            "a constant attention_mask is not supported: use use_causal_mask=True, or pass the mask as a model input"
        )
    return msgs


def mha(r: KerasReader, n: Call) -> str:
    from ...ir.ops.attention import Context, Mask, Scores

    layer = n.layer
    name = layer.name
    g = r.graph
    q_in = r.tensor(n.inputs[0])
    v_key = n.kwargs.get("value") if isinstance(n.kwargs.get("value"), str) else None
    rest = n.inputs[1:]
    v_in = r.tensor(v_key) if v_key else r.tensor(rest[0])
    k_key = n.kwargs.get("key") if isinstance(n.kwargs.get("key"), str) else None
    if k_key is None and len(rest) > 1:
        k_key = rest[1]
    k_in = r.tensor(k_key) if k_key else v_in
    mask_key = n.kwargs.get("attention_mask") if isinstance(n.kwargs.get("attention_mask"), str) else None
    causal = bool(n.kwargs.get("use_causal_mask", False))

    # Keras MHA names weights "mha/query/kernel:0"; QMultiHeadAttention "mha/query_kernel:0"
    w = {"_" + v.name.split(":")[0].replace("/", "_"): v.numpy() for v in layer.weights}
    quant = type(layer).__name__ == "QMultiHeadAttention"
    cfg = layer.get_config()  # the same keys for Keras MHA and QMultiHeadAttention
    H = int(cfg["num_heads"])
    dk = int(cfg["key_dim"])
    dv = int(cfg.get("value_dim") or dk)
    tq, tk = r.shape(q_in)[0], r.shape(k_in)[0]

    def get(part: str, what: str) -> np.ndarray | None:
        for k, v in w.items():
            if k.endswith(f"_{part}_{what}"):
                return np.asarray(v, dtype=np.float64)
        return None

    def proj(part: str, x: str, width: int, role: str, qprefix: str) -> str:
        kern = get(part, "kernel")
        bias = get(part, "bias")
        kern2 = kern.reshape(kern.shape[0], -1) if kern.ndim == 3 and part != "attention_output" else kern
        if part in ("attention_output", "output"):
            kern2 = kern.reshape(-1, kern.shape[-1])
        b2 = None if bias is None else bias.reshape(-1)
        y = r.new(f"{name}_{role}", (r.shape(x)[0], kern2.shape[1]), name)
        qt: dict[str, FixedType] = {}
        if quant:
            qs = layer.quantizers
            t, kern2 = quantized_weights(qs[f"{qprefix}_kernel"], kern2, f"{name}.{qprefix}_kernel_quantizer")
            if t is not None:
                qt["weight"] = t
            if b2 is not None:
                t, b2 = quantized_weights(qs[f"{qprefix}_bias"], b2, f"{name}.{qprefix}_bias_quantizer")
                if t is not None:
                    qt["bias"] = t
            out_slot = "output" if qprefix == "output" else f"{qprefix}_output"
            t = activation_type(qs[out_slot], f"{name}.{out_slot}_quantizer")
            if t is not None:
                qt[role] = t
        op = Linear(
            g.unique_name(f"{name}_{role}_proj"),
            [x],
            [y],
            origin=name,
            kernel=kern2,
            bias=b2,
            role=role,
            qtypes=qt,
        )
        g.add_op(op)
        return y

    qpart, kpart, vpart = ("query", "key", "value")
    opart = "attention_output" if get("attention_output", "kernel") is not None else "output"
    q = proj(qpart, q_in, H * dk, "query", "query")
    k = proj(kpart, k_in, H * dk, "key", "key")
    v = proj(vpart, v_in, H * dv, "value", "value")

    s = r.new(f"{name}_scores", (H, tq, tk), name)
    sop = Scores(
        g.unique_name(f"{name}_scores"), [q, k], [s], origin=name, num_heads=H, num_kv_heads=H, key_dim=dk
    )
    if quant:
        t = activation_type(layer.quantizers["score"], f"{name}.score_quantizer")
        if t is not None:
            sop.qtypes["score"] = t
    g.add_op(sop)

    mask = None
    if causal or mask_key:
        mask = r.new(f"{name}_mask", (tq, tk), name)
        ins = [r.tensor(mask_key)] if mask_key else []
        g.add_op(
            Mask(
                g.unique_name(f"{name}_mask"),
                ins,
                [mask],
                origin=name,
                causal=causal,
                offset=0,
                shape=(tq, tk),
            )
        )
    p = r.softmax(s, mask, name, f"{name}_probs")
    if quant:
        t = activation_type(layer.quantizers["probability"], f"{name}.probability_quantizer")
        if t is not None:
            g.producer(p).qtypes["probability"] = t

    c = r.new(f"{name}_context", (tq, H * dv), name)
    cop = Context(
        g.unique_name(f"{name}_context"), [p, v], [c], origin=name, num_heads=H, num_kv_heads=H, value_dim=dv
    )
    if quant:
        t = activation_type(layer.quantizers["context"], f"{name}.context_quantizer")
        if t is not None:
            cop.qtypes["context"] = t
    g.add_op(cop)
    return proj(opart, c, 0, "result", "output")
