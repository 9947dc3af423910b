"""Dense layers, element-wise activations, residual adds, pooling and reshapes."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...config import Multiplier
from ...fixed import FixedType, add, convert, linalg, mul, to_raw
from ...fixed.arith import convert_float
from ...fixed.cmm import AdderGraph, optimise, prefers_luts
from ...memory import bram18_for_bits
from .base import Cost, Op

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver


def exact_accumulator(bound_raw: int, frac: int) -> FixedType:
    """A signed type holding every partial sum up to ``bound_raw`` (raw units of 2^-frac) exactly."""
    i_bits = max(int(bound_raw).bit_length(), 1) + 1  # + sign
    return FixedType(i_bits, i_bits - frac, True)


def scale_constant(value: float, bits: int = 18) -> tuple[int, int]:
    """``value`` (0 < value < 1) as raw integer and fractional bits: exact for powers of two, else rounded."""
    m, e = math.frexp(value)
    if m == 0.5:  # a power of two: an exact shift
        return 1, 1 - e
    frac = bits
    return int(round(value * (1 << frac))), frac


# ---------------------------------------------------------------------------------------------------
@dataclass
class Linear(Op):
    """y = x W + b over the last axis, for any number of leading rows (Dense, QDense, projections).

    The accumulator is exact by construction: wide enough for every partial sum with the actual
    weights, fractional bits of x*w and b. The only rounding is the final cast to the output type.
    """

    kind: ClassVar[str] = "linear"
    kernel: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  #: float [n_in, n_out]
    bias: np.ndarray | None = None  #: float [n_out] or None
    role: str = "result"  #: config field of the output (query/key/value/context/result)
    qtypes: dict[str, FixedType] = field(default_factory=dict)  #: types fixed by QKeras quantizers
    w_raw: np.ndarray | None = None
    b_raw: np.ndarray | None = None
    w_shift: np.ndarray | None = None  #: per-output-channel po2 scale of QKeras auto_po2 weights
    #: how the products by the constant weights are bound under the latency strategy: lut or dsp (the
    #: layer's ``multiplier``, ``auto`` resolved once at typing by :func:`hlsgen.fixed.cmm.prefers_luts`,
    #: which every backend then reads); None under the resource strategy (the backend decides)
    binding: Multiplier | None = None
    #: a ``strategy: latency`` layer of a resource model: an unrolled engine (a row a cycle) inside the
    #: row-streaming RTL (:mod:`hlsgen.backends.rtl.render_latency`); False under either global strategy
    engine: bool = False

    @property
    def n_in(self) -> int:
        return int(self.kernel.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.kernel.shape[1])

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        tx = self.in_type(graph)
        tw = resolve.slot(self, "weight")
        self.w_raw = to_raw(self.kernel, tw)
        fb = tw.frac + tx.frac
        bound = int(np.abs(self.w_raw).sum(axis=0).max(initial=0)) * max(abs(tx.raw_min), abs(tx.raw_max))
        if self.bias is not None:
            tb = resolve.slot(self, "bias")
            self.b_raw = to_raw(self.bias, tb)
            fb = max(fb, tb.frac)
            bound = (bound << (fb - tw.frac - tx.frac)) + (
                int(np.abs(self.b_raw).max(initial=0)) << (fb - tb.frac)
            )
            self.types["bias"] = tb
        else:
            bound <<= fb - tw.frac - tx.frac
        self.types["weight"] = tw
        self.types["accum"] = exact_accumulator(bound, fb)
        self.types["x"] = tx
        self.reuse_factor = resolve.reuse(self)
        self.binding = resolve.binding(self)
        if self.binding is Multiplier.AUTO:  # the cost model decides once, here; the backends read it
            self.binding = Multiplier.LUT if prefers_luts(self.adder_graph()) else Multiplier.DSP
        self.engine = resolve.engine(self)
        super().assign_types(graph, resolve)
        self.types["y"] = self.out_type(graph)

    def bindings(self) -> tuple[Multiplier, ...]:
        return (self.binding,) if self.binding is not None else ()

    def adder_graph(self, max_cse_depth: int = 3) -> AdderGraph:
        """The shift-add graph of the constant products ``x W`` (:func:`hlsgen.fixed.cmm.optimise` over the
        input type's range), computed once per weights, input type and depth bound (cached on the op)."""
        tx = self.types["x"]
        cached = getattr(self, "_cmm", None)
        if cached is not None and cached[0] is self.w_raw and cached[1:3] == (tx, max_cse_depth):
            return cached[3]
        w = np.asarray(self.w_raw, dtype=object)
        graph = optimise(w, [tx.raw_min] * self.n_in, [tx.raw_max] * self.n_in, max_cse_depth=max_cse_depth)
        self._cmm = (self.w_raw, tx, max_cse_depth, graph)
        return graph

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        y = x @ self.kernel
        if self.bias is not None:
            y = y + self.bias
        return (y,)

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """The exact accumulator values (raw, in ``types['accum']``) for raw inputs ``x``."""
        tx, tw, ta = self.types["x"], self.types["weight"], self.types["accum"]
        acc = linalg.matmul(x, self.w_raw)
        acc = linalg.shift_left(acc, ta.frac - tw.frac - tx.frac)
        if self.b_raw is not None:
            tb = self.types["bias"]
            acc = acc + linalg.shift_left(self.b_raw, ta.frac - tb.frac)
        return acc

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        y = self._execute_float(x)
        if y is None:
            y = convert(self.accumulate(x), self.types["accum"], self.types["y"])
        return (y,)

    def _execute_float(self, x: np.ndarray) -> np.ndarray | None:
        """``execute`` in float64 where it is exact (None elsewhere): one BLAS product with the weights
        shifted to the accumulator's LSB, the bias added, the cast rounded in float64."""
        params = self._float_params()
        r = None if params is None else linalg.matmul_float(x, params[0])
        if r is None:
            return None
        acc, bits = r
        _, b, b_bits = params
        if b is not None:
            bits = max(bits, b_bits) + 1
            if bits > 53:  # the sum could round
                return None
            acc += b
        return convert_float(acc, self.types["accum"], self.types["y"], bits, overwrite=True)

    def _float_params(self) -> tuple[np.ndarray, np.ndarray | None, int] | None:
        """Raw weights shifted to the accumulator's LSB (int64), the bias likewise in float64 (None
        without one) and its magnitude bits; None where they need more than 53 bits. Cached."""
        key = (self.w_raw, self.b_raw, *(self.types.get(k) for k in ("x", "weight", "accum", "bias")))
        cached = getattr(self, "_shifted", None)
        if cached is not None and all(a is b for a, b in zip(cached[0], key, strict=True)):
            return cached[1]
        tx, tw, ta = self.types["x"], self.types["weight"], self.types["accum"]
        w = linalg.shift_left(np.asarray(self.w_raw), ta.frac - tw.frac - tx.frac)
        b, b_bits = None, 0
        if self.b_raw is not None:
            bi = linalg.shift_left(np.asarray(self.b_raw), ta.frac - self.types["bias"].frac)
            b_bits = linalg.bound_bits(bi, np.ones(1, dtype=np.int64), 1)
            b = bi.astype(np.float64) if b_bits <= 53 else None
        params = None if w.dtype == object or b_bits > 53 else (w, b, b_bits)
        self._shifted = (key, params)
        return params

    def multipliers(self, rows: int) -> int:
        macs = self.n_in * self.n_out
        return max(1, -(-macs // self.reuse_factor))

    def cost(self, graph: Graph) -> Cost:
        rows = graph.tensors[self.inputs[0]].size // self.n_in
        macs = rows * self.n_in * self.n_out
        n_mult = self.multipliers(rows)
        tx, tw, ta, ty = (self.types[k] for k in ("x", "weight", "accum", "y"))
        bias_bits = self.n_out * self.types["bias"].width if "bias" in self.types else 0
        return Cost(
            macs=macs,
            multipliers=n_mult,
            latency_cycles=rows * self.reuse_factor + 2,
            lut=n_mult * ta.width,  # one accumulator adder per multiplier
            mult_widths=(max(tx.width, tw.width), min(tx.width, tw.width)),
            param_bits=self.n_in * self.n_out * tw.width + bias_bits,
            rom_depth=-(-(self.n_in * self.n_out) // n_mult),  # weights reshaped by n_mult
            ff=n_mult * (tx.width + tw.width) + rows * self.n_out * ty.width,
        )


# ---------------------------------------------------------------------------------------------------
class ActivationKind(enum.StrEnum):
    """Element-wise activations."""

    LINEAR = "linear"  #: a cast to the output type
    RELU = "relu"  #: max(x, 0) then a cast
    TABLE = "table"  #: any other function, through a table addressed by the input's top bits


_TABLE_FUNCS = {
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    "swish": lambda x: x / (1.0 + np.exp(-x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "exponential": np.exp,
}


def is_table_function(function: str) -> bool:
    """Whether an Activation of ``function`` reads a table (everything but linear and relu)."""
    return function in _TABLE_FUNCS


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


@dataclass
class Activation(Op):
    """Element-wise activation. Tables cover the input type's whole range, addressed by its top bits."""

    kind: ClassVar[str] = "activation"
    function: str = "linear"  #: linear, relu, or a table function (tanh, sigmoid, gelu, ...)
    table_bits: int = 10  #: address bits of the table (at most the input width)
    table_type: str = ""  #: type of table entries ("" = the output type)
    qtypes: dict[str, FixedType] = field(default_factory=dict)
    table_raw: np.ndarray | None = None

    @property
    def act_kind(self) -> ActivationKind:
        if self.function in ("linear", "relu"):
            return ActivationKind(self.function)
        if self.function not in _TABLE_FUNCS:
            raise ValueError(f"layer {self.origin or self.name}: unsupported activation {self.function!r}")
        return ActivationKind.TABLE

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        k = self.act_kind
        if k is ActivationKind.LINEAR:
            return (x,)
        if k is ActivationKind.RELU:
            return (np.maximum(x, 0.0),)
        return (_TABLE_FUNCS[self.function](x),)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        tx, ty = self.in_type(graph), self.out_type(graph)
        self.types.update(x=tx, y=ty)
        if self.act_kind is ActivationKind.TABLE:
            producer = graph.producer(self.inputs[0])
            if isinstance(producer, TableInput):  # the address type is the table's: its settings
                cfg = resolve.activation(self)
                self.table_bits = cfg.table_bits
                self.table_type = self.table_type or cfg.table_type
            bits = min(self.table_bits, tx.width)
            self.table_bits = bits
            # entry k covers the input codes whose top `bits` bits (offset binary) equal k; use the
            # value at the centre of that bucket
            shift = tx.width - bits
            codes = (np.arange(1 << bits, dtype=np.int64) << shift) + tx.raw_min
            centre = codes.astype(np.float64) + (((1 << shift) - 1) / 2.0)
            xs = np.ldexp(centre, -tx.frac)
            tt = FixedType.parse(self.table_type) if self.table_type else ty
            self.types["table"] = tt
            self.table_raw = to_raw(np.clip(_TABLE_FUNCS[self.function](xs), tt.min, tt.max), tt)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        tx, ty = self.types["x"], self.types["y"]
        k = self.act_kind
        if k is ActivationKind.LINEAR:
            return (convert(x, tx, ty),)
        if k is ActivationKind.RELU:
            return (convert(np.where(x > 0, x, 0), tx, ty),)
        idx = (x - tx.raw_min) >> (tx.width - self.table_bits)
        return (convert(self.table_raw[idx], self.types["table"], ty),)

    def cost(self, graph: Graph) -> Cost:
        n = graph.tensors[self.inputs[0]].size
        bram = (
            0 if self.table_raw is None else bram18_for_bits(self.table_raw.size * self.types["table"].width)
        )
        return Cost(latency_cycles=1, bram18=bram, lut=n)


# ---------------------------------------------------------------------------------------------------
@dataclass
class TableInput(Activation):
    """The saturating cast in front of a table activation, to the table's address type
    (:class:`~hlsgen.config.ActivationConfig`): ``table_bits`` bits over the range that calibration
    (or ``range_bits``) says matters, so the table does not spread over the input type's whole range.
    Rendered as a plain cast by every backend."""

    function: str = "linear"

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        tx = self.in_type(graph)
        ta = resolve.table_address(self, graph.tensors[self.outputs[0]], tx)
        graph.tensors[self.outputs[0]].type = ta
        self.types.update(x=tx, y=ta)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Add(Op):
    """Element-wise sum of two tensors of the same shape (residual connections)."""

    kind: ClassVar[str] = "add"

    def forward_float(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray]:
        return (a + b,)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        self.types.update(a=self.in_type(graph, 0), b=self.in_type(graph, 1), y=self.out_type(graph))

    def execute(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray]:
        s, ts = add(a, self.types["a"], b, self.types["b"])
        return (convert(s, ts, self.types["y"]),)

    def cost(self, graph: Graph) -> Cost:
        return Cost(latency_cycles=1, lut=graph.tensors[self.inputs[0]].size * 16)


# ---------------------------------------------------------------------------------------------------
@dataclass
class GlobalAvgPool(Op):
    """Mean over the token axis of [T, D]: an exact sum, then a multiplication by 1/T (a shift when T is
    a power of two, else a rounded 18-bit constant)."""

    kind: ClassVar[str] = "global_avg_pool"
    scale_bits: int = 18
    c_raw: int = 0
    c_frac: int = 0

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (x.mean(axis=-2),)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        t, d = graph.tensors[self.inputs[0]].shape[-2:]
        tx = self.in_type(graph)
        c_raw, c_frac = scale_constant(1.0 / t, self.scale_bits)
        self.types.update(x=tx, y=self.out_type(graph))
        sum_i = tx.integer + max(int(t - 1).bit_length(), 0) + (0 if tx.signed else 1)
        self.types["sum"] = FixedType(sum_i + tx.frac, sum_i, True)
        self.types["scale"] = FixedType(
            max(c_raw.bit_length(), 1), max(c_raw.bit_length(), 1) - c_frac, False
        )
        self.c_raw = c_raw
        self.c_frac = c_frac

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        s = x.sum(axis=-2)
        p, tp = mul(s, self.types["sum"], np.int64(self.c_raw), self.types["scale"])
        return (convert(p, tp, self.types["y"]),)

    def cost(self, graph: Graph) -> Cost:
        t, d = graph.tensors[self.inputs[0]].shape[-2:]
        ts, tc = self.types["sum"], self.types["scale"]
        return Cost(
            macs=d,
            multipliers=d,
            latency_cycles=int(math.ceil(math.log2(max(t, 2)))) + 2,
            lut=t * d * ts.width,  # the adder tree over the tokens
            mult_widths=(max(ts.width, tc.width), min(ts.width, tc.width)),
            ff=d * (ts.width + self.types["y"].width),
        )


# ---------------------------------------------------------------------------------------------------
@dataclass
class Reshape(Op):
    """A new shape over the same row-major data (Flatten, Reshape); a cast when the types differ."""

    kind: ClassVar[str] = "reshape"
    out_shape: tuple[int, ...] = ()  #: per-sample output shape

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (x.reshape(x.shape[0], *self.out_shape),)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        graph.tensors[self.outputs[0]].type = self.in_type(graph)
        self.types.update(x=self.in_type(graph), y=self.in_type(graph))

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        return (x.reshape(x.shape[0], *self.out_shape),)


__all__ = [
    "Activation",
    "ActivationKind",
    "Add",
    "GlobalAvgPool",
    "Linear",
    "Reshape",
    "TableInput",
    "exact_accumulator",
    "scale_constant",
]
