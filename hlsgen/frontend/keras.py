"""Keras 2 / QKeras models to the IR.

The reader walks the model's layers in order, checks every layer first (so that all unsupported layers
are reported in one error, before anything is built), then lowers each layer to IR primitives:
attention becomes projections, scores, mask, softmax, context and the output projection.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..fixed import FixedType
from ..ir.graph import Graph, c_identifier
from ..ir.ops import Activation, Add, GlobalAvgPool, Linear, Reshape


class UnsupportedModelError(ValueError):
    """The model holds layers or options hlsgen cannot convert; the message lists every one."""


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
        raise ValueError(_load_error(p, e)) from None


def _load_error(path: Path, e: Exception) -> str:
    """One line saying why Keras could not read ``path``: a custom layer class named with what to do, else
    Keras's own reason (first line)."""
    import re

    text = str(e)
    m = re.search(r"Unknown (?:layer|object)[^']*'([\w.]+)'|object of type `([\w.]+)`", text)
    classes = [m.group(1) or m.group(2)] if m else _unknown_layer_classes(path)
    if classes:
        cls = classes[0]
        more = f" (and {', '.join(classes[1:])})" if len(classes) > 1 else ""
        return (
            f"cannot read model {path}: it uses the custom layer class {cls}{more}, which Keras cannot rebuild "
            f"here. Load the model yourself (tf.keras.models.load_model(path, custom_objects={{'{cls}': {cls}}})) "
            f"and pass the model object to hlsgen.convert, or import the module that defines {cls} with "
            "hlsgen --import MODULE"
        )
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"cannot read model {path} (corrupt, truncated or not a Keras model?): {type(e).__name__}: {first}"


def _unknown_layer_classes(path: Path) -> list[str]:
    """Layer classes named in a model file's config that neither Keras nor hlsgen / QKeras define."""
    import json

    import tensorflow as tf

    from ..layers import custom_objects

    try:
        if path.suffix == ".keras":
            import zipfile

            with zipfile.ZipFile(path) as z:
                cfg = json.loads(z.read("config.json"))
        else:
            import h5py

            with h5py.File(path, "r") as f:
                cfg = json.loads(f.attrs["model_config"])
    except Exception:  # not readable at all: Keras's own reason is the message
        return []
    known = {**custom_objects(), **tf.keras.utils.get_custom_objects()}
    found: list[str] = []

    def walk(node: Any) -> None:  # the entries of every "layers" list, nested models included
        if isinstance(node, dict):
            for layer in node.get("layers", []) if isinstance(node.get("layers"), list) else []:
                cls = layer.get("class_name") if isinstance(layer, dict) else None
                if isinstance(cls, str):
                    mod = layer.get("module") or ""
                    builtin = mod.startswith("keras") or hasattr(tf.keras.layers, cls) or hasattr(tf.keras, cls)
                    if not builtin and cls not in known and cls not in found:
                        found.append(cls)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(cfg)
    return found


# ---------------------------------------------------------------------------------------------------
@dataclass
class _Node:
    layer: Any
    inputs: list[str]  #: Keras tensor keys "layer:node:index" of the positional inputs
    kwargs: dict[str, Any]  #: call keyword arguments, tensors as keys


def _tensor_key(ref: Any) -> str | None:
    if isinstance(ref, (list, tuple)) and len(ref) >= 3 and isinstance(ref[0], str):
        return f"{ref[0]}:{ref[1]}:{ref[2]}"
    return None


