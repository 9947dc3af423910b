"""How the HLS backend renders each IR op: one function per op kind, registered in :data:`RENDERERS`.

A renderer reads an op's public geometry, types and parameters and returns an :class:`HlsCall`: the
hand-written header under templates/hls/firmware/hlsgen/ that holds the templated function, the fields of
the op's config struct and the call's arguments. The loops and pragmas live in those headers; nothing
here emits C++ code. Adding an op: its semantics under hlsgen/ir/ops/, then one entry here (and one in
:data:`hlsgen.backends.rtl.ops.RENDERERS`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...config import Multiplier
from ...fixed import FixedType
from ...ir.graph import Graph
from ...ir.ops import (
    Activation,
    Add,
    BatchNorm,
    Binary,
    BinaryKind,
    BlockLinear,
    Concat,
    Constant,
    Context,
    Conv1D,
    Embedding,
    GlobalAvgPool,
    GlobalMaxPool,
    KVCache,
    LatentScores,
    LayerNorm,
    Linear,
    Mask,
    Op,
    Param,
    PositionMask,
    Reshape,
    RoPE,
    Scores,
    Slice,
    Softmax,
    Transpose,
)
from ...ir.ops.attention import ScaledScores
from ...ir.ops.basic import ActivationKind
from ...ir.ops.softmax import SoftmaxVariant
from ...ir.ops.tensor import MAX_TRANSPOSE_RANK, outer_inner

_ATTENTION = "hlsgen_attention.h"
_ACTIVATION = "hlsgen_activation.h"
_DECODE = "hlsgen_decode.h"
_TENSOR = "hlsgen_tensor.h"


@dataclass
class HlsCall:
    """What the HLS backend needs to render one op.

    Attributes:
        header: hand-written header (under templates/hls/firmware/hlsgen/) that holds the function.
        function: the templated function, e.g. ``hlsgen::linear``.
        config: ordered fields of the op's config struct: ``("typedef", name, ctype)`` or
            ``("const", name, int)``.
        args: the call's arguments after the config: tensor names and parameter names.
        params: parameters written to weights/.
    """

    header: str
    function: str
    config: list[tuple[str, str, object]]
    args: list[str]
    params: list[Param] = field(default_factory=list)
    template_args: list[str] = field(default_factory=list)


def _typedef(name: str, t: FixedType) -> tuple[str, str, object]:
    return ("typedef", name, str(t))


def _scale_config(op: ScaledScores) -> list[tuple[str, str, object]]:
    """The config entries of the scale step (read by ``hlsgen_common.h``'s ``scale_cast``)."""
    ta = op.types["accum"]
    return [
        ("const", "scale_is_shift", int(op.scale_is_shift)),
        ("const", "accum_width", ta.width),
        _typedef("accum_t", ta),
        _typedef("shifted_t", op.types["shifted"]),
        _typedef("scale_t", op.types["scale"]),
        ("double", "scale", op.scale),
    ]


def bind_name(binding: Multiplier | None) -> str:
    """The product policy (templates/hls/firmware/hlsgen/hlsgen_common.h) of a binding: ``lut`` (BIND_OP
    impl=fabric) or ``dsp`` (impl=dsp) under the latency strategy, where the op's typing resolved the
    layer's ``multiplier`` (``auto`` included, by the cost model the RTL builds with, :mod:`hlsgen.fixed.cmm`);
    ``auto`` (Vitis HLS chooses) for None: the resource strategy."""
    return "auto" if binding is None else binding.value


def product_binding(op: Linear) -> str:
    """How the op's products by its constant weights are bound (:func:`bind_name` of ``op.binding``)."""
    return bind_name(op.binding)


def _product_policy(op: Linear) -> tuple[str, str, object]:
    """The config entry that binds the op's constant products (``product_t``)."""
    return ("typedef", "product_t", f"hlsgen::product_{product_binding(op)}")


def _variable_policy(binding: Multiplier | None, name: str = "product_t") -> tuple[str, str, object]:
    """The config entry that binds an op's data-dependent products (attention's scores and context, the
    layer norm's squares and scale products) by ``binding``."""
    return ("typedef", name, f"hlsgen::product_{bind_name(binding)}")


# -- dense, element-wise, pooling ------------------------------------------------------------------
def render_linear(op: Linear, graph: Graph) -> HlsCall:
    rows = graph.tensors[op.inputs[0]].size // op.n_in
    params = [Param(f"w_{op.name}", op.types["weight"], op.w_raw)]
    if op.b_raw is not None:
        params.append(Param(f"b_{op.name}", op.types["bias"], op.b_raw))
    return HlsCall(
        header="hlsgen_linear.h",
        function="hlsgen::linear" if op.b_raw is not None else "hlsgen::linear_nobias",
        config=[
            ("const", "n_rows", rows),
            ("const", "n_in", op.n_in),
            ("const", "n_out", op.n_out),
            ("const", "has_bias", int(op.b_raw is not None)),
            ("const", "reuse_factor", op.reuse_factor),
            ("const", "n_mult", op.multipliers(rows)),
            _typedef("weight_t", op.types["weight"]),
            _typedef("bias_t", op.types.get("bias", op.types["weight"])),
            _typedef("accum_t", op.types["accum"]),
            _product_policy(op),
        ],
        args=[op.inputs[0], op.outputs[0], *(p.name for p in params)],
        params=params,
    )


def render_activation(op: Activation, graph: Graph) -> HlsCall:
    n = graph.tensors[op.inputs[0]].size
    k = op.act_kind
    cfg: list[tuple[str, str, object]] = [("const", "n_elem", n), ("const", "reuse_factor", op.reuse_factor)]
    if k is ActivationKind.TABLE:
        tx = op.types["x"]
        cfg += [
            ("const", "table_bits", op.table_bits),
            ("const", "in_width", tx.width),
            ("const", "in_signed", int(tx.signed)),
            _typedef("table_t", op.types["table"]),
        ]
        p = Param(f"table_{op.name}", op.types["table"], op.table_raw)
        return HlsCall(_ACTIVATION, "hlsgen::table_activation", cfg, [*op.inputs, *op.outputs, p.name], [p])
    fn = "hlsgen::relu" if k is ActivationKind.RELU else "hlsgen::cast"
    return HlsCall(_ACTIVATION, fn, cfg, [*op.inputs, *op.outputs])


def render_add(op: Add, graph: Graph) -> HlsCall:
    n = graph.tensors[op.inputs[0]].size
    return HlsCall(_ACTIVATION, "hlsgen::add", [("const", "n_elem", n)], [*op.inputs, *op.outputs])


def render_global_avg_pool(op: GlobalAvgPool, graph: Graph) -> HlsCall:
    t, d = graph.tensors[op.inputs[0]].shape[-2:]
    return HlsCall(
        _ACTIVATION,
        "hlsgen::global_avg_pool",
        [
            ("const", "n_tokens", t),
            ("const", "n_feat", d),
            _typedef("sum_t", op.types["sum"]),
            _typedef("scale_t", op.types["scale"]),
            ("double", "scale", op.c_raw / 2.0**op.c_frac),
        ],
        [*op.inputs, *op.outputs],
    )


def render_reshape(op: Reshape, graph: Graph) -> HlsCall:
    n = graph.tensors[op.inputs[0]].size
    return HlsCall(_ACTIVATION, "hlsgen::cast", [("const", "n_elem", n)], [*op.inputs, *op.outputs])


# -- attention -------------------------------------------------------------------------------------
def render_scores(op: Scores, graph: Graph) -> HlsCall:
    tq, tk = op.shapes(graph)
    return HlsCall(
        header=_ATTENTION,
        function="hlsgen::scores",
        config=[
            ("const", "n_q", tq),
            ("const", "n_k", tk),
            ("const", "n_heads", op.num_heads),
            ("const", "n_kv_heads", op.num_kv_heads),
            ("const", "key_dim", op.key_dim),
            ("const", "reuse_factor", op.reuse_factor),
            ("const", "n_mult", op.n_mult(graph)),
            *_scale_config(op),
            _variable_policy(op.binding),
        ],
        args=[*op.inputs, *op.outputs],
    )


def render_mask(op: Mask, graph: Graph) -> HlsCall:
    tq, tk = op.shapes(graph)
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_q", tq),
        ("const", "n_k", tk),
        ("const", "causal", int(op.causal)),
        ("const", "offset", op.causal_offset(tq, tk)),
    ]
    fn = "hlsgen::mask_input" if op.inputs else "hlsgen::mask_causal"
    return HlsCall(_ATTENTION, fn, cfg, [*op.inputs, *op.outputs])


