"""Keras 2 / QKeras models to the IR.

The reader follows the Keras graph from the model's outputs back to its inputs through the nodes Keras
recorded (``KerasTensor._keras_history``), lowering each layer call once, in dependency order:

- layers it knows become IR primitives (attention becomes projections, scores, mask, softmax, context
  and the output projection; Conv1D with kernel 1 a Linear; BatchNormalization after a linear op is
  folded into it);
- TensorFlow ops written with operators (TFOpLambda: ``x + y``, ``x * 0.5``, ``tf.concat``, ``x[:, 0]``,
  ``tf.reshape``, ``tf.transpose``, ...) become element-wise or layout ops; their constant operands
  (a position table, a learned weight, ``tf.range``) are folded into typed constants;
- a nested ``Sequential`` or functional ``Model`` is inlined;
- a subclassed layer is traced: its ``call`` runs once on symbolic Keras inputs, so that the layers and
  TF ops it uses become nodes, which are lowered like the model's own.

A call whose every input is a constant is computed by Keras itself (constant folding). Problems are
collected over the whole model and reported in one error, each naming the layer (and the traced layer it
sits in) and what would make it convertible.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..fixed import FixedType
from ..ir.graph import Graph, c_identifier
from ..ir.ops import (
    Activation,
    Add,
    BatchNorm,
    Binary,
    Concat,
    Constant,
    Conv1D,
    Embedding,
    GlobalAvgPool,
    GlobalMaxPool,
    Linear,
    Reshape,
    Slice,
    TableInput,
    Transpose,
    is_table_function,
    token_type,
)
from ..ir.ops.tensor import broadcast_shape
from .keras_base import Call, UnsupportedModelError, Value, activation_type, quantized_weights

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_model(source: Any) -> Any:
    """A tf.keras model from a ``.keras`` / ``.h5`` file, a SavedModel folder, or a model object."""
    import tensorflow as tf

    if isinstance(source, tf.keras.Model):
        return source
    p = Path(source)
    if not p.exists():
        raise FileNotFoundError(f"model file {p} does not exist")
    if p.is_dir() and not (p / "saved_model.pb").exists():
        raise ValueError(f"{p} is a folder but not a SavedModel (no saved_model.pb)")
    if p.is_file() and p.suffix not in (".keras", ".h5", ".hdf5"):
        raise ValueError(f"{p}: expected a .keras or .h5 file or a SavedModel folder")
    from ..layers import custom_objects

    try:
        return tf.keras.models.load_model(str(p), custom_objects=custom_objects(), compile=False)
    except Exception as e:  # Keras raises many kinds for a corrupt file
        raise ValueError(f"cannot read model {p}: {type(e).__name__}: {e}") from None


_ACT_NAMES = {
    "linear": "linear",
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "gelu": "gelu",
    "swish": "swish",
    "silu": "swish",
    "elu": "elu",
    "softplus": "softplus",
    "exponential": "exponential",
}

#: TensorFlow functions of TFOpLambda nodes that are element-wise activations
_TF_ACTIVATIONS = {
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
_TF_BINARY = {
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


def _act_name(act: Any) -> str:
    if act is None:
        return "linear"
    if isinstance(act, str):
        return act
    return getattr(act, "__name__", None) or act.__class__.__name__


def _is_keras_tensor(x: Any) -> bool:
    return hasattr(x, "_keras_history") and hasattr(x, "shape")


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [y for v in x for y in _flatten(v)]
    if isinstance(x, dict):
        return [y for v in x.values() for y in _flatten(v)]
    return [x]


def _per_sample(shape: Any) -> tuple[int | None, ...]:
    dims = list(shape)
    return tuple(None if d is None else int(d) for d in dims[1:])


class KerasReader:
    """Builds the IR graph of one Keras model."""

    def __init__(self, model: Any, name: str | None = None) -> None:
        self.model = model
        self.graph = Graph(c_identifier(name or model.name))
        self.env: dict[int, Value] = {}  # id(KerasTensor) -> what it lowered to
        self._alive: list[Any] = []  # the KerasTensors keyed by id, kept alive while reading
        self.problems: list[str] = []
        self._poison: set[str] = set()  # stand-in tensors of calls that failed
        self._tracing: list[str] = []  # subclassed layers being traced, outermost first

    # -- entry --------------------------------------------------------------------------------------
    def read(self) -> Graph:
        import sys

        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20000))  # the graph is followed recursively from the outputs
        try:
            return self._read()
        finally:
            sys.setrecursionlimit(limit)

    def _read(self) -> Graph:
        import tensorflow as tf

        m = self.model
        outs: list[Value]
        if isinstance(m, tf.keras.Sequential) and not getattr(m, "_is_graph_network", False):
            shape = _per_sample(m.input_shape)
            x = self._input("input", shape)
            outs = [self._chain(m.layers, x)]
        else:
            for kt in _flatten(m.inputs):
                layer = kt._keras_history.layer
                self.bind(kt, self._input(layer.name, _per_sample(kt.shape), str(kt.dtype)))
            outs = [self.value(kt) for kt in _flatten(m.outputs)]
        if self.problems:
            self.problems = list(dict.fromkeys(self.problems))
            raise UnsupportedModelError(
                f"model {m.name} cannot be converted; {len(self.problems)} unsupported layer(s) or op(s):\n  "
                + "\n  ".join(self.problems)
            )
        for v in outs:
            if not isinstance(v, str):
                raise UnsupportedModelError(
                    f"model {m.name}: an output is a constant (it does not depend on the inputs)"
                )
        self.graph.outputs = list(outs)  # type: ignore[arg-type]
        self._prune()
        fold_batchnorm(self.graph)
        return self.graph

    def _input(self, name: str, shape: tuple[int | None, ...], dtype: str = "float32") -> str:
        if any(s is None for s in shape):
            self.problems.append(
                f"{name} (InputLayer): input shape {shape} has an unknown dimension: give the sequence length "
                "in the Input shape"
            )
            shape = tuple(1 if s is None else s for s in shape)
        t = self.graph.add_tensor(name, shape, origin=name)
        self.graph.inputs.append(t)
        if "int" in dtype:
            self._int_inputs.add(t)
        return t

    @property
    def _int_inputs(self) -> set[str]:
        if not hasattr(self, "_ints"):
            self._ints: set[str] = set()
        return self._ints

    def _prune(self) -> None:
        """Drop tensors and ops nothing reads (e.g. a mask input only Dropout used)."""
        g = self.graph
        needed = set(g.outputs)
        keep = []
        for op in reversed(g.ops):
            if any(o in needed for o in op.outputs):
                keep.append(op)
                needed.update(op.inputs)
        g.ops = list(reversed(keep))
        used = needed | set(g.inputs)
        g.tensors = {k: v for k, v in g.tensors.items() if k in used}

    # -- the Keras graph ----------------------------------------------------------------------------
    def bind(self, kt: Any, v: Value) -> None:
        self.env[id(kt)] = v
        self._alive.append(kt)

    def value(self, kt: Any) -> Value:
        """What the Keras tensor ``kt`` lowers to (lowering the calls it depends on, once each)."""
        key = id(kt)
        if key in self.env:
            return self.env[key]
        layer, ni, _ = kt._keras_history
        if type(layer).__name__ == "InputLayer":
            raise UnsupportedModelError(f"{layer.name}: an input that the model does not declare")
        node = layer._inbound_nodes[ni]
        outs = _flatten(node.outputs)
        vals = self.call_node(layer, node, [_per_sample(t.shape) for t in outs])
        for t, v in zip(outs, vals, strict=True):
            self.bind(t, v)
        return self.env[key]

    def lower_arg(self, a: Any) -> Any:
        """A call argument with its Keras tensors lowered and TF constants as NumPy arrays."""
        if _is_keras_tensor(a):
            return self.value(a)
        if isinstance(a, (list, tuple)):
            return type(a)(self.lower_arg(v) for v in a)
        if isinstance(a, dict):
            return {k: self.lower_arg(v) for k, v in a.items()}
        if hasattr(a, "numpy") and callable(a.numpy):  # tf.Variable, EagerTensor
            return np.asarray(a.numpy())
        return a

    def call_node(self, layer: Any, node: Any, out_shapes: list[tuple[int | None, ...]]) -> list[Value]:
        args = [self.lower_arg(a) for a in node.call_args]
        kwargs = {k: self.lower_arg(v) for k, v in node.call_kwargs.items()}
        return self.apply(layer, args, kwargs, out_shapes, node)

    def apply(
        self,
        layer: Any,
        args: list[Any],
        kwargs: dict[str, Any],
        out_shapes: list[tuple[int | None, ...]],
        node: Any = None,
    ) -> list[Value]:
        """Lower one call of ``layer``; on a problem, record it and return stand-in tensors."""
        import tensorflow as tf

        inputs = [v for a in args for v in (_flatten(a) if isinstance(a, (list, tuple)) else [a])]
        inputs = [v for v in inputs if isinstance(v, (str, np.ndarray)) or np.isscalar(v)]
        call = Call(layer, inputs, kwargs, out_shapes, args)
        tensors = [v for v in _flatten([args, kwargs]) if isinstance(v, str)]
        cls = type(layer).__name__
        if any(t in self._poison for t in tensors):  # downstream of a problem: only the static checks
            known = (
                cls in _HANDLERS or isinstance(layer, tf.keras.Model) or _is_custom(layer) or cls == "Lambda"
            )
            msgs = _CHECKS[cls](layer, call) if cls in _CHECKS else []
            if not known and cls not in ("TFOpLambda", "SlicingOpLambda"):
                msgs.append(f"layer type {cls} is not supported")
            self.problems += [f"{call.where}: {m}" for m in msgs]
            return self._stand_ins(call)
        try:
            batch_constant = cls == "TFOpLambda" and layer.get_config().get("function") in _BATCH_CONSTANT_OPS
            if not tensors and not batch_constant:
                return self._fold(layer, args, kwargs, node)
            if cls in _HANDLERS:
                msgs = _CHECKS[cls](layer, call) if cls in _CHECKS else []
                if msgs:
                    raise UnsupportedModelError("; ".join(msgs))
                out = _HANDLERS[cls](self, call)
                return out if isinstance(out, list) else [out]
            if isinstance(layer, tf.keras.Sequential):
                return [self._chain(layer.layers, inputs[0])]
            if isinstance(layer, tf.keras.Model) and getattr(layer, "_is_graph_network", False):
                return self._inline(layer, args)
            if cls in ("TFOpLambda", "SlicingOpLambda"):
                return [_tf_op(self, call)]
            if _is_custom(layer) or cls == "Lambda":
                return self._trace(layer, args, kwargs)
            raise UnsupportedModelError(
                f"layer type {cls} is not supported: the README lists the layers that convert (a custom "
                "layer built from them is traced)"
            )
        except (UnsupportedModelError, ValueError, NotImplementedError) as e:
            where = call.where
            if cls in ("TFOpLambda", "SlicingOpLambda"):
                where = f"{layer.name} (tf.{layer.get_config().get('function')})"
            inside = f" in traced layer {' > '.join(self._tracing)}" if self._tracing else ""
            msg = str(e)
            if msg.startswith(where):
                msg = msg[len(where) :].lstrip(": ")
            self.problems.append(f"{where}{inside}: {msg}")
            return self._stand_ins(call)

    def _stand_ins(self, call: Call) -> list[Value]:
        outs = []
        for shape in call.out_shapes or [(1,)]:
            t = self.new(
                f"{call.layer.name}_unsupported", tuple(1 if s is None else s for s in shape), call.layer.name
            )
            self._poison.add(t)
            outs.append(t)
        return outs

    def _fold(self, layer: Any, args: list[Any], kwargs: dict[str, Any], node: Any) -> list[Value]:
        """A call on constants only: Keras computes it."""
        out = layer(*args, **{k: v for k, v in kwargs.items() if k != "training"})
        return [np.asarray(o.numpy() if hasattr(o, "numpy") else o) for o in _flatten(out)]

    def _chain(self, layers: list[Any], x: Value) -> Value:
        for layer in layers:
            if type(layer).__name__ == "InputLayer":
                continue
            shape = _per_sample(layer.output_shape) if hasattr(layer, "output_shape") else ()
            x = self.apply(layer, [x], {}, [shape])[0]
        return x

    def _inline(self, model: Any, args: list[Any]) -> list[Value]:
        """A functional model used as a layer: its inputs bound to the call's arguments."""
        ins = _flatten(model.inputs)
        vals = [v for v in _flatten(args) if isinstance(v, (str, np.ndarray))]
        if len(vals) != len(ins):
            raise UnsupportedModelError(f"takes {len(ins)} inputs, called with {len(vals)}")
        saved = {id(k): self.env.pop(id(k)) for k in ins if id(k) in self.env}
        for kt, v in zip(ins, vals, strict=True):
            self.bind(kt, v)
        try:
            return [self.value(kt) for kt in _flatten(model.outputs)]
        finally:
            for kt in ins:
                self.env.pop(id(kt), None)
            self.env.update(saved)

    def _trace(self, layer: Any, args: list[Any], kwargs: dict[str, Any]) -> list[Value]:
        """A subclassed layer: its ``call`` run on symbolic inputs, then the nodes it recorded lowered."""
        import tensorflow as tf

        syms: list[Any] = []

        def symbolic(v: Any) -> Any:
            if isinstance(v, str):
                dtype = "int32" if v in self._int_inputs else "float32"
                s = tf.keras.Input(shape=self.shape(v), dtype=dtype)
                syms.append((s, v))
                return s
            if isinstance(v, (list, tuple)):
                return type(v)(symbolic(u) for u in v)
            return v

        sargs = [symbolic(a) for a in args]
        skw = {k: symbolic(v) for k, v in kwargs.items()}
        try:
            params = inspect.signature(layer.call).parameters
        except (TypeError, ValueError):
            params = {}
        if "training" in params:
            skw["training"] = False
        tf_logger = logging.getLogger("tensorflow")
        level = tf_logger.level
        tf_logger.setLevel(logging.ERROR)
        try:
            out = layer.call(*sargs, **skw)
        except Exception as e:  # any failure of the user's call() on symbolic tensors
            raise UnsupportedModelError(
                f"cannot be traced: its call() failed on symbolic inputs ({type(e).__name__}: {e}); a custom "
                "layer may only call Keras layers and TensorFlow ops on its inputs (see the README)"
            ) from None
        finally:
            tf_logger.setLevel(level)
        for s, v in syms:
            self.bind(s, v)
        self._tracing.append(f"{layer.name} ({type(layer).__name__})")
        try:
            res = []
            for o in _flatten(out):
                if _is_keras_tensor(o):
                    res.append(self.value(o))
                else:
                    res.append(np.asarray(o.numpy() if hasattr(o, "numpy") else o))
            return res
        finally:
            self._tracing.pop()

    # -- lowering helpers ---------------------------------------------------------------------------
    def tensor(self, v: Value, like: tuple[int, ...] | None = None, origin: str = "") -> str:
        """An IR tensor for ``v``: itself, or a constant folded into a typed Constant op."""
        if isinstance(v, str):
            return v
        return self.constant(np.asarray(v, dtype=np.float64), like, origin)

    _in = tensor  # handlers of hlsgen's decoder layers use this name

    def constant(self, value: np.ndarray, like: tuple[int, ...] | None, origin: str) -> str:
        """A Constant op holding ``value`` (leading axes of 1 dropped down to the rank of ``like``)."""
        v = np.asarray(value, dtype=np.float64)
        rank = len(like) if like is not None else v.ndim
        while v.ndim > max(rank, 1) and v.shape[0] == 1:
            v = v[0]
        if v.ndim == 0:
            v = v.reshape(1)
        base = f"{origin}_const" if origin else "const"
        y = self.new(base, v.shape, origin)
        self.graph.add_op(Constant(self.graph.unique_name(base), [], [y], origin=origin, value=v.copy()))
        return y

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    def new(self, base: str, shape: tuple[int, ...], origin: str) -> str:
        return self.graph.add_tensor(base, shape, origin)

    def activation(
        self, x: str, act: Any, origin: str, qtype: FixedType | None = None, base: str = ""
    ) -> str:
        """Append the activation ``act`` (a name or a QKeras quantizer) after tensor ``x``."""
        name = _act_name(act)
        qt = qtype
        fn = _ACT_NAMES.get(name)
        if fn is None and name == "softmax":
            return self.softmax(x, None, origin, base or f"{origin}_softmax", role="result")
        if fn is None:
            # a QKeras quantizer used as an activation
            qt = activation_type(act, origin)
            fn = "relu" if "relu" in str(act) else "linear"
        if fn == "linear" and qt is None:
            return x
        x = self.table_input(x, fn, origin)
        y = self.new(base or f"{origin}_{fn}", self.shape(x), origin)
        op = Activation(
            self.graph.unique_name(base or f"{origin}_{fn}"), [x], [y], origin=origin, function=fn
        )
        if qt is not None:
            op.qtypes["result"] = qt
        self.graph.add_op(op)
        return y

    def table_input(self, x: str, fn: str, origin: str) -> str:
        """For a table function, the cast of ``x`` to the table's address type (a TableInput op)."""
        if not is_table_function(fn):
            return x
        y = self.new(f"{origin}_{fn}_in", self.shape(x), origin)
        self.graph.add_op(TableInput(self.graph.unique_name(f"{origin}_{fn}_in"), [x], [y], origin=origin))
        return y

    def softmax(self, x: str, mask: str | None, origin: str, base: str, role: str = "probability") -> str:
        from ..ir.ops.softmax import Softmax

        y = self.new(base, self.shape(x), origin)
        op = Softmax(self.graph.unique_name(base), [x] if mask is None else [x, mask], [y], origin=origin)
        op.role = role
        self.graph.add_op(op)
        return y

    def binary(self, a: Value, b: Value, operation: str, origin: str) -> Value:
        """``a op b`` for tensors or constants: an Add of equal shapes, else a broadcast Binary."""
        if not isinstance(a, str) and not isinstance(b, str):
            f = {"add": np.add, "sub": np.subtract, "mul": np.multiply}[operation]
            return f(np.asarray(a, np.float64), np.asarray(b, np.float64))
        rank = len(self.shape(a if isinstance(a, str) else b))  # type: ignore[arg-type]
        ta = self.tensor(a, (0,) * rank, origin)
        tb = self.tensor(b, (0,) * rank, origin)
        out = broadcast_shape(self.shape(ta), self.shape(tb), origin)
        y = self.new(origin, out, origin)
        name = self.graph.unique_name(origin)
        if operation == "add" and self.shape(ta) == self.shape(tb):
            self.graph.add_op(Add(name, [ta, tb], [y], origin=origin))
        else:
            self.graph.add_op(Binary(name, [ta, tb], [y], origin=origin, operation=operation))
        return y