def _nodes(model: Any) -> tuple[list[_Node], list[str], list[str]]:
    """Layers in call order with their inputs, the model's input keys and output keys."""
    import tensorflow as tf

    if isinstance(model, tf.keras.Sequential):
        nodes, prev = [], None
        inputs: list[str] = []
        for layer in model.layers:
            if prev is None:
                if isinstance(layer, tf.keras.layers.InputLayer):
                    prev = f"{layer.name}:0:0"
                    inputs = [prev]
                    nodes.append(_Node(layer, [], {}))
                    continue
                name = "input"
                nodes.append(_Node(_SeqInput(name, tuple(model.input_shape[1:])), [], {}))
                prev = f"{name}:0:0"
                inputs = [prev]
            nodes.append(_Node(layer, [prev], {}))
            prev = f"{layer.name}:0:0"
        return nodes, inputs, [prev]
    cfg = model.get_config()
    by_name = {layer.name: layer for layer in model.layers}
    nodes = []
    for lc in cfg["layers"]:
        layer = by_name[lc["name"]]
        inbound = lc.get("inbound_nodes") or []
        if len(inbound) > 1:
            nodes.append(_Node(layer, ["<shared>"], {}))
            continue
        ins, kwargs = [], {}
        for ref in inbound[0] if inbound else []:
            k = _tensor_key(ref)
            if k:
                ins.append(k)
            if isinstance(ref, (list, tuple)) and len(ref) >= 4 and isinstance(ref[3], dict):
                for kk, vv in ref[3].items():
                    kwargs[kk] = _tensor_key(vv) or vv
        nodes.append(_Node(layer, ins, kwargs))
    ins = [_tensor_key(r) for r in cfg["input_layers"]]
    outs = [_tensor_key(r) for r in cfg["output_layers"]]
    if isinstance(cfg["input_layers"][0], str):  # a single input written flat
        ins = [_tensor_key(cfg["input_layers"])]
    if isinstance(cfg["output_layers"][0], str):
        outs = [_tensor_key(cfg["output_layers"])]
    return nodes, [i for i in ins if i], [o for o in outs if o]


@dataclass
class _SeqInput:
    """The implicit input of a Sequential model built without an InputLayer."""

    name: str
    shape: tuple[int, ...]


# ---------------------------------------------------------------------------------------------------
def _qtype(q: Any, where: str) -> FixedType | None:
    """The FixedType a QKeras quantizer of activations (object or string) fixes, or None for no quantizer."""
    if q is None or q == "" or q == "None":
        return None
    from ..quant.qkeras import quantizer_to_type

    try:
        spec = quantizer_to_type(q)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    if spec.shift is not None:
        raise ValueError(f"{where}: {spec.source}: a power-of-two alpha on activations is not supported")
    return spec.type


def _qweights(q: Any, w: np.ndarray, where: str) -> tuple[FixedType | None, np.ndarray]:
    """Weights as QKeras quantizes them, and a type that holds every one exactly.

    A power-of-two alpha (constant or ``auto_po2``) scales channels by 2^shift: the type widens to hold
    the scaled values exactly (fractional bits for the smallest shift, integer bits for the largest),
    so the hardware needs no shifter and the values equal QKeras's.
    """
    if q is None or q == "" or q == "None":
        return None, w
    from ..quant.qkeras import apply, quantizer_to_type

    try:
        spec = quantizer_to_type(q, weights=w.astype(np.float32))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    wq = apply(spec, w.astype(np.float32).astype(np.float64))
    t = spec.type
    if spec.shift is not None:
        lo, hi = int(np.min(spec.shift)), int(np.max(spec.shift))
        t = FixedType(t.width + hi - lo, t.integer + hi, t.signed, t.rounding, t.overflow)
    return t, wq


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


def _act_name(act: Any) -> str:
    if act is None:
        return "linear"
    if isinstance(act, str):
        return act
    return getattr(act, "__name__", None) or act.__class__.__name__