def render_context(op: Context, graph: Graph) -> HlsCall:
    tq, tk = op.shapes(graph)
    return HlsCall(
        header=_ATTENTION,
        function="hlsgen::context",
        config=[
            ("const", "n_q", tq),
            ("const", "n_k", tk),
            ("const", "n_heads", op.num_heads),
            ("const", "n_kv_heads", op.num_kv_heads),
            ("const", "value_dim", op.value_dim),
            ("const", "reuse_factor", op.reuse_factor),
            ("const", "n_mult", op.n_mult(graph)),
            _typedef("accum_t", op.types["accum"]),
            _variable_policy(op.binding),
        ],
        args=[*op.inputs, *op.outputs],
    )


def render_softmax(op: Softmax, graph: Graph) -> HlsCall:
    assert op.plan is not None
    pl = op.plan
    shape = graph.tensors[op.inputs[0]].shape
    n = shape[-1]
    rows = graph.tensors[op.inputs[0]].size // n
    tx, ts = op.types["x"], op.types["sum"]
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_rows", rows),
        ("const", "n_cols", n),
        ("const", "n_q", shape[-2] if op.has_mask else 1),
        ("const", "reuse_factor", op.reuse_factor),
        ("const", "in_width", tx.width),
        ("const", "in_signed", int(tx.signed)),
        ("const", "sum_width", ts.width),
        ("const", "sum_frac", ts.frac),
        ("const", "inv_bits", pl.inv_bits),
        ("const", "shift_min", op.t_range[0]),
        ("const", "shift_max", op.t_range[1]),
    ]
    names = {k: f"{k}_{op.name}" for k in pl.tables}
    if pl.variant is SoftmaxVariant.STABLE:
        cfg += [
            ("const", "drop_bits", pl.drop_bits),
            ("const", "addr_bits", pl.addr_bits),
            ("const", "hi_bits", pl.hi_bits),
            ("const", "lo_bits", pl.lo_bits),
            ("typedef", "diff_t", str(op.types["diff"])),
        ]
        tables = ["exp_hi", "exp_lo", "inv"]
        fn = "hlsgen::softmax_stable"
    else:
        cfg += [("const", "table_bits", pl.exp_table_bits)]
        tables = ["exp", "inv"]
        fn = "hlsgen::softmax_latency"
    cfg += [
        ("typedef", "exp_t", str(op.types["exp"])),
        ("typedef", "accum_t", str(op.types["accum"])),
        ("typedef", "sum_t", str(ts)),
        ("typedef", "inv_t", str(op.types["inv"])),
        ("typedef", "wide_t", str(op.types["wide"])),
    ]
    cfg.append(_variable_policy(op.binding))  # exp x 1/sum, as the latency RTL binds it
    params = [Param(names[k], *pl.tables[k]) for k in tables]
    if op.has_mask:
        fn += "_masked"
    return HlsCall("hlsgen_softmax.h", fn, cfg, [*op.inputs, *op.outputs, *(p.name for p in params)], params)


