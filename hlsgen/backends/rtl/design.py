"""A typed IR graph as an RTL design: blocks, the streams between them, forks, the AXI4-Stream ports.

Every tensor is a stream of rows along its last axis, in row-major order (a ``[T, D]`` tensor is T rows
of D values; softmax probabilities ``[H, Tq, Tk]`` are H*Tq rows of Tk values, head-major). A row is
packed element 0 in the LSBs, each element in its type's width (:mod:`hlsgen.backends.rtl.packing`).
A tensor read by several blocks (or by a block and an output port) goes through a fork with one FIFO
per reader, each deep enough for a whole tensor and for what the timing estimate says it holds, so that
no reader waits on another and no sequence deadlocks; where the readers take the rows in step (each has
that one input, the estimate with 1-row FIFOs keeps the cycles) the FIFOs are 1-row registers instead
(``_lockstep_fork``), and the branches then advance together. A Linear engine's output FIFO is one
row of registers where the estimate keeps the cycles with it (``shallow_outputs``).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

from ...fixed import FixedType
from ...ir.graph import Graph, c_identifier
from ...quant.decode_pass import DecodeDesign
from . import timing
from .block import out_depth
from .ops import Block, Const, RtlOptions, render_op
from .packing import tdata_width

#: sequences of a short run of the estimate (the fork FIFOs are sized from its first pass)
ESTIMATE_SEQUENCES = 5
#: sequences of the runs in which the design's estimate looks for the steady state: the first, then
#: doubled until the last half of the gaps between sequences repeats with a period of at most a quarter
STEADY_SEQUENCES = (24, 48, 96, 192)


@dataclass
class Stream:
    """One row stream (a tensor, or one branch of a fork).

    Attributes:
        signal: SystemVerilog prefix of ``_valid``, ``_ready``, ``_data``.
        tensor: the tensor it carries.
        n: values per row; ``rows`` rows per sequence; ``type`` each value's type.
    """

    signal: str
    tensor: str
    n: int
    rows: int
    type: FixedType

    @property
    def width(self) -> int:
        return self.n * self.type.width


@dataclass
class Port:
    """An AXI4-Stream port of the top: one per model input (slave) and output (master)."""

    name: str
    tensor: str
    stream: Stream
    direction: str  #: "in" (slave) or "out" (master)
    user_width: int = 0  #: TUSER bits (decode tops: 1; see :class:`DecodeTop`)

    @property
    def tdata_width(self) -> int:
        """TDATA bits: the packed row rounded up to whole bytes (padding bits zero on outputs)."""
        return tdata_width(self.stream.n, self.stream.type.width)


@dataclass
class Fork:
    """A stream read by several consumers: one FIFO per consumer (a whole tensor and more, or 1 row where
    the consumers take the rows in step)."""

    source: Stream
    branches: list[tuple[Stream, int]]  #: (branch stream, FIFO depth in rows)


@dataclass
class DecodeTop:
    """What makes a design a decode top (one token per step, caches inside): the token input goes
    through ``hlsgen_decode_front``, which keeps the position and drives the position stream, and every
    output through ``hlsgen_decode_back``. On the ports, TUSER[0] of an input beat = 1 starts a new
    sequence with that token; TUSER[0] of an output beat = 1 says the token was refused because the
    sequence was full (the row is zeros; caches and position unchanged); TLAST is set on every beat.

    Attributes:
        token: the token stream; ``position`` the position stream (an unsigned integer a step).
        max_length: cache rows L.
        flag_depth: flags of tokens in flight each output holds (set from the estimate: latency / II
            tokens are in flight when they come back to back).
    """

    token: Stream
    position: Stream
    max_length: int
    flag_depth: int = 4


@dataclass
class Design:
    """Everything the top template renders."""

    top: str
    package: str
    blocks: list[Block]
    streams: dict[str, Stream]
    ports: list[Port]
    forks: list[Fork]
    connections: dict[tuple[str, str], str] = field(default_factory=dict)  #: (block, port) -> signal
    estimate: timing.Estimate | None = None
    sinks: list[Stream] = field(default_factory=list)  #: streams nobody reads (always ready)
    decode: DecodeTop | None = None  #: set for the top of a decode graph

    @property
    def inputs(self) -> list[Port]:
        return [p for p in self.ports if p.direction == "in"]

    @property
    def outputs(self) -> list[Port]:
        return [p for p in self.ports if p.direction == "out"]

    @property
    def consts(self) -> list[Const]:
        return [c for b in self.blocks for c in b.consts]

    @property
    def modules(self) -> list[str]:
        """Library modules used, each once (dependencies included)."""
        mods = {"hlsgen_cast", "hlsgen_fifo"}
        mods.update(b.module for b in self.blocks if not b.sources)
        mods.update(lib for b in self.blocks for lib in b.libs)
        mods.update(dep for m in list(mods) for dep in _LIB_DEPENDS.get(m, ()))
        if self.forks:
            mods.add("hlsgen_fork")
        if self.decode is not None:
            mods.update({"hlsgen_decode_front", "hlsgen_decode_back"})
        return sorted(mods)

    @property
    def generated(self) -> dict[str, str]:
        """Generated modules of the blocks (file name -> text), in compile order."""
        return {name: text for b in self.blocks for name, text in b.sources.items()}

    @property
    def multipliers(self) -> int:
        return sum(b.multipliers for b in self.blocks)


#: library modules instantiated inside another library module (besides hlsgen_cast and hlsgen_fifo)
_LIB_DEPENDS: dict[str, tuple[str, ...]] = {
    "hlsgen_cast": ("hlsgen_roundinc", "hlsgen_fastcast"),
    "hlsgen_linear": (
        "hlsgen_mac",
        "hlsgen_rowout",
        "hlsgen_tree",
        "hlsgen_delay",
        "hlsgen_vdelay",
        "hlsgen_pick",
    ),
    "hlsgen_scores": (
        "hlsgen_ram",
        "hlsgen_mac",
        "hlsgen_rowout",
        "hlsgen_tree",
        "hlsgen_delay",
        "hlsgen_headseq",
        "hlsgen_vdelay",
        "hlsgen_mul2",
        "hlsgen_pick",
    ),
    "hlsgen_context": (
        "hlsgen_ram",
        "hlsgen_mac",
        "hlsgen_tree",
        "hlsgen_delay",
        "hlsgen_headseq",
        "hlsgen_vdelay",
        "hlsgen_pick",
    ),
    "hlsgen_layernorm": (
        "hlsgen_rowout",
        "hlsgen_tree",
        "hlsgen_delay",
        "hlsgen_vdelay",
        "hlsgen_lead",
        "hlsgen_castreg",
        "hlsgen_mul2",
    ),
    "hlsgen_softmax": (
        "hlsgen_ram",
        "hlsgen_slots",
        "hlsgen_gsel",
        "hlsgen_rowout",
        "hlsgen_tree",
        "hlsgen_delay",
        "hlsgen_vdelay",
        "hlsgen_lead",
        "hlsgen_castreg",
    ),
    "hlsgen_reshape": ("hlsgen_collect",),
    "hlsgen_transpose": ("hlsgen_collect",),
    "hlsgen_rowperm": ("hlsgen_collect",),
    "hlsgen_embedding": ("hlsgen_collect",),
    "hlsgen_avgpool": ("hlsgen_fold", "hlsgen_mul2"),
    "hlsgen_maxpool": ("hlsgen_fold",),
}


def _stream(graph: Graph, tensor: str, signal: str) -> Stream:
    t = graph.tensors[tensor]
    assert t.type is not None
    n = t.shape[-1] if t.shape else 1
    return Stream(signal, tensor, n, t.size // max(n, 1), t.type)


def build_decode_design(design: DecodeDesign, top: str, options: RtlOptions | None = None) -> Design:
    """The RTL design of a decode graph (:func:`hlsgen.quant.decode_pass.to_decode`): one token a step on
    AXI4-Stream, the position kept inside, caches in RAM (see :class:`DecodeTop`)."""
    return build_design(design.graph, top, options, position=design.position, max_length=design.max_length)


def build_design(
    graph: Graph,
    top: str,
    options: RtlOptions | None = None,
    position: str | None = None,
    max_length: int = 0,
) -> Design:
    """The RTL design of a typed graph (``position``: the position tensor of a decode graph, which makes
    the design a decode top; :func:`build_decode_design` sets it).

    Raises:
        NotImplementedError: an op (named in the message) has no RTL implementation for its settings.
    """
    graph.check_typed()
    opts = options or RtlOptions()
    top = c_identifier(top)
    alias: dict[str, str] = {}  # tensor -> the tensor whose stream it is (reshapes over the same rows)
    blocks: list[Block] = []
    for op in graph.ops:
        rendered = render_op(op, graph, opts)
        if rendered is None:
            alias[op.outputs[0]] = alias.get(op.inputs[0], op.inputs[0])
            continue
        for b in rendered if isinstance(rendered, list) else [rendered]:
            b.inputs = {p: alias.get(t, t) for p, t in b.inputs.items()}
            blocks.append(b)

    def root(t: str) -> str:
        return alias.get(t, t)

    link_probabilities(blocks, {root(t) for t in graph.outputs})
    hold_rows_for_scans(blocks, {root(t) for t in graph.outputs})
    if position is not None and opts.caches_in_place:
        link_caches(blocks, {root(t) for t in graph.outputs}, graph)

    streams: dict[str, Stream] = {}
    for name in graph.inputs:
        streams[name] = _stream(graph, name, f"s_{name}")
    if position is not None:
        if max_length < 1:
            raise ValueError(f"design {top}: a decode top needs max_length >= 1, got {max_length}")
        if len(graph.inputs) != 1 or streams[graph.inputs[0]].rows != 1:
            raise NotImplementedError(
                f"design {top}: a decode top takes one input of one token a step; the graph has inputs "
                f"{graph.inputs} ({', '.join(str(streams[k].rows) for k in graph.inputs)} rows a step)"
            )
        streams[position] = _stream(graph, position, f"s_{position}")
    for b in blocks:
        if b.stream is None:
            streams[b.output] = _stream(graph, b.output, f"s_{b.output}")
        else:  # a stream inside one op's rendering
            rows, n, t = b.stream
            streams[b.output] = Stream(f"s_{b.output}", b.output, n, rows, t)
    # readers of every stream: (block, port) or ("", output port name)
    readers: dict[str, list[tuple[str, str]]] = {t: [] for t in streams}
    for b in blocks:
        for p, t in b.inputs.items():
            readers[t].append((b.op, p))
    for name in graph.outputs:
        readers[root(name)].append(("", name))

    user = int(position is not None)
    ports = [Port(name, name, streams[name], "in", user) for name in graph.inputs]
    out_streams: dict[str, Stream] = {}
    connections: dict[tuple[str, str], str] = {}
    forks: list[Fork] = []
    sinks: list[Stream] = []
    for t, rs in readers.items():
        src = streams[t]
        if not rs:
            sinks.append(src)
            continue
        if len(rs) == 1 and (position is None or t not in (position, *graph.inputs)):
            targets = [(rs[0], src)]
        else:
            branches = []
            targets = []
            for k, r in enumerate(rs):
                s = Stream(f"{src.signal}_f{k}", t, src.n, src.rows, src.type)
                branches.append((s, max(src.rows, 2)))
                targets.append((r, s))
            forks.append(Fork(src, branches))
        for (blk, p), s in targets:
            if blk:
                connections[(blk, p)] = s.signal
            else:
                out_streams[p] = s
    for name in graph.outputs:
        s = out_streams[name]
        ports.append(Port(name, name, _stream(graph, name, s.signal), "out", user))
    if len({p.name for p in ports}) != len(ports):
        raise NotImplementedError(
            f"design {top}: a tensor is both a model input and output; the RTL needs an op between"
        )
    design = Design(top, f"{top}_rtl_pkg", blocks, streams, ports, forks, connections, sinks=sinks)
    if position is not None:
        design.decode = DecodeTop(streams[graph.inputs[0]], streams[position], max_length)
    # size fork FIFOs: a whole tensor (no deadlock) plus what a branch holds without back-pressure; a
    # fork whose readers each take one input and never hold more than a row of it waiting gets 1-row
    # registers (hlsgen_fifo of DEPTH 1: no LUTRAM), see _lockstep_fork
    # the first pass only (no back-pressure), over a short run: with unbounded FIFOs a longer one lets
    # the input run further ahead
    occupancy = estimate(design, ESTIMATE_SEQUENCES, max_passes=1, warn=False).fifo_occupancy
    for f in design.forks:
        f.branches = [(s, max(f.source.rows + 1, occupancy.get(s.signal, 0) + 2)) for s, _ in f.branches]
    design.estimate = estimate(design)
    whole = [f.branches for f in design.forks]
    for f in design.forks:
        if _lockstep_fork(design, f, occupancy):
            f.branches = [(s, 1) for s, _ in f.branches]
    if any(f.branches != w for f, w in zip(design.forks, whole, strict=True)):
        est = estimate(design, warn=False)  # a trial: dropped unless settled and as fast
        if est.converged and (est.ii, est.latency) == (design.estimate.ii, design.estimate.latency):
            design.estimate = est
        else:  # the 1-row branches would cost cycles: keep the whole-tensor FIFOs
            for f, w in zip(design.forks, whole, strict=True):
                f.branches = w
    shallow_outputs(design)
    deepen_forks(design)
    design.estimate.fifo_occupancy = occupancy
    if design.decode is not None:  # every token in flight holds a flag: latency / II of them, and slack
        est = design.estimate
        design.decode.flag_depth = max(4, math.ceil(est.latency / max(est.ii, 1.0)) + 2)
    return design


def shallow_outputs(design: Design) -> None:
    """Give each Linear engine a 1-row output FIFO (hlsgen_fifo of DEPTH 1: a row of registers, no
    LUTRAM) where that keeps the design's cycles. hlsgen_linear takes a row's credit with its last
    issue, so one slot keeps its rate when its row of r issues is longer than the stages after the last
    issue + 2 (the row is taken before the next one completes) and its reader takes a row at once; the
    estimate with the 1-row FIFOs decides: all Linears at once, else one at a time, each kept only if
    the estimate settles with the same II and latency or better (cosim checks them again). A Linear
    feeding a softmax's scan (which holds the row at the FIFO's head) and the producer of one of several
    model outputs (a sink may drain the other output first) keep theirs."""
    outs = {p.stream.signal for p in design.outputs}
    cands = [
        b
        for b in design.blocks
        if b.module == "hlsgen_linear"
        and isinstance(b.model, timing.MatVec)
        and int(b.params["OUT_DEPTH"]) > 1
        and "scan_slots" not in b.info
        and b.model.r >= b.model.stages + 2
        and not (len(outs) > 1 and design.streams[b.output].signal in outs)
    ]
    if not cands:
        return
    base = design.estimate

    def trial(blocks: list[Block]) -> bool:
        for b in blocks:
            b.params["OUT_DEPTH"] = b.model.depth = 1
        est = estimate(design, warn=False)
        if est.converged and est.ii <= base.ii and est.latency <= base.latency:
            design.estimate = est
            return True
        for b in blocks:
            b.params["OUT_DEPTH"] = b.model.depth = depths[b.op]
        return False

    depths = {b.op: int(b.params["OUT_DEPTH"]) for b in cands}
    if not trial(cands) and len(cands) > 1:
        for b in cands:
            trial([b])


def deepen_forks(design: Design) -> None:
    """Deepen the fork FIFOs where the steady state is slower than the engines allow (II above the bound +
    1): a fork whose branches reach a join by paths of different latency (the values straight into the
    context's bank, the queries through the scores and the softmax) must hold the short branch's rows
    for the long branch's latency, or it stops the input and the long branch starves (a 1-head block of 5
    tokens: II 11 against a bound of 5). The estimate with unbounded fork FIFOs gives the rows each branch
    holds; each branch gets that many (else one more; never fewer than before), kept only if the
    estimate then settles at that II, faster than before, and no later (cosim checks it again)."""
    est = design.estimate
    if design.decode is not None or not design.forks or est.ii <= est.bound + 1:
        return
    before = [f.branches for f in design.forks]

    def restore() -> None:
        for f, b in zip(design.forks, before, strict=True):
            f.branches = b

    for f in design.forks:
        f.branches = [(s, 10**9) for s, _ in f.branches]
    free = estimate(design, warn=False)
    if not free.converged or free.ii >= est.ii:
        restore()
        return
    for extra in (0, 1):  # what the branch held, else a row more
        for f, b in zip(design.forks, before, strict=True):
            f.branches = [(s, max(d, free.held[s.signal] + extra)) for s, d in b]
        sized = estimate(design, warn=False)
        if sized.converged and sized.ii <= free.ii and sized.latency <= est.latency:
            design.estimate = sized
            return
    restore()


def _block_readers(blocks: list[Block]) -> dict[str, list[tuple[Block, str]]]:
    """The blocks reading each tensor, with the input port they read it on."""
    readers: dict[str, list[tuple[Block, str]]] = {}
    for b in blocks:
        for port, t in b.inputs.items():
            readers.setdefault(t, []).append((b, port))
    return readers


def hold_rows_for_scans(blocks: list[Block], outputs: set[str]) -> None:
    """Give the engine feeding a stable softmax directly the output slots the softmax's scan needs. The
    softmax scans its input row a group a cycle while the row waits at the head of its producer's output
    FIFO (hlsgen_softmax M), so a row holds its slot ``g - 1`` cycles longer than a row taken at once (g:
    the softmax's cycles a row): to the producer's credit loop that is ``g - 1`` more stages, and its
    slots become :func:`~.block.out_depth` of its row cycles and stages + g - 1. Without them a producer
    about as fast as the softmax (the scores at T >= 48) waited a credit on most rows. A producer whose
    model states no credit loop (:meth:`~.timing.BlockModel.credit_loop`; the decode cache) gets one
    more slot; where the softmax is the slower, its g sets the producer's pace. A fork's FIFO between them
    is sized by the occupancy it measures, which counts the scan already; a one-register block between
    them (a bias add, a mask) holds the next row while the scan reads one, which is slack enough (its
    producer keeps pace with no slot more: tests/test_cosim.py, the scores behind an add)."""
    readers = _block_readers(blocks)
    producers = {b.output: b for b in blocks}
    for sm in blocks:
        g = int(sm.info.get("scan", 1))  # cycles a row is read on the input before it is taken
        if g < 2:
            continue
        src = producers.get(sm.inputs["in"])
        if src is None or src.output in outputs or len(readers.get(src.output, [])) != 1:
            continue
        loop, model = src.model.credit_loop(), src.model
        if "OUT_DEPTH" not in src.params or not model.depth:
            continue
        depth = int(src.params["OUT_DEPTH"])
        # the producer issues a row at most every g cycles once the softmax sets the pace
        need = out_depth(max(loop[0], g), loop[1] + g - 1) if loop else depth + 1
        if need > depth:
            src.params["OUT_DEPTH"] = need
            model.depth = need
            src.info["scan_slots"] = f"{need - depth} for {sm.op}"


def link_probabilities(blocks: list[Block], outputs: set[str]) -> None:
    """Let each context engine read its probability rows in place from the softmax producing them
    (hlsgen_softmax GOUT, hlsgen_context PGRP: one group of SIMD probabilities a cycle from the softmax's
    output memory, no T-wide row stream nor row register) where the softmax's rows are in memories
    (RAM), its lanes equal the context's SIMD (one memory word is one key group), and the context is the
    rows' only reader. The handshake and every cycle stay those of the stream."""
    readers = _block_readers(blocks)
    for sm in blocks:
        if sm.module != "hlsgen_softmax" or not sm.params["RAM"] or sm.output in outputs:
            continue
        rs = readers.get(sm.output, [])
        if len(rs) != 1 or rs[0][0].module != "hlsgen_context" or rs[0][1] != "p":
            continue
        cx = rs[0][0]
        if cx.params["SIMD"] != sm.params["L"] or cx.params["TK"] != sm.params["N"]:
            continue
        g = -(-int(sm.params["N"]) // int(sm.params["L"]))
        addr, re, data = (f"g_{sm.op}_addr", f"g_{sm.op}_re", f"g_{sm.op}_data")
        sm.params["GOUT"] = 1
        cx.params["PGRP"] = 1
        sm.wires = [
            (addr, max(1, (g - 1).bit_length())),
            (re, 1),
            (data, int(sm.params["L"]) * int(sm.params["YW"])),
        ]
        sm.links = {"out_gaddr": addr, "out_gre": re, "out_gdata": data}
        cx.links.update({"p_gaddr": addr, "p_gre": re, "p_gdata": data})
        sm.drives, cx.drives = (*sm.drives, data), (*cx.drives, addr, re)
        sm.info["read_in_place_by"] = cx.op


def _lockstep_fork(design: Design, fork: Fork, occupancy: dict[str, int]) -> bool:
    """Whether ``fork``'s branches can be 1-row registers: every branch is read by a block with that one
    input (so a reader waits on nothing but its own output) and, without back-pressure, holds at most one
    row that its reader has not taken, so a 1-row FIFO never refuses a row (the estimate's second pass,
    with the real depths, checks the cycles; cosim checks them again). A stream read by a model output,
    a decode top's input, a branch that runs ahead (a residual) and every fork of a model of several
    outputs keep their whole-tensor FIFOs (1-row branches advance together: a sink that drains one
    output to its end before reading the other would stall)."""
    if design.decode is not None or len(design.outputs) > 1:
        return False
    readers = {sig: b for b in design.blocks for port, sig in design.connections.items() if port[0] == b.op}
    for s, _ in fork.branches:
        b = readers.get(s.signal)
        if b is None or len(b.inputs) != 1 or occupancy.get(s.signal, 2) > 1:
            return False
    return True


#: readers that read a decode cache in place: (module, port) -> (its flag, lanes parameter, link prefix)
_CACHE_READERS = {
    ("hlsgen_scores", "k"): ("KLINK", "PE", "k_g"),
    ("hlsgen_context", "v"): ("VLINK", "SIMD", "v_g"),
}


def link_caches(blocks: list[Block], outputs: set[str], graph: Graph) -> None:
    """Let the scores engine (K operand) or context engine (V operand) that is a decode cache's only
    reader read the cache's rows in place (hlsgen_kv_cache LINK; hlsgen_scores KLINK, hlsgen_context
    VLINK): the cache keeps its rows in one memory per lane of the reader (PE keys, SIMD values a
    cycle), the reader has no bank of its own and reads a key group a cycle through a read port, and the
    stream between them carries one token a step (taken with the reader's last read of the step, which
    lets the cache take the next step's row). A step then takes no L cycles of streaming, and the rows
    are stored once. Latent caches (MLA: the latent and RoPE key rows, read by LatentScores with a RoPE
    part or by the up-projections) and caches with several readers keep the stream form."""
    readers = _block_readers(blocks)
    for c in blocks:
        if c.module != "hlsgen_kv_cache" or c.kind != "kv_cache" or c.output in outputs:
            continue
        rs = readers.get(c.output, [])
        if len(rs) != 1 or (rs[0][0].module, rs[0][1]) not in _CACHE_READERS:
            continue
        rd, port = rs[0]
        flag, lanes_param, prefix = _CACHE_READERS[(rd.module, port)]
        if int(rd.params.get("R", 0)) or int(rd.params["TK"]) != int(c.params["L"]):
            continue
        heads, dim, width = ("HKV", "DK", "KW") if port == "k" else ("HKV", "DV", "VW")
        rw = int(rd.params[heads]) * int(rd.params[dim]) * int(rd.params[width])
        if rw != int(c.params["RW"]):
            continue
        lanes, length = int(rd.params[lanes_param]), int(c.params["L"])
        ng = -(-length // lanes)
        t = graph.tensors[c.output]
        assert t.type is not None
        c.params.update(LINK=1, LANES=lanes)
        c.stream = (1, t.shape[-1], t.type)
        c.model = timing.CacheModel(length, int(c.params["OUT_DEPTH"]), link=True)
        rd.params[flag] = 1
        rd.params[flag[0] + "RAM"] = 0  # no bank of its own
        if port == "k":
            assert isinstance(rd.model, timing.ScoresModel)
            rd.model.keys_in_place()
        else:
            assert isinstance(rd.model, timing.ContextModel)
            rd.model.values_in_place()
        addr, re, data = (f"c_{c.op}_addr", f"c_{c.op}_re", f"c_{c.op}_data")
        c.wires = [(addr, max(1, (ng - 1).bit_length())), (re, 1), (data, lanes * rw)]
        c.links = {"rd_addr": addr, "rd_en": re, "rd_data": data}
        rd.links.update({f"{prefix}addr": addr, f"{prefix}re": re, f"{prefix}data": data})
        c.drives, rd.drives = (*c.drives, data), (*rd.drives, addr, re)
        c.info["read_in_place_by"] = rd.op
        rd.info["ram"] = (
            "+".join(x for x in str(rd.info.get("ram", "none")).split("+") if x != flag[0]) or "none"
        )
        rd.info[f"{flag[0]}_in_place"] = c.op


def estimate(
    design: Design, sequences: int | None = None, max_passes: int = 200, warn: bool = True
) -> timing.Estimate:
    """The design-level cycle estimate (see :mod:`hlsgen.backends.rtl.timing`).

    ``sequences`` driven back to back: the latency is the first one's, the II the mean distance between
    the last output beats from the third sequence on (what a co-simulation of that many samples
    measures). With None (the design's estimate; a decode top's is its first ``ESTIMATE_SEQUENCES``
    steps, as a cache fills) the II is the steady state's: the runs of
    ``STEADY_SEQUENCES`` until the last half of the gaps between sequences repeats with a period p (at
    most a quarter of them), the II then the mean gap over p. A short run can end inside the fill: where
    the FIFOs let the input run ahead, the first gaps are short (a 1-head block of 5 tokens: 6 cycles
    over 5 sequences, gaps 6, 6, 6, 6, 31 repeating, 11.0 in steady state).

    The first pass has no back-pressure (every FIFO unbounded): its fork FIFO occupancies size the forks.
    Later passes feed each block the cycles at which its output rows were taken in the pass before,
    through the real FIFO depths, until no cycle changes. If cycles still change after ``max_passes``,
    the estimate says so (``converged`` False) and, with ``warn``, a RuntimeWarning names the design.
    """
    if sequences is not None or design.decode is not None:  # a decode top: steps of a filling cache
        return _estimate(design, sequences or ESTIMATE_SEQUENCES, max_passes, warn)
    for k, n in enumerate(STEADY_SEQUENCES):
        last = k == len(STEADY_SEQUENCES) - 1
        est = _estimate(design, n, max_passes if k == 0 else max(max_passes, 2 * n), warn=False)
        gaps = [b - a for a, b in itertools.pairwise(est.ends)]
        half = len(gaps) // 2
        period = next(
            (
                p
                for p in range(1, len(gaps) // 4 + 1)
                if all(gaps[i] == gaps[i - p] for i in range(half, len(gaps)))
            ),
            None,
        )
        if period is not None:
            est.ii = sum(gaps[-period:]) / period
        elif last or not est.converged:  # no period within the longest run: the mean over its last half
            est.ii = sum(gaps[half:]) / max(len(gaps) - half, 1)
        else:
            continue
        if warn and not est.converged:
            _warn_unsettled(design, est.passes)
        return est
    raise AssertionError("unreachable: the longest run returns")


def _warn_unsettled(design: Design, passes: int) -> None:
    warnings.warn(
        f"design {design.top}: the cycle estimate did not converge in {passes} passes (back-pressure "
        "still moved rows): its latency and II are not exact; the usual cause is a producer's output FIFO "
        "too shallow for a reader that holds rows (such as the softmax's scan of its input row)",
        RuntimeWarning,
        stacklevel=3,
    )


def _estimate(design: Design, sequences: int, max_passes: int, warn: bool) -> timing.Estimate:
    """:func:`estimate` of ``sequences`` sequences."""
    out_signals = {p.stream.signal for p in design.outputs}
    taken: dict[str, list[int]] | None = None
    first_occupancy: dict[str, int] = {}
    result: dict[str, list[int]] = {}
    passes = 0
    converged = False
    for passes in range(1, max_passes + 1):
        for b in design.blocks:
            b.model.reset()
        avail: dict[str, list[int]] = {}  # every stream signal, all sequences
        pops: dict[str, list[int]] = {}
        pushes: dict[str, list[int]] = {}

        for seq in range(sequences):
            for p in design.inputs:
                rows = p.stream.rows
                _emit(design, p.stream.signal, [seq * rows + k for k in range(rows)], taken, avail, pushes)
            if design.decode is not None:  # the position leaves the decode front with its token
                _emit(design, design.decode.position.signal, [seq], taken, avail, pushes)
            for b in design.blocks:
                port_av = {}
                for port in b.inputs:
                    sig = design.connections[(b.op, port)]
                    rows = b.model.in_rows[port]
                    port_av[port] = avail[sig][seq * rows : (seq + 1) * rows]
                out_sig = design.streams[b.output].signal
                res = b.model.run(port_av, None if taken is None else taken.get(out_sig))
                for port in b.inputs:
                    pops.setdefault(design.connections[(b.op, port)], []).extend(res.accept[port])
                _emit(design, out_sig, res.avail, taken, avail, pushes)
        # what each stream's producer saw taken: a fork's pushes, a reader's accepts, an output's beats
        new_taken: dict[str, list[int]] = {}
        for sig, rows in avail.items():
            if any(f.source.signal == sig for f in design.forks):
                new_taken[sig] = pushes[sig]
            elif sig in out_signals:
                new_taken[sig] = rows
            else:
                new_taken[sig] = pops.get(sig, rows)
        if passes == 1:
            first_occupancy = _fork_occupancy(design, pushes, pops, out_signals, avail)
        result = avail
        if taken == new_taken:
            converged = True
            break
        taken = new_taken
    if warn and not converged:
        _warn_unsettled(design, max_passes)
    last_out = {p.name: result[p.stream.signal][p.stream.rows - 1 :: p.stream.rows] for p in design.outputs}
    # from the first input beat (a handshake: a softmax reading its input row in place, hlsgen_softmax's
    # scan, takes the row only with its last group) to the last output beat, as the co-simulation counts
    first_in = min((taken or {}).get(p.stream.signal, [0])[0] for p in design.inputs) if design.inputs else 0
    latency = max(v[0] for v in last_out.values()) - first_in
    ends = [max(v[s] for v in last_out.values()) for s in range(sequences)]
    tail = [ends[s] - ends[s - 1] for s in range(2, sequences)] or [ends[-1] - ends[0]]
    per_block = {b.op: b.model.cycles_per_sequence() for b in design.blocks}
    held = {
        s.signal: _max_occupancy(
            pushes[f.source.signal], avail[s.signal] if s.signal in out_signals else pops[s.signal]
        )
        for f in design.forks
        for s, _ in f.branches
    }
    return timing.Estimate(
        latency,
        sum(tail) / len(tail),
        max(per_block.values(), default=0),
        first_occupancy,
        per_block,
        passes,
        converged,
        ends,
        held,
    )


def _emit(
    design: Design,
    sig: str,
    rows: list[int],
    prev_taken: dict[str, list[int]] | None,
    avail: dict[str, list[int]],
    pushes: dict[str, list[int]],
) -> None:
    """Rows of ``sig`` became available at ``rows``: record them and pass them through its fork, if
    any (a row enters every branch FIFO when each has room, judged by the previous pass)."""
    avail.setdefault(sig, []).extend(rows)
    f = next((f for f in design.forks if f.source.signal == sig), None)
    if f is None:
        return
    done = pushes.setdefault(sig, [])
    for t in rows:
        k = len(done)
        push = max(t, done[-1] + 1) if done else t
        if prev_taken is not None:
            for s, depth in f.branches:
                bt = prev_taken.get(s.signal)
                if bt is not None and 0 <= k - depth < len(bt):
                    push = max(push, bt[k - depth] + 1)
        done.append(push)
        for s, _ in f.branches:
            avail.setdefault(s.signal, []).append(push + 1)


def _fork_occupancy(
    design: Design,
    pushes: dict[str, list[int]],
    pops: dict[str, list[int]],
    out_signals: set[str],
    avail: dict[str, list[int]],
) -> dict[str, int]:
    """Largest rows each fork FIFO holds with unbounded FIFOs. A fork never runs more than one tensor
    ahead of its fastest reader (the input waits), so rows count from that point on."""
    occ: dict[str, int] = {}
    for f in design.forks:
        sigs = [s.signal for s, _ in f.branches]
        reads = {sg: (avail[sg] if sg in out_signals else pops[sg]) for sg in sigs}
        n = len(pushes[f.source.signal])
        fastest = [min(reads[sg][k] for sg in sigs) for k in range(n)]
        for sg in sigs:
            push = [max(p, q - f.source.rows) for p, q in zip(pushes[f.source.signal], fastest, strict=True)]
            occ[sg] = _max_occupancy(push, reads[sg])
    return occ


def _max_occupancy(push: list[int], pop: list[int]) -> int:
    """Largest number of rows in a FIFO written at cycles ``push`` and read at cycles ``pop``."""
    events = sorted([(t, 1) for t in push] + [(t, -1) for t in pop], key=lambda e: (e[0], -e[1]))
    occ = best = 0
    for _, d in events:
        occ += d
        best = max(best, occ)
    return best


__all__ = ["DecodeTop", "Design", "Fork", "Port", "Stream", "build_decode_design", "build_design", "estimate"]