class KerasReader:
    """Builds the IR graph of one Keras model."""

    def __init__(self, model: Any, name: str | None = None) -> None:
        self.model = model
        self.graph = Graph(c_identifier(name or model.name))
        self.tmap: dict[str, str] = {}  # Keras tensor key -> IR tensor name

    # -- entry --------------------------------------------------------------------------------------
    def read(self) -> Graph:
        nodes, inputs, outputs = _nodes(self.model)
        problems = [p for n in nodes for p in self._check(n)]
        if problems:
            raise UnsupportedModelError(
                f"model {self.model.name} cannot be converted; {len(problems)} unsupported layer(s):\n  "
                + "\n  ".join(problems)
            )
        for n in nodes:
            self._lower(n)
        self.graph.inputs = [self.tmap[k] for k in inputs]
        self.graph.outputs = [self.tmap[k] for k in outputs]
        self._prune()
        return self.graph

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

    # -- checks -------------------------------------------------------------------------------------
    def _check(self, n: _Node) -> list[str]:
        layer = n.layer
        cls = type(layer).__name__
        where = f"{getattr(layer, 'name', '?')} ({cls})"
        if n.inputs == ["<shared>"]:
            return [f"{where}: a layer called more than once (shared layers) is not supported"]
        handler = _HANDLERS.get(cls)
        if handler is None:
            return [f"{where}: layer type {cls} is not supported"]
        check = _CHECKS.get(cls)
        if check is None:
            return []
        return [f"{where}: {msg}" for msg in check(layer, n)]

    # -- lowering -----------------------------------------------------------------------------------
    def _in(self, key: str) -> str:
        return self.tmap[key]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    def new(self, base: str, shape: tuple[int, ...], origin: str) -> str:
        return self.graph.add_tensor(base, shape, origin)

    def _lower(self, n: _Node) -> None:
        cls = type(n.layer).__name__
        out = _HANDLERS[cls](self, n)
        self.tmap[f"{n.layer.name}:0:0"] = out

    def activation(self, x: str, act: Any, origin: str, qtype: FixedType | None = None, base: str = "") -> str:
        """Append the activation ``act`` (a name or a QKeras quantizer) after tensor ``x``."""
        name = _act_name(act)
        qt = qtype
        fn = _ACT_NAMES.get(name)
        if fn is None and name == "softmax":
            return self.softmax(x, None, origin, base or f"{origin}_softmax", role="result")
        if fn is None:
            # a QKeras quantizer used as an activation
            qt = _qtype(act, origin)
            fn = "relu" if "relu" in str(act) else "linear"
        if fn == "linear" and qt is None:
            return x
        y = self.new(base or f"{origin}_{fn}", self.shape(x), origin)
        op = Activation(self.graph.unique_name(base or f"{origin}_{fn}"), [x], [y], origin=origin, function=fn)
        if qt is not None:
            op.qtypes["result"] = qt
        self.graph.add_op(op)
        return y

    def softmax(self, x: str, mask: str | None, origin: str, base: str, role: str = "probability") -> str:
        from ..ir.ops.softmax import Softmax

        y = self.new(base, self.shape(x), origin)
        op = Softmax(self.graph.unique_name(base), [x] if mask is None else [x, mask], [y], origin=origin)
        op.role = role
        self.graph.add_op(op)
        return y


# ---------------------------------------------------------------------------------------------------
# handlers: one per Keras layer class
# ---------------------------------------------------------------------------------------------------
def _input(r: KerasReader, n: _Node) -> str:
    layer = n.layer
    if isinstance(layer, _SeqInput):
        shape = layer.shape
    else:
        shape = tuple(layer.get_config()["batch_input_shape"][1:])
    name = r.graph.add_tensor(layer.name, tuple(shape), origin=layer.name)
    return name


def _check_input(layer: Any, n: _Node) -> list[str]:
    if isinstance(layer, _SeqInput):
        shape = layer.shape
    else:
        shape = tuple(layer.get_config()["batch_input_shape"][1:])
    if any(s is None for s in shape):
        return [f"input shape {shape} has an unknown dimension: give the sequence length in the Input shape"]
    return []


