"""TensorFlow ops recorded as TFOpLambda / SlicingOpLambda nodes (``x + y``, ``tf.concat``, ``x[:, 0]``,
...), lowered to IR ops; constants they read are folded by the reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...ir.ops import Activation, GlobalAvgPool, GlobalMaxPool, Slice
from ..keras_base import Call, UnsupportedModelError, Value
from .common import flatten
from .layers import concat, merge, reshape_to, transpose

if TYPE_CHECKING:
    from .reader import KerasReader

#: TensorFlow functions of TFOpLambda nodes that are element-wise activations
TF_ACTIVATIONS = {
    "nn.relu": "relu",
    "nn.gelu": "gelu",
    "math.tanh": "tanh",
    "nn.tanh": "tanh",
    "math.sigmoid": "sigmoid",
    "nn.sigmoid": "sigmoid",
    "nn.silu": "swish",
    "nn.swish": "swish",
    "nn.elu": "elu",
    "math.softplus": "softplus",
    "nn.softplus": "softplus",
    "math.exp": "exponential",
    "nn.softmax": "softmax",
}
TF_BINARY = {
    "__operators__.add": "add",
    "math.add": "add",
    "math.add_n": "add",
    "math.subtract": "sub",
    "__operators__.sub": "sub",
    "math.multiply": "mul",
    "__operators__.mul": "mul",
    "math.truediv": "div",
    "__operators__.truediv": "div",
    "math.divide": "div",
}


#: ops that broadcast a constant over the batch (a class token): their per-sample value is computed here
BATCH_CONSTANT_OPS = ("broadcast_to", "tile", "repeat")


def tf_op(r: KerasReader, n: Call) -> Value:
    layer = n.layer
    fn = layer.get_config().get("function")
    name = layer.name
    args = list(n.args)
    kw = n.kwargs
    if fn in TF_BINARY:
        op = TF_BINARY[fn]
        a = args[0]
        b = args[1] if len(args) > 1 else kw.get("y")
        if fn == "math.add_n":
            return merge("add")(r, Call(layer, flatten(a), {}, n.out_shapes))
        if b is None:
            raise UnsupportedModelError("no second operand")
        if op == "div":
            if isinstance(b, str):
                raise UnsupportedModelError("dividing by a tensor is not supported (only by a constant)")
            return r.binary(a, 1.0 / np.asarray(b, np.float64), "mul", name)
        return r.binary(a, b, op, name)
    if fn == "math.negative":
        return r.binary(args[0], np.float64(-1.0), "mul", name)
    if fn == "math.square":
        return r.binary(args[0], args[0], "mul", name)
    if fn in TF_ACTIVATIONS:
        x = r.tensor(args[0])
        if fn == "nn.gelu" and (kw.get("approximate") or (len(args) > 1 and args[1] is True)):
            return _act_op(r, x, "gelu_tanh", name)
        if fn == "nn.softmax":
            return r.softmax(x, None, name, name, role="result")
        return _act_op(r, x, TF_ACTIVATIONS[fn], name)
    if fn == "concat":
        values = flatten(args[0]) if args and isinstance(args[0], (list, tuple)) else args[:1]
        axis = kw.get("axis", args[1] if len(args) > 1 else -1)
        return concat(r, values, int(axis), name, n.out_shapes)
    if fn in ("reshape",):
        shape = kw.get("shape", args[1] if len(args) > 1 else None)
        target = [int(s) for s in np.asarray(shape).reshape(-1)]
        if target[0] not in (-1, 0) and target[0] is not None:
            raise UnsupportedModelError(f"reshape to {target}: the first axis must be the batch (-1)")
        return reshape_to(r, r.tensor(args[0]), target[1:], name)
    if fn in ("compat.v1.transpose", "transpose", "linalg.matrix_transpose"):
        perm = kw.get("perm", args[1] if len(args) > 1 else None)
        x = r.tensor(args[0])
        if perm is None:
            raise UnsupportedModelError("a transpose without perm (it would move the batch axis)")
        perm = [int(p) for p in np.asarray(perm).reshape(-1)]
        if perm[0] != 0:
            raise UnsupportedModelError(f"perm={perm} moves the batch axis")
        return transpose(r, x, tuple(p - 1 for p in perm[1:]), name)
    if fn == "__operators__.getitem":
        return _getitem(r, n)
    if fn in ("compat.v1.shape", "shape"):
        x = r.tensor(args[0])
        return np.array([-1, *r.shape(x)], dtype=np.int64)
    if fn in ("cast", "identity", "stop_gradient"):
        return args[0]
    if fn in BATCH_CONSTANT_OPS:
        v = args[0]
        if isinstance(v, str):
            raise UnsupportedModelError(f"tf.{fn} of a tensor is not supported (only of a constant)")
        out = tuple(1 if s is None else s for s in n.out_shapes[0])
        c = np.asarray(v, np.float64)
        while c.ndim > len(out) and c.shape[0] == 1:
            c = c[0]
        return np.broadcast_to(c, out).copy()
    if fn == "image.extract_patches":
        return _extract_patches(r, n)
    if fn in ("math.reduce_mean", "math.reduce_max"):
        x = r.tensor(args[0])
        axis = kw.get("axis", args[1] if len(args) > 1 else None)
        rank = len(r.shape(x)) + 1
        if axis is None or len(r.shape(x)) != 2 or kw.get("keepdims"):
            raise UnsupportedModelError("only a mean or max over one axis of [tokens, features]")
        ax = int(axis) % rank
        if ax == 2:
            x = transpose(r, x, (1, 0), name)
        y = r.new(name, (r.shape(x)[-1],), name)
        cls = GlobalAvgPool if fn == "math.reduce_mean" else GlobalMaxPool
        r.graph.add_op(cls(r.graph.unique_name(name), [x], [y], origin=name))
        return y
    raise UnsupportedModelError(
        f"TensorFlow op tf.{fn} is not supported; supported: + - * / by a constant, negation, tf.square, "
        "tf.concat, tf.reshape, "
        "tf.transpose, slicing, activations (tf.nn.gelu, ...), tf.reduce_mean/max over one axis, "
        "tf.image.extract_patches (non-overlapping)"
    )


def _extract_patches(r: KerasReader, n: Call) -> str:
    """Non-overlapping patches of an [H, W, C] image (sizes == strides, rates 1, VALID): a Reshape to
    [H/ph, ph, W/pw, pw*C], a swap of the middle axes, a Reshape to [H/ph, W/pw, ph*pw*C]."""
    kw, args = n.kwargs, list(n.args)
    names = ("sizes", "strides", "rates", "padding")
    given = dict(zip(names, args[1:], strict=False)) | {k: kw[k] for k in names if k in kw}
    x = r.tensor(args[0])
    if len(r.shape(x)) != 3:
        raise UnsupportedModelError(f"extract_patches of a tensor of shape {r.shape(x)} (expected [H, W, C])")
    h, w, c = r.shape(x)
    sizes = [int(v) for v in given.get("sizes", [])]
    strides = [int(v) for v in given.get("strides", [])]
    rates = [int(v) for v in given.get("rates", [1, 1, 1, 1])]
    padding = str(given.get("padding", "VALID")).upper()
    if len(sizes) != 4 or sizes != strides or rates != [1, 1, 1, 1] or sizes[0] != 1 or sizes[3] != 1:
        raise UnsupportedModelError(
            f"extract_patches with sizes={sizes}, strides={strides}, rates={rates}: only non-overlapping "
            "patches (sizes == strides, rates 1) are supported"
        )
    ph, pw = sizes[1], sizes[2]
    if padding != "VALID" and (h % ph or w % pw):
        raise UnsupportedModelError("extract_patches with SAME padding of an image the patches do not tile")
    hh, ww = h // ph, w // pw
    name = n.layer.name
    if (hh * ph, ww * pw) != (h, w):
        raise UnsupportedModelError(f"patches {ph}x{pw} do not tile the image {h}x{w} (crop it first)")
    y = reshape_to(r, x, [hh, ph, ww, pw * c], f"{name}_rows")
    y = transpose(r, y, (0, 2, 1, 3), name)
    return reshape_to(r, y, [hh, ww, ph * pw * c], name)


def _act_op(r: KerasReader, x: str, fn: str, name: str) -> str:
    x = r.table_input(x, fn, name)
    y = r.new(name, r.shape(x), name)
    r.graph.add_op(Activation(r.graph.unique_name(name), [x], [y], origin=name, function=fn))
    return y


def _getitem(r: KerasReader, n: Call) -> Value:
    x = r.tensor(n.inputs[0])
    spec = n.args[1] if len(n.args) > 1 else n.kwargs.get("slice_spec")
    if spec is None:
        raise UnsupportedModelError("a slice without its specification")
    items = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    shape = r.shape(x)
    if not items or not _full(items[0]):
        raise UnsupportedModelError("slicing the batch axis is not supported")
    picks = [(k - 1, it) for k, it in enumerate(items) if k > 0 and not _full(it)]
    if any(it is Ellipsis or it is None for _, it in picks):
        raise UnsupportedModelError("slices with ... or None (new axes) are not supported")
    if len(picks) > 1:
        raise UnsupportedModelError("slicing more than one axis at once is not supported")
    if not picks:
        return x
    ax, it = picks[0]
    size = shape[ax]
    if isinstance(it, dict):
        start, stop, step = it.get("start"), it.get("stop"), it.get("step")
        if step not in (None, 1):
            raise UnsupportedModelError("slices with a step are not supported")
        start, stop, _ = slice(start, stop).indices(size)
        squeeze = False
    else:
        start = int(it) % size
        stop, squeeze = start + 1, True
    out = list(shape)
    if squeeze:
        del out[ax]
    else:
        out[ax] = stop - start
    y = r.new(n.layer.name, tuple(out), n.layer.name)
    r.graph.add_op(
        Slice(
            r.graph.unique_name(n.layer.name),
            [x],
            [y],
            origin=n.layer.name,
            axis=ax,
            start=start,
            stop=stop,
            squeeze=squeeze,
        )
    )
    return y


def _full(it: Any) -> bool:
    return (
        isinstance(it, dict) and it.get("start") is None and it.get("stop") is None and it.get("step") is None
    )
