"""Front-end handlers of hlsgen's decoder layers: GroupedQueryAttention, MultiHeadLatentAttention and
RotaryEmbedding, lowered to the attention primitives (registered in :mod:`hlsgen.frontend.keras`).

Every projection becomes a :class:`~hlsgen.ir.ops.Linear` carrying the types its QKeras quantizers fix;
RoPE becomes a :class:`~hlsgen.ir.ops.decode.RoPE` op typed like the projection it rotates; the causal
mask is a constant :class:`~hlsgen.ir.ops.attention.Mask`. Multi-head latent attention keeps its key and
value up-projections exact (:class:`~hlsgen.ir.ops.decode.ExactLinear`) and scores through
:class:`~hlsgen.ir.ops.decode.LatentScores`, which is what decode absorbs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..fixed import FixedType
from ..ir.ops import Context, Linear
from ..ir.ops.attention import Mask, Scores
from ..ir.ops.decode import ExactLinear, LatentScores, RoPE
from .keras_base import Call
from .keras_base import activation_type as _qtype
from .keras_base import quantized_weights as _qweights

if TYPE_CHECKING:
    from .keras import KerasReader


def _w(layer: Any, name: str) -> np.ndarray | None:
    v = getattr(layer, name, None)
    return None if v is None else np.asarray(v.numpy(), dtype=np.float64)


def _linear(r: KerasReader, layer: Any, part: str, x: str, role: str, out_slot: str | None = None) -> str:
    """The projection ``part`` of ``layer`` (``{part}_kernel``/``{part}_bias`` and their quantizers)."""
    name, g, qs = layer.name, r.graph, layer.quantizers
    kern, bias = _w(layer, f"{part}_kernel"), _w(layer, f"{part}_bias")
    qt: dict[str, FixedType] = {}
    t, kern = _qweights(qs[f"{part}_kernel"], kern, f"{name}.{part}_kernel_quantizer")
    if t is not None:
        qt["weight"] = t
    if bias is not None:
        t, bias = _qweights(qs[f"{part}_bias"], bias, f"{name}.{part}_bias_quantizer")
        if t is not None:
            qt["bias"] = t
    out_slot = out_slot or f"{part}_output"
    t = _qtype(qs[out_slot], f"{name}.{out_slot}_quantizer")
    if t is not None:
        qt[role] = t
    y = r.new(f"{name}_{part}", (r.shape(x)[0], kern.shape[1]), name)
    g.add_op(
        Linear(
            g.unique_name(f"{name}_{part}_proj"),
            [x],
            [y],
            origin=name,
            kernel=kern,
            bias=bias,
            role=role,
            qtypes=qt,
        )
    )
    return y


def _rope(
    r: KerasReader,
    layer: Any,
    x: str,
    head_dim: int,
    rope_dim: int,
    base: float,
    role: str,
    out_slot: str,
    base_name: str,
) -> str:
    """A RoPE op after tensor ``x``, its output typed by ``out_slot``'s quantizer and ``role``."""
    name, g, qs = layer.name, r.graph, layer.quantizers
    qt: dict[str, FixedType] = {}
    t = _qtype(qs.get("rope_table"), f"{name}.rope_table_quantizer")
    if t is not None:
        qt["table"] = t
    t = _qtype(qs.get(out_slot), f"{name}.{out_slot}_quantizer")
    if t is not None:
        qt[role] = t
    y = r.new(base_name, r.shape(x), name)
    g.add_op(
        RoPE(
            g.unique_name(base_name),
            [x],
            [y],
            origin=name,
            head_dim=head_dim,
            rope_dim=rope_dim,
            base=base,
            role=role,
            qtypes=qt,
        )
    )
    return y


def _attend(
    r: KerasReader, layer: Any, scores_op: Any, t: int, v: str, heads: int, kv_heads: int, vd: int
) -> str:
    """Causal mask, softmax, context and output projection after a scores op (added here)."""
    name, g, qs = layer.name, r.graph, layer.quantizers
    tq = _qtype(qs["score"], f"{name}.score_quantizer")
    if tq is not None:
        scores_op.qtypes["score"] = tq
    g.add_op(scores_op)
    mask = r.new(f"{name}_mask", (t, t), name)
    g.add_op(
        Mask(g.unique_name(f"{name}_mask"), [], [mask], origin=name, causal=True, offset=0, shape=(t, t))
    )
    p = r.softmax(scores_op.outputs[0], mask, name, f"{name}_probs")
    tp = _qtype(qs["probability"], f"{name}.probability_quantizer")
    if tp is not None:
        g.producer(p).qtypes["probability"] = tp
    c = r.new(f"{name}_context", (t, heads * vd), name)
    cop = Context(
        g.unique_name(f"{name}_context"),
        [p, v],
        [c],
        origin=name,
        num_heads=heads,
        num_kv_heads=kv_heads,
        value_dim=vd,
    )
    tc = _qtype(qs["context"], f"{name}.context_quantizer")
    if tc is not None:
        cop.qtypes["context"] = tc
    g.add_op(cop)
    return _linear(r, layer, "output", c, "result", out_slot="output")