def _is_custom(layer: Any) -> bool:
    """A layer class defined outside Keras and TensorFlow (a user's subclassed layer)."""
    root = (type(layer).__module__ or "").split(".")[0]
    return root not in ("keras", "tensorflow", "tf_keras")


def fold_batchnorm(g: Graph) -> Graph:
    """Pass (in place): a BatchNorm right after a float Linear or Conv1D whose output nothing else reads
    becomes part of that op (kernel * scale, bias * scale + shift); returns ``g``."""
    readers: dict[str, int] = {}
    for op in g.ops:
        for t in op.inputs:
            readers[t] = readers.get(t, 0) + 1
    drop = []
    for op in g.ops:
        if not isinstance(op, BatchNorm):
            continue
        prev = g.producer(op.inputs[0])
        if not isinstance(prev, Linear) or prev.qtypes or readers.get(op.inputs[0], 0) != 1:
            continue
        if op.inputs[0] in g.outputs:
            continue
        n_out = prev.n_out
        if len(op.scale) != n_out:
            continue
        prev.kernel = prev.kernel * op.scale
        bias = prev.bias if prev.bias is not None else np.zeros(n_out)
        prev.bias = bias * op.scale + op.shift
        prev.outputs = [op.outputs[0]]
        drop.append(op)
    for op in drop:
        g.ops.remove(op)
    used = {t for op in g.ops for t in (*op.inputs, *op.outputs)} | set(g.inputs) | set(g.outputs)
    g.tensors = {k: v for k, v in g.tensors.items() if k in used}
    return g