def _dense(r: KerasReader, n: _Node) -> str:
    layer = n.layer
    x = r._in(n.inputs[0])
    w = layer.get_weights()
    kernel = np.asarray(w[0], dtype=np.float64)
    bias = np.asarray(w[1], dtype=np.float64) if layer.use_bias else None
    shape = (*r.shape(x)[:-1], kernel.shape[1])
    y = r.new(layer.name, shape, layer.name)
    qt: dict[str, FixedType] = {}
    if type(layer).__name__ == "QDense":
        t, kernel = _qweights(layer.kernel_quantizer_internal, kernel, f"{layer.name}.kernel_quantizer")
        if t is not None:
            qt["weight"] = t
        if bias is not None:
            t, bias = _qweights(layer.bias_quantizer_internal, bias, f"{layer.name}.bias_quantizer")
            if t is not None:
                qt["bias"] = t
    op = Linear(r.graph.unique_name(layer.name), [x], [y], origin=layer.name, kernel=kernel, bias=bias, qtypes=qt)
    r.graph.add_op(op)
    act = layer.get_config().get("activation")
    if type(layer).__name__ == "QDense":
        act = getattr(layer, "activation", None)
        act = None if _act_name(act) == "linear" else layer.get_config().get("activation")
    return r.activation(y, act, layer.name, base=f"{layer.name}_act")


def _check_dense(layer: Any, n: _Node) -> list[str]:
    msgs = []
    act = layer.get_config().get("activation")
    name = act if isinstance(act, str) else None
    if name is not None and name not in _ACT_NAMES and name != "softmax" and "quantized" not in name:
        msgs.append(f"activation {name!r} is not supported")
    return msgs


def _activation(r: KerasReader, n: _Node) -> str:
    layer = n.layer
    x = r._in(n.inputs[0])
    cfg = layer.get_config()
    if type(layer).__name__ == "QActivation":
        return r.activation(x, cfg["activation"], layer.name, base=layer.name)
    act = cfg["activation"]
    y = r.activation(x, act, layer.name, base=layer.name)
    if y == x:  # linear: keep a distinct tensor so the layer name exists in the graph
        y2 = r.new(layer.name, r.shape(x), layer.name)
        r.graph.add_op(Activation(r.graph.unique_name(layer.name), [x], [y2], origin=layer.name, function="linear"))
        return y2
    return y


def _check_activation(layer: Any, n: _Node) -> list[str]:
    act = layer.get_config()["activation"]
    if type(layer).__name__ == "QActivation":
        s = str(act)
        if not (s.startswith("quantized_relu") or s.startswith("quantized_bits") or s in _ACT_NAMES):
            return [f"quantizer {s!r} is not supported as an activation"]
        return []
    name = act if isinstance(act, str) else _act_name(act)
    if name not in _ACT_NAMES and name != "softmax":
        return [f"activation {name!r} is not supported"]
    return []


def _layernorm(r: KerasReader, n: _Node) -> str:
    from ..ir.ops.layernorm import LayerNorm

    layer = n.layer
    x = r._in(n.inputs[0])
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


def _check_layernorm(layer: Any, n: _Node) -> list[str]:
    axis = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    rank = len(layer.input_shape) if hasattr(layer, "input_shape") else None
    if rank is not None and [a % rank for a in axis] != [rank - 1]:
        return [f"normalisation over axis {layer.axis} is not supported (only the last axis)"]
    return []


def _add(r: KerasReader, n: _Node) -> str:
    layer = n.layer
    ins = [r._in(k) for k in n.inputs]
    if type(layer).__name__ == "TFOpLambda":
        other = n.kwargs.get("y")
        ins = [r._in(n.inputs[0]), r._in(other)]
    if len(ins) != 2:
        # a chain of adds for more than two inputs
        acc = ins[0]
        for k, b in enumerate(ins[1:]):
            y = r.new(f"{layer.name}_{k}", r.shape(acc), layer.name)
            r.graph.add_op(Add(r.graph.unique_name(f"{layer.name}_{k}"), [acc, b], [y], origin=layer.name))
            acc = y
        return acc
    a, b = ins
    if r.shape(a) != r.shape(b):
        raise UnsupportedModelError(f"{layer.name}: adding shapes {r.shape(a)} and {r.shape(b)} (no broadcasting)")
    y = r.new(layer.name, r.shape(a), layer.name)
    r.graph.add_op(Add(r.graph.unique_name(layer.name), [a, b], [y], origin=layer.name))
    return y