def render_layernorm(op: LayerNorm, graph: Graph) -> HlsCall:
    t = op.types
    d = op.n_feat
    rows = graph.tensors[op.inputs[0]].size // d
    params = [
        Param(f"inv_sqrt_{op.name}", t["table"], op.table_raw),
        Param(f"gamma_{op.name}", t["weight"], op.gamma_raw),
        Param(f"beta_{op.name}", t["bias"], op.beta_raw),
    ]
    geo = op.geometry
    assert op.table_raw is not None and geo is not None
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_rows", rows),
        ("const", "n_feat", d),
        ("const", "reuse_factor", op.reuse_factor),
        ("const", "var_width", geo.var_width),
        ("const", "var_frac", geo.var_frac),
        ("const", "mant_bits", geo.mant_bits),
        ("const", "k_sub", geo.k_sub),
        ("const", "table_size", geo.size),
        ("double", "scale", op.c_raw / 2.0**op.c_frac),
    ]
    cfg += [
        ("typedef", f"{k}_t", str(t[k]))
        for k in ("sum", "scale", "mean", "diff", "sq", "var", "table", "wide", "norm", "weight", "bias")
    ]
    cfg += [
        _variable_policy(op.binding, "square_t"),  # (x - mean)^2
        _variable_policy(op.scale_binding, "scale_product_t"),  # (x - mean) x 1/sqrt
    ]
    return HlsCall(
        "hlsgen_layernorm.h",
        "hlsgen::layernorm",
        cfg,
        [*op.inputs, *op.outputs, *(p.name for p in params)],
        params,
    )


