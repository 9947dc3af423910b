"""The reader: follows the Keras graph from the outputs, lowers each layer call once (handlers in
:mod:`.layers`, TensorFlow ops in :mod:`.tfops`), inlines nested models, traces custom layers and folds
constants; :func:`fold_batchnorm` is its last pass."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import numpy as np

from ...fixed import FixedType
from ...ir.graph import Graph, c_identifier
from ...ir.ops import (
    Activation,
    Add,
    BatchNorm,
    Binary,
    Constant,
    Linear,
    TableInput,
    is_table_function,
)
from ...ir.ops.tensor import broadcast_shape
from ..keras_base import Call, UnsupportedModelError, Value, activation_type
from .common import ACT_NAMES, act_name, flatten, is_custom, is_keras_tensor, per_sample
from .layers import CHECKS, HANDLERS
from .tfops import BATCH_CONSTANT_OPS, tf_op


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
            shape = per_sample(m.input_shape)
            x = self._input("input", shape)
            outs = [self._chain(m.layers, x)]
        else:
            for kt in flatten(m.inputs):
                layer = kt._keras_history.layer
                self.bind(kt, self._input(layer.name, per_sample(kt.shape), str(kt.dtype)))
            outs = [self.value(kt) for kt in flatten(m.outputs)]
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
        outs = flatten(node.outputs)
        vals = self.call_node(layer, node, [per_sample(t.shape) for t in outs])
        for t, v in zip(outs, vals, strict=True):
            self.bind(t, v)
        return self.env[key]

    def lower_arg(self, a: Any) -> Any:
        """A call argument with its Keras tensors lowered and TF constants as NumPy arrays."""
        if is_keras_tensor(a):
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

        inputs = [v for a in args for v in (flatten(a) if isinstance(a, (list, tuple)) else [a])]
        inputs = [v for v in inputs if isinstance(v, (str, np.ndarray)) or np.isscalar(v)]
        call = Call(layer, inputs, kwargs, out_shapes, args)
        tensors = [v for v in flatten([args, kwargs]) if isinstance(v, str)]
        cls = type(layer).__name__
        if any(t in self._poison for t in tensors):  # downstream of a problem: only the static checks
            known = (
                cls in HANDLERS or isinstance(layer, tf.keras.Model) or is_custom(layer) or cls == "Lambda"
            )
            msgs = CHECKS[cls](layer, call) if cls in CHECKS else []
            if not known and cls not in ("TFOpLambda", "SlicingOpLambda"):
                msgs.append(f"layer type {cls} is not supported")
            self.problems += [f"{call.where}: {m}" for m in msgs]
            return self._stand_ins(call)
        try:
            batch_constant = cls == "TFOpLambda" and layer.get_config().get("function") in BATCH_CONSTANT_OPS
            if not tensors and not batch_constant:
                return self._fold(layer, args, kwargs, node)
            if cls in HANDLERS:
                msgs = CHECKS[cls](layer, call) if cls in CHECKS else []
                if msgs:
                    raise UnsupportedModelError("; ".join(msgs))
                out = HANDLERS[cls](self, call)
                return out if isinstance(out, list) else [out]
            if isinstance(layer, tf.keras.Sequential):
                return [self._chain(layer.layers, inputs[0])]
            if isinstance(layer, tf.keras.Model) and getattr(layer, "_is_graph_network", False):
                return self._inline(layer, args)
            if cls in ("TFOpLambda", "SlicingOpLambda"):
                return [tf_op(self, call)]
            if is_custom(layer) or cls == "Lambda":
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
        return [np.asarray(o.numpy() if hasattr(o, "numpy") else o) for o in flatten(out)]

    def _chain(self, layers: list[Any], x: Value) -> Value:
        for layer in layers:
            if type(layer).__name__ == "InputLayer":
                continue
            shape = per_sample(layer.output_shape) if hasattr(layer, "output_shape") else ()
            x = self.apply(layer, [x], {}, [shape])[0]
        return x

    def _inline(self, model: Any, args: list[Any]) -> list[Value]:
        """A functional model used as a layer: its inputs bound to the call's arguments."""
        ins = flatten(model.inputs)
        vals = [v for v in flatten(args) if isinstance(v, (str, np.ndarray))]
        if len(vals) != len(ins):
            raise UnsupportedModelError(f"takes {len(ins)} inputs, called with {len(vals)}")
        saved = {id(k): self.env.pop(id(k)) for k in ins if id(k) in self.env}
        for kt, v in zip(ins, vals, strict=True):
            self.bind(kt, v)
        try:
            return [self.value(kt) for kt in flatten(model.outputs)]
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
            for o in flatten(out):
                if is_keras_tensor(o):
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
        name = act_name(act)
        qt = qtype
        fn = ACT_NAMES.get(name)
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
        from ...ir.ops.softmax import Softmax

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