def _check_tfop(layer: Any, n: _Node) -> list[str]:
    fn = layer.get_config().get("function")
    if fn not in ("__operators__.add", "math.add"):
        return [f"TensorFlow op {fn!r} is not supported (only +)"]
    if not isinstance(n.kwargs.get("y"), str):
        return ["adding a constant is not supported (only tensor + tensor)"]
    return []


def _pool(r: KerasReader, n: _Node) -> str:
    layer = n.layer
    x = r._in(n.inputs[0])
    y = r.new(layer.name, (r.shape(x)[-1],), layer.name)
    r.graph.add_op(GlobalAvgPool(r.graph.unique_name(layer.name), [x], [y], origin=layer.name))
    return y


def _check_pool(layer: Any, n: _Node) -> list[str]:
    cfg = layer.get_config()
    if cfg.get("data_format", "channels_last") != "channels_last":
        return ["only data_format='channels_last' is supported"]
    if cfg.get("keepdims"):
        return ["keepdims=True is not supported"]
    return []


def _reshape(r: KerasReader, n: _Node) -> str:
    layer = n.layer
    x = r._in(n.inputs[0])
    size = int(np.prod(r.shape(x)))
    if type(layer).__name__ == "Flatten":
        shape: tuple[int, ...] = (size,)
    else:
        target = list(layer.get_config()["target_shape"])
        if -1 in target:
            known = int(np.prod([t for t in target if t != -1]))
            target[target.index(-1)] = size // known
        shape = tuple(int(t) for t in target)
        if int(np.prod(shape)) != size:
            raise UnsupportedModelError(f"{layer.name}: cannot reshape {r.shape(x)} to {shape}")
    y = r.new(layer.name, shape, layer.name)
    r.graph.add_op(Reshape(r.graph.unique_name(layer.name), [x], [y], origin=layer.name, out_shape=shape))
    return y


def _identity(r: KerasReader, n: _Node) -> str:
    return r._in(n.inputs[0])


# -- attention --------------------------------------------------------------------------------------
def _mha_check(layer: Any, n: _Node) -> list[str]:
    msgs = []
    axes = getattr(layer, "_attention_axes", None)
    if axes is not None and tuple(axes) != (1,):
        msgs.append(f"attention_axes={tuple(axes)} is not supported (only the default, attention over tokens)")
    if "return_attention_scores" in n.kwargs and n.kwargs["return_attention_scores"]:
        msgs.append("return_attention_scores=True is not supported")
    return msgs