# ---------------------------------------------------------------------------------------------------
# handlers: one per Keras layer class
# ---------------------------------------------------------------------------------------------------
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
        act = None if _act_name(a) == "linear" else act
    return act


def _check_dense(layer: Any, n: Call) -> list[str]:
    msgs = []
    act = layer.get_config().get("activation")
    name = act if isinstance(act, str) else None
    if name is not None and name not in _ACT_NAMES and name != "softmax" and "quantized" not in name:
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
        if not (s.startswith("quantized_relu") or s.startswith("quantized_bits") or s in _ACT_NAMES):
            return [f"quantizer {s!r} is not supported as an activation"]
        return []
    name = act if isinstance(act, str) else _act_name(act)
    if name not in _ACT_NAMES and name != "softmax":
        return [f"activation {name!r} is not supported"]
    return []


def _layernorm(r: KerasReader, n: Call) -> str:
    from ..ir.ops.layernorm import LayerNorm

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


def _merge(operation: str) -> Callable[[KerasReader, Call], Value]:
    def handler(r: KerasReader, n: Call) -> Value:
        ins = list(n.inputs)
        acc = ins[0]
        for b in ins[1:]:
            acc = r.binary(acc, b, operation, n.layer.name)
        return acc

    return handler


def _concatenate(r: KerasReader, n: Call) -> str:
    return _concat(r, list(n.inputs), int(n.layer.get_config().get("axis", -1)), n.layer.name, n.out_shapes)


