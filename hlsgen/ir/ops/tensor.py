"""Tensor plumbing and element-wise ops the Keras front door needs: typed constants, broadcast binary
arithmetic, concatenation, slices, transposes, max pooling over tokens, per-feature affine
(BatchNormalization) and embedding lookups.

Every op computes exactly with the ap_fixed result types of C++ (sums and products are exact) and casts
once to its output type, so the NumPy reference and the hand-written header hlsgen_tensor.h give the
same integers. Constants execute with a batch of 1 and broadcast over the batch where they are read.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...config import Multiplier
from ...fixed import FixedType, add, convert, mul, sub, to_raw
from ...fixed.cmm import gated_product_wins
from ...memory import bram18_for_bits
from .base import Cost, Op

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver


def _where(op: Op) -> str:
    return f"layer {op.origin}" if op.origin else f"op {op.name}"


def _batch(*xs: np.ndarray) -> int:
    """The batch size of arrays of which some may be constants (batch 1)."""
    return max(x.shape[0] for x in xs)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Constant(Op):
    """A typed constant tensor (a position table, a class token, a folded scale): no inputs.

    The value is quantized to the output type (config ``result``, a QKeras type, or calibration, which
    sees the constant's own range); it executes with a batch of 1.
    """

    kind: ClassVar[str] = "constant"
    value: np.ndarray = field(default_factory=lambda: np.zeros(0))  #: float, per-sample shape
    qtypes: dict[str, FixedType] = field(default_factory=dict)
    raw: np.ndarray | None = None

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        ty = self.out_type(graph)
        self.types["y"] = ty
        self.raw = to_raw(np.asarray(self.value, dtype=np.float64), ty)

    def forward_float(self) -> tuple[np.ndarray]:
        return (np.asarray(self.value, dtype=np.float64)[None],)

    def execute(self) -> tuple[np.ndarray]:
        return (np.asarray(self.raw)[None],)

    def cost(self, graph: Graph) -> Cost:
        return Cost(param_bits=int(np.size(self.value)) * self.types["y"].width)


# ---------------------------------------------------------------------------------------------------
class BinaryKind(enum.StrEnum):
    """Element-wise operations of two tensors."""

    ADD = "add"
    SUB = "sub"
    MUL = "mul"


def broadcast_2d(shape: tuple[int, ...], out: tuple[int, ...], where: str) -> tuple[int, int]:
    """(rows, cols) of an operand of per-sample ``shape`` against the output ``out`` seen as rows of its
    last axis: each is the output's or 1 (Keras broadcasting over tokens, over features, or a scalar)."""
    rows_out = math.prod(out[:-1]) if out else 1
    cols_out = out[-1] if out else 1
    s = tuple(shape)
    while s and s[0] == 1 and len(s) > 1:
        s = s[1:]
    if not s:
        return 1, 1
    cols, lead = s[-1], s[:-1]
    rows = 1 if all(d == 1 for d in lead) else rows_out
    if cols not in (1, cols_out) or (rows > 1 and tuple(lead) != tuple(out[:-1])):
        raise ValueError(
            f"{where}: cannot broadcast shape {tuple(shape)} to {tuple(out)} "
            "(an operand must match the output, or broadcast over its rows or over its last axis)"
        )
    return rows, cols


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...], where: str) -> tuple[int, ...]:
    """The per-sample output shape of ``a op b`` (NumPy broadcasting)."""
    try:
        return tuple(int(s) for s in np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ValueError(f"{where}: shapes {a} and {b} do not broadcast") from None


@dataclass
class Binary(Op):
    """``a + b``, ``a - b`` or ``a * b``, exact, cast once to the output type.

    Either operand may broadcast over the other's rows (a [D] vector against [T, D]), over its last axis
    ([T, 1] against [T, D]) or be a single value; either may be a constant (batch 1).
    """

    kind: ClassVar[str] = "binary"
    operation: BinaryKind = BinaryKind.ADD
    #: a ``mul`` under the latency strategy: how its products are bound (lut or dsp; the layer's
    #: ``multiplier``, ``auto`` resolved at typing by :func:`hlsgen.fixed.cmm.gated_product_wins` over the
    #: operand types; lut where an operand is a constant: shifts and adds); None otherwise
    binding: Multiplier | None = None

    def __post_init__(self) -> None:
        self.operation = BinaryKind(self.operation)

    def dims(self, graph: Graph) -> tuple[int, int, tuple[int, int], tuple[int, int]]:
        out = graph.tensors[self.outputs[0]].shape
        rows = math.prod(out[:-1]) if out else 1
        cols = out[-1] if out else 1
        da = broadcast_2d(graph.tensors[self.inputs[0]].shape, out, _where(self))
        db = broadcast_2d(graph.tensors[self.inputs[1]].shape, out, _where(self))
        return rows, cols, da, db

    def _apply(
        self, a: np.ndarray, ta: FixedType, b: np.ndarray, tb: FixedType
    ) -> tuple[np.ndarray, FixedType]:
        if self.operation is BinaryKind.ADD:
            return add(a, ta, b, tb)
        if self.operation is BinaryKind.SUB:
            return sub(a, ta, b, tb)
        return mul(a, ta, b, tb)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        self.dims(graph)  # checks the shapes
        super().assign_types(graph, resolve)
        self.types.update(a=self.in_type(graph, 0), b=self.in_type(graph, 1), y=self.out_type(graph))
        setting = resolve.binding(self) if self.operation is BinaryKind.MUL else None
        if setting is not None:
            ta, tb = self.types["a"], self.types["b"]
            constant = any((p := graph.producer(t)) is not None and p.kind == "constant" for t in self.inputs)
            if constant:
                setting = Multiplier.LUT
            elif setting is Multiplier.AUTO:
                wins = gated_product_wins((ta.raw_min, ta.raw_max), (tb.raw_min, tb.raw_max))
                setting = Multiplier.LUT if wins else Multiplier.DSP
        self.binding = setting

    def bindings(self) -> tuple[Multiplier, ...]:
        return (self.binding,) if self.binding is not None else ()

    def _views(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        """Both operands as [batch, rows, cols] views that broadcast, and the per-sample output shape."""
        out = broadcast_shape(a.shape[1:], b.shape[1:], _where(self))
        ra, ca = broadcast_2d(a.shape[1:], out, _where(self))
        rb, cb = broadcast_2d(b.shape[1:], out, _where(self))
        return a.reshape(a.shape[0], ra, ca), b.reshape(b.shape[0], rb, cb), out

    def forward_float(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray]:
        va, vb, out = self._views(np.asarray(a, np.float64), np.asarray(b, np.float64))
        f = {BinaryKind.ADD: np.add, BinaryKind.SUB: np.subtract, BinaryKind.MUL: np.multiply}[self.operation]
        y = f(va, vb)
        return (y.reshape(y.shape[0], *out),)

    def execute(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray]:
        va, vb, out = self._views(a, b)
        s, ts = self._apply(va, self.types["a"], vb, self.types["b"])
        y = convert(s, ts, self.types["y"])
        return (y.reshape(y.shape[0], *out),)

    def cost(self, graph: Graph) -> Cost:
        n = graph.tensors[self.outputs[0]].size
        ta, tb = self.types["a"], self.types["b"]
        if self.operation is BinaryKind.MUL:
            return Cost(
                macs=n,
                multipliers=n,
                latency_cycles=2,
                mult_widths=(max(ta.width, tb.width), min(ta.width, tb.width)),
            )
        return Cost(latency_cycles=1, lut=n * max(ta.width, tb.width))


# ---------------------------------------------------------------------------------------------------
def outer_inner(shape: tuple[int, ...], axis: int) -> tuple[int, int]:
    """(outer, inner) sizes of ``shape`` around ``axis``: rows before it, elements from it on."""
    return math.prod(shape[:axis]), math.prod(shape[axis:])


@dataclass
class Concat(Op):
    """Two tensors joined along ``axis`` (per-sample axes: 0 = tokens, -1 = features), each cast to the
    output type. More inputs are a chain of these."""

    kind: ClassVar[str] = "concat"
    axis: int = 0

    def norm_axis(self, graph: Graph) -> int:
        rank = len(graph.tensors[self.outputs[0]].shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"{_where(self)}: concatenation axis {self.axis} of a rank-{rank} tensor")
        return self.axis % rank

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        ax = self.norm_axis(graph)
        self.types.update(a=self.in_type(graph, 0), b=self.in_type(graph, 1), y=self.out_type(graph))
        sa, sb = (graph.tensors[t].shape for t in self.inputs)
        so = graph.tensors[self.outputs[0]].shape
        if (
            sa[:ax] != so[:ax]
            or sb[:ax] != so[:ax]
            or sa[ax + 1 :] != so[ax + 1 :]
            or sb[ax + 1 :] != so[ax + 1 :]
        ):
            raise ValueError(f"{_where(self)}: cannot concatenate {sa} and {sb} along axis {ax} into {so}")
        self._ax = ax

    def forward_float(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray]:
        n = _batch(a, b)
        return (
            np.concatenate(
                [np.broadcast_to(a, (n, *a.shape[1:])), np.broadcast_to(b, (n, *b.shape[1:]))],
                self._ax_of(a) + 1,
            ),
        )

    def _ax_of(self, a: np.ndarray) -> int:
        return getattr(self, "_ax", self.axis % (a.ndim - 1))

    def execute(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray]:
        n = _batch(a, b)
        ya = convert(np.broadcast_to(a, (n, *a.shape[1:])), self.types["a"], self.types["y"])
        yb = convert(np.broadcast_to(b, (n, *b.shape[1:])), self.types["b"], self.types["y"])
        if ya.dtype != yb.dtype:
            ya, yb = ya.astype(object), yb.astype(object)
        return (np.concatenate([ya, yb], self._ax_of(a) + 1),)

    def cost(self, graph: Graph) -> Cost:
        return Cost(latency_cycles=0)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Slice(Op):
    """Elements ``start:stop`` along ``axis`` (``x[:, 0]`` takes token 0 with ``squeeze``); the output
    keeps the input type (no rounding)."""

    kind: ClassVar[str] = "slice"
    axis: int = 0
    start: int = 0
    stop: int = 1
    squeeze: bool = False  #: drop the axis (one element taken)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        tx = self.in_type(graph)
        graph.tensors[self.outputs[0]].type = tx
        self.types.update(x=tx, y=tx)
        shape = graph.tensors[self.inputs[0]].shape
        ax = self.axis % len(shape)
        if not 0 <= self.start < self.stop <= shape[ax]:
            raise ValueError(f"{_where(self)}: slice {self.start}:{self.stop} of axis {ax} of shape {shape}")

    def _take(self, x: np.ndarray) -> np.ndarray:
        ax = self.axis % (x.ndim - 1) + 1
        y = np.take(x, np.arange(self.start, self.stop), axis=ax)
        return np.squeeze(y, axis=ax) if self.squeeze else y

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (self._take(x),)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (self._take(x),)


# ---------------------------------------------------------------------------------------------------
#: most per-sample axes a Transpose handles
MAX_TRANSPOSE_RANK = 4


@dataclass
class Transpose(Op):
    """The per-sample axes permuted (``tf.transpose``, ``Permute``); the output keeps the input type."""

    kind: ClassVar[str] = "transpose"
    perm: tuple[int, ...] = (1, 0)  #: per-sample axes (0 = the first axis after the batch)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        tx = self.in_type(graph)
        graph.tensors[self.outputs[0]].type = tx
        self.types.update(x=tx, y=tx)
        shape = graph.tensors[self.inputs[0]].shape
        if sorted(self.perm) != list(range(len(shape))) or len(shape) > MAX_TRANSPOSE_RANK:
            raise ValueError(f"{_where(self)}: permutation {self.perm} of shape {shape} (at most 4 axes)")

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (np.transpose(x, (0, *(p + 1 for p in self.perm))),)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (np.ascontiguousarray(np.transpose(x, (0, *(p + 1 for p in self.perm)))),)


# ---------------------------------------------------------------------------------------------------
@dataclass
class GlobalMaxPool(Op):
    """Maximum over the token axis of [T, D] (GlobalMaxPooling1D); the output keeps the input type."""

    kind: ClassVar[str] = "global_max_pool"

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        tx = self.in_type(graph)
        graph.tensors[self.outputs[0]].type = tx
        self.types.update(x=tx, y=tx)

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (x.max(axis=-2),)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (x.max(axis=-2),)

    def cost(self, graph: Graph) -> Cost:
        t, d = graph.tensors[self.inputs[0]].shape[-2:]
        return Cost(latency_cycles=int(math.ceil(math.log2(max(t, 2)))), lut=t * d * self.types["x"].width)


# ---------------------------------------------------------------------------------------------------
@dataclass
class BatchNorm(Op):
    """y = x * scale + shift per feature of the last axis (an inference-mode BatchNormalization that
    could not be folded into a preceding linear op); exact, cast once. scale and shift are typed as the
    layer's ``weight`` and ``bias``."""

    kind: ClassVar[str] = "batchnorm"
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0))  #: float [D]
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))  #: float [D]
    qtypes: dict[str, FixedType] = field(default_factory=dict)
    scale_raw: np.ndarray | None = None
    shift_raw: np.ndarray | None = None

    @classmethod
    def from_moments(
        cls,
        name: str,
        x: str,
        y: str,
        origin: str,
        gamma: np.ndarray,
        beta: np.ndarray,
        mean: np.ndarray,
        var: np.ndarray,
        eps: float,
    ) -> BatchNorm:
        """The op of Keras's inference formula gamma * (x - mean) / sqrt(var + eps) + beta."""
        scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
        shift = np.asarray(beta, np.float64) - np.asarray(mean, np.float64) * scale
        return cls(name, [x], [y], origin=origin, scale=scale, shift=shift)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        tw, tb = resolve.slot(self, "weight"), resolve.slot(self, "bias")
        self.scale_raw, self.shift_raw = to_raw(self.scale, tw), to_raw(self.shift, tb)
        self.types.update(x=self.in_type(graph), weight=tw, bias=tb, y=self.out_type(graph))

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (x * self.scale + self.shift,)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        p, tp = mul(x, self.types["x"], self.scale_raw, self.types["weight"])
        s, ts = add(p, tp, self.shift_raw, self.types["bias"])
        return (convert(s, ts, self.types["y"]),)

    def cost(self, graph: Graph) -> Cost:
        n = graph.tensors[self.inputs[0]].size
        tx, tw = self.types["x"], self.types["weight"]
        return Cost(
            macs=n,
            multipliers=n,
            latency_cycles=2,
            mult_widths=(max(tx.width, tw.width), min(tx.width, tw.width)),
            param_bits=len(self.scale) * (tw.width + self.types["bias"].width),
        )