# -- decode: RoPE, caches, latent attention --------------------------------------------------------
def render_rope(op: RoPE, graph: Graph) -> HlsCall:
    rows, width = op.rows_width(graph)
    params = [
        Param(f"cos_{op.name}", op.types["table"], op.cos_raw),
        Param(f"sin_{op.name}", op.types["table"], op.sin_raw),
    ]
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_rows", rows),
        ("const", "n_heads", width // op.head_dim),
        ("const", "head_dim", op.head_dim),
        ("const", "rope_dim", op.rope_dim),
        ("const", "n_positions", op.n_positions),
        ("const", "reuse_factor", op.reuse_factor),
        _typedef("table_t", op.types["table"]),
        _typedef("sum_t", op.types["sum"]),
    ]
    fn = "hlsgen::rope_at" if op.decode else "hlsgen::rope"
    return HlsCall(_DECODE, fn, cfg, [*op.inputs, *op.outputs, *(p.name for p in params)], params)


def render_kv_cache(op: KVCache, graph: Graph) -> HlsCall:
    return HlsCall(
        _DECODE,
        "hlsgen::kv_cache",
        [("const", "max_length", op.max_length), ("const", "width", op.width)],
        [op.inputs[0], op.inputs[1], op.cache_var],
        template_args=[f"{op.inputs[0]}_t", f"{op.inputs[1]}_t", f"config_{op.name}"],
    )


def render_position_mask(op: PositionMask, graph: Graph) -> HlsCall:
    return HlsCall(
        _DECODE,
        "hlsgen::position_mask",
        [("const", "max_length", op.max_length)],
        [*op.inputs, *op.outputs],
    )


def render_block_linear(op: BlockLinear, graph: Graph) -> HlsCall:
    if op.blocks == 1:
        return render_linear(op, graph)
    rows = graph.tensors[op.inputs[0]].size // op.n_in
    p = Param(f"w_{op.name}", op.types["weight"], op.block_raw())
    return HlsCall(
        header=_DECODE,
        function="hlsgen::block_linear",
        config=[
            ("const", "n_rows", rows),
            ("const", "n_in", op.n_in),
            ("const", "n_out", op.n_out),
            ("const", "n_blocks", op.blocks),
            ("const", "reuse_factor", op.reuse_factor),
            ("const", "n_mult", op.multipliers(rows)),
            _typedef("weight_t", op.types["weight"]),
            _typedef("accum_t", op.types["accum"]),
        ],
        args=[op.inputs[0], op.outputs[0], p.name],
        params=[p],
    )


