"""ONNX models (opset 17+, e.g. ``torch.onnx.export`` of the modules :mod:`hlsgen.frontend.torch` reads).

The same reading as the PyTorch front end, on ONNX nodes: values computed from initializers and shapes
alone (the ``Shape -> Slice -> Concat`` chains an export writes for reshapes) are evaluated with the
``onnx`` package's reference evaluator; values that depend on a graph input are element-id tensors, and
shape ops (Transpose, Reshape, Slice, Gather, Split, Squeeze, Unsqueeze, Concat, Expand, Flatten) run on
the ids through the same evaluator. Compute nodes go through the PyTorch front end's handlers: MatMul,
Gemm, Add (a bias after a MatMul folds into its linear), Mul/Div by constants (the attention scale),
Softmax, LayerNormalization, ReduceMean, Relu/Tanh/Sigmoid, GELU written as ``x * (1 + erf(x / sqrt 2))
/ 2`` and SiLU as ``x * sigmoid(x)``, Where with a constant mask on attention scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..ir.graph import Graph, c_identifier
from ..ir.ops import Linear
from . import torch as tf_
from .errors import UnsupportedModelError
from .torch import PendingScores, Sym, TorchReader, _Where

#: ops evaluated on element ids exactly as on values
_SHAPE_OPS = {
    "Transpose", "Reshape", "Slice", "Gather", "Split", "Squeeze", "Unsqueeze", "Concat", "Expand",
    "Flatten", "Identity", "Dropout", "Cast", "Tile",
}  # fmt: skip
_COMPUTE = {
    "MatMul", "Gemm", "Add", "Mul", "Div", "Softmax", "LayerNormalization", "ReduceMean", "Relu", "Tanh",
    "Sigmoid", "Erf", "Where", "Shape", "Gelu",
}  # fmt: skip


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

    def read(self) -> Graph:
        import onnx
        from onnx import numpy_helper

        tf_._tables()
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
                if n.domain not in ("", "ai.onnx"):
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
            if not any(isinstance(v, (Sym, PendingScores, _Erf, _Sigmoid, _Gelu2)) for v in ins):
                outs = self._evaluate(n, ins)
            elif n.op_type in _SHAPE_OPS and n.op_type != "Cast":
                outs = self._on_ids(n, ins)
            else:
                outs = [self._compute(n, ins)]
            for name, v in zip(n.output, outs, strict=False):
                if name:
                    self.env[name] = v
        self.graph.outputs = [self._output(self._settle(self.env[o.name]), o.name) for o in g.output]
        tf_._prune(self.graph)
        return self.graph

    def _where(self, n: Any) -> _Where:
        parts = [p for p in (n.name or "").split("/") if p]
        path = ".".join(parts[:-1])
        return _Where(path, n.op_type)

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
            for x, y in ((a, b), (b, a)):
                if isinstance(x, Sym) and isinstance(y, np.ndarray) and np.any(y):
                    folded = self._fold_bias(x, y)
                    if folded is not None:
                        return folded
            return tf_._add(self, _torch_arg(a), _torch_arg(b))
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
            return tf_._mul(self, _torch_arg(self._settle(a)), _torch_arg(self._settle(b)))
        if op == "Div":
            return tf_._div(self, _torch_arg(self._settle(a)), _torch_arg(self._settle(b)))
        a = self._settle(a)
        if op == "MatMul":
            return tf_._matmul(self, _torch_arg(a), _torch_arg(self._settle(b)))
        if op == "Gemm":
            if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                raise self.fail("Gemm with transA, alpha or beta (only x @ W + b)")
            w = _torch(b if attrs.get("transB", 0) else np.asarray(b).T)
            if id(b) in self.params:
                self.params[id(w)] = self.params[id(b)]
            c = ins[2] if len(ins) > 2 else None
            return tf_._linear(self, a, w, None if c is None else _torch(c))
        if op == "Softmax":
            return tf_._softmax(self, a, attrs.get("axis", -1))
        if op == "LayerNormalization":
            d = int(np.shape(ins[1])[0])
            if attrs.get("axis", -1) not in (-1, len(a.ids.shape) - 1):
                raise self.fail(f"layer normalisation over axis {attrs.get('axis')} (only the last)")
            w, bias = _torch(ins[1]), _torch(ins[2]) if len(ins) > 2 and ins[2] is not None else None
            if id(ins[1]) in self.params:
                self.params[id(w)] = self.params[id(ins[1])]
            return tf_._layer_norm(self, a, [d], w, bias, attrs.get("epsilon", 1e-5))
        if op == "ReduceMean":
            axes = attrs.get("axes")
            if axes is None and len(ins) > 1 and ins[1] is not None:
                axes = [int(v) for v in np.asarray(ins[1]).ravel()]
            return tf_._mean(self, a, list(axes), bool(attrs.get("keepdims", 1)))
        if op == "Where":
            cond, yes, no = ins[0], ins[1], ins[2]
            if isinstance(no, PendingScores) and isinstance(cond, np.ndarray) and _is_const(yes, -math.inf):
                return tf_._masked_fill(self, no, _torch(cond), -math.inf)
            raise self.fail("Where other than a constant mask on attention scores")
        raise self.fail(f"op {op} is not supported here")

    def _fold_bias(self, x: Sym, bias: np.ndarray) -> Sym | None:
        """``x + bias`` where ``x`` is a bias-free linear's output: the same linear with the bias."""
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
        self.graph.add_op(
            Linear(name, list(op.inputs), [y], origin=op.origin, kernel=op.kernel,
                   bias=bias.astype(np.float64), role=op.role)
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