# ---------------------------------------------------------------------------------------------------
def token_type(vocab: int) -> FixedType:
    """The unsigned integer type of token ids below ``vocab``: ap_uint<ceil(log2 vocab)> (at least 1 bit)."""
    bits = max(int(vocab - 1).bit_length(), 1)
    return FixedType(bits, bits, False, is_int=True)


@dataclass
class Embedding(Op):
    """Rows of a table picked by integer token ids: [T] ids -> [T, D]. The table is typed as the
    layer's ``weight``; an id outside the vocabulary gives a row of zeros."""

    kind: ClassVar[str] = "embedding"
    table: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  #: float [V, D]
    qtypes: dict[str, FixedType] = field(default_factory=dict)
    table_raw: np.ndarray | None = None

    @property
    def vocab(self) -> int:
        return int(self.table.shape[0])

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        tx = self.in_type(graph)
        if tx.frac != 0 or tx.signed:
            raise ValueError(
                f"{_where(self)}: token ids need an unsigned integer type (e.g. {token_type(self.vocab)}), got {tx}"
            )
        super().assign_types(graph, resolve)
        tw = resolve.slot(self, "weight")
        self.table_raw = to_raw(np.asarray(self.table, np.float64), tw)
        self.types.update(x=tx, weight=tw, y=self.out_type(graph))

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        ids = np.rint(x).astype(np.int64)
        ok = (ids >= 0) & (ids < self.vocab)
        rows = self.table[np.where(ok, ids, 0)]
        return (np.where(ok[..., None], rows, 0.0),)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        ids = np.asarray(x).astype(np.int64)
        ok = ids < self.vocab
        y = convert(np.asarray(self.table_raw)[np.where(ok, ids, 0)], self.types["weight"], self.types["y"])
        return (np.where(ok[..., None], y, 0),)

    def cost(self, graph: Graph) -> Cost:
        bits = self.table.size * self.types["weight"].width
        return Cost(latency_cycles=2, bram18=bram18_for_bits(bits), param_bits=bits, rom_depth=self.vocab)


__all__ = [
    "MAX_TRANSPOSE_RANK",
    "BatchNorm",
    "Binary",
    "BinaryKind",
    "Concat",
    "Constant",
    "Embedding",
    "GlobalMaxPool",
    "Slice",
    "Transpose",
    "broadcast_2d",
    "broadcast_shape",
    "token_type",
]