def render_latent_scores(op: LatentScores, graph: Graph) -> HlsCall:
    tq, tk = op.shapes(graph)
    args = [*op.inputs, *op.outputs]
    if not op.rope_dim:
        # without RoPE these are plain grouped scores over the latent: hlsgen::scores, with the
        # latent as the key dimension and the latent heads as the key/value heads
        cfg: list[tuple[str, str, object]] = [
            ("const", "n_q", tq),
            ("const", "n_k", tk),
            ("const", "n_heads", op.num_heads),
            ("const", "n_kv_heads", op.a_kv_heads),
            ("const", "key_dim", op.a_dim),
            ("const", "reuse_factor", op.reuse_factor),
            ("const", "n_mult", op.n_mult(graph)),
            *_scale_config(op),
            ("typedef", "product_t", "hlsgen::product_auto"),  # decode: the resource strategy only
        ]
        return HlsCall(_ATTENTION, "hlsgen::scores", cfg, args)
    cfg = [
        ("const", "n_q", tq),
        ("const", "n_k", tk),
        ("const", "n_heads", op.num_heads),
        ("const", "a_dim", op.a_dim),
        ("const", "a_kv_heads", op.a_kv_heads),
        ("const", "rope_dim", op.rope_dim),
        ("const", "reuse_factor", op.reuse_factor),
        *_scale_config(op),
    ]
    return HlsCall(_DECODE, "hlsgen::latent_scores", cfg, args)


# -- tensors: constants, broadcast arithmetic, concat / slice / transpose, pooling, norms, embeddings -----
def render_constant(op: Constant, graph: Graph) -> HlsCall:
    p = Param(f"c_{op.name}", op.types["y"], np.asarray(op.raw))
    n = graph.tensors[op.outputs[0]].size
    return HlsCall(_TENSOR, "hlsgen::constant", [("const", "n_elem", n)], [op.outputs[0], p.name], [p])


def render_binary(op: Binary, graph: Graph) -> HlsCall:
    rows, cols, (ra, ca), (rb, cb) = op.dims(graph)
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_rows", rows),
        ("const", "n_cols", cols),
        ("const", "a_rows", ra),
        ("const", "a_cols", ca),
        ("const", "b_rows", rb),
        ("const", "b_cols", cb),
        ("const", "op", list(BinaryKind).index(op.operation)),
        _variable_policy(op.binding),  # a mul's products, as the latency RTL binds them
    ]
    return HlsCall(_TENSOR, "hlsgen::binary", cfg, [*op.inputs, *op.outputs])


def render_concat(op: Concat, graph: Graph) -> HlsCall:
    ax = op.norm_axis(graph)
    outer, na = outer_inner(graph.tensors[op.inputs[0]].shape, ax)
    _, nb = outer_inner(graph.tensors[op.inputs[1]].shape, ax)
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_outer", outer),
        ("const", "n_a", na),
        ("const", "n_b", nb),
    ]
    return HlsCall(_TENSOR, "hlsgen::concat", cfg, [*op.inputs, *op.outputs])


def render_slice(op: Slice, graph: Graph) -> HlsCall:
    shape = graph.tensors[op.inputs[0]].shape
    ax = op.axis % len(shape)
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_outer", math.prod(shape[:ax])),
        ("const", "n_axis", shape[ax]),
        ("const", "n_inner", math.prod(shape[ax + 1 :])),
        ("const", "start", op.start),
        ("const", "n_take", op.stop - op.start),
    ]
    return HlsCall(_TENSOR, "hlsgen::slice", cfg, [*op.inputs, *op.outputs])


def render_transpose(op: Transpose, graph: Graph) -> HlsCall:
    shape = graph.tensors[op.inputs[0]].shape
    strides = [math.prod(shape[k + 1 :]) for k in range(len(shape))]
    pad = MAX_TRANSPOSE_RANK - len(shape)
    dims = [1] * pad + [shape[p] for p in op.perm]
    src = [0] * pad + [strides[p] for p in op.perm]
    cfg: list[tuple[str, str, object]] = [("const", "n_elem", math.prod(shape))]
    cfg += [("const", f"d{k}", d) for k, d in enumerate(dims)]
    cfg += [("const", f"s{k}", s) for k, s in enumerate(src)]
    return HlsCall(_TENSOR, "hlsgen::transpose", cfg, [*op.inputs, *op.outputs])


def render_global_max_pool(op: GlobalMaxPool, graph: Graph) -> HlsCall:
    t, d = graph.tensors[op.inputs[0]].shape[-2:]
    cfg: list[tuple[str, str, object]] = [("const", "n_tokens", t), ("const", "n_feat", d)]
    return HlsCall(_TENSOR, "hlsgen::global_max_pool", cfg, [*op.inputs, *op.outputs])