def _concat(r: KerasReader, values: list[Value], axis: int, origin: str, out_shapes: list[Any]) -> str:
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
        x = _transpose(r, x, (1, 0), layer.name)
    t = r.shape(x)
    y = r.new(layer.name, (t[-1],), layer.name)
    op_cls = GlobalMaxPool if type(layer).__name__ == "GlobalMaxPooling1D" else GlobalAvgPool
    r.graph.add_op(op_cls(r.graph.unique_name(layer.name), [x], [y], origin=layer.name))
    return y


def _transpose(r: KerasReader, x: str, perm: tuple[int, ...], origin: str) -> str:
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
    return _transpose(r, r.tensor(n.inputs[0]), dims, n.layer.name)


def _reshape_to(r: KerasReader, x: str, target: list[int], origin: str) -> str:
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
        return _reshape_to(r, x, [-1], layer.name)
    return _reshape_to(r, x, list(layer.get_config()["target_shape"]), layer.name)


def _identity(r: KerasReader, n: Call) -> Value:
    return n.inputs[0]


# -- TensorFlow ops (TFOpLambda / SlicingOpLambda) ---------------------------------------------------
#: ops that broadcast a constant over the batch (a class token): their per-sample value is computed here
_BATCH_CONSTANT_OPS = ("broadcast_to", "tile", "repeat")