def _mha(r: KerasReader, n: _Node) -> str:
    from ..ir.ops.attention import Context, Mask, Scores

    layer = n.layer
    name = layer.name
    g = r.graph
    q_in = r._in(n.inputs[0])
    v_key = n.kwargs.get("value") if isinstance(n.kwargs.get("value"), str) else None
    rest = n.inputs[1:]
    v_in = r._in(v_key) if v_key else r._in(rest[0])
    k_key = n.kwargs.get("key") if isinstance(n.kwargs.get("key"), str) else None
    if k_key is None and len(rest) > 1:
        k_key = rest[1]
    k_in = r._in(k_key) if k_key else v_in
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
            t, kern2 = _qweights(qs[f"{qprefix}_kernel"], kern2, f"{name}.{qprefix}_kernel_quantizer")
            if t is not None:
                qt["weight"] = t
            if b2 is not None:
                t, b2 = _qweights(qs[f"{qprefix}_bias"], b2, f"{name}.{qprefix}_bias_quantizer")
                if t is not None:
                    qt["bias"] = t
            out_slot = "output" if qprefix == "output" else f"{qprefix}_output"
            t = _qtype(qs[out_slot], f"{name}.{out_slot}_quantizer")
            if t is not None:
                qt[role] = t
        op = Linear(
            g.unique_name(f"{name}_{role}_proj"), [x], [y], origin=name, kernel=kern2, bias=b2, role=role, qtypes=qt
        )
        g.add_op(op)
        return y

    qpart, kpart, vpart = ("query", "key", "value")
    opart = "attention_output" if get("attention_output", "kernel") is not None else "output"
    q = proj(qpart, q_in, H * dk, "query", "query")
    k = proj(kpart, k_in, H * dk, "key", "key")
    v = proj(vpart, v_in, H * dv, "value", "value")

    s = r.new(f"{name}_scores", (H, tq, tk), name)
    sop = Scores(g.unique_name(f"{name}_scores"), [q, k], [s], origin=name, num_heads=H, num_kv_heads=H, key_dim=dk)
    if quant:
        t = _qtype(layer.quantizers["score"], f"{name}.score_quantizer")
        if t is not None:
            sop.qtypes["score"] = t
    g.add_op(sop)

    mask = None
    if causal or mask_key:
        mask = r.new(f"{name}_mask", (tq, tk), name)
        ins = [r._in(mask_key)] if mask_key else []
        g.add_op(Mask(g.unique_name(f"{name}_mask"), ins, [mask], origin=name, causal=causal, offset=0, shape=(tq, tk)))
    p = r.softmax(s, mask, name, f"{name}_probs")
    if quant:
        t = _qtype(layer.quantizers["probability"], f"{name}.probability_quantizer")
        if t is not None:
            g.producer(p).qtypes["probability"] = t

    c = r.new(f"{name}_context", (tq, H * dv), name)
    cop = Context(g.unique_name(f"{name}_context"), [p, v], [c], origin=name, num_heads=H, num_kv_heads=H, value_dim=dv)
    if quant:
        t = _qtype(layer.quantizers["context"], f"{name}.context_quantizer")
        if t is not None:
            cop.qtypes["context"] = t
    g.add_op(cop)
    return proj(opart, c, 0, "result", "output")


_HANDLERS: dict[str, Callable[[KerasReader, _Node], str]] = {
    "InputLayer": _input,
    "_SeqInput": _input,
    "Dense": _dense,
    "QDense": _dense,
    "Activation": _activation,
    "QActivation": _activation,
    "LayerNormalization": _layernorm,
    "Add": _add,
    "TFOpLambda": _add,
    "GlobalAveragePooling1D": _pool,
    "Flatten": _reshape,
    "Reshape": _reshape,
    "Dropout": _identity,
    "MultiHeadAttention": _mha,
    "QMultiHeadAttention": _mha,
}

_CHECKS: dict[str, Callable[[Any, _Node], list[str]]] = {
    "InputLayer": _check_input,
    "_SeqInput": _check_input,
    "Dense": _check_dense,
    "QDense": _check_dense,
    "Activation": _check_activation,
    "QActivation": _check_activation,
    "LayerNormalization": _check_layernorm,
    "TFOpLambda": _check_tfop,
    "GlobalAveragePooling1D": _check_pool,
    "MultiHeadAttention": _mha_check,
    "QMultiHeadAttention": _mha_check,
}

# hlsgen's decoder layers (GroupedQueryAttention, MultiHeadLatentAttention, RotaryEmbedding)
from .decoder import HANDLERS as _DECODER_HANDLERS  # noqa: E402

_HANDLERS.update(_DECODER_HANDLERS)


def read_keras(model: Any) -> Graph:
    """The float IR graph of a Keras model (object or file)."""
    return KerasReader(load_model(model)).read()
