"""The values the RTL renderers produce (:class:`Block`, :class:`Const`), the backend's settings
(:class:`RtlOptions`) and the helpers every renderer shares: packing constants, parallelism, row shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ...fixed import FixedType
from ...ir.ops.base import multipliers_for
from . import timing

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


@dataclass
class RtlOptions:
    """Settings of the RTL backend.

    Attributes:
        max_par: most multipliers (or lanes) one engine gets, whatever the reuse factor asks for
            (None = no limit). The reuse factor R of an op asks for MACs / R multipliers, as the HLS
            backend uses (a Linear: n_in * n_out / R, so that a row takes R cycles).
        par: per-op override of the multipliers (matrix engines) or lanes (softmax, layer norm), by IR
            op name; it wins over the reuse factor and ``max_par``.
        tree_levels: levels of the row reduction trees (sums, maxima over a row or over the lanes)
            between two registers: the pipeline depth knob of the long lanes (1: a register after
            every level; 0: unregistered trees, the shortest latency and the longest paths).
        clock_ns: the clock target (the config's ``clock_period``) that the registers of a per-layer
            ``strategy: latency`` engine (:mod:`.render_latency`) are placed for.
        ram_min_rows: rows of one sequence a lane of an attention row bank (the Q and K banks of
            hlsgen_scores, the V bank and output rows of hlsgen_context) must hold to be built as
            memories (hlsgen_ram: block RAM or LUTRAM, read one row a cycle per lane) rather than
            a register array read through multiplexers (None: register arrays always); likewise the
            values of a softmax row (its rows of exponentials between stages E and N, read one group
            of lanes a cycle). 32: at 16 rows
            (the 16 x 32 MHA block's Q bank and output rows) the memories cost Yosys 20 LUT and 194 FF
            more than the register arrays (a bank read one row a cycle is LUTRAM either way; the
            registered read adds its row register), and at 1-2 rows a lane (its K and V banks) there
            is nothing for RAM to hold. hlsgen_context takes the fewest keys per cycle (SIMD) at the
            same cycles and multipliers, in RAM or not: fewer, deeper memories, fewer read ports
            (see :func:`factor`).
        rom_bram_min_words: words a Linear's weight ROM must have to be put in block RAM (Yosys
            ``rom_style = "block"``) rather than LUTs (None: LUTs always). As logic a ROM costs about
            a LUT per bit per 64 words; 128: the 16 x 32 MHA block's projections at 4 and 8
            multipliers (256 x 32 and 128 x 64 bits: one and two RAMB18 each; at 4, Yosys: a
            projection 925 -> 378 LUT).
        caches_in_place: in a decode top, the scores and context engines read the K and V cache
            rows in place from the cache's memories (``design.link_caches``) rather than the cache
            streaming its L rows into their banks every step (False: the stream form everywhere).
    """

    max_par: int | None = 64
    par: dict[str, int] = field(default_factory=dict)
    tree_levels: int = 1
    clock_ns: float = 5.0
    ram_min_rows: int | None = 32
    rom_bram_min_words: int | None = 128
    caches_in_place: bool = True

    def ram_bank(self, rows: int) -> bool:
        """Whether a row bank whose lanes hold ``rows`` rows of a sequence is built as memories."""
        return self.ram_min_rows is not None and rows >= self.ram_min_rows


@dataclass
class Const:
    """A constant array of a block: a packed vector in the parameter package (small tables read by
    several lanes at once), or a ``$readmemh`` file (ROMs read one word a cycle).

    Attributes:
        name: SystemVerilog name (file ``<name>.mem`` for a ROM).
        bits: width of the packed vector, or of one ROM word.
        value: the packed vector (entry k at bits [k*W +: W]).
        words: the ROM words, one a line of the file (None for a packed vector).
    """

    name: str
    bits: int
    value: int = 0
    words: list[int] | None = None

    @property
    def is_file(self) -> bool:
        return self.words is not None

    @property
    def file_name(self) -> str:
        return f"{self.name}.mem"

    @property
    def literal(self) -> str:
        return f"{self.bits}'h{self.value:x}"

    def mem_text(self) -> str:
        """The ``$readmemh`` file: the banner as a comment, then one word a line, in hex."""
        from ..templating import banner

        assert self.words is not None
        digits = max(1, -(-self.bits // 4))
        return banner("//") + "\n" + "".join(f"{w:0{digits}x}\n" for w in self.words)


def rom(name: str, raw: np.ndarray, width: int, lanes: int) -> Const:
    """A ROM of ``raw.size / lanes`` words, word a = entries [a*lanes, (a+1)*lanes) packed (entry 0 in
    the LSBs)."""
    flat = np.asarray(raw).reshape(-1, lanes)
    return Const(name, lanes * width, words=[pack(row, width) for row in flat])


@dataclass
class Block:
    """One instance of a hand-written module, rendered for one op.

    Attributes:
        op: the IR op's name; ``kind`` its kind.
        module: the SystemVerilog module.
        params: parameter name -> integer, or the name of a :class:`Const` in the package.
        inputs: module port prefix -> tensor name (ports ``<prefix>_valid/_ready/_data``).
        output: tensor on the ``out`` port.
        model: the block's row-timing model.
        consts: constants in the package.
        multipliers: hardware multipliers of the block (what its DSP count should track).
        info: figures for reports (parallelism, cycles per row, ...).
        stream: (rows a sequence, values a row, type) of the output when it is no tensor of the graph (a
            stream between two blocks of one op, e.g. a Conv1D's window and its hlsgen_linear).
        sources: generated modules of the block (file name -> text, in compile order; ``module`` is the
            last), for a module that is no library module (a per-layer latency engine); empty otherwise.
        libs: library modules the generated ``sources`` instantiate.
        links: ports of the module besides its streams -> the top's signal (or a constant) on them: a
            side channel between two blocks (hlsgen_softmax's group port read by hlsgen_context).
        wires: signals of the top that this block's ``links`` drive or read, (name, bits), declared once
            (by the block that owns them).
        drives: the signals of ``links`` that this block drives (outputs of its module); it reads the
            others. Set where two blocks are linked (``design.link_probabilities``,
            ``design.link_caches``); a link tied off to a constant or left open needs none.
    """

    op: str
    kind: str
    module: str
    params: dict[str, int | str]
    inputs: dict[str, str]
    output: str
    model: timing.BlockModel
    consts: list[Const] = field(default_factory=list)
    multipliers: int = 0
    info: dict[str, object] = field(default_factory=dict)
    stream: tuple[int, int, FixedType] | None = None
    sources: dict[str, str] = field(default_factory=dict)
    libs: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)
    wires: list[tuple[str, int]] = field(default_factory=list)
    drives: tuple[str, ...] = ()

    @property
    def instance(self) -> str:
        return f"u_{self.op}"


def pack(raw: np.ndarray, width: int) -> int:
    """Raw integers as one unsigned integer: entry k at bits [k*width, (k+1)*width) (two's complement)."""
    v = np.asarray(raw).reshape(-1)
    if v.size == 0:
        return 0
    if v.dtype == object or width > 62:
        out = 0
        mask = (1 << width) - 1
        for k, x in enumerate(v.tolist()):
            out |= (int(x) & mask) << (k * width)
        return out
    u = v.astype(np.int64) & ((1 << width) - 1)
    bits = ((u[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).reshape(-1)
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def sign_bit(t: FixedType) -> int:
    return int(t.signed)


def op_label(op: Op) -> str:
    return f"op {op.name} ({op.kind}{', layer ' + op.origin if op.origin else ''})"


def requested_par(op: Op, macs: int, opts: RtlOptions, limit: int) -> int:
    """Multipliers (or lanes) for an engine: the per-op override, else MACs / reuse factor capped at
    ``opts.max_par``; never more than ``limit`` (what one row can use)."""
    if op.name in opts.par:
        p = int(opts.par[op.name])
        if p < 1:
            raise ValueError(f"{op_label(op)}: RTL parallelism must be >= 1, got {p}")
    else:
        p = multipliers_for(macs, op.reuse_factor)
        if opts.max_par is not None:
            p = min(p, opts.max_par)
    return max(1, min(p, limit))


def factor(
    par: int, n_simd: int, n_pe: int, opts: RtlOptions | None = None, narrow: bool = False
) -> tuple[int, int]:
    """(SIMD, PE) with SIMD * PE <= par that minimise ceil(n_simd/SIMD) * ceil(n_pe/PE) cycles, then
    multipliers, preferring the wider SIMD.

    With ``opts`` (the options of an engine whose SIMD lanes each read a bank of ceil(n_simd / SIMD)
    rows), among the choices of equal cycles and multipliers those whose lanes are deep enough for
    memories (:meth:`RtlOptions.ram_bank`) come first, and of them the narrowest SIMD: the fewest,
    deepest memories (block RAM is used by width x lanes, not by depth). With ``narrow`` the narrowest
    SIMD of equal cycles and multipliers always (hlsgen_context: each SIMD lane is a read port of the
    V bank, a copy of the bank in LUTRAM and a row multiplexer: the 16 x 32 MHA block's context at 16
    multipliers takes 1549 LUTs with 2 lanes of 8 outputs, 5450 with 16 lanes of 1, by Yosys)."""
    best: tuple[int, int, bool, int, int] | None = None
    for s in range(1, min(par, n_simd) + 1):
        p = min(n_pe, par // s)
        if p < 1:
            break
        cyc = -(-n_simd // s) * -(-n_pe // p)
        in_ram = opts is not None and opts.ram_bank(-(-n_simd // s))
        key = (cyc, s * p, not in_ram, s if in_ram or narrow else -s, p)
        if best is None or key < best:
            best = key
    assert best is not None
    return abs(best[3]), best[4]


def row_shape(graph: Graph, tensor: str) -> tuple[int, int]:
    """(rows per sequence, values per row) of a tensor streamed along its last axis."""
    t = graph.tensors[tensor]
    n = t.shape[-1] if t.shape else 1
    return t.size // max(n, 1), n


def out_depth(row_cycles: int, stages: int = 4) -> int:
    """Output slots enough that ``stages`` pipeline stages of short rows never wait for a credit."""
    return max(2, -(-(stages + 1) // max(row_cycles, 1)) + 1)


def tree_latency(n: int, levels: int) -> int:
    """Register stages of hlsgen_tree over ``n`` values, a register every ``levels`` levels."""
    if levels <= 0 or n <= 1:
        return 0
    return -(-((n - 1).bit_length()) // levels)


def mul2_low(a: int, b: int) -> int:
    """The low half (hlsgen_mul2's LO) of a signed ``a`` x ``b``-bit product that one DSP48E2 (27 x 18
    signed) cannot take: 26 bits of ``a`` beside a ``b`` of at most 18 bits (the 27-bit port), else 17
    (the 18-bit port); 0 where the product fits one DSP or ``a`` is no wider than that half. The modules
    that split a product (hlsgen_layernorm's SQS / NSP, hlsgen_scores' SC_SPLIT) decide the same way."""
    if (a <= 27 and b <= 18) or (a <= 18 and b <= 27):
        return 0
    low = 26 if b <= 18 else 17
    return low if a > low else 0


__all__ = [
    "Block",
    "Const",
    "RtlOptions",
    "factor",
    "mul2_low",
    "out_depth",
    "pack",
    "requested_par",
    "rom",
    "row_shape",
    "sign_bit",
    "tree_latency",
    "op_label",
]
