"""ONNX models (opset 17+, e.g. ``torch.onnx.export`` of the modules :mod:`hlsgen.frontend.torch` reads).

The same reading as the PyTorch front end, on ONNX nodes: values computed from initializers and shapes
alone (the ``Shape -> Slice -> Concat`` chains an export writes for reshapes) are evaluated with the
``onnx`` package's reference evaluator; values that depend on a graph input are element-id tensors, and
shape ops (Transpose, Reshape, Slice, Gather, Split, Squeeze, Unsqueeze, Concat, Expand, Flatten) run on
the ids through the same evaluator. Compute nodes go through the PyTorch front end's handlers: MatMul,
Gemm, Add (a bias after a MatMul folds into its linear), Mul/Div by constants (the attention scale),
Softmax, LayerNormalization, ReduceMean, Relu/Tanh/Sigmoid, GELU written as ``x * (1 + erf(x / sqrt 2))
/ 2`` and SiLU as ``x * sigmoid(x)``, Where with a constant mask on attention scores. QONNX quantizer
nodes (``Quant``, ``Trunc``, ``BipolarQuant``; :mod:`hlsgen.frontend.qonnx`) are casts on the model's
values and are evaluated on constants; a quantized weight keeps its exact type through the ``Transpose`` an
export writes before the MatMul.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..fixed import quantize
from ..ir.graph import Graph, c_identifier
from ..ir.ops import Activation, Linear
from . import qonnx
from .errors import UnsupportedModelError
from .torch import PendingScores, Sym, TorchReader, Where, attention, compute, exact_type, masks
from .torch.handlers import tables
from .torch.reader import prune

#: ops evaluated on element ids exactly as on values
_SHAPE_OPS = {
    "Transpose", "Reshape", "Slice", "Gather", "Split", "Squeeze", "Unsqueeze", "Concat", "Expand",
    "Flatten", "Identity", "Dropout", "Cast", "Tile",
}  # fmt: skip
_COMPUTE = {
    "MatMul", "Gemm", "Add", "Mul", "Div", "Softmax", "LayerNormalization", "ReduceMean", "Relu", "Tanh",
    "Sigmoid", "Erf", "Where", "Shape", "Gelu",
}  # fmt: skip
#: constant ops through which a quantized weight stays exactly the quantizer's values
_KEEPS_VALUES = {"Transpose", "Reshape", "Identity", "Unsqueeze", "Squeeze", "Flatten"}


@dataclass
class _Erf:
    """``erf(x / sqrt 2)`` on the way to a GELU (``one`` once 1 is added)."""

    x: Sym
    one: bool = False


@dataclass
class _Sigmoid:
    """``sigmoid(x)`` not yet used: an activation, or SiLU when multiplied by ``x``."""

    x: Sym
    value: Sym | None = None


@dataclass
class _Gelu2:
    """``x * (1 + erf(x / sqrt 2))``: twice the GELU."""

    x: Sym


def _torch(v: Any) -> Any:
    import torch

    return torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v


class OnnxReader(TorchReader):
    """Builds the IR graph of one ONNX model."""

    def __init__(self, model: Any, name: str, batch_dim: int = 0) -> None:
        super().__init__(None, name, batch_dim)
        self.model = model
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self._qconst: dict[str, str] = {}  # value name -> the QONNX quantizer node that made it (constants)

    def read(self) -> Graph:
        import onnx
        from onnx import numpy_helper

        tables()
        g = self.model.graph
        if self.opset < 17:
            raise UnsupportedModelError(
                f"model {self.name}: opset {self.opset}, hlsgen reads opset 17 and newer"
            )
        for init in g.initializer:
            self.env[init.name] = numpy_helper.to_array(init)
            self.params[id(self.env[init.name])] = init.name
        inits = {i.name for i in g.initializer}
        problems = []
        dyn: set[str] = set()
        for vi in g.input:
            if vi.name in inits:
                continue
            dyn.add(vi.name)
            if vi.type.tensor_type.elem_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
                problems.append(f"input {vi.name}: only float inputs are supported yet")
        for n in g.node:
            if any(i in dyn for i in n.input if i) and n.op_type != "Shape":  # shapes are static
                dyn.update(o for o in n.output if o)
                if qonnx.is_quantizer(n.domain, n.op_type):
                    why = self._precheck(n)
                    if why:
                        problems.append(why)
                elif n.domain not in ("", "ai.onnx"):
                    problems.append(f"{self._where(n)}: op {n.domain}.{n.op_type} is not supported")
                elif n.op_type not in _SHAPE_OPS and n.op_type not in _COMPUTE:
                    problems.append(f"{self._where(n)}: op {n.op_type} is not supported")
        if problems:
            raise UnsupportedModelError(
                f"model {self.name} cannot be converted; {len(problems)} unsupported op(s):\n  "
                + "\n  ".join(problems)
            )
        for vi in g.input:
            if vi.name not in inits:
                self.env[vi.name] = self._onnx_input(vi)
        for n in g.node:
            self.where = self._where(n)
            ins = [self.env[i] if i else None for i in n.input]
            if qonnx.is_quantizer(n.domain, n.op_type):
                outs = [self._quantizer(n, ins)]
            elif not any(isinstance(v, (Sym, PendingScores, _Erf, _Sigmoid, _Gelu2)) for v in ins):
                outs = self._evaluate(n, ins)
                if n.op_type in _KEEPS_VALUES and n.input and n.input[0] in self._qconst:
                    self._qconst.update({o: self._qconst[n.input[0]] for o in n.output if o})
            elif n.op_type in _SHAPE_OPS and n.op_type != "Cast":
                outs = self._on_ids(n, ins)
            else:
                outs = [self._compute(n, ins)]
            for name, v in zip(n.output, outs, strict=False):
                if name:
                    self.env[name] = v
        self.graph.outputs = [self._output(self._settle(self.env[o.name]), o.name) for o in g.output]
        prune(self.graph)
        return self.graph

    # -- QONNX quantizers ----------------------------------------------------------------------------
    def _quant_params(self, n: Any, params: list[Any]) -> tuple[str, qonnx.QuantAttrs, list[Any]]:
        """The node's name for errors, its attributes and its parameter inputs (constants, checked)."""
        where = f"{n.op_type} node {n.name or n.output[0]!r}"
        attrs = {a.name: _attr(a) for a in n.attribute}
        mode = attrs.get("rounding_mode", "FLOOR" if n.op_type == "Trunc" else "ROUND")
        qa = qonnx.QuantAttrs(
            bool(attrs.get("signed", 1)),
            bool(attrs.get("narrow", 0)),
            mode.decode() if isinstance(mode, bytes) else str(mode),
        )
        if any(not isinstance(p, np.ndarray) for p in params):
            raise UnsupportedModelError(
                f"{where}: its scale, zero point or bit width is computed from the model's input (only "
                "constants: a quantizer with fixed parameters)"
            )
        if n.op_type == "Trunc":
            if len(params) == 6:  # qonnx's newest form: an output zero point before the output bit width
                if np.any(params[4] != 0):
                    raise UnsupportedModelError(f"{where}: output zero point {params[4]} is not 0")
                params = params[:4] + params[5:]
            if len(params) != 5:
                raise UnsupportedModelError(
                    f"{where}: a Trunc with {len(params) + 1} inputs (QONNX opset 1); hlsgen reads opset 2 "
                    "(x, scale, zeropt, in_bitwidth, out_scale, [out_zeropt,] out_bitwidth)"
                )
        return where, qa, params

    def _cast_types(
        self, n: Any, where: str, qa: qonnx.QuantAttrs, params: list[Any], value_scale: float
    ) -> Any:
        """The type(s) a quantizer node on the model's values casts to (two for a Trunc)."""
        if n.op_type == "BipolarQuant":
            raise UnsupportedModelError(
                f"{where}: a bipolar quantizer on activations is a sign function, which hlsgen has no op for "
                "(on weights it is evaluated exactly); use an integer quantizer of 2 or more bits"
            )
        if n.op_type == "Trunc":
            return qonnx.trunc_types(*params, qa, where)
        return qonnx.quant_type(*params[:3], qa, where, value_scale=value_scale)

    def _precheck(self, n: Any) -> str | None:
        """Why a quantizer node on the model's values cannot convert (None: it can, or its parameters are
        not initializers and are checked when it is read), so that every refused node is listed at once."""
        params = [self.env.get(i) for i in n.input[1:]]
        if any(p is None for p in params):
            return None
        try:
            where, qa, params = self._quant_params(n, params)
            self._cast_types(n, where, qa, params, 1.0)
        except UnsupportedModelError as e:
            return str(e)
        return None

    def _quantizer(self, n: Any, ins: list[Any]) -> Any:
        """A QONNX ``Quant`` / ``BipolarQuant`` / ``Trunc`` node: evaluated on a constant, a cast on the
        model's values (:mod:`hlsgen.frontend.qonnx`); refused naming the node where it is not exact."""
        x = ins[0]
        where, qa, params = self._quant_params(n, ins[1:])
        if isinstance(x, np.ndarray):  # a weight or bias: the quantizer's values, computed now
            if n.op_type == "BipolarQuant":
                v = qonnx.evaluate_bipolar(x, params[0])
            elif n.op_type == "Trunc":
                t_in, t_out = qonnx.trunc_types(*params, qa, where)
                v = quantize(quantize(np.asarray(x, np.float64), t_in), t_out).astype(x.dtype)
            else:
                v = qonnx.evaluate_quant(x, *params[:3], qa, where)
            self._qconst.update({o: where for o in n.output if o})
            return v
        x = self._settle(x)
        name = self._quant_name(n)
        value_scale = x.scale if isinstance(x, Sym) else 1.0
        t = self._cast_types(n, where, qa, params, value_scale)
        if n.op_type == "Trunc":
            if not isinstance(x, Sym):
                raise UnsupportedModelError(f"{where}: a Trunc of attention scores")
            return self._cast(self._cast(x, t[0], where, f"{name}_grid"), t[1], where, name)
        return self._cast(x, t, where, name)

    @staticmethod
    def _quant_name(n: Any) -> str:
        skip = {"export_handler", "act_quant", n.op_type}
        parts = [p for p in (n.name or "").split("/") if p and p not in skip]
        base = "_".join(parts) or "quant"
        return c_identifier(base if base.endswith("quant") else f"{base}_quant")

    def _cast(self, x: Any, t: Any, where: str, name: str) -> Any:
        """``x`` cast to ``t``: the type of a score op (a quantizer in front of the softmax), else an
        Activation ``linear`` (a cast) over the tensor ``x`` reads, ``x``'s scale kept."""
        if isinstance(x, PendingScores):
            if x.qtype is not None:
                raise UnsupportedModelError(f"{where}: a second quantizer on the same attention scores")
            if x.attend is not None and not np.all(x.attend):
                raise UnsupportedModelError(
                    f"{where}: a quantizer on masked attention scores (Brevitas softmax_input_quant with a "
                    "mask) clamps the mask's -inf to the type's minimum, so masked keys keep a nonzero "
                    "weight that hlsgen's mask does not give; drop softmax_input_quant or the mask"
                )
            return replace(x, qtype=t)
        if not isinstance(x, Sym):
            raise UnsupportedModelError(f"{where}: a quantizer on a value hlsgen cannot cast here")
        x2 = self._own_columns(x)
        src = self._single(self.dec(x2.ids)[0])

        def make(nm: str, s: str, y: str) -> Any:
            op = Activation(nm, [s], [y], origin=self.origin(), function="linear")
            op.qtypes["result"] = t
            return op

        out = self.unary(Sym(x2.ids), make, "quant", name)
        if src in self._probs:  # quantized probabilities are still the probabilities
            self._probs.add(self._single(self.dec(out.ids)[0]))
        return Sym(out.ids, x.scale)

    def _own_columns(self, x: Sym) -> Sym:
        """``x`` read from a column block of a linear layer's output (q, k or v of a packed projection):
        the same values from that block split off as its own Linear, so that a cast covers the block only."""
        t, b, f = self.dec(x.ids)
        src = self._single(t)
        shp = self.shape(src)
        if len(shp) != 2 or not isinstance(self.graph.producer(src), Linear):
            return x
        col, row = f % shp[1], f // shp[1]
        c0, c1 = int(col.min()), int(col.max()) + 1
        if (c0, c1) == (0, shp[1]) or np.unique(col).size != c1 - c0:
            return x
        name = self.columns(src, c0, c1 - c0)
        return Sym(self.enc(self._index(name), b, row * (c1 - c0) + col - c0), x.scale)

    def _where(self, n: Any) -> Where:
        parts = [p for p in (n.name or "").split("/") if p]
        path = ".".join(parts[:-1])
        return Where(path, n.op_type)

    def _onnx_input(self, vi: Any) -> Sym:
        import torch

        dims = [d.dim_value if d.HasField("dim_value") else 0 for d in vi.type.tensor_type.shape.dim]
        if any(d <= 0 for d in dims):
            raise UnsupportedModelError(
                f"input {vi.name}: shape {dims} has a symbolic dimension: export with a fixed batch and length"
            )
        bd = self.batch_dim
        per = tuple(dims[:bd] + dims[bd + 1 :])
        _, tix = self._tensor(vi.name, per, vi.name)
        self.graph.inputs.append(self.tix[tix])
        size = int(np.prod(per))
        ids = self.enc(tix, np.arange(dims[bd])[:, None], np.arange(size)[None, :]).reshape(dims[bd], *per)
        return Sym(torch.movedim(ids, 0, bd))

    def _run(self, n: Any, ins: list[Any]) -> list[Any]:
        from onnx.reference import ReferenceEvaluator

        feeds = {name: np.asarray(v) for name, v in zip(n.input, ins, strict=True) if name}
        ev = ReferenceEvaluator(n, opsets={"": self.opset})
        return list(ev.run(None, feeds))

    def _evaluate(self, n: Any, ins: list[Any]) -> list[Any]:
        if n.domain not in ("", "ai.onnx"):
            raise UnsupportedModelError(
                f"{n.domain}.{n.op_type} node {n.name!r}: not supported (of the custom ops, hlsgen maps QONNX "
                "Quant / IntQuant, Trunc and BipolarQuant)"
            )
        if n.op_type == "Shape":
            return [np.asarray(np.shape(ins[0]), dtype=np.int64)]
        return self._run(n, [v.ids.numpy() if isinstance(v, Sym) else v for v in ins])

    def _on_ids(self, n: Any, ins: list[Any]) -> list[Any]:
        syms = [v for v in ins if isinstance(v, Sym)]
        if any(not isinstance(v, (Sym, np.ndarray, type(None))) for v in ins):
            raise self.fail(f"{n.op_type} of attention scores before their softmax")
        scale = {s.scale for s in syms}
        if len(scale) > 1:
            raise self.fail("joining values scaled differently")
        if n.op_type == "Concat" and len(syms) != len(ins):
            raise self.fail(
                "concatenating the model's values with constants (class tokens) is not supported yet"
            )
        s = scale.pop()
        outs = self._run(n, [v.ids.numpy() if isinstance(v, Sym) else v for v in ins])
        return [Sym(_torch(o.astype(np.int64)), s) for o in outs]

    def _settle(self, v: Any) -> Any:
        """A pending sigmoid used as a value: the sigmoid activation."""
        if isinstance(v, _Sigmoid):
            if v.value is None:
                v.value = self.activation(v.x, "sigmoid")
            return v.value
        if isinstance(v, (_Erf, _Gelu2)):
            raise self.fail("erf outside the GELU pattern x * (1 + erf(x / sqrt 2)) / 2")
        return v

    def _compute(self, n: Any, ins: list[Any]) -> Any:
        op = n.op_type
        attrs = {a.name: _attr(a) for a in n.attribute}
        if op == "Shape":
            return np.asarray(ins[0].ids.shape, dtype=np.int64)
        if op == "Cast":
            return ins[0]
        if op == "Erf":
            x = ins[0]
            if not isinstance(x, Sym) or not math.isclose(x.scale, 1 / math.sqrt(2), rel_tol=1e-5):
                raise self.fail("erf outside the GELU pattern x * (1 + erf(x / sqrt 2)) / 2")
            return _Erf(Sym(x.ids))
        if op == "Sigmoid":
            return _Sigmoid(ins[0])
        if op in ("Relu", "Tanh"):
            return self.activation(self._settle(ins[0]), op.lower())
        a, b = (ins + [None, None])[:2]
        if op == "Add":
            for x, y in ((a, b), (b, a)):
                if isinstance(x, _Erf) and not x.one and _is_const(y, 1.0):
                    return _Erf(x.x, one=True)
            a, b = self._settle(a), self._settle(b)
            for x, y, yname in ((a, b, n.input[1]), (b, a, n.input[0])):
                if isinstance(x, Sym) and isinstance(y, np.ndarray) and np.any(y):
                    folded = self._fold_bias(x, y, self._qconst.get(yname, ""))
                    if folded is not None:
                        return folded
            return compute.add(self, _torch_arg(a), _torch_arg(b))
        if op == "Mul":
            for x, y in ((a, b), (b, a)):
                if isinstance(x, _Erf) and x.one and isinstance(y, Sym) and torch_equal(y.ids, x.x.ids):
                    return _Gelu2(x.x)
                if isinstance(x, _Gelu2) and _is_const(y, 0.5):
                    return self.activation(x.x, "gelu")
                if (
                    isinstance(x, _Sigmoid)
                    and isinstance(y, Sym)
                    and torch_equal(y.ids, x.x.ids)
                    and y.scale == 1
                ):
                    return self.activation(x.x, "swish")
            return compute.mul(self, _torch_arg(self._settle(a)), _torch_arg(self._settle(b)))
        if op == "Div":
            return compute.div(self, _torch_arg(self._settle(a)), _torch_arg(self._settle(b)))
        a = self._settle(a)
        self.weight_quantizer = self._qconst.get(n.input[1], "") if len(n.input) > 1 else ""
        self.bias_quantizer = self._qconst.get(n.input[2], "") if len(n.input) > 2 else ""
        if op == "MatMul":
            return attention.matmul(self, _torch_arg(a), _torch_arg(self._settle(b)))
        if op == "Gemm":
            if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                raise self.fail("Gemm with transA, alpha or beta (only x @ W + b)")
            w = _torch(b if attrs.get("transB", 0) else np.asarray(b).T)
            if id(b) in self.params:
                self.params[id(w)] = self.params[id(b)]
            c = ins[2] if len(ins) > 2 else None
            return compute.linear(self, a, w, None if c is None else _torch(c))
        if op == "Softmax":
            return attention.softmax(self, a, attrs.get("axis", -1))
        if op == "LayerNormalization":
            d = int(np.shape(ins[1])[0])
            if attrs.get("axis", -1) not in (-1, len(a.ids.shape) - 1):
                raise self.fail(f"layer normalisation over axis {attrs.get('axis')} (only the last)")
            w, bias = _torch(ins[1]), _torch(ins[2]) if len(ins) > 2 and ins[2] is not None else None
            if id(ins[1]) in self.params:
                self.params[id(w)] = self.params[id(ins[1])]
            return compute.layer_norm(self, a, [d], w, bias, attrs.get("epsilon", 1e-5))
        if op == "ReduceMean":
            axes = attrs.get("axes")
            if axes is None and len(ins) > 1 and ins[1] is not None:
                axes = [int(v) for v in np.asarray(ins[1]).ravel()]
            return compute.mean(self, a, list(axes), bool(attrs.get("keepdims", 1)))
        if op == "Where":
            cond, yes, no = ins[0], ins[1], ins[2]
            if isinstance(no, PendingScores) and isinstance(cond, np.ndarray) and _is_const(yes, -math.inf):
                return masks.masked_fill(self, no, _torch(cond), -math.inf)
            raise self.fail("Where other than a constant mask on attention scores")
        raise self.fail(f"op {op} is not supported here")

    def _fold_bias(self, x: Sym, bias: np.ndarray, quantizer: str = "") -> Sym | None:
        """``x + bias`` where ``x`` is a bias-free linear's output: the same linear with the bias (typed
        exactly when a QONNX quantizer made it)."""
        t, b, f = self.dec(x.ids)
        if x.scale != 1.0 or np.unique(t).size != 1:
            return None
        src = self.tix[int(t.ravel()[0])]
        op = self.graph.producer(src)
        n = self.shape(src)[-1]
        if not isinstance(op, Linear) or op.bias is not None or bias.shape not in ((n,),):
            return None
        _, _, row = self.rows(x)
        y, tix = self._tensor(f"{op.name}_b", self.shape(src), op.origin)
        name, op.name = op.name, self.graph.unique_name(f"{op.name}_nobias")  # the bias-free one is pruned
        qt = dict(op.qtypes)
        if quantizer:
            qt["bias"] = exact_type(bias, f"{quantizer}: bias")
        self.graph.add_op(
            Linear(name, list(op.inputs), [y], origin=op.origin, kernel=op.kernel,
                   bias=bias.astype(np.float64), role=op.role, qtypes=qt)
        )  # fmt: skip
        return Sym(self.enc(tix, b, f))


def torch_equal(a: Any, b: Any) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


def _is_const(v: Any, value: float) -> bool:
    return isinstance(v, np.ndarray) and v.size == 1 and float(v.ravel()[0]) == value


def _torch_arg(v: Any) -> Any:
    return _torch(v) if isinstance(v, np.ndarray) else v


def _attr(a: Any) -> Any:
    from onnx import helper

    return helper.get_attribute_value(a)


def read_onnx(model: Any, batch_dim: int = 0) -> Graph:
    """The float IR graph of an ONNX model (a ``.onnx`` path or a ``ModelProto``)."""
    import onnx

    name = "model"
    if isinstance(model, (str, Path)):
        p = Path(model)
        if not p.is_file():
            raise FileNotFoundError(f"model file {p} does not exist")
        try:
            model = onnx.load(str(p))
        except Exception as e:
            raise ValueError(f"cannot read ONNX model {p}: {type(e).__name__}: {e}") from None
        name = p.stem
    elif not isinstance(model, onnx.ModelProto):
        raise ValueError(f"expected an ONNX ModelProto or a .onnx path, not {type(model).__name__}")
    return OnnxReader(model, c_identifier(name), batch_dim).read()
