"""Shape ops, run on the element ids as they are (view, transpose, permute, select, split, expand,
repeat_interleave, dropout in eval mode, float casts, ...); ``cat`` of different tensors as Concat ops."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...ir.ops import Concat
from .common import aten
from .values import T_SHIFT, Sym

if TYPE_CHECKING:
    from .reader import TorchReader


def shape_op(r: TorchReader, target: Any, args: tuple, kwargs: dict) -> Any:
    import torch

    syms = [a for a in args if isinstance(a, Sym)] + [
        x for a in args if isinstance(a, (list, tuple)) for x in a if isinstance(x, Sym)
    ]
    scales = {s.scale for s in syms}
    if len(scales) > 1:
        raise r.fail("joining values scaled differently")
    scale = scales.pop() if scales else 1.0

    def ids(a: Any) -> Any:
        if isinstance(a, Sym):
            return a.ids
        if isinstance(a, (list, tuple)) and any(isinstance(x, Sym) for x in a):
            return [ids(x) for x in a]
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            raise r.fail("a shape op mixes the model's values with constants")
        return a

    name = str(target)
    if name == "aten.cat.default" and not same_source(r, args[0]):
        return cat(r, list(args[0]), args[1] if len(args) > 1 else kwargs.get("dim", 0))
    a = [ids(x) for x in args]
    if name in _VIEWS:
        out = a[0].reshape(a[1])
    elif name in _IDENTITY:
        out = a[0]
    elif "dropout" in name:
        train = args[2] if len(args) > 2 else kwargs.get("train", False)
        if train:
            raise r.fail("dropout in training mode (call model.eval() before converting)")
        out = a[0]
    elif "_to_copy" in name or name.startswith("aten.to."):
        dt = kwargs.get("dtype", next((v for v in args[1:] if isinstance(v, torch.dtype)), None))
        if dt is not None and not dt.is_floating_point:
            raise r.fail(f"a cast to {dt}")
        out = a[0]
    else:
        out = target(*a, **kwargs)
    proto = syms[0] if syms else Sym(None)
    if isinstance(out, (list, tuple)):
        return [replace(proto, ids=o, scale=scale) for o in out]
    return replace(proto, ids=out, scale=scale)


def same_source(r: TorchReader, parts: list[Any]) -> bool:
    """All parts are model values read from one IR tensor (a plain cat of ids)."""
    if not all(isinstance(p, Sym) for p in parts):
        return False
    tensors = set()
    for p in parts:
        a = p.ids.numpy()
        tensors.update(int(t) for t in np.unique(np.where(a < 0, ~a, a) >> T_SHIFT))  # ~id: negated
    return len(tensors) == 1


def cat(r: TorchReader, parts: list[Any], dim: int) -> Sym:
    """Tensors joined along a per-sample axis (a class token in front of the tokens): Concat ops over
    whole tensors, constants as Constant ops."""
    batch = next(p.ids.shape[r.batch_dim] for p in parts if isinstance(p, Sym))
    rank = next(p.ids.dim() for p in parts if isinstance(p, Sym))
    d = dim % rank
    if d == r.batch_dim:
        raise r.fail("concatenation along the batch axis")
    axis = d if d < r.batch_dim else d - 1
    names = [
        r.whole(p, "concatenated value") if isinstance(p, Sym) else r.whole(r.constant(p, batch))
        for p in parts
    ]
    acc = names[0]
    for k, nxt in enumerate(names[1:]):
        shp = list(r.shape(acc))
        shp[axis] += r.shape(nxt)[axis]
        y, _ = r._tensor(r.base("concat"), tuple(shp), r.origin())
        r.graph.add_op(Concat(r.graph.unique_name(r.base(f"concat{k}" if k else "concat")), [acc, nxt], [y],
                              origin=r.origin(), axis=axis))  # fmt: skip
        acc = y
    return r.natural(acc, batch)


_VIEWS = {"aten.view.default", "aten.reshape.default", "aten._unsafe_view.default"}
_IDENTITY = {
    "aten.contiguous.default",
    "aten.clone.default",
    "aten.alias.default",
    "aten.detach.default",
    "aten.lift_fresh_copy.default",
    "aten.dropout.default",
}


def shape_ops() -> set[Any]:
    names = [
        "view.default", "reshape.default", "_unsafe_view.default", "transpose.int", "permute.default",
        "unsqueeze.default", "squeeze.dim", "squeeze.dims", "squeeze.default", "select.int", "slice.Tensor",
        "contiguous.default", "clone.default", "alias.default", "detach.default", "expand.default",
        "unflatten.int", "flatten.using_ints", "split.Tensor", "split_with_sizes.default", "chunk.default",
        "unbind.int", "t.default", "repeat_interleave.self_int", "repeat.default", "movedim.int",
        "narrow.default", "dropout.default", "_to_copy.default", "to.dtype", "to.dtype_layout",
        "lift_fresh_copy.default", "cat.default",
    ]  # fmt: skip
    out = set()
    for nm in names:
        try:
            out.add(aten(nm))
        except AttributeError:
            pass
    return out