# ---------------------------------------------------------------------------------------------------
def gqa(r: KerasReader, n: Call) -> str:
    """GroupedQueryAttention: projections, RoPE, GQA scores, causal mask, softmax, context, output."""
    layer = n.layer
    name, g = layer.name, r.graph
    x = r._in(n.inputs[0])
    t = r.shape(x)[0]
    H, G, hd, vd = layer.num_heads, layer.num_kv_heads, layer.head_dim, layer.value_dim
    q = _linear(r, layer, "query", x, "query")
    k = _linear(r, layer, "key", x, "key")
    v = _linear(r, layer, "value", x, "value")
    if layer.rope_dim:
        q = _rope(
            r, layer, q, hd, layer.rope_dim, layer.rope_base, "query", "query_output", f"{name}_query_rope"
        )
        k = _rope(r, layer, k, hd, layer.rope_dim, layer.rope_base, "key", "key_output", f"{name}_key_rope")
    s = r.new(f"{name}_scores", (H, t, t), name)
    sop = Scores(
        g.unique_name(f"{name}_scores"), [q, k], [s], origin=name, num_heads=H, num_kv_heads=G, key_dim=hd
    )
    return _attend(r, layer, sop, t, v, H, G, vd)


def mla(r: KerasReader, n: Call) -> str:
    """MultiHeadLatentAttention: latent and RoPE projections, exact up-projections, two-part scores, ..."""
    layer = n.layer
    name, g, qs = layer.name, r.graph, layer.quantizers
    x = r._in(n.inputs[0])
    t = r.shape(x)[0]
    H, hd, vd, dc, dr = layer.num_heads, layer.head_dim, layer.value_dim, layer.kv_latent_dim, layer.rope_dim
    c = _linear(r, layer, "kv_latent", x, "latent")
    src = _linear(r, layer, "q_latent", x, "q_latent") if layer.q_latent_dim else x
    qn = _linear(r, layer, "query", src, "query")
    ups = {}
    for part, width in (("key", hd), ("value", vd)):
        tw, w = _qweights(
            qs[f"{part}_kernel"], _w(layer, f"{part}_kernel"), f"{name}.{part}_kernel_quantizer"
        )
        y = r.new(f"{name}_{part}", (t, H * width), name)
        op = ExactLinear(
            g.unique_name(f"{name}_{part}_up"),
            [c],
            [y],
            origin=name,
            kernel=w,
            qtypes={"weight": tw} if tw is not None else {},
            num_heads=H,
            head_dim=width,
        )
        g.add_op(op)
        ups[part] = y
    ins = [qn, ups["key"]]
    if dr:
        kr = _linear(r, layer, "key_rope", x, "key_rope")
        kr = _rope(r, layer, kr, dr, dr, layer.rope_base, "key_rope", "key_rope_output", f"{name}_key_rot")
        qr = _linear(r, layer, "query_rope", src, "query_rope")
        qr = _rope(
            r, layer, qr, dr, dr, layer.rope_base, "query_rope", "query_rope_output", f"{name}_query_rot"
        )
        ins += [qr, kr]
    s = r.new(f"{name}_scores", (H, t, t), name)
    sop = LatentScores(
        g.unique_name(f"{name}_scores"),
        ins,
        [s],
        origin=name,
        num_heads=H,
        a_dim=hd,
        a_kv_heads=H,
        rope_dim=dr,
        scale_dim=hd + dr,
    )
    _ = dc
    return _attend(r, layer, sop, t, ups["value"], H, H, vd)


def rotary(r: KerasReader, n: Call) -> str:
    """RotaryEmbedding on its own: one RoPE op."""
    layer = n.layer
    x = r._in(n.inputs[0])
    return _rope(r, layer, x, layer.head_dim, layer.rope_dim, layer.base, "result", "output", layer.name)


HANDLERS: dict[str, Callable[[KerasReader, Call], str]] = {
    "GroupedQueryAttention": gqa,
    "MultiHeadLatentAttention": mla,
    "RotaryEmbedding": rotary,
}