def render_batchnorm(op: BatchNorm, graph: Graph) -> HlsCall:
    d = len(op.scale)
    n = graph.tensors[op.inputs[0]].size
    params = [
        Param(f"s_{op.name}", op.types["weight"], op.scale_raw),
        Param(f"b_{op.name}", op.types["bias"], op.shift_raw),
    ]
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_rows", n // d),
        ("const", "n_feat", d),
        _typedef("weight_t", op.types["weight"]),
        _typedef("bias_t", op.types["bias"]),
    ]
    return HlsCall(
        _TENSOR, "hlsgen::batchnorm", cfg, [*op.inputs, *op.outputs, *(p.name for p in params)], params
    )


def render_embedding(op: Embedding, graph: Graph) -> HlsCall:
    n = graph.tensors[op.inputs[0]].size
    p = Param(f"e_{op.name}", op.types["weight"], op.table_raw)
    cfg: list[tuple[str, str, object]] = [
        ("const", "n_tokens", n),
        ("const", "n_vocab", op.vocab),
        ("const", "n_dim", op.dim),
        _typedef("table_t", op.types["weight"]),
    ]
    return HlsCall(_TENSOR, "hlsgen::embedding", cfg, [*op.inputs, *op.outputs, p.name], [p])


def render_conv1d(op: Conv1D, graph: Graph) -> HlsCall:
    t_in, t_out = op.tokens(graph)
    params = [Param(f"w_{op.name}", op.types["weight"], op.w_raw)]
    if op.b_raw is not None:
        params.append(Param(f"b_{op.name}", op.types["bias"], op.b_raw))
    return HlsCall(
        header="hlsgen_conv.h",
        function="hlsgen::conv1d" if op.b_raw is not None else "hlsgen::conv1d_nobias",
        config=[
            ("const", "n_tokens_in", t_in),
            ("const", "n_tokens_out", t_out),
            ("const", "kernel_size", op.kernel_size),
            ("const", "pad_left", op.pads()[0]),
            ("const", "n_chan", op.channels_in),
            ("const", "n_filt", op.n_out),
            ("const", "reuse_factor", op.reuse_factor),
            ("const", "n_mult", op.multipliers(t_out)),
            _typedef("weight_t", op.types["weight"]),
            _typedef("bias_t", op.types.get("bias", op.types["weight"])),
            _typedef("accum_t", op.types["accum"]),
            _product_policy(op),
        ],
        args=[op.inputs[0], op.outputs[0], *(p.name for p in params)],
        params=params,
    )


#: op kind -> renderer (a subclass that renders like its base, e.g. ``exact_context``, has its own entry)
RENDERERS: dict[str, Callable[[Any, Graph], HlsCall]] = {
    "linear": render_linear,
    "activation": render_activation,
    "add": render_add,
    "global_avg_pool": render_global_avg_pool,
    "reshape": render_reshape,
    "scores": render_scores,
    "mask": render_mask,
    "context": render_context,
    "softmax": render_softmax,
    "layernorm": render_layernorm,
    "rope": render_rope,
    "kv_cache": render_kv_cache,
    "latent_cache": render_kv_cache,
    "position_mask": render_position_mask,
    "block_linear": render_block_linear,
    "exact_linear": render_block_linear,
    "latent_scores": render_latent_scores,
    "exact_context": render_context,
    "constant": render_constant,
    "binary": render_binary,
    "concat": render_concat,
    "slice": render_slice,
    "transpose": render_transpose,
    "global_max_pool": render_global_max_pool,
    "batchnorm": render_batchnorm,
    "embedding": render_embedding,
    "conv1d": render_conv1d,
}


def hls_call(op: Op, graph: Graph) -> HlsCall:
    """The HLS rendering of ``op`` (its kind's entry in :data:`RENDERERS`)."""
    fn = RENDERERS.get(op.kind)
    if fn is None:
        raise NotImplementedError(
            f"layer {op.origin or op.name}: the HLS backend has no implementation of {op.kind!r} "
            f"(it renders {', '.join(sorted(RENDERERS))})"
        )
    return fn(op, graph)


__all__ = ["RENDERERS", "HlsCall", "hls_call"]
