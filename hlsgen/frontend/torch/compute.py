"""Handlers of the compute ops outside attention: linear, layer norm, activations, embedding, the mean
over tokens, add / sub / mul / div (a constant operand becomes a Constant and a Binary; a scalar factor
stays on the ids as a scale), negation (the half of a rotary embedding)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...ir.ops import Add, Binary, BinaryKind, Constant, Embedding, GlobalAvgPool, token_type
from ...ir.ops.layernorm import LayerNorm
from .common import f64, is_scalar, scalar
from .masks import additive, attend_and
from .quant import dequantize
from .rope import rope
from .values import ConstMul, PendingScores, Rounded, Sym

if TYPE_CHECKING:
    from .reader import TorchReader


def embedding(r: TorchReader, weight: Any, idx: Any, *_: Any, **__: Any) -> Sym:
    if not isinstance(idx, Sym) or isinstance(weight, Sym):
        raise r.fail("an embedding whose table depends on the model input")
    t, b, f = r.dec(idx.ids)
    src = r._single(t)
    if src not in r.graph.inputs:
        raise r.fail("an embedding of computed token ids (only of a model input)")
    table = f64(weight)
    r.graph.input_types[src] = token_type(table.shape[0])
    dim = table.shape[1]
    y, tix = r._tensor(r.named(weight), (*r.shape(src), dim), r.origin())
    r.graph.add_op(
        Embedding(r.graph.unique_name(r.named(weight)), [src], [y], origin=r.origin(), table=table)
    )
    return Sym(r.enc(tix, b[..., None], f[..., None] * dim + np.arange(dim)))


def linear(r: TorchReader, x: Any, w: Any, b: Any = None) -> Sym:
    if not isinstance(x, Sym) or isinstance(w, Sym) or isinstance(b, Sym):
        raise r.fail("linear with weights computed from the input")
    return r.linear(x, f64(w).T, None if b is None else f64(b), r.named(w))


def layer_norm(
    r: TorchReader, x: Any, shape: Any, w: Any = None, b: Any = None, eps: float = 1e-5, *_: Any
) -> Sym:
    if len(shape) != 1:
        raise r.fail(f"layer norm over the last {len(shape)} axes (only the last axis)")
    src, _, _ = r.rows(x)
    d = int(shape[0])
    gamma = np.ones(d) if w is None else f64(w)
    beta = np.zeros(d) if b is None else f64(b)

    def make(name: str, s: str, y: str) -> Any:
        return LayerNorm(name, [s], [y], origin=r.origin(), gamma=gamma, beta=beta, epsilon=float(eps))

    return r.unary(x, make, "norm", "" if w is None else r.named(w))


def act(fn: str) -> Callable[..., Sym]:
    def handler(r: TorchReader, x: Any, *args: Any, **kwargs: Any) -> Sym:
        name = fn
        if fn == "gelu" and (kwargs.get("approximate") or (args[0] if args else "none")) == "tanh":
            name = "gelu_tanh"
        return r.activation(x, name)

    return handler


def add(r: TorchReader, a: Any, b: Any, alpha: Any = 1) -> Any:
    if isinstance(a, ConstMul) and isinstance(b, ConstMul):
        y = rope(r, a, b) or rope(r, b, a)
        if y is not None:
            return y
    a, b = r.settle(a), r.settle(b)
    if isinstance(b, PendingScores) and not isinstance(a, PendingScores):
        a, b = b, a
    if isinstance(a, PendingScores):
        return replace(a, attend=attend_and(a.attend, additive(r, b)))
    if isinstance(b, Sym) and not isinstance(a, Sym):
        a, b = b, a
    if not isinstance(b, Sym):
        if not np.any(np.float64(b) if isinstance(b, (int, float)) else f64(b)):
            return a
        return const_binary(r, a, b, BinaryKind.ADD)
    if a.scale != 1.0 or b.scale != 1.0 or alpha != 1:
        raise r.fail("adding scaled values")
    ta, ba, fa = r.dec(a.ids)
    tb, bb, fb = r.dec(b.ids)
    sa, sb = r._single(ta), r._single(tb)
    if r.shape(sa) != r.shape(sb) or not (np.array_equal(ba, bb) and np.array_equal(fa, fb)):
        raise r.fail(
            f"adding {sa} {r.shape(sa)} and {sb} {r.shape(sb)} element by element in different layouts"
        )
    y, tix = r._tensor(r.base("add"), r.shape(sa), r.origin())
    r.graph.add_op(Add(r.graph.unique_name(r.base("add")), [sa, sb], [y], origin=r.origin()))
    return Sym(r.enc(tix, ba, fa))


def const_binary(r: TorchReader, x: Sym, c: Any, kind: BinaryKind) -> Sym:
    """``x op c`` for a constant ``c`` (a learned position table, a scale vector): a Constant and a
    Binary over the whole tensor ``x`` reads; ``c`` must be the same for every sample."""
    if x.scale != 1.0:
        raise r.fail("a constant combined with scaled values")
    ids = x.ids.numpy()
    t, b, f = r.dec(ids)
    src = r._single(t)
    shp = r.shape(src)
    try:
        cb = np.broadcast_to(np.float64(c) if isinstance(c, (int, float)) else f64(c), ids.shape)
    except ValueError:
        raise r.fail(f"a constant of shape {tuple(np.shape(c))} does not broadcast to {ids.shape}") from None
    n = int(b.max()) + 1
    vals = np.full((n, int(np.prod(shp))), np.nan)
    vals[b.ravel(), f.ravel()] = cb.ravel()
    if np.isnan(vals).any():
        raise r.fail(f"a constant combined with part of {src} {shp} only")
    if np.any(vals != vals[:1]):
        raise r.fail("a constant that differs between samples")
    const = vals[0].reshape(shp)
    if len(shp) == 2 and np.all(const == const[:1]):
        const = const[0]  # the same for every token: one row, broadcast
    k, _ = r._tensor(r.base("const"), const.shape, r.origin())
    r.graph.add_op(Constant(r.graph.unique_name(r.base("const")), [], [k], origin=r.origin(), value=const))
    y, tix = r._tensor(r.base(kind.value), shp, r.origin())
    r.graph.add_op(
        Binary(r.graph.unique_name(r.base(kind.value)), [src, k], [y], origin=r.origin(), operation=kind)
    )
    return Sym(r.enc(tix, b, f))


def mul(r: TorchReader, a: Any, b: Any) -> Any:
    if not isinstance(a, (Sym, PendingScores, Rounded)):
        a, b = b, a
    if isinstance(a, Rounded) and is_scalar(b):
        return dequantize(r, a, scalar(b))
    if isinstance(a, Sym) and not isinstance(b, (Sym, PendingScores)) and not is_scalar(b):
        return ConstMul(a, b)
    if isinstance(b, (Sym, PendingScores)) or not is_scalar(b):
        raise r.fail("multiplying by a tensor (only by a scalar constant, the attention scale)")
    return replace(a, scale=a.scale * scalar(b))


def div(r: TorchReader, a: Any, b: Any) -> Any:
    if not isinstance(a, (Sym, PendingScores)) or isinstance(b, (Sym, PendingScores)) or not is_scalar(b):
        raise r.fail("dividing by a tensor (only by a scalar constant, the attention scale)")
    return replace(a, scale=a.scale / scalar(b))


def mean(r: TorchReader, x: Any, dims: Any, keepdim: bool = False, *_: Any, **__: Any) -> Sym:
    import torch

    if x.scale != 1.0:
        raise r.fail("mean of scaled values")
    nd = x.ids.dim()
    dims = [int(d) % nd for d in (dims if isinstance(dims, (list, tuple)) else [dims])]
    keep = [i for i in range(nd) if i not in dims]
    moved = x.ids.permute(*keep, *dims)
    flat = moved.reshape(*moved.shape[: len(keep)], -1).numpy()
    t, b, f = r.dec(flat)
    src = r._single(t)
    shp = r.shape(src)
    if len(shp) != 2 or flat.shape[-1] != shp[0]:
        raise r.fail(
            f"mean over axes {dims} of {tuple(x.ids.shape)} is not a mean over the tokens of {src} {shp}"
        )
    tok, col = f // shp[1], f % shp[1]
    if not (
        np.all(np.sort(tok, axis=-1) == np.arange(shp[0]))
        and np.all(col == col[..., :1])
        and np.all(b == b[..., :1])
    ):
        raise r.fail(f"mean over axes {dims} is not a mean over the tokens of {src} {shp}")
    y, tix = r._tensor(r.base("mean"), (shp[1],), r.origin())
    r.graph.add_op(GlobalAvgPool(r.graph.unique_name(r.base("mean")), [src], [y], origin=r.origin()))
    out = r.enc(tix, b[..., 0], col[..., 0])
    if keepdim:
        shape = [1 if i in dims else s for i, s in enumerate(x.ids.shape)]
        out = out.reshape(shape)
    return Sym(torch.as_tensor(out))


def sub(r: TorchReader, a: Any, b: Any, alpha: Any = 1) -> Any:
    if isinstance(a, (Sym, Rounded)) and is_scalar(b) and scalar(b) == 0:
        return a  # a quantizer's zero point of 0
    if isinstance(a, Sym) and not isinstance(b, (Sym, Rounded, PendingScores)):
        return const_binary(r, a, b, BinaryKind.SUB)
    raise r.fail("subtraction of two of the model's values")


def neg(r: TorchReader, x: Any) -> Sym:
    if not isinstance(x, Sym) or x.scale != 1.0:
        raise r.fail("negation of scaled values")
    return Sym(~x.ids)
