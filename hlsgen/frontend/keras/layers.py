"""Handlers of Keras layers: one per layer class, each lowering one call to IR ops; checks that name
what a layer's settings lack."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ...fixed import FixedType
from ...ir.ops import (
    Activation,
    BatchNorm,
    Concat,
    Conv1D,
    Embedding,
    GlobalAvgPool,
    GlobalMaxPool,
    Linear,
    Reshape,
    Transpose,
    token_type,
)
from ..decoder import HANDLERS as DECODER_HANDLERS
from ..keras_base import Call, UnsupportedModelError, Value, quantized_weights
from .attention import mha, mha_check
from .common import ACT_NAMES, act_name

if TYPE_CHECKING:
    from .reader import KerasReader


def _dense(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    w = layer.get_weights()
    kernel = np.asarray(w[0], dtype=np.float64)
    bias = np.asarray(w[1], dtype=np.float64) if layer.use_bias else None
    return _linear(r, n, x, kernel, bias, "QDense")


def _linear(r: KerasReader, n: Call, x: str, kernel: np.ndarray, bias: np.ndarray | None, qcls: str) -> str:
    layer = n.layer
    shape = (*r.shape(x)[:-1], kernel.shape[1])
    y = r.new(layer.name, shape, layer.name)
    qt: dict[str, FixedType] = {}
    quant = type(layer).__name__ == qcls
    if quant:
        t, kernel = quantized_weights(
            layer.kernel_quantizer_internal, kernel, f"{layer.name}.kernel_quantizer"
        )
        if t is not None:
            qt["weight"] = t
        if bias is not None:
            t, bias = quantized_weights(layer.bias_quantizer_internal, bias, f"{layer.name}.bias_quantizer")
            if t is not None:
                qt["bias"] = t
    op = Linear(
        r.graph.unique_name(layer.name), [x], [y], origin=layer.name, kernel=kernel, bias=bias, qtypes=qt
    )
    r.graph.add_op(op)
    return r.activation(y, _layer_activation(layer, quant), layer.name, base=f"{layer.name}_act")


def _layer_activation(layer: Any, quant: bool) -> Any:
    act = layer.get_config().get("activation")
    if quant:
        a = getattr(layer, "activation", None)
        act = None if act_name(a) == "linear" else act
    return act


def _check_dense(layer: Any, n: Call) -> list[str]:
    msgs = []
    act = layer.get_config().get("activation")
    name = act if isinstance(act, str) else None
    if name is not None and name not in ACT_NAMES and name != "softmax" and "quantized" not in name:
        msgs.append(f"activation {name!r} is not supported")
    if n.inputs and not isinstance(n.inputs[0], str):
        msgs.append("a Dense on a constant that is not folded")
    return msgs


def _conv1d(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    w = layer.get_weights()
    kernel = np.asarray(w[0], dtype=np.float64)  # [K, C_in, C_out]
    bias = np.asarray(w[1], dtype=np.float64) if layer.use_bias else None
    k = kernel.shape[0]
    if k == 1:
        return _linear(r, n, x, kernel[0], bias, "QConv1D")
    if type(layer).__name__ == "QConv1D":
        raise UnsupportedModelError("QConv1D with kernel_size > 1 is not supported (kernel_size 1 is)")
    t_in = r.shape(x)[0]
    padding = layer.get_config()["padding"]
    op = Conv1D(
        r.graph.unique_name(layer.name),
        [x],
        [],
        origin=layer.name,
        kernel=kernel.reshape(k * kernel.shape[1], kernel.shape[2]),
        bias=bias,
        kernel_size=k,
        padding=padding,
    )
    y = r.new(layer.name, (op.out_tokens(t_in), kernel.shape[2]), layer.name)
    op.outputs = [y]
    r.graph.add_op(op)
    return r.activation(y, _layer_activation(layer, False), layer.name, base=f"{layer.name}_act")


def _check_conv1d(layer: Any, n: Call) -> list[str]:
    cfg = layer.get_config()
    msgs = []
    if tuple(cfg.get("strides", (1,))) != (1,):
        msgs.append(f"strides={cfg['strides']} is not supported (only 1)")
    if tuple(cfg.get("dilation_rate", (1,))) != (1,):
        msgs.append(f"dilation_rate={cfg['dilation_rate']} is not supported (only 1)")
    if cfg.get("padding") not in ("same", "valid"):
        msgs.append(f"padding={cfg.get('padding')!r} is not supported (same or valid)")
    if cfg.get("data_format", "channels_last") != "channels_last":
        msgs.append("only data_format='channels_last' is supported")
    if cfg.get("groups", 1) != 1:
        msgs.append("grouped convolutions are not supported")
    return msgs + _check_dense(layer, n)


def _embedding(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    table = np.asarray(layer.get_weights()[0], dtype=np.float64)
    if x not in r.graph.inputs:
        raise UnsupportedModelError(
            "an Embedding must read a model input of token ids (computed ids are not supported)"
        )
    r.graph.input_types[x] = token_type(table.shape[0])
    y = r.new(layer.name, (*r.shape(x), table.shape[1]), layer.name)
    r.graph.add_op(Embedding(r.graph.unique_name(layer.name), [x], [y], origin=layer.name, table=table))
    return y


def _activation(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    cfg = layer.get_config()
    if type(layer).__name__ == "QActivation":
        return r.activation(x, cfg["activation"], layer.name, base=layer.name)
    if type(layer).__name__ == "ReLU":
        act: Any = "relu"
    elif type(layer).__name__ == "Softmax":
        act = "softmax"
    else:
        act = cfg["activation"]
    y = r.activation(x, act, layer.name, base=layer.name)
    if y == x:  # linear: keep a distinct tensor so the layer name exists in the graph
        y2 = r.new(layer.name, r.shape(x), layer.name)
        r.graph.add_op(
            Activation(r.graph.unique_name(layer.name), [x], [y2], origin=layer.name, function="linear")
        )
        return y2
    return y


def _check_activation(layer: Any, n: Call) -> list[str]:
    cls = type(layer).__name__
    if cls == "ReLU":
        cfg = layer.get_config()
        if cfg.get("max_value") is not None or cfg.get("negative_slope") or cfg.get("threshold"):
            return ["ReLU with max_value, negative_slope or threshold is not supported"]
        return []
    if cls == "Softmax":
        return (
            [] if layer.get_config().get("axis", -1) == -1 else ["softmax over an axis other than the last"]
        )
    act = layer.get_config()["activation"]
    if cls == "QActivation":
        s = str(act)
        if not (s.startswith("quantized_relu") or s.startswith("quantized_bits") or s in ACT_NAMES):
            return [f"quantizer {s!r} is not supported as an activation"]
        return []
    name = act if isinstance(act, str) else act_name(act)
    if name not in ACT_NAMES and name != "softmax":
        return [f"activation {name!r} is not supported"]
    return []


def _layernorm(r: KerasReader, n: Call) -> str:
    from ...ir.ops.layernorm import LayerNorm

    layer = n.layer
    x = r.tensor(n.inputs[0])
    d = r.shape(x)[-1]
    gamma = np.asarray(layer.gamma.numpy(), np.float64) if layer.scale else np.ones(d)
    beta = np.asarray(layer.beta.numpy(), np.float64) if layer.center else np.zeros(d)
    y = r.new(layer.name, r.shape(x), layer.name)
    r.graph.add_op(
        LayerNorm(
            r.graph.unique_name(layer.name),
            [x],
            [y],
            origin=layer.name,
            gamma=gamma,
            beta=beta,
            epsilon=float(layer.epsilon),
        )
    )
    return y


def _check_layernorm(layer: Any, n: Call) -> list[str]:
    axis = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    rank = len(n.out_shapes[0]) + 1 if n.out_shapes else None
    if rank is not None and [a % rank for a in axis] != [rank - 1]:
        return [f"normalisation over axis {layer.axis} is not supported (only the last axis)"]
    return []


def _batchnorm(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    d = r.shape(x)[-1]
    gamma = np.asarray(layer.gamma.numpy(), np.float64) if layer.scale else np.ones(d)
    beta = np.asarray(layer.beta.numpy(), np.float64) if layer.center else np.zeros(d)
    mean = np.asarray(layer.moving_mean.numpy(), np.float64)
    var = np.asarray(layer.moving_variance.numpy(), np.float64)
    y = r.new(layer.name, r.shape(x), layer.name)
    r.graph.add_op(
        BatchNorm.from_moments(
            r.graph.unique_name(layer.name), x, y, layer.name, gamma, beta, mean, var, float(layer.epsilon)
        )
    )
    return y


def _check_batchnorm(layer: Any, n: Call) -> list[str]:
    axis = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    rank = len(n.out_shapes[0]) + 1 if n.out_shapes else None
    if rank is not None and [a % rank for a in axis] != [rank - 1]:
        return [f"normalisation over axis {layer.axis} is not supported (only the last axis)"]
    return []


def merge(operation: str) -> Callable[[KerasReader, Call], Value]:
    def handler(r: KerasReader, n: Call) -> Value:
        ins = list(n.inputs)
        acc = ins[0]
        for b in ins[1:]:
            acc = r.binary(acc, b, operation, n.layer.name)
        return acc

    return handler


def _concatenate(r: KerasReader, n: Call) -> str:
    return concat(r, list(n.inputs), int(n.layer.get_config().get("axis", -1)), n.layer.name, n.out_shapes)


def concat(r: KerasReader, values: list[Value], axis: int, origin: str, out_shapes: list[Any]) -> str:
    """Values joined along the Keras ``axis`` (batch included: 1 = tokens, -1 = the last)."""
    rank = next(len(r.shape(v)) for v in values if isinstance(v, str))
    if axis == 0:
        raise UnsupportedModelError("concatenation along the batch axis is not supported")
    ax = axis - 1 if axis > 0 else axis % rank
    like = (0,) * rank
    acc = r.tensor(values[0], like, origin)
    for k, v in enumerate(values[1:]):
        b = r.tensor(v, like, origin)
        sa, sb = r.shape(acc), r.shape(b)
        if len(sa) != len(sb):
            raise UnsupportedModelError(f"concatenating shapes {sa} and {sb}")
        out = list(sa)
        out[ax] = sa[ax] + sb[ax]
        base = origin if k == len(values) - 2 else f"{origin}_{k}"
        y = r.new(base, tuple(out), origin)
        r.graph.add_op(Concat(r.graph.unique_name(base), [acc, b], [y], origin=origin, axis=ax))
        acc = y
    return acc


def _pool(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    channels_first = layer.get_config().get("data_format", "channels_last") == "channels_first"
    if channels_first:  # mean over the last axis: transpose, then the token mean
        x = transpose(r, x, (1, 0), layer.name)
    t = r.shape(x)
    y = r.new(layer.name, (t[-1],), layer.name)
    op_cls = GlobalMaxPool if type(layer).__name__ == "GlobalMaxPooling1D" else GlobalAvgPool
    r.graph.add_op(op_cls(r.graph.unique_name(layer.name), [x], [y], origin=layer.name))
    return y


def transpose(r: KerasReader, x: str, perm: tuple[int, ...], origin: str) -> str:
    shape = r.shape(x)
    out = tuple(shape[p] for p in perm)
    y = r.new(f"{origin}_transposed", out, origin)
    r.graph.add_op(Transpose(r.graph.unique_name(f"{origin}_transpose"), [x], [y], origin=origin, perm=perm))
    return y


def _check_pool(layer: Any, n: Call) -> list[str]:
    cfg = layer.get_config()
    if cfg.get("keepdims"):
        return ["keepdims=True is not supported"]
    if n.inputs and isinstance(n.inputs[0], str) and len(n.out_shapes[0]) != 1:
        return ["pooling of a tensor that is not [tokens, features]"]
    return []


def _permute(r: KerasReader, n: Call) -> str:
    dims = tuple(int(d) - 1 for d in n.layer.get_config()["dims"])
    return transpose(r, r.tensor(n.inputs[0]), dims, n.layer.name)


def reshape_to(r: KerasReader, x: str, target: list[int], origin: str) -> str:
    size = int(np.prod(r.shape(x)))
    target = [int(t) for t in target]
    if -1 in target:
        known = int(np.prod([t for t in target if t != -1]))
        target[target.index(-1)] = size // known if known else 0
    shape = tuple(target)
    if int(np.prod(shape)) != size:
        raise UnsupportedModelError(f"cannot reshape {r.shape(x)} to {shape}")
    if shape == r.shape(x):
        return x
    y = r.new(origin, shape, origin)
    r.graph.add_op(Reshape(r.graph.unique_name(origin), [x], [y], origin=origin, out_shape=shape))
    return y


def _reshape(r: KerasReader, n: Call) -> str:
    layer = n.layer
    x = r.tensor(n.inputs[0])
    if type(layer).__name__ == "Flatten":
        return reshape_to(r, x, [-1], layer.name)
    return reshape_to(r, x, list(layer.get_config()["target_shape"]), layer.name)


def _identity(r: KerasReader, n: Call) -> Value:
    return n.inputs[0]


def _check_embedding(layer: Any, n: Call) -> list[str]:
    if layer.get_config().get("mask_zero"):
        return ["mask_zero=True is not supported (the mask it propagates would change later layers)"]
    return []


HANDLERS: dict[str, Callable[[KerasReader, Call], Any]] = {
    "Dense": _dense,
    "QDense": _dense,
    "Conv1D": _conv1d,
    "QConv1D": _conv1d,
    "Embedding": _embedding,
    "Activation": _activation,
    "QActivation": _activation,
    "ReLU": _activation,
    "Softmax": _activation,
    "LayerNormalization": _layernorm,
    "BatchNormalization": _batchnorm,
    "Add": merge("add"),
    "Subtract": merge("sub"),
    "Multiply": merge("mul"),
    "Concatenate": _concatenate,
    "GlobalAveragePooling1D": _pool,
    "GlobalMaxPooling1D": _pool,
    "Flatten": _reshape,
    "Reshape": _reshape,
    "Permute": _permute,
    "Dropout": _identity,
    "SpatialDropout1D": _identity,
    "GaussianNoise": _identity,
    "GaussianDropout": _identity,
    "ActivityRegularization": _identity,
    "MultiHeadAttention": mha,
    "QMultiHeadAttention": mha,
}

CHECKS: dict[str, Callable[[Any, Call], list[str]]] = {
    "Embedding": _check_embedding,
    "Dense": _check_dense,
    "QDense": _check_dense,
    "Conv1D": _check_conv1d,
    "QConv1D": _check_conv1d,
    "Activation": _check_activation,
    "QActivation": _check_activation,
    "ReLU": _check_activation,
    "Softmax": _check_activation,
    "LayerNormalization": _check_layernorm,
    "BatchNormalization": _check_batchnorm,
    "GlobalAveragePooling1D": _check_pool,
    "GlobalMaxPooling1D": _check_pool,
    "MultiHeadAttention": mha_check,
    "QMultiHeadAttention": mha_check,
}

HANDLERS.update(DECODER_HANDLERS)  # hlsgen's GroupedQueryAttention, MultiHeadLatentAttention, RotaryEmbedding
