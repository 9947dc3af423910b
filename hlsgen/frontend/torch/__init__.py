"""PyTorch modules and ``torch.export`` programs to the IR.

The reader traces a module with :func:`torch.export.export` (or loads a saved ``.pt2`` program) and
walks its ATen graph once. Parameters, buffers and everything computed from them alone (a causal mask
built with ``torch.tril``) are evaluated as real tensors. A value that depends on a model input is
followed *symbolically*: it is an int64 tensor of element ids, each id naming (IR tensor, sample,
element). Shape ops (view, transpose, permute, select, split, expand, repeat_interleave, ...) run on the
id tensors as they are, so that however a model lays out its heads and batch (``nn.MultiheadAttention``
folds the batch into the heads; nanoGPT code splits a packed projection), the ids tell which IR tensor,
rows and columns an op reads. Compute ops (linear, layer_norm, activations, add, mean, softmax,
scaled_dot_product_attention, the ``q @ k.transpose`` of hand-written attention) read the layout off
the ids and append the same IR primitives the Keras reader builds: projections, scores, mask, softmax,
context.

Conventions: the batch is axis ``batch_dim`` of every model input and output (0 by default; 1 for
sequence-first models such as ``nn.TransformerEncoderLayer(batch_first=False)``); IR tensors and
``Project.predict`` put the batch first.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ...fixed import FixedType
from ...fixed.types import Overflow, Rounding
from ...ir.graph import Graph, c_identifier
from ...ir.ops import (
    Activation,
    Add,
    Binary,
    BinaryKind,
    Concat,
    Constant,
    Context,
    Embedding,
    GlobalAvgPool,
    Linear,
    Mask,
    Reshape,
    Scores,
    Slice,
    token_type,
)
from ...ir.ops.layernorm import LayerNorm
from ...ir.ops.rope import RoPE, rope_tables
from ...ir.ops.softmax import Softmax
from ..errors import UnsupportedModelError
from .common import Where, aten, f64, is_scalar, locate, scalar
from .load import is_onnx_model, is_torch_model, load_program, save_program
from .values import (
    B_SHIFT,
    MASK_B,
    MASK_F,
    T_SHIFT,
    Compared,
    ConstMul,
    Heads,
    MaskSym,
    PendingScores,
    Rounded,
    Sym,
)

#: a finite additive mask entry at or below this blocks a key (exp underflows to 0 in float32)
_BLOCKED = -1e9

#: the suffixes of the three column blocks of a packed q/k/v projection
_PACKED = ("query", "key", "value")


# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
class TorchReader:
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

    def attend_mask(self, attend: np.ndarray | None, lead: tuple[int, ...], tq: int, tk: int) -> str | None:
        """The IR mask of a constant ``attend`` pattern (None = no mask): causal only."""
        if attend is None:
            return None
        try:
            full = np.broadcast_to(attend, (*lead, tq, tk)).reshape(-1, tq, tk)
        except ValueError:
            raise self.fail(
                f"attention mask of shape {attend.shape} does not broadcast to {(*lead, tq, tk)}"
            ) from None
        m = full[0]
        if np.any(full != m):
            raise self.fail("an attention mask that differs between samples or heads is not supported")
        if m.all():
            return None
        for off in sorted({0, tk - tq}):
            if np.array_equal(m, np.arange(tk)[None, :] <= np.arange(tq)[:, None] + off):
                y, _ = self._tensor(self.base("mask"), (tq, tk), self.origin())
                self.graph.add_op(
                    Mask(
                        self.graph.unique_name(self.base("mask")),
                        [],
                        [y],
                        origin=self.origin(),
                        causal=True,
                        offset=off,
                        shape=(tq, tk),
                    )
                )
                return y
        raise self.fail("a constant attention mask other than the causal one is not supported")

    def input_mask(self, m: MaskSym, attend: np.ndarray | None, q_b: np.ndarray, tq: int, tk: int) -> str:
        """The IR mask of a mask read from a model input: per sample ``[Tk]`` (a key padding mask, the same
        for every query) or ``[Tq, Tk]``; ANDed with a constant causal pattern."""
        lead = tuple(q_b.shape)
        try:
            ids = m.ids.broadcast_to((*lead, tq, tk)).numpy()
        except RuntimeError:
            raise self.fail(
                f"attention mask {tuple(m.ids.shape)} does not broadcast to {(*lead, tq, tk)}"
            ) from None
        t, b, f = self.dec(ids)
        src = self._single(t)
        if src not in self.graph.inputs:
            raise self.fail("an attention mask computed from the model's values (only a model input)")
        pat = f.reshape(-1, tq, tk)
        if not (np.all(b == q_b[..., None, None]) and np.all(pat == pat[:1])):
            raise self.fail("an attention mask that pairs samples or heads differently from the scores")
        shp = self.shape(src)
        padding = shp == (tk,) and np.array_equal(pat[0], np.broadcast_to(np.arange(tk), (tq, tk)))
        full = shp == (tq, tk) and np.array_equal(pat[0], np.arange(tq * tk).reshape(tq, tk))
        if not (padding or full):
            raise self.fail(
                f"an attention mask input {src} {shp} read in an order other than [Tk] or [Tq, Tk]"
            )
        self.graph.input_types[src] = FixedType(1, 1, False, is_int=True)
        m2 = src
        if padding or m.blocked:  # 1 - mask (torch: True hides a key) or 0 + mask, broadcast to [Tq, Tk]
            c, _ = self._tensor(self.base("mask_const"), (tq, tk), self.origin())
            value = np.ones((tq, tk)) if m.blocked else np.zeros((tq, tk))
            self.graph.add_op(
                Constant(
                    self.graph.unique_name(self.base("mask_const")),
                    [],
                    [c],
                    origin=self.origin(),
                    value=value,
                )
            )
            m2, _ = self._tensor(self.base("attend"), (tq, tk), self.origin())
            kind = BinaryKind.SUB if m.blocked else BinaryKind.ADD
            self.graph.add_op(
                Binary(
                    self.graph.unique_name(self.base("attend")),
                    [c, src],
                    [m2],
                    origin=self.origin(),
                    operation=kind,
                )
            )
        causal, off = False, 0
        if attend is not None:
            a = np.broadcast_to(attend, (*lead, tq, tk)).reshape(-1, tq, tk)
            if np.any(a != a[:1]):
                raise self.fail("an attention mask that differs between samples or heads is not supported")
            if not a[0].all():
                causal = np.array_equal(a[0], np.arange(tk)[None, :] <= np.arange(tq)[:, None])
                if not causal:
                    raise self.fail("a constant attention mask other than the causal one is not supported")
        y, _ = self._tensor(self.base("mask"), (tq, tk), self.origin())
        self.graph.add_op(
            Mask(self.graph.unique_name(self.base("mask")), [m2], [y], origin=self.origin(), causal=causal,
                 offset=off, shape=(tq, tk))
        )  # fmt: skip
        return y

    def probabilities(
        self,
        q: Heads,
        k: Heads,
        scale: float,
        attend: np.ndarray | None,
        mask_in: MaskSym | None = None,
        score_type: FixedType | None = None,
    ) -> str:
        """Scores, mask and softmax of ``q`` and ``k``: the IR probability tensor ``[H, Tq, Tk]``."""
        if q.d != k.d:
            raise self.fail(f"query and key heads differ in width ({q.d} and {k.d})")
        if q.n_heads % k.n_heads:
            raise self.fail(f"{q.n_heads} query heads cannot share {k.n_heads} key heads")
        group = q.n_heads // k.n_heads
        if not (np.array_equal(q.b, k.b) and np.array_equal(q.h // group, k.h)):
            raise self.fail("the attention pairs queries and keys of different heads or samples")
        if not math.isclose(scale, 1.0 / math.sqrt(q.d), rel_tol=1e-6):
            raise self.fail(f"scores scaled by {scale:g}, not 1/sqrt({q.d}) (the only scale supported)")
        tq, tk = q.rows, k.rows
        s, _ = self._tensor(self.base("scores"), (q.n_heads, tq, tk), self.origin())
        self.graph.add_op(
            Scores(
                self.graph.unique_name(self.base("scores")),
                [q.tensor, k.tensor],
                [s],
                origin=self.origin(),
                num_heads=q.n_heads,
                num_kv_heads=k.n_heads,
                key_dim=q.d,
                qtypes={} if score_type is None else {"score": score_type},
            )
        )
        lead = tuple(q.b.shape)
        if mask_in is None:
            mask = self.attend_mask(attend, lead, tq, tk)
        else:
            mask = self.input_mask(mask_in, attend, q.b, tq, tk)
        p, _ = self._tensor(self.base("probs"), (q.n_heads, tq, tk), self.origin())
        self.graph.add_op(
            Softmax(
                self.graph.unique_name(self.base("softmax")),
                [s] if mask is None else [s, mask],
                [p],
                origin=self.origin(),
            )
        )
        self._probs.add(p)
        return p

    def context(self, p: str, q_b: np.ndarray, q_h: np.ndarray, v: Heads) -> Sym:
        """The context ``[Tq, H*dv]`` of probabilities ``p`` and values ``v``, read back per leading
        position (sample ``q_b``, head ``q_h``)."""
        h, tq, tk = self.shape(p)
        if v.rows != tk:
            raise self.fail(f"{tk} keys but {v.rows} values")
        if h % v.n_heads or not (np.array_equal(v.b, q_b) and np.array_equal(q_h // (h // v.n_heads), v.h)):
            raise self.fail("the attention pairs probabilities and values of different heads or samples")
        c, tix = self._tensor(self.base("context"), (tq, h * v.d), self.origin())
        self.graph.add_op(
            Context(
                self.graph.unique_name(self.base("context")),
                [p, v.tensor],
                [c],
                origin=self.origin(),
                num_heads=h,
                num_kv_heads=v.n_heads,
                value_dim=v.d,
            )
        )
        i = np.arange(tq)[:, None]
        j = np.arange(v.d)[None, :]
        flat = i * (h * v.d) + q_h[..., None, None] * v.d + j
        return Sym(self.enc(tix, q_b[..., None, None], flat))

    # -- entry --------------------------------------------------------------------------------------
    def read(self) -> Graph:
        import torch

        _tables()
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
        _prune(self.graph)
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
                    n.target not in _SHAPE_OPS
                    and n.target not in _HANDLERS
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
        return _const_binary(self, v.x, v.c, BinaryKind.MUL) if isinstance(v, ConstMul) else v

    def _call(self, target: Any, args: tuple, kwargs: dict) -> Any:
        if target is operator.getitem:
            return args[0][args[1]]
        if target is not aten("add.Tensor"):
            args = tuple(self.settle(a) for a in args)
        if target in _SHAPE_OPS:
            return _shape_op(self, target, args, kwargs)
        return _HANDLERS[target](self, *args, **kwargs)


def _prune(g: Graph) -> None:
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


# ---------------------------------------------------------------------------------------------------
# shape ops: run on the ids
# ---------------------------------------------------------------------------------------------------
def _shape_op(r: TorchReader, target: Any, args: tuple, kwargs: dict) -> Any:
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
    if name == "aten.cat.default" and not _same_source(r, args[0]):
        return _cat(r, list(args[0]), args[1] if len(args) > 1 else kwargs.get("dim", 0))
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


def _same_source(r: TorchReader, parts: list[Any]) -> bool:
    """All parts are model values read from one IR tensor (a plain cat of ids)."""
    if not all(isinstance(p, Sym) for p in parts):
        return False
    tensors = set()
    for p in parts:
        a = p.ids.numpy()
        tensors.update(int(t) for t in np.unique(np.where(a < 0, ~a, a) >> T_SHIFT))  # ~id: negated
    return len(tensors) == 1


def _cat(r: TorchReader, parts: list[Any], dim: int) -> Sym:
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


def _embedding(r: TorchReader, weight: Any, idx: Any, *_: Any, **__: Any) -> Sym:
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


_VIEWS = {"aten.view.default", "aten.reshape.default", "aten._unsafe_view.default"}
_IDENTITY = {
    "aten.contiguous.default",
    "aten.clone.default",
    "aten.alias.default",
    "aten.detach.default",
    "aten.lift_fresh_copy.default",
    "aten.dropout.default",
}


def _shape_ops() -> set[Any]:
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


# ---------------------------------------------------------------------------------------------------
# compute ops
# ---------------------------------------------------------------------------------------------------


def _linear(r: TorchReader, x: Any, w: Any, b: Any = None) -> Sym:
    if not isinstance(x, Sym) or isinstance(w, Sym) or isinstance(b, Sym):
        raise r.fail("linear with weights computed from the input")
    return r.linear(x, f64(w).T, None if b is None else f64(b), r.named(w))


def _layer_norm(
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


def _act(fn: str) -> Callable[..., Sym]:
    def handler(r: TorchReader, x: Any, *args: Any, **kwargs: Any) -> Sym:
        name = fn
        if fn == "gelu" and (kwargs.get("approximate") or (args[0] if args else "none")) == "tanh":
            name = "gelu_tanh"
        return r.activation(x, name)

    return handler


def _additive(r: TorchReader, m: Any) -> np.ndarray:
    """Bool attend pattern of an additive float mask (0 = attend, -inf or <= -1e9 = blocked)."""
    a = f64(m)
    attend = a == 0
    blocked = a <= _BLOCKED
    if not np.all(attend | blocked):
        raise r.fail("an additive attention mask with values other than 0 and -inf (a bias) is not supported")
    return attend


def _bool_or_additive(r: TorchReader, m: Any) -> np.ndarray:
    import torch

    if isinstance(m, Sym):
        raise r.fail(
            "an attention mask that depends on the model inputs is not supported yet (constant or causal)"
        )
    return m.detach().cpu().numpy().astype(bool) if m.dtype == torch.bool else _additive(r, m)


def _and(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None else np.logical_and(a, b)


def _add(r: TorchReader, a: Any, b: Any, alpha: Any = 1) -> Any:
    if isinstance(a, ConstMul) and isinstance(b, ConstMul):
        y = _rope(r, a, b) or _rope(r, b, a)
        if y is not None:
            return y
    a, b = r.settle(a), r.settle(b)
    if isinstance(b, PendingScores) and not isinstance(a, PendingScores):
        a, b = b, a
    if isinstance(a, PendingScores):
        return replace(a, attend=_and(a.attend, _additive(r, b)))
    if isinstance(b, Sym) and not isinstance(a, Sym):
        a, b = b, a
    if not isinstance(b, Sym):
        if not np.any(np.float64(b) if isinstance(b, (int, float)) else f64(b)):
            return a
        return _const_binary(r, a, b, BinaryKind.ADD)
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


def _const_binary(r: TorchReader, x: Sym, c: Any, kind: BinaryKind) -> Sym:
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


def _mul(r: TorchReader, a: Any, b: Any) -> Any:
    if not isinstance(a, (Sym, PendingScores, Rounded)):
        a, b = b, a
    if isinstance(a, Rounded) and is_scalar(b):
        return _dequantize(r, a, scalar(b))
    if isinstance(a, Sym) and not isinstance(b, (Sym, PendingScores)) and not is_scalar(b):
        return ConstMul(a, b)
    if isinstance(b, (Sym, PendingScores)) or not is_scalar(b):
        raise r.fail("multiplying by a tensor (only by a scalar constant, the attention scale)")
    return replace(a, scale=a.scale * scalar(b))


def _div(r: TorchReader, a: Any, b: Any) -> Any:
    if not isinstance(a, (Sym, PendingScores)) or isinstance(b, (Sym, PendingScores)) or not is_scalar(b):
        raise r.fail("dividing by a tensor (only by a scalar constant, the attention scale)")
    return replace(a, scale=a.scale / scalar(b))


def _matmul(r: TorchReader, a: Any, b: Any) -> Any:
    if isinstance(a, Sym) and not isinstance(b, Sym):
        if b.dim() != 2:
            raise r.fail(f"multiplying by a constant of shape {tuple(b.shape)} (only a 2-D weight)")
        return r.linear(a, f64(b), None)
    if not (isinstance(a, Sym) and isinstance(b, Sym)):
        raise r.fail("a matrix product of a constant and the model's values")
    ta, _, _ = r.dec(a.ids)
    src = r._single(ta)
    if src in r._probs:  # probabilities @ values
        if a.scale != 1.0 or b.scale != 1.0:
            raise r.fail("attention probabilities or values scaled by a constant")
        p, pb, pf = src, *r.dec(a.ids)[1:]
        h, tq, tk = r.shape(p)
        first = pf[..., 0]
        ok = (
            a.ids.shape[-1] == tk
            and a.ids.shape[-2] == tq
            and np.all(pf - pf[..., :1] == np.arange(tk))
            and np.all((first % (tq * tk)) // tk == np.arange(tq))
            and np.all(pb == pb[..., :1, :1])
        )
        heads = first // (tq * tk)
        if not ok or np.any(heads != heads[..., :1]):
            raise r.fail("the probabilities reach the product with the values reordered")
        v = r.heads(b, int(b.ids.shape[-1]), "values")
        return r.context(p, pb[..., 0, 0], heads[..., 0], v)
    d = int(a.ids.shape[-1])
    q = r.heads(Sym(a.ids), d, "queries")
    k = r.heads(Sym(b.ids.transpose(-2, -1)), d, "keys")
    return PendingScores(q, k, a.scale * b.scale, None, tuple(q.b.shape))


def _zeros_like(r: TorchReader, x: Any, *_: Any, **kwargs: Any) -> Any:
    import torch

    return torch.zeros(tuple(x.ids.shape), dtype=kwargs.get("dtype") or torch.float32)


def _logical_not(r: TorchReader, x: Any) -> MaskSym:
    if not isinstance(x, Sym):
        raise r.fail("logical_not of a constant")
    blocked = x.blocked if isinstance(x, MaskSym) else False
    return MaskSym(x.ids, blocked=not blocked)


def _baddbmm(r: TorchReader, c: Any, a: Any, b: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    s = _matmul(r, a, b)
    if not isinstance(s, PendingScores) or beta != 1:
        raise r.fail("baddbmm other than attention scores plus a mask")
    return _add(r, replace(s, scale=s.scale * float(alpha)), c)


def _masked_fill(r: TorchReader, s: Any, m: Any, value: Any) -> Any:
    if isinstance(m, Sym) and not isinstance(s, (Sym, PendingScores)) and not np.any(f64(s)):
        if not (math.isinf(scalar(value)) and scalar(value) < 0):
            raise r.fail(f"a mask input filled with {scalar(value)} (only -inf blocks a key exactly)")
        return MaskSym(m.ids, blocked=not (isinstance(m, MaskSym) and not m.blocked))  # torch's float masks
    if not isinstance(s, PendingScores) or isinstance(m, Sym):
        raise r.fail("masked_fill other than a constant mask on attention scores")
    if not (math.isinf(scalar(value)) and scalar(value) < 0) and scalar(value) > _BLOCKED:
        raise r.fail(f"masked_fill with {scalar(value)} (only -inf blocks a key exactly)")
    return replace(s, attend=_and(s.attend, ~m.detach().cpu().numpy().astype(bool)))


def _softmax(r: TorchReader, x: Any, dim: int, *_: Any) -> Sym:
    nd = len(x.lead) + 2 if isinstance(x, PendingScores) else x.ids.dim()
    if dim % nd != nd - 1:
        raise r.fail(f"softmax over axis {dim} (only the last)")
    if isinstance(x, PendingScores):
        p = r.probabilities(x.q, x.k, x.scale, x.attend, score_type=x.qtype)
        _, tq, tk = r.shape(p)
        flat = x.q.h[..., None, None] * (tq * tk) + np.arange(tq)[:, None] * tk + np.arange(tk)[None, :]
        return Sym(r.enc(r._index(p), x.q.b[..., None, None], flat))
    src, _, _ = r.rows(x)

    def make(name: str, s: str, y: str) -> Any:
        op = Softmax(name, [s], [y], origin=r.origin())
        op.role = "result"
        return op

    return r.unary(x, make, "softmax")


def _sdpa(
    r: TorchReader,
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Sym:
    if dropout_p:
        raise r.fail(f"scaled_dot_product_attention with dropout_p={dropout_p} (convert in eval mode)")
    if not all(isinstance(t, Sym) for t in (q, k, v)):
        raise r.fail("scaled_dot_product_attention of constants")
    d = int(q.ids.shape[-1])
    qh, kh = r.heads(Sym(q.ids), d, "queries"), r.heads(Sym(k.ids), d, "keys")
    vh = r.heads(Sym(v.ids), int(v.ids.shape[-1]), "values")
    sc = (1.0 / math.sqrt(d) if scale is None else float(scale)) * q.scale * k.scale
    if v.scale != 1.0:
        raise r.fail("values scaled by a constant")
    attend, mask_in = None, None
    if is_causal:  # torch: the top-left causal mask, j <= i
        attend = np.tril(np.ones((qh.rows, kh.rows), dtype=bool))
    if isinstance(attn_mask, Sym):  # from a model input; a bool input itself attends where True
        mask_in = attn_mask if isinstance(attn_mask, MaskSym) else MaskSym(attn_mask.ids, blocked=False)
    elif attn_mask is not None:
        attend = _and(attend, _bool_or_additive(r, attn_mask))
    p = r.probabilities(qh, kh, sc, attend, mask_in)
    return r.context(p, qh.b, qh.h, vh)


def _mean(r: TorchReader, x: Any, dims: Any, keepdim: bool = False, *_: Any, **__: Any) -> Sym:
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


def exact_type(values: np.ndarray, what: str, max_frac: int = 32) -> FixedType:
    """The narrowest signed type holding every value exactly (weights a quantizer made); refused when a
    value needs more than ``max_frac`` fractional bits (a scale that is no power of two)."""
    v = np.asarray(values, dtype=np.float64)
    for frac in range(-8, max_frac + 1):
        raw = np.ldexp(v, frac)
        if np.all(raw == np.round(raw)):
            top = int(np.abs(raw).max(initial=0))
            width = max(top.bit_length() + 1, 2)
            return FixedType(width, width - frac, True)
    raise UnsupportedModelError(
        f"{what}: the values have no exact fixed-point form (a scale that is not a power of two); use a "
        "power-of-two quantizer such as Int8WeightPerTensorFixedPoint"
    )


def _round(r: TorchReader, x: Any) -> Rounded:
    if not isinstance(x, Sym):
        raise r.fail("round of a value that is not a quantizer's input")
    return Rounded(Sym(x.ids), x.scale)


def _compare(op: str) -> Callable[..., Any]:
    def handler(r: TorchReader, a: Any, b: Any) -> Compared:
        if not isinstance(a, Rounded) or not is_scalar(b):
            raise r.fail(f"comparison ({op}) other than a quantizer's clamp")
        return Compared(a, op, scalar(b))

    return handler


def _where_op(r: TorchReader, cond: Any, a: Any, b: Any) -> Rounded:
    if not (isinstance(cond, Compared) and cond.r is b and is_scalar(a) and scalar(a) == cond.value):
        raise r.fail("where other than a quantizer's clamp")
    return replace(b, hi=cond.value) if cond.op == "gt" else replace(b, lo=cond.value)


def _type_as(r: TorchReader, a: Any, b: Any) -> Any:
    return a


def _sub(r: TorchReader, a: Any, b: Any, alpha: Any = 1) -> Any:
    if isinstance(a, (Sym, Rounded)) and is_scalar(b) and scalar(b) == 0:
        return a  # a quantizer's zero point of 0
    if isinstance(a, Sym) and not isinstance(b, (Sym, Rounded, PendingScores)):
        return _const_binary(r, a, b, BinaryKind.SUB)
    raise r.fail("subtraction of two of the model's values")


def _dequantize(r: TorchReader, q: Rounded, scale: float) -> Sym:
    """``clamp(round(x / s)) * s``: a cast to the fixed-point type it is, or refused naming the quantizer."""
    where = f"{r.where}: quantizer"
    if not math.isclose(q.inv_scale * scale, 1.0, rel_tol=1e-9):
        raise r.fail("a quantizer that rescales by another scale than it divided by")
    m, e = math.frexp(scale)
    if m != 0.5:
        raise UnsupportedModelError(
            f"{where}: scale {scale!r} is not a power of two, so its values have no exact fixed-point form; use "
            "a power-of-two quantizer such as Int8ActPerTensorFixedPoint"
        )
    frac = 1 - e
    lo, hi = q.lo, q.hi
    if lo is None or hi is None:
        raise UnsupportedModelError(f"{where}: an integer quantizer without both clamp bounds")
    if lo < 0:
        w = int(round(math.log2(hi + 1))) + 1
        ok = hi == 2 ** (w - 1) - 1 and lo in (-(2 ** (w - 1)), -(2 ** (w - 1)) + 1)
        ovf = Overflow.SAT if lo == -(2 ** (w - 1)) else Overflow.SAT_SYM
        signed = True
    else:
        w = int(round(math.log2(hi + 1)))
        ok, ovf, signed = lo == 0 and hi == 2**w - 1, Overflow.SAT, False
    if not ok:
        raise UnsupportedModelError(
            f"{where}: clamp bounds [{lo:g}, {hi:g}] are not those of an integer type"
        )
    t = FixedType(w, w - frac, signed, Rounding.RND_CONV, ovf)  # torch.round: half to even

    def make(name: str, src: str, y: str) -> Any:
        op = Activation(name, [src], [y], origin=r.origin(), function="linear")
        op.qtypes["result"] = t
        return op

    return r.unary(q.x, make, "quant")


def _rope(r: TorchReader, a: ConstMul, b: ConstMul) -> Sym | None:
    """``x * cos + rotate_half(x) * sin`` (half-split pairs, GPT-NeoX / Llama) as a RoPE op, or None
    when ``a``, ``b`` are not that. Positions are the token rows (prefill)."""
    ids = a.x.ids.numpy()
    rot = b.x.ids.numpy()
    d = ids.shape[-1]
    if a.x.scale != 1.0 or b.x.scale != 1.0 or rot.shape != ids.shape or d % 2 or ids.ndim < 2:
        return None
    h = d // 2
    want = np.concatenate([~ids[..., h:], ids[..., :h]], axis=-1)
    if not np.array_equal(rot, want):
        return None
    try:
        cos = np.broadcast_to(f64(a.c), ids.shape)
        sin = np.broadcast_to(f64(b.c), ids.shape)
    except ValueError:
        return None
    q = r.heads(Sym(a.x.ids), d, "rotary input")
    t = ids.shape[-2]
    c2 = cos.reshape(-1, t, d)
    s2 = sin.reshape(-1, t, d)
    if np.any(c2 != c2[:1]) or np.any(s2 != s2[:1]) or not np.allclose(c2[0, :, :h], c2[0, :, h:]):
        return None
    ang = np.arctan2(s2[0, 1, :h], c2[0, 1, :h]) if t > 1 else None
    if ang is None or ang[0] <= 0:
        return None
    base = float(np.exp(-np.log(ang[1]) * d / 2.0)) if h > 1 else 10000.0
    ref_c, ref_s = rope_tables(t, d, base)
    if not (np.allclose(c2[0, :, :h], ref_c, atol=1e-5) and np.allclose(s2[0, :, :h], ref_s, atol=1e-5)):
        raise r.fail("a rotary embedding whose angles are not position * base**(-2i/d)")
    base = float(round(base)) if abs(base - round(base)) < 1e-3 * base else base
    y, tix = r._tensor(r.base("rope"), r.shape(q.tensor), r.origin())
    r.graph.add_op(
        RoPE(r.graph.unique_name(r.base("rope")), [q.tensor], [y], origin=r.origin(), head_dim=d, rope_dim=d,
             base=base)
    )  # fmt: skip
    flat = np.arange(t)[:, None] * (q.n_heads * d) + q.h[..., None, None] * d + np.arange(d)
    return Sym(r.enc(tix, q.b[..., None, None], flat))


def _neg(r: TorchReader, x: Any) -> Sym:
    if not isinstance(x, Sym) or x.scale != 1.0:
        raise r.fail("negation of scaled values")
    return Sym(~x.ids)


def _handlers() -> dict[Any, Callable[..., Any]]:
    table = {
        "linear.default": _linear,
        "layer_norm.default": _layer_norm,
        "gelu.default": _act("gelu"),
        "relu.default": _act("relu"),
        "silu.default": _act("swish"),
        "tanh.default": _act("tanh"),
        "sigmoid.default": _act("sigmoid"),
        "add.Tensor": _add,
        "mul.Tensor": _mul,
        "mul.Scalar": _mul,
        "div.Tensor": _div,
        "div.Scalar": _div,
        "matmul.default": _matmul,
        "mm.default": _matmul,
        "bmm.default": _matmul,
        "baddbmm.default": _baddbmm,
        "masked_fill.Scalar": _masked_fill,
        "masked_fill_.Scalar": _masked_fill,
        "zeros_like.default": _zeros_like,
        "logical_not.default": _logical_not,
        "bitwise_not.default": _logical_not,
        "softmax.int": _softmax,
        "_softmax.default": _softmax,
        "scaled_dot_product_attention.default": _sdpa,
        "mean.dim": _mean,
        "round.default": _round,
        "gt.Tensor": _compare("gt"),
        "gt.Scalar": _compare("gt"),
        "lt.Tensor": _compare("lt"),
        "lt.Scalar": _compare("lt"),
        "where.self": _where_op,
        "type_as.default": _type_as,
        "sub.Tensor": _sub,
        "embedding.default": _embedding,
        "neg.default": _neg,
    }
    out = {}
    for nm, fn in table.items():
        try:
            out[aten(nm)] = fn
        except AttributeError:
            pass
    return out


_SHAPE_OPS: set[Any] = set()
_HANDLERS: dict[Any, Callable[..., Any]] = {}


def _tables() -> None:
    if not _HANDLERS:
        _SHAPE_OPS.update(_shape_ops())
        _HANDLERS.update(_handlers())


def read_torch(model: Any, example_input: Any = None, batch_dim: int = 0) -> Graph:
    """The float IR graph of a PyTorch module (traced on ``example_input``), a ``torch.export`` program,
    or a ``.pt2`` / ``.pt`` file. ``batch_dim``: the batch axis of the model's inputs and outputs."""
    _tables()
    ep = load_program(model, example_input)
    if isinstance(model, (str, Path)):
        name = Path(model).stem
    else:
        name = type(model).__name__ if not hasattr(model, "graph_signature") else "model"
    return TorchReader(ep, c_identifier(name), batch_dim).read()


__all__ = [
    "Compared",
    "ConstMul",
    "Heads",
    "MaskSym",
    "PendingScores",
    "Rounded",
    "Sym",
    "TorchReader",
    "Where",
    "exact_type",
    "is_onnx_model",
    "is_torch_model",
    "load_program",
    "read_torch",
    "save_program",
]