def _tf_op(r: KerasReader, n: Call) -> Value:
    layer = n.layer
    fn = layer.get_config().get("function")
    name = layer.name
    args = list(n.args)
    kw = n.kwargs
    if fn in _TF_BINARY:
        op = _TF_BINARY[fn]
        a = args[0]
        b = args[1] if len(args) > 1 else kw.get("y")
        if fn == "math.add_n":
            return _merge("add")(r, Call(layer, _flatten(a), {}, n.out_shapes))
        if b is None:
            raise UnsupportedModelError("no second operand")
        if op == "div":
            if isinstance(b, str):
                raise UnsupportedModelError("dividing by a tensor is not supported (only by a constant)")
            return r.binary(a, 1.0 / np.asarray(b, np.float64), "mul", name)
        return r.binary(a, b, op, name)
    if fn in _TF_ACTIVATIONS:
        x = r.tensor(args[0])
        if fn == "nn.gelu" and (kw.get("approximate") or (len(args) > 1 and args[1] is True)):
            return _act_op(r, x, "gelu_tanh", name)
        if fn == "nn.softmax":
            return r.softmax(x, None, name, name, role="result")
        return _act_op(r, x, _TF_ACTIVATIONS[fn], name)
    if fn == "concat":
        values = _flatten(args[0]) if args and isinstance(args[0], (list, tuple)) else args[:1]
        axis = kw.get("axis", args[1] if len(args) > 1 else -1)
        return _concat(r, values, int(axis), name, n.out_shapes)
    if fn in ("reshape",):
        shape = kw.get("shape", args[1] if len(args) > 1 else None)
        target = [int(s) for s in np.asarray(shape).reshape(-1)]
        if target[0] not in (-1, 0) and target[0] is not None:
            raise UnsupportedModelError(f"reshape to {target}: the first axis must be the batch (-1)")
        return _reshape_to(r, r.tensor(args[0]), target[1:], name)
    if fn in ("compat.v1.transpose", "transpose", "linalg.matrix_transpose"):
        perm = kw.get("perm", args[1] if len(args) > 1 else None)
        x = r.tensor(args[0])
        if perm is None:
            raise UnsupportedModelError("a transpose without perm (it would move the batch axis)")
        perm = [int(p) for p in np.asarray(perm).reshape(-1)]
        if perm[0] != 0:
            raise UnsupportedModelError(f"perm={perm} moves the batch axis")
        return _transpose(r, x, tuple(p - 1 for p in perm[1:]), name)
    if fn == "__operators__.getitem":
        return _getitem(r, n)
    if fn in ("compat.v1.shape", "shape"):
        x = r.tensor(args[0])
        return np.array([-1, *r.shape(x)], dtype=np.int64)
    if fn in ("cast", "identity", "stop_gradient"):
        return args[0]
    if fn in _BATCH_CONSTANT_OPS:
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
            x = _transpose(r, x, (1, 0), name)
        y = r.new(name, (r.shape(x)[-1],), name)
        cls = GlobalAvgPool if fn == "math.reduce_mean" else GlobalMaxPool
        r.graph.add_op(cls(r.graph.unique_name(name), [x], [y], origin=name))
        return y
    raise UnsupportedModelError(
        f"TensorFlow op tf.{fn} is not supported; supported: + - * / by a constant, tf.concat, tf.reshape, "
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
    y = _reshape_to(r, x, [hh, ph, ww, pw * c], f"{name}_rows")
    y = _transpose(r, y, (0, 2, 1, 3), name)
    return _reshape_to(r, y, [hh, ww, ph * pw * c], name)


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


# -- attention --------------------------------------------------------------------------------------
def _mha_check(layer: Any, n: Call) -> list[str]:
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


def _check_embedding(layer: Any, n: Call) -> list[str]:
    if layer.get_config().get("mask_zero"):
        return ["mask_zero=True is not supported (the mask it propagates would change later layers)"]
    return []


def _mha(r: KerasReader, n: Call) -> str:
    from ..ir.ops.attention import Context, Mask, Scores

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


_HANDLERS: dict[str, Callable[[KerasReader, Call], Any]] = {
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
    "Add": _merge("add"),
    "Subtract": _merge("sub"),
    "Multiply": _merge("mul"),
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
    "MultiHeadAttention": _mha,
    "QMultiHeadAttention": _mha,
}

_CHECKS: dict[str, Callable[[Any, Call], list[str]]] = {
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
    "MultiHeadAttention": _mha_check,
    "QMultiHeadAttention": _mha_check,
}

# hlsgen's decoder layers (GroupedQueryAttention, MultiHeadLatentAttention, RotaryEmbedding)
from .decoder import HANDLERS as _DECODER_HANDLERS  # noqa: E402

_HANDLERS.update(_DECODER_HANDLERS)


def read_keras(model: Any) -> Graph:
    """The float IR graph of a Keras model (object or file)."""
    return KerasReader(load_model(model)).read()


__all__ = ["Call", "KerasReader", "UnsupportedModelError", "fold_batchnorm", "load_model", "read_keras"]
