"""The latency strategy of a Linear op in RTL: fully unrolled and pipelined at II = 1.

A whole sample (every row of the op's input, each of ``n_in`` values) enters in one wide beat and a new
sample may enter every cycle. Each row goes through its own copy of the op's constant products:

- ``multiplier = lut``: the adder graph of :func:`hlsgen.fixed.cmm.optimise` (shifts and adds, no DSP;
  zero weights and zero digits cost nothing);
- ``multiplier = dsp``: one ``*`` by a constant per non-zero weight (DSP48E2 where the synthesis tool
  maps it) and an adder tree per output;

then the bias (shifted to the accumulator's LSB, as :meth:`hlsgen.ir.ops.Linear.accumulate` adds it)
and the cast to the output type (:func:`plan_cast`: ``hlsgen_fastcast`` or ``hlsgen_cast``,
templates/rtl/lib, given the accumulator's exact range), exactly as the op's reference
(:meth:`Linear.execute`) casts its exact accumulator. Every value is a signed integer at the width of
its exact range, so the arithmetic modulo 2^width is exact.

Pipeline registers are placed by a delay budget: each value gets a delay estimate from the per-cell
delays of :mod:`hlsgen.backends.rtl.logic_depth` (a ripple adder is a LUT into a carry chain), and the
values are scheduled as soon as possible into stages whose register-to-register delay stays within the
clock period. The input is registered on entry (rank 1), every stage boundary is a register rank, and
the outputs are registered on exit, so the latency is ``stages + 1`` cycles from the input port to the
output port, and the co-simulation measures exactly that.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...config import Multiplier
from ...fixed import FixedType, Overflow, Rounding, convert
from ...fixed.cmm import LUT_PER_DSP, AdderGraph, bits_for, prefers_luts
from .casts import FAST_MODE_CODE, cast_params, check_cast, rounding
from .logic_depth import DELAYS, NET

if TYPE_CHECKING:
    from ...config import Config
    from ...ir.ops.base import Op
    from .split import Part


def adder_delay(width: int) -> float:
    """Estimated ns through a ``width``-bit ripple adder: one LUT per bit into a carry chain of CARRY4
    cells (what Yosys ``synth_xilinx`` maps adders to, also for UltraScale+), 4 bits a cell."""
    chain = max(math.ceil(width / 4) - 1, 0)
    return NET + DELAYS["lut"] + NET + DELAYS["carry_in"] + chain * DELAYS["carry_chain"]


def multiplier_delay() -> float:
    """Estimated ns through an unregistered DSP48E2 product (a constant operand)."""
    return NET + DELAYS["dsp_mult"] + DELAYS["dsp_alu"]


def cast_delay(src: FixedType, dst: FixedType) -> float:
    """Estimated ns through hlsgen_cast: the rounding increment (an adder) and the range comparison
    with its output mux (a carry chain and a LUT) where the types need them."""
    d = 0.0
    if src.frac > dst.frac and rounding(dst).value not in ("AP_TRN",):
        d += adder_delay(dst.width + 2)
    if dst.overflow is not Overflow.WRAP or dst.sat_bits:
        d += adder_delay(src.width + 2) + NET + DELAYS["lut"]
    return d


class CastImpl(StrEnum):
    """The module a cast of the latency strategy is built with."""

    FAST = "fast"  #: hlsgen_fastcast: overflow found in parallel with the rounding (signed source)
    FULL = "full"  #: hlsgen_cast: every overflow mode (AP_SAT_SYM, AP_WRAP_SM, saturation bits)


#: registers in a row that Yosys ``synth_xilinx`` maps to a shift register (its ``shregmap``: the
#: 4-particle attention netlist had SRL16E of depth 3, 12 and 13, 1.0 ns clock-to-out);
#: :meth:`Unrolled.tapped` keeps the register at the end of such a line a flip-flop
SRL_MIN = 3

#: the library modules a pipeline's casts instantiate (templates/rtl/lib), in compile order
CAST_MODULES = ("hlsgen_roundinc.sv", "hlsgen_cast.sv", "hlsgen_fastcast.sv")


def _levels(inputs: int) -> int:
    """LUT6 levels of a reduction (AND / OR / a pattern match) over ``inputs`` bits."""
    n, lv = max(inputs, 1), 1
    while n > 6:
        n, lv = math.ceil(n / 6), lv + 1
    return lv


@dataclass(frozen=True)
class CastPlan:
    """How one cast of a signed value is built, from the exact range of its input.

    Attributes:
        impl: the module (:class:`CastImpl`).
        width: input bits the cast reads (those of the input's exact range: the rest are sign copies).
        rounds: a rounding increment is built (bits are dropped and the mode is not AP_TRN).
        checks: overflow logic is built (the rounded range leaves the output type and the mode is not
            AP_WRAP); False when range analysis proves the overflow cannot happen.
        delay: estimated ns from the input to the output.
        luts: estimated LUTs.
    """

    impl: CastImpl
    width: int
    rounds: bool
    checks: bool
    delay: float
    luts: int


@functools.lru_cache(maxsize=4096)
def plan_cast(src: FixedType, dst: FixedType, lo: int | None = None, hi: int | None = None) -> CastPlan:
    """The cast of a signed raw value of type ``src`` within ``[lo, hi]`` (default: ``src``'s range) to
    ``dst``, as :func:`hlsgen.fixed.convert` computes it.

    The rounded range (rounding is monotone: ``convert`` of the ends into a type wide enough to hold them)
    decides whether overflow logic is needed at all; without it the cast is the rounding increment alone
    (or wires). With it, :data:`FAST_MODE_CODE` are built by hlsgen_fastcast, whose delay is the slower of the
    incrementer and the overflow's LUT reductions, then one LUT level; the other modes by hlsgen_cast
    (:func:`cast_delay`).
    """
    lo = src.raw_min if lo is None else lo
    hi = src.raw_max if hi is None else hi
    iw = min(bits_for(lo, hi), src.width)
    rs, ls = max(src.frac - dst.frac, 0), max(dst.frac - src.frac, 0)
    wide = iw + ls + 2
    probe = FixedType(wide, wide - dst.frac, True, rounding(dst), Overflow.WRAP)
    rlo, rhi = (int(v) for v in np.asarray(convert(np.array([lo, hi], dtype=object), src, probe)))
    fits = dst.raw_min <= rlo and rhi <= dst.raw_max
    rnd = rounding(dst)
    rounds = rs > 0 and rnd is not Rounding.TRN
    checks = not fits and dst.overflow is not Overflow.WRAP
    lv = NET + DELAYS["lut"]
    if not fits and (dst.overflow not in FAST_MODE_CODE or dst.sat_bits):
        full_src = FixedType(iw, iw - src.frac, True)
        luts = dst.width + (iw if dst.overflow is not Overflow.WRAP or dst.sat_bits else 0)
        return CastPlan(CastImpl.FULL, iw, rounds, True, cast_delay(full_src, dst), luts)
    # the increment: qb alone for AP_RND; else a LUT function of qb, the OR of the bits below, the sign
    # and the floor's LSB
    inc_lv = 0 if not rounds or rnd is Rounding.RND else _levels(min(rs - 1, iw) + 3)
    path = inc_lv * lv + adder_delay(dst.width) if rounds else 0.0
    luts = dst.width if rounds else 0
    if checks:
        # reductions over the floor's distinct bits, a LUT level combining them with the increment
        # (over / under), the output mux: Yosys maps a 16-bit accumulator's cast to 8 bits in 4 levels
        floor_bits = max(iw - rs, 1)
        if rounds:
            path = max(path, (_levels(floor_bits) + 2 + inc_lv) * lv) + lv
        else:  # no increment: over / under read the sign and the bits above the output field only
            high = max(floor_bits + ls - dst.width + int(dst.signed), 1)
            path = (_levels(high + 1) + 1) * lv
        luts += dst.width + 2 * math.ceil(floor_bits / 5)
    return CastPlan(CastImpl.FAST, iw, rounds, checks, path, luts)


@dataclass(frozen=True)
class Value:
    """One value of the pipeline.

    Attributes:
        name: SystemVerilog name.
        kind: ``in`` (a slice of the input register), ``add``, ``mul``, ``acc`` (shift, sign and bias
            into the accumulator), ``cast`` (to the output type, :func:`plan_cast`), ``expr`` (any expression
            of its operands, :meth:`Unrolled.expr`).
        width: bits (signed, except the cast's output, which has the output type's bits).
        args: operand indices into :attr:`Unrolled.values`.
        delay: estimated ns from its operands to it.
        stage: pipeline stage it is computed in (1 = from the input register).
        attrs: what the template needs (shifts, subtract, constants, cast parameters).
    """

    name: str
    kind: str
    width: int
    args: tuple[int, ...]
    delay: float
    stage: int = 0
    attrs: tuple[tuple[str, object], ...] = ()

    def attr(self, key: str) -> object:
        return dict(self.attrs)[key]

    def get(self, key: str, default: object = None) -> object:
        """Attribute ``key``, or ``default`` when the value has none."""
        return dict(self.attrs).get(key, default)


@dataclass(frozen=True)
class Unrolled:
    """A scheduled, fully unrolled Linear: what the template renders and the cost/latency estimate.

    Attributes:
        module: SystemVerilog module name.
        rows, n_in, n_out: rows of one sample and the op's widths.
        tx, ty: input and output types.
        multiplier: lut or dsp.
        clock_ns: the clock target the registers were placed for.
        values: every value, operands first.
        outputs: per (row, output): index of its cast value.
        stages: combinational stages (latency = stages + 1).
        graph: the adder graph of one row (lut) or None (dsp).
        adders, multipliers: per sample (all rows).
        lut_estimate: adders' LUTs plus the casts' (an estimate; Yosys counts).
        registers: pipeline flip-flops (bits), valid bits included.
        worst_stage_ns: the largest estimated register-to-register delay.
    """

    module: str
    rows: int
    n_in: int
    n_out: int
    tx: FixedType
    ty: FixedType
    multiplier: Multiplier
    clock_ns: float
    values: tuple[Value, ...]
    outputs: tuple[int, ...]
    stages: int
    graph: AdderGraph | None
    adders: int
    multipliers: int
    lut_estimate: int
    registers: int
    worst_stage_ns: float
    extra: dict[str, object] = field(default_factory=dict)
    enable: bool = False  #: a ``ce`` input: every register (valid bits too) holds while it is low
    header: tuple[str, ...] = ()  #: comment lines of the module (default: the Linear's description)
    #: ROM functions (name, address bits, entry width, signed entries) that ``rom`` values call
    tables: tuple[tuple[str, int, int, tuple[int, ...]], ...] = ()
    #: bits of ``in_data`` when it carries more than the rows x n_in x tx of one tensor (a latency core of
    #: several model inputs, packed one after the other); 0: ``rows * n_in * tx.width``
    in_bits: int = 0
    #: the width of out_data where the outputs are of several types (each output value at its own
    #: type's width, in order); 0: ``rows * n_out * ty.width``
    out_bits: int = 0

    @property
    def latency(self) -> int:
        """Cycles from a sample on the input port to its result on the output port."""
        return self.stages + 1

    @property
    def latency_ns(self) -> float:
        return self.latency * self.clock_ns

    @property
    def fmax_mhz(self) -> float:
        """Estimated clock rate (from the slowest stage)."""
        return 1000.0 / max(self.worst_stage_ns, 1e-3)

    @property
    def in_width(self) -> int:
        return self.in_bits or self.rows * self.n_in * self.tx.width

    @property
    def out_width(self) -> int:
        return self.out_bits or self.rows * self.n_out * self.ty.width

    def summary(self) -> dict[str, object]:
        return {
            "module": self.module,
            "multiplier": self.multiplier.value,
            "rows": self.rows,
            "n_in": self.n_in,
            "n_out": self.n_out,
            "adders": self.adders,
            "multipliers": self.multipliers,
            "lut_estimate": self.lut_estimate,
            "registers": self.registers,
            "stages": self.stages,
            "latency_cycles": self.latency,
            "clock_ns": self.clock_ns,
            "latency_ns": round(self.latency_ns, 2),
            "worst_stage_ns": round(self.worst_stage_ns, 2),
            "fmax_mhz_estimate": round(self.fmax_mhz),
        }

    def render(self, part: Part | None = None) -> str:
        """The SystemVerilog module (templates/rtl/unrolled_linear.sv.j2); with ``part``, the module of
        that range of stages alone (:mod:`hlsgen.backends.rtl.split`)."""
        from ..templating import environment, render

        if part is None:
            values = list(enumerate(self.values))
            regs = self.registers_of()
            tables = self.tables
        else:
            values = [(i, v) for i, v in enumerate(self.values) if part.first <= v.stage <= part.last]
            regs = [(n, s, w) for r, n, s, w in self.ranked_registers() if part.first < r <= part.last + 1]
            used = {v.attr("table") for _, v in values if v.kind == "rom"}
            tables = tuple(t for t in self.tables if t[0] in used)
        return render(
            environment(),
            "rtl/unrolled_linear.sv.j2",
            u=self,
            part=part,
            values=values,
            regs=regs,
            tables=tables,
            ref=self.ref,
            header=self.header_lines(),
            rom_trees=rom_trees,
        )

    def header_lines(self) -> list[str]:
        if self.header:
            return list(self.header)
        return [
            f"{self.module}: a Linear fully unrolled and pipelined at II = 1 (hlsgen.backends.rtl.unrolled).",
            f"{self.rows} row(s) x {self.n_in} inputs ({self.tx}) -> {self.n_out} outputs ({self.ty}) a sample, "
            "one sample a cycle.",
            f"Constant products: {self.multiplier.value}; {self.adders} adders, {self.multipliers} multipliers.",
        ]

    def ref(self, i: int, stage: int) -> str:
        """The name of value ``i`` as stage ``stage`` reads it (itself, or its register copy)."""
        v = self.values[i]
        return v.name if v.stage == stage else f"{v.name}_q{stage}"

    def expr(self, i: int, stage: int) -> str:
        """The SystemVerilog expression of an ``expr`` value: its attribute ``expr`` with ``@k`` standing
        for operand k as stage ``stage`` reads it."""
        v = self.values[i]
        text = str(v.attr("expr"))
        for k in reversed(range(len(v.args))):  # @10 before @1
            text = text.replace(f"@{k}", self.ref(v.args[k], stage))
        return text

    def tapped(self) -> set[str]:
        """Registers that logic reads at the end of a delay line of two or more registers: they get a
        synchronous reset (``rst``), so that synthesis keeps each a flip-flop (a shift register has no
        reset) and the stage that reads it starts at a flip-flop's clock-to-out, as the planner assumes.
        Yosys ``synth_xilinx`` otherwise maps delay lines of :data:`SRL_MIN` registers or more to SRL16E
        (the 4-particle attention netlist: depths 3, 12 and 13), 1.0 ns clock-to-out."""
        out = set()
        for v in self.values:
            for a in v.args:
                if v.stage - self.values[a].stage >= SRL_MIN - 1:
                    out.add(f"{self.values[a].name}_q{v.stage}")
        return out

    def kept(self) -> set[str]:
        """Sums (``add``, ``acc`` of a value) that another sum reads in the same stage: declared
        ``(* keep *)``, so that Yosys ``alumacc`` cannot merge the two into one multi-operand sum, which
        ``synth_xilinx`` maps to a chain of adders (the 4-particle attention netlist: the output
        projection's ``a - (b + c)`` as three chained carry chains where the plan has two adders)."""
        sums = ("add", "acc")
        out = set()
        for v in self.values:
            if v.kind in (*sums, "add0"):
                for a in v.args:
                    src = self.values[a]
                    if src.kind in sums and src.args and src.stage == v.stage:
                        out.add(src.name)
        return out

    def registers_of(self) -> list[tuple[str, str, int]]:
        """Every pipeline register: (name, source, width), value by value."""
        return [(n, s, w) for _, n, s, w in self.ranked_registers()]

    def ranked_registers(self) -> list[tuple[int, str, str, int]]:
        """Every pipeline register with its rank (rank r feeds stage r; the outputs' last rank is
        ``stages + 1``): (rank, name, source, width), value by value (the order of the module's text)."""
        last: dict[int, int] = {}
        for v in self.values:
            for a in v.args:
                last[a] = max(last.get(a, 0), v.stage)
        for o in self.outputs:
            last[o] = self.stages + 1
        regs = []
        for i, v in enumerate(self.values):
            for r in range(v.stage + 1, last.get(i, v.stage) + 1):
                src = v.name if r == v.stage + 1 else f"{v.name}_q{r - 1}"
                regs.append((r, f"{v.name}_q{r}", src, v.width))
        return regs


def rom_trees(entries: tuple[int, ...], width: int, bits: int) -> list[str]:
    """Each bit of a ROM's ``width``-bit two's complement entries (addresses past the entries read 0) as
    a mux tree over the address ``a``, most significant bit first (index ``width - 1`` first): ``a[k] ?
    hi : lo`` down to constants, a subtree whose entries agree being its constant. Synthesis folds the
    constant leaves into the address bits; a constant vector indexed by the address (``vec[a]``) is a
    ``$shiftx`` that Yosys first expands into a full barrel shifter, 2^bits cells a level, which ran
    yowasp's 4 GiB out at 256 exponential ROMs of 16 particles."""
    out = []
    n = 1 << bits
    for b in range(width - 1, -1, -1):
        col = [((int(entries[k]) >> b) & 1) if k < len(entries) else 0 for k in range(n)]

        def tree(lo: int, size: int, col: list[int] = col) -> str:
            seg = col[lo : lo + size]
            if all(v == seg[0] for v in seg):
                return f"1'b{seg[0]}"
            half = size // 2
            k = half.bit_length() - 1
            return f"(a[{k}] ? {tree(lo + half, half)} : {tree(lo, half)})"

        out.append(tree(0, n))
    return out


def _weights(op: Op) -> tuple[np.ndarray, np.ndarray | None]:
    if int(getattr(op, "blocks", 1)) > 1:
        raise NotImplementedError(
            f"{op.kind} '{op.name}': the latency strategy has no block-diagonal linear yet; "
            "use the default (resource) strategy for this layer"
        )
    w = np.asarray(op.w_raw, dtype=object).astype(object)
    b = None if op.b_raw is None else np.asarray(op.b_raw, dtype=object)
    return w, b


def choose_multiplier(op: Op, graph: AdderGraph | None = None) -> Multiplier:
    """``lut`` when the adder graph's LUT estimate is below :data:`LUT_PER_DSP` per DSP it saves (what
    :meth:`Linear.assign_types <hlsgen.ir.ops.Linear.assign_types>` sets ``binding`` to for ``auto``)."""
    _weights(op)
    if graph is None:
        graph = op.adder_graph()
    return Multiplier.LUT if prefers_luts(graph) else Multiplier.DSP


class Net:
    """Values scheduled as soon as possible into pipeline stages of at most ``clock_ns`` each.

    A value goes into the latest stage of its operands, or the next one when it does not fit behind
    them in the delay budget; a value read in a later stage is carried there by registers
    (:meth:`Unrolled.registers_of`), so parallel branches are delay-matched by construction.
    """

    def __init__(self, clock_ns: float, where: str) -> None:
        if clock_ns <= 0:
            raise ValueError(f"{where}: clock period must be positive, got {clock_ns} ns")
        self.clock_ns = clock_ns
        self.budget = clock_ns - DELAYS["setup"]
        self.values: list[Value] = []
        self.arrival: list[float] = []
        self.worst = 0.0
        self.adders = self.multipliers = self.lut = 0
        self.tables: list[tuple[str, int, int, tuple[int, ...]]] = []

    def place(
        self, name: str, kind: str, width: int, args: tuple[int, ...], delay: float, **attrs: object
    ) -> int:
        tco = DELAYS["ff_tco"]
        s = max((self.values[a].stage for a in args), default=1)
        t = max((self.arrival[a] for a in args if self.values[a].stage == s), default=tco)
        t = max(t, tco)
        if t + delay > self.budget and t > tco:  # does not fit behind its operands: start a new stage
            s, t = s + 1, tco
        t += delay
        self.worst = max(self.worst, t + DELAYS["setup"])
        self.values.append(Value(name, kind, width, args, delay, s, tuple(attrs.items())))
        self.arrival.append(t)
        return len(self.values) - 1

    def adder_graph(self, graph: AdderGraph, inputs: list[int], prefix: str) -> list[int]:
        """Place the shift-add nodes of ``graph`` (constant products, :func:`~hlsgen.fixed.cmm.optimise`)
        over ``inputs``, named ``prefix`` + index; returns the inputs then every node's value (the ids a
        node's ``a`` / ``b`` and an output term's ``var`` index), counting adders and LUTs."""
        ids = list(inputs)
        for k, n in enumerate(graph.nodes):
            ids.append(
                self.place(
                    f"{prefix}{k}",
                    "add",
                    n.width,
                    (ids[n.a], ids[n.b]),
                    adder_delay(n.width),
                    sha=n.sha,
                    shb=n.shb,
                    sub=int(n.sub),
                )
            )
        self.adders += len(graph.nodes)
        self.lut += sum(n.lut for n in graph.nodes)
        return ids

    def cast(
        self,
        name: str,
        arg: int,
        src_frac: int,
        dst: FixedType,
        where: str,
        lo: int | None = None,
        hi: int | None = None,
    ) -> int:
        """The cast of the signed value ``arg`` (``src_frac`` fractional bits; its exact range ``[lo, hi]``
        when the caller knows it, else its width's) to ``dst``, as :func:`plan_cast` builds it."""
        w = self.values[arg].width
        src = FixedType(w, w - src_frac, True)
        check_cast(src, dst, where)
        if lo is not None and hi is not None and bits_for(lo, hi) > w:
            lo = hi = None  # a value narrower than the range wraps: its range is its width's
        cp = plan_cast(src, dst, lo, hi)
        self.lut += cp.luts
        return self.place(
            name,
            "cast",
            dst.width,
            (arg,),
            cp.delay,
            **cast_params("Y", dst),
            IW=cp.width,
            IF=src_frac,
            impl=cp.impl.value,
            MODE=FAST_MODE_CODE.get(dst.overflow, 0),
            CHK=int(cp.checks),
        )


def emit_linear(
    net: Net, op: Op, ins: list[list[int]], multiplier: Multiplier, graph: AdderGraph | None, prefix: str = ""
) -> list[int]:
    """The values of ``op`` on the rows ``ins`` (each ``n_in`` signed values in the range of the op's input
    type): one copy of the constant products a row, then bias and cast; returns the casts, row-major."""
    tx, tw, ta, ty = (op.types[k] for k in ("x", "weight", "accum", "y"))
    where = f"linear '{op.name}'"
    w, b = _weights(op)
    psh = ta.frac - tw.frac - tx.frac
    bsh = ta.frac - op.types["bias"].frac if b is not None else 0
    place = net.place
    values = net.values
    outputs: list[int] = []
    acc_w = ta.width
    rs = ta.frac - ty.frac
    for r, row in enumerate(ins):
        cols: list[tuple[int, int, int] | None] = []  # (value, shift, sign) of each column's sum
        span: list[tuple[int, int]] = []  # the exact range of each column's value (before shift and sign)
        if graph is not None:
            ids = net.adder_graph(graph, row, f"{prefix}n{r}_")
            n0 = len(row)
            for t in graph.outputs:
                cols.append(None if t is None else (ids[t.var], t.shift, t.sign))
                if t is None:
                    span.append((0, 0))
                elif t.var < n0:
                    span.append((graph.in_lo[t.var], graph.in_hi[t.var]))
                else:
                    node = graph.nodes[t.var - n0]
                    span.append((node.lo, node.hi))
        else:
            for j in range(op.n_out):
                terms: list[tuple[int, int, int]] = []  # (value, range lo, range hi)
                for i in range(op.n_in):
                    c = int(w[i, j])
                    if c == 0:
                        continue
                    plo, phi = sorted((c * tx.raw_min, c * tx.raw_max))
                    pw = bits_for(plo, phi)
                    if c & (c - 1) == 0 and c > 0:  # a power of two: a shift, no multiplier
                        p = place(f"{prefix}p{r}_{i}_{j}", "add0", pw, (row[i],), 0.0, sh=c.bit_length() - 1)
                    else:
                        p = place(f"{prefix}p{r}_{i}_{j}", "mul", pw, (row[i],), multiplier_delay(), c=c)
                        net.multipliers += 1
                    terms.append((p, plo, phi))
                while len(terms) > 1:  # balanced tree, earliest first
                    terms.sort(key=lambda q: (values[q[0]].stage, net.arrival[q[0]]))
                    (a, alo, ahi), (bb, blo, bhi) = terms.pop(0), terms.pop(0)
                    slo, shi = alo + blo, ahi + bhi
                    sw = bits_for(slo, shi)
                    s = place(
                        f"{prefix}s{r}_{j}_{len(values)}",
                        "add",
                        sw,
                        (a, bb),
                        adder_delay(sw),
                        sha=0,
                        shb=0,
                        sub=0,
                    )
                    net.adders += 1
                    net.lut += sw
                    terms.append((s, slo, shi))
                cols.append((terms[0][0], 0, 1) if terms else None)
                span.append((terms[0][1], terms[0][2]) if terms else (0, 0))
        for j, col in enumerate(cols):
            bias = 0 if b is None else int(b[j]) << bsh
            args = () if col is None else (col[0],)
            work = col is not None and (col[2] < 0 or bias != 0)
            lo, hi = 0, 0
            if col is not None:
                ends = [(v << (col[1] + psh)) * col[2] for v in span[j]]
                lo, hi = min(ends), max(ends)
            lo, hi = lo + bias, hi + bias
            # AP_RND folded into the accumulator's adder: floor((acc + half) / 2^rs) is the rounded value,
            # so the cast truncates (no increment, no round-up overflow to detect)
            exact = bits_for(lo, hi) <= acc_w  # the accumulator never wraps: its exact range's width
            width, ty_c = bits_for(lo, hi) if exact else acc_w, ty
            if col is not None and rs > 0 and rounding(ty) is Rounding.RND and exact:
                half = 1 << (rs - 1)
                bias, lo, hi = bias + half, lo + half, hi + half
                width = bits_for(lo, hi)
                ty_c = dataclasses.replace(ty, rounding=Rounding.TRN)
                work = True
            acc = place(
                f"{prefix}acc{r}_{j}",
                "acc",
                width,
                args,
                adder_delay(width) if work else 0.0,
                sh=0 if col is None else col[1] + psh,
                neg=int(col is not None and col[2] < 0),
                bias=bias,
            )
            if work:
                net.adders += 1
                net.lut += width
            outputs.append(net.cast(f"{prefix}y{r}_{j}", acc, ta.frac, ty_c, where, lo, hi))
    return outputs


def linear_graph(
    op: Op, multiplier: Multiplier | str, max_cse_depth: int = 3
) -> tuple[Multiplier, AdderGraph | None]:
    """The multiplier ``op`` uses (``auto`` resolved) and its adder graph (None for ``dsp``): the op's own
    graph (:meth:`Linear.adder_graph <hlsgen.ir.ops.Linear.adder_graph>`, computed once per op)."""
    where = f"linear '{op.name}'"
    _weights(op)
    try:
        multiplier = Multiplier(multiplier)
    except ValueError:
        valid = ", ".join(repr(m.value) for m in Multiplier)
        raise ValueError(f"{where}: multiplier {multiplier!r} is not one of {valid}") from None
    graph = None
    if multiplier is not Multiplier.DSP:
        graph = op.adder_graph(max_cse_depth)
        if multiplier is Multiplier.AUTO:
            multiplier = choose_multiplier(op, graph)
            if multiplier is Multiplier.DSP:
                graph = None
    return multiplier, graph


def plan_linear(
    op: Op,
    rows: int = 1,
    clock_ns: float = 3.333,
    multiplier: Multiplier | str = Multiplier.LUT,
    module: str | None = None,
    max_cse_depth: int = 3,
) -> Unrolled:
    """Schedule the unrolled Linear ``op`` (typed; a Conv1D: its Linear over one window of ``n_in``
    values) for ``rows`` rows a sample at ``clock_ns``."""
    if op.kind not in ("linear", "conv1d", "exact_linear", "block_linear"):
        raise NotImplementedError(f"{op.kind} '{op.name}': the latency strategy renders linear ops only")
    where = f"linear '{op.name}'"
    net = Net(clock_ns, where)
    tx, ta, ty = (op.types[k] for k in ("x", "accum", "y"))
    check_cast(ta, ty, where)
    multiplier, graph = linear_graph(op, multiplier, max_cse_depth)
    xs = bits_for(tx.raw_min, tx.raw_max)
    ins = [
        [
            net.place(f"x{r}_{i}", "in", xs, (), 0.0, lsb=(r * op.n_in + i) * tx.width, signed=int(tx.signed))
            for i in range(op.n_in)
        ]
        for r in range(rows)
    ]
    outputs = emit_linear(net, op, ins, multiplier, graph)
    values = net.values
    stages = max(values[o].stage for o in outputs) if outputs else 1
    u = Unrolled(
        module=module or f"hlsgen_unrolled_{op.name}",
        rows=rows,
        n_in=op.n_in,
        n_out=op.n_out,
        tx=tx,
        ty=ty,
        multiplier=multiplier,
        clock_ns=clock_ns,
        values=tuple(values),
        outputs=tuple(outputs),
        stages=stages,
        graph=graph,
        adders=net.adders,
        multipliers=net.multipliers,
        lut_estimate=net.lut,
        registers=0,
        worst_stage_ns=net.worst,
    )
    regs = sum(wd for _, _, wd in u.registers_of()) + u.in_width + u.latency
    return _replace(u, registers=regs)


def plan_from_config(op: Op, config: Config, rows: int = 1) -> Unrolled:
    """:func:`plan_linear` with the layer's ``multiplier`` and the config's ``clock_period``."""
    from ...quant.resolver import TypeResolver

    return plan_linear(op, rows, config.clock_period, TypeResolver(config).multiplier(op))


def pack_rows(values: np.ndarray, width: int) -> list[int]:
    """Samples ``(n, ...)`` of raw integers as one word each: element k at bits ``[k*width +: width]``."""
    flat = np.asarray(values).reshape(len(values), -1)
    mask = (1 << width) - 1
    return [sum((int(v) & mask) << (k * width) for k, v in enumerate(row)) for row in flat]


def write_rtl(u: Unrolled, rtl_dir: str | Path) -> list[str]:
    """Write the module and the library module it instantiates; returns the sources in compile order."""
    from ...resources import resource_dir

    d = Path(rtl_dir)
    d.mkdir(parents=True, exist_ok=True)
    lib = resource_dir("templates") / "rtl" / "lib"
    for m in CAST_MODULES:
        (d / m).write_text((lib / m).read_text())
    (d / f"{u.module}.sv").write_text(u.render())
    return [*CAST_MODULES, f"{u.module}.sv"]


def _replace(u: Unrolled, **kw: object) -> Unrolled:
    import dataclasses

    return dataclasses.replace(u, **kw)  # type: ignore[arg-type]


__all__ = [
    "CAST_MODULES",
    "LUT_PER_DSP",
    "CastImpl",
    "CastPlan",
    "Multiplier",
    "Unrolled",
    "Value",
    "adder_delay",
    "cast_delay",
    "choose_multiplier",
    "multiplier_delay",
    "pack_rows",
    "plan_cast",
    "plan_from_config",
    "plan_linear",
    "write_rtl",
]
