"""The :class:`TorchReader`: walks one ``torch.export`` program's ATen graph once. Values computed from
parameters and buffers alone are evaluated; values that depend on a model input are followed as element
ids (:class:`~.values.Sym`). It holds what every handler builds on: encoding and decoding ids, the
layouts read off them (whole rows, a whole tensor, heads of a projection, column blocks of a packed
projection), constants, element-wise ops and linears; the attention primitives come from
:class:`~.attention.AttentionBuilder`, which it inherits. Each call is dispatched to the shape ops
(:mod:`.shapes`) or the handler table (:mod:`.handlers`)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ...ir.graph import Graph, c_identifier
from ...ir.ops import Activation, BinaryKind, Constant, Linear, Reshape, Slice
from ..errors import UnsupportedModelError
from .attention import AttentionBuilder
from .common import Where, aten, f64, locate
from .compute import const_binary
from .handlers import HANDLERS, SHAPE_OPS, tables
from .quant import exact_type
from .shapes import shape_op
from .values import B_SHIFT, MASK_B, MASK_F, T_SHIFT, ConstMul, Heads, Sym

#: the suffixes of the three column blocks of a packed q/k/v projection
_PACKED = ("query", "key", "value")


class TorchReader(AttentionBuilder):
    """Builds the IR graph of one ``torch.export`` program."""

    def __init__(self, program: Any, name: str = "model", batch_dim: int = 0) -> None:
        self.ep = program
        self.name = name
        self.batch_dim = batch_dim
        self.graph = Graph(c_identifier(name))
        self.tix: list[str] = []  # tensor index -> IR tensor name
        self.env: dict[str, Any] = {}
        self._columns: dict[tuple[str, int, int], str] = {}
        self._probs: set[str] = set()
        self.where = Where("", name)
        self.params: dict[int, str] = {}  # id of a parameter tensor -> its name in the module
        #: the quantizer (a QONNX node) that made the next linear layer's weight / bias: typed exactly
        self.weight_quantizer = ""
        self.bias_quantizer = ""

    # -- ids ----------------------------------------------------------------------------------------
    def _tensor(self, base: str, shape: tuple[int, ...], origin: str) -> tuple[str, int]:
        name = self.graph.add_tensor(base, shape, origin)
        self.tix.append(name)
        return name, len(self.tix) - 1

    def _index(self, name: str) -> int:
        return self.tix.index(name)

    @staticmethod
    def enc(tix: int, b: Any, flat: Any) -> Any:
        import torch

        ids = (np.int64(tix) << T_SHIFT) | (np.asarray(b, np.int64) << B_SHIFT) | np.asarray(flat, np.int64)
        return torch.from_numpy(np.ascontiguousarray(ids))

    @staticmethod
    def dec(ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = ids.numpy() if hasattr(ids, "numpy") else np.asarray(ids)
        if np.any(a < 0):  # a negated element (~id): only rotate_half of a rotary embedding reads it
            raise UnsupportedModelError(
                "a negated value (-x) outside a rotary position embedding is not supported"
            )
        return a >> T_SHIFT, (a >> B_SHIFT) & MASK_B, a & MASK_F

    def fail(self, msg: str) -> UnsupportedModelError:
        return UnsupportedModelError(f"{self.where}: {msg}")

    def _single(self, tix: np.ndarray) -> str:
        u = np.unique(tix)
        if u.size != 1:
            raise self.fail(
                "an op reads several tensors joined together (concatenation is not supported yet)"
            )
        return self.tix[int(u[0])]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    def origin(self) -> str:
        return self.where.path or self.name

    def named(self, weight: Any) -> str:
        """An op's base name: its weight's name in the module without ``.weight`` (``mha.out_proj``), else
        the module path."""
        fqn = self.params.get(id(weight))
        if fqn is None:
            return self.base()
        return c_identifier(fqn.removesuffix(".weight").removesuffix("_weight"))

    def base(self, suffix: str = "") -> str:
        b = c_identifier(self.where.path) if self.where.path else self.name
        return f"{b}_{suffix}" if suffix else b

    # -- layouts ------------------------------------------------------------------------------------
    def rows(self, x: Sym, what: str = "input") -> tuple[str, np.ndarray, np.ndarray]:
        """The IR tensor ``[..., n]`` whose whole rows the last axis of ``x`` reads; the sample and row
        index of every leading position."""
        if x.scale != 1.0:
            raise self.fail(f"the {what} is scaled by a constant ({x.scale:g}): only attention scores can be")
        ids = x.ids.numpy()
        n = ids.shape[-1]
        t, b, f = self.dec(ids)
        name = self._single(t)
        if self.shape(name)[-1] != n or np.any(f[..., :1] % n) or np.any(f - f[..., :1] != np.arange(n)):
            raise self.fail(
                f"the {what} {tuple(ids.shape)} is not whole rows of a tensor: slicing features is not supported"
            )
        b, row = b[..., 0], f[..., 0] // n
        shp = self.shape(name)
        if len(shp) == 2 and row.size and (row.min() > 0 or row.max() < shp[0] - 1):
            r0, r1 = int(row.min()), int(row.max()) + 1  # token selection (x[:, 0]): slice the rows read
            y, _ = self._tensor(
                f"{name}_rows", (shp[1],) if r1 - r0 == 1 else (r1 - r0, shp[1]), self.origin()
            )
            self.graph.add_op(
                Slice(self.graph.unique_name(self.base("slice")), [name], [y], origin=self.origin(), axis=0,
                      start=r0, stop=r1, squeeze=r1 - r0 == 1)
            )  # fmt: skip
            return y, b, row - r0
        return name, b, row

    def whole(self, x: Sym, what: str = "input") -> str:
        """The IR tensor ``x`` is, in its natural layout (batch on ``batch_dim``); reshaped when ``x``'s
        per-sample shape differs."""
        import torch

        if x.scale != 1.0:
            raise self.fail(f"the {what} is scaled by a constant ({x.scale:g})")
        ids = torch.movedim(x.ids, self.batch_dim, 0)
        t, b, f = self.dec(ids)
        src = self._single(t)
        n, per = ids.shape[0], tuple(ids.shape[1:])
        size = int(np.prod(per))
        ok = (
            int(np.prod(self.shape(src))) == size
            and np.all(b.reshape(n, -1) == np.arange(n)[:, None])
            and np.array_equal(f.reshape(n, -1), np.broadcast_to(np.arange(size), (n, size)))
        )
        if not ok:
            raise self.fail(
                f"the {what} {tuple(x.ids.shape)} is a part or a reordering of {src} {self.shape(src)}"
            )
        if per == self.shape(src):
            return src
        y, _ = self._tensor(f"{src}_reshaped", per, self.origin())
        self.graph.add_op(
            Reshape(
                self.graph.unique_name(self.base("reshape")), [src], [y], origin=self.origin(), out_shape=per
            )
        )
        return y

    def natural(self, name: str, batch: int) -> Sym:
        """Element ids of the whole IR tensor ``name`` in its natural layout, batch on ``batch_dim``."""
        import torch

        per = self.shape(name)
        size = int(np.prod(per))
        ids = self.enc(self._index(name), np.arange(batch)[:, None], np.arange(size)[None, :])
        return Sym(torch.movedim(ids.reshape(batch, *per), 0, self.batch_dim))

    def constant(self, c: Any, batch: int) -> Sym:
        """A constant with the batch on ``batch_dim`` (the same for every sample) as a Constant op."""
        a = f64(c)
        if a.ndim == 0 or a.shape[self.batch_dim] not in (1, batch):
            raise self.fail(f"a constant of shape {a.shape} joined to the model's values along the batch")
        a = np.moveaxis(a, self.batch_dim, 0)
        if np.any(a != a[:1]):
            raise self.fail("a constant that differs between samples")
        y, _ = self._tensor(self.base("const"), a.shape[1:], self.origin())
        self.graph.add_op(
            Constant(self.graph.unique_name(self.base("const")), [], [y], origin=self.origin(), value=a[0])
        )
        return self.natural(y, batch)

    def heads(self, x: Sym, d: int, what: str) -> Heads:
        """``x [..., T, d]`` as per-head rows of a 2-D projection ``[T, H*d]`` (a column block of a packed
        projection split off into its own :class:`Linear`)."""
        ids = x.ids.numpy()
        t, b, f = self.dec(ids)
        name = self._single(t)
        shp = self.shape(name)
        if len(shp) != 2:
            raise self.fail(
                f"the attention {what} comes from a tensor of shape {shp}, not [tokens, features]"
            )
        rows, width = shp
        row, col = f[..., 0] // width, f[..., 0] % width
        ok = (
            ids.shape[-2] == rows
            and np.all(f - f[..., :1] == np.arange(d))
            and np.all(row == np.arange(rows))
            and np.all(col == col[..., :1])
            and np.all(b == b[..., :1, :1])
        )
        if not ok or np.any(col % d):
            raise self.fail(f"cannot read the attention {what} {tuple(ids.shape)} as heads of {d} features")
        col, b = col[..., 0], b[..., 0, 0]
        c0, c1 = int(col.min()), int(col.max()) + d
        if (c0, c1) != (0, width):
            name = self.columns(name, c0, c1 - c0)
            col = col - c0
        return Heads(name, d, (c1 - c0) // d, rows, b, col // d)

    def columns(self, name: str, c0: int, n: int) -> str:
        """Columns ``c0 : c0+n`` of a :class:`Linear`'s output as a Linear of their own (a packed q/k/v
        projection split into three, as the Keras reader builds them)."""
        key = (name, c0, n)
        if key in self._columns:
            return self._columns[key]
        op = self.graph.producer(name)
        if not isinstance(op, Linear):
            raise self.fail(
                f"attention reads columns {c0}..{c0 + n - 1} of {name}, which no linear layer makes"
            )
        width = op.n_out
        role = _PACKED[c0 // n] if width == 3 * n and c0 % n == 0 else "result"
        suffix = role if role != "result" else f"cols{c0}"
        y, _ = self._tensor(f"{op.origin}_{suffix}", (*self.shape(name)[:-1], n), op.origin)
        bias = None if op.bias is None else op.bias[c0 : c0 + n]
        lin = Linear(
            self.graph.unique_name(f"{op.name}_{suffix}"),
            list(op.inputs),
            [y],
            origin=op.origin,
            kernel=op.kernel[:, c0 : c0 + n],
            bias=bias,
            role=role,
            qtypes=dict(op.qtypes),
        )
        at = self.graph.ops.index(op) + 1
        while at < len(self.graph.ops) and self.graph.ops[at].name.startswith(f"{op.name}_"):
            at += 1  # after the blocks already split off (query, key, value in order)
        self.graph.ops.insert(at, lin)
        self._columns[key] = y
        return y

    # -- building -----------------------------------------------------------------------------------
    def unary(self, x: Sym, make: Callable[[str, str, str], Any], suffix: str, name: str = "") -> Sym:
        """An element-wise op over the whole IR tensor ``x`` reads; ``x``'s ids moved onto its output."""
        if x.scale != 1.0:
            raise self.fail(f"the input is scaled by a constant ({x.scale:g}) before a {suffix}")
        t, b, f = self.dec(x.ids)
        src = self._single(t)
        name = name or self.base(suffix)
        y, tix = self._tensor(name, self.shape(src), self.origin())
        self.graph.add_op(make(self.graph.unique_name(name), src, y))
        return Sym(self.enc(tix, b, f))

    def activation(self, x: Sym, fn: str) -> Sym:
        def make(name: str, src: str, y: str) -> Any:
            return Activation(name, [src], [y], origin=self.origin(), function=fn)

        return self.unary(x, make, fn)

    def linear(self, x: Sym, kernel: np.ndarray, bias: np.ndarray | None, name: str = "") -> Sym:
        src, b, row = self.rows(x)
        n_out = kernel.shape[1]
        name = name or self.base()
        y, tix = self._tensor(name, (*self.shape(src)[:-1], n_out), self.origin())
        qt = {}
        if self.where.cls.startswith("Quant"):  # Brevitas: weights as its quantizer made them, read exactly
            qt["weight"] = exact_type(kernel, f"{self.where}: weight quantizer")
        if self.weight_quantizer:
            qt["weight"] = exact_type(kernel, self.weight_quantizer)
        if self.bias_quantizer and bias is not None:
            qt["bias"] = exact_type(bias, self.bias_quantizer)
        self.graph.add_op(
            Linear(self.graph.unique_name(name), [src], [y], origin=self.origin(), kernel=kernel, bias=bias,
                   qtypes=qt)
        )  # fmt: skip
        j = np.arange(n_out)
        return Sym(self.enc(tix, b[..., None], row[..., None] * n_out + j))

    # -- entry --------------------------------------------------------------------------------------
    def read(self) -> Graph:
        import torch

        tables()
        g = self.ep.graph
        sig = self.ep.graph_signature
        consts: dict[str, Any] = {}
        user_inputs = set(sig.user_inputs)
        for spec in sig.input_specs:
            tgt = getattr(spec, "target", None)
            if tgt is None:
                continue
            src = self.ep.state_dict if tgt in self.ep.state_dict else self.ep.constants
            if tgt in src:
                consts[spec.arg.name] = src[tgt]
                self.params[id(src[tgt])] = str(tgt)
        out_node = next(n for n in g.nodes if n.op == "output")
        live: set[str] = set()
        stack = [out_node]
        while stack:
            n = stack.pop()
            if n.name in live:
                continue
            live.add(n.name)
            stack.extend(n.all_input_nodes)
        dyn = self._check(g, user_inputs, live)

        for n in g.nodes:
            if n.name not in live:
                continue
            self.where = locate(n, self.name)
            if n.op == "placeholder":
                if n.name in consts:
                    self.env[n.name] = consts[n.name]
                elif n.name in user_inputs:
                    self.env[n.name] = self._input(n)
                else:
                    raise self.fail(f"input {n.name}: not a parameter, buffer, constant or user input")
            elif n.op == "get_attr":
                self.env[n.name] = getattr(self.ep.graph_module, n.target)
            elif n.op == "call_function":
                args = torch.fx.node.map_arg(n.args, lambda a: self.env[a.name])
                kwargs = torch.fx.node.map_arg(n.kwargs, lambda a: self.env[a.name])
                if n.name not in dyn:
                    self.env[n.name] = n.target(*args, **kwargs)
                else:
                    self.env[n.name] = self._call(n.target, args, kwargs)
            elif n.op == "output":
                outs = n.args[0]
                outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
                self.graph.outputs = [self._output(self.env[o.name], o.name) for o in outs]
        prune(self.graph)
        return self.graph

    def _check(self, g: Any, user_inputs: set[str], live: set[str]) -> set[str]:
        """The nodes that depend on a model input; every op among them that cannot be read, in one error."""
        dyn: set[str] = set()
        problems: list[str] = []
        for n in g.nodes:
            if n.name not in live:
                continue
            if n.op == "placeholder" and n.name in user_inputs:
                dyn.add(n.name)
                val = n.meta.get("val")
                if val is not None and val.dtype.is_complex:
                    problems.append(f"input {n.name}: complex inputs are not supported")
            elif n.op == "call_function" and any(a.name in dyn for a in n.all_input_nodes):
                dyn.add(n.name)
                if (
                    n.target not in SHAPE_OPS
                    and n.target not in HANDLERS
                    and n.target is not operator.getitem
                ):
                    problems.append(f"{locate(n, self.name)}: op {n.target} is not supported")
        if problems:
            raise UnsupportedModelError(
                f"model {self.name} cannot be converted; {len(problems)} unsupported op(s):\n  "
                + "\n  ".join(problems)
            )
        return dyn

    def _input(self, n: Any) -> Sym:
        import torch

        shape = tuple(int(s) for s in n.meta["val"].shape)
        bd = self.batch_dim
        if not 0 <= bd < len(shape):
            raise self.fail(f"input {n.name} of shape {shape} has no batch axis {bd}")
        per = shape[:bd] + shape[bd + 1 :]
        _, tix = self._tensor(n.name, per, n.name)
        self.graph.inputs.append(self.tix[tix])
        size = int(np.prod(per))
        ids = self.enc(tix, np.arange(shape[bd])[:, None], np.arange(size)[None, :]).reshape(shape[bd], *per)
        return Sym(torch.movedim(ids, 0, bd))

    def _output(self, v: Any, name: str) -> str:
        import torch

        if not isinstance(v, Sym):
            raise self.fail(f"output {name} does not depend on the model input")
        if v.scale != 1.0:
            raise self.fail(f"output {name} is scaled by a constant ({v.scale:g})")
        ids = torch.movedim(v.ids, self.batch_dim, 0)
        t, b, f = self.dec(ids)
        src = self._single(t)
        if ids.dim() >= 2 and len(self.shape(src)) == 2 and ids.shape[-1] == self.shape(src)[-1]:
            try:  # rows of a [T, D] tensor: a token selection becomes its Slice
                src, b, row = self.rows(Sym(ids))
                n = ids.shape[-1]
                b, f = np.broadcast_to(b[..., None], ids.shape), row[..., None] * n + np.arange(n)
            except UnsupportedModelError:
                pass
        per = tuple(ids.shape[1:])
        size = int(np.prod(per))
        n = ids.shape[0]
        ok = (
            int(np.prod(self.shape(src))) == size
            and np.all(b.reshape(n, -1) == np.arange(n)[:, None])
            and np.array_equal(f.reshape(n, -1), np.broadcast_to(np.arange(size), (n, size)))
        )
        if not ok:
            raise self.fail(f"output {name} {tuple(v.ids.shape)} is a reordering of {src} {self.shape(src)}")
        if per == self.shape(src):
            return src
        y, _ = self._tensor(f"{name}_out", per, name)
        self.graph.add_op(
            Reshape(self.graph.unique_name(f"{name}_out"), [src], [y], origin=name, out_shape=per)
        )
        return y

    def settle(self, v: Any) -> Any:
        """A pending ``x * c`` used as a value: the Binary multiplication."""
        return const_binary(self, v.x, v.c, BinaryKind.MUL) if isinstance(v, ConstMul) else v

    def _call(self, target: Any, args: tuple, kwargs: dict) -> Any:
        if target is operator.getitem:
            return args[0][args[1]]
        if target is not aten("add.Tensor"):
            args = tuple(self.settle(a) for a in args)
        if target in SHAPE_OPS:
            return shape_op(self, target, args, kwargs)
        return HANDLERS[target](self, *args, **kwargs)


def prune(g: Graph) -> None:
    """Drop ops and tensors nothing reads (a packed projection split into q, k and v)."""
    needed = set(g.outputs)
    keep = []
    for op in reversed(g.ops):
        if any(o in needed for o in op.outputs):
            keep.append(op)
            needed.update(op.inputs)
    g.ops = list(reversed(keep))
    used = needed | set(g.inputs)
    g.tensors = {k: v for k, v in g.tensors.items() if k in used}
