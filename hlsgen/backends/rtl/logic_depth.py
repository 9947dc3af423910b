"""Logic depth and an estimated clock rate of a Yosys ``synth_xilinx`` netlist, without Vivado.

The netlist (``write_json`` after ``synth_xilinx -flatten``) is read as a graph of signal bits; each
Xilinx cell type gets a small timing model (:data:`DELAYS`): combinational arcs (LUTs, carry chains,
wide-function muxes, LUT-RAM reads, unregistered DSP48E2 stages) with a delay, and sequential ends
(flip-flops, block RAM, registered DSP stages, shift registers) with a clock-to-out and a setup time.
The longest register-to-register path is found in one pass over the bits in topological order, both
by delay (the estimated clock period) and by LUT levels (the figure the RTL is designed against:
<= 6 levels between registers for the 300 MHz class).

The delays are an estimate for an UltraScale+ part at speed grade -2: cell delays of the order of the
switching characteristics in Xilinx DS923, plus a typical net delay on every input of a cell
(UltraScale+ nets run 0.2-0.5 ns; we take 0.3 ns). Placement, fan-out and clock skew are not modelled:
the figure ranks designs and finds the deep paths; only Vivado's timing report is a measurement.

Each path is attributed to the block instance (``u_<op>``) its end register lies in, from the net
names Yosys keeps when it flattens the hierarchy.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...fixed.cmm import gated_product_luts

#: one net between two cells (ns), added to every combinational arc
NET = 0.3
#: delays (ns) of the cell models below, UltraScale+ -2 (order of DS923's switching characteristics)
DELAYS: dict[str, float] = {
    "lut": 0.12,  # LUT1..LUT6 input to output
    "muxf": 0.10,  # MUXF7/8/9 (same slice: no net)
    "carry_in": 0.30,  # S/DI of a CARRY4/CARRY8 to its outputs
    "carry_chain": 0.05,  # CI to CO/O along a chain (dedicated route: no net)
    "lutram_read": 0.45,  # LUT-RAM read address to data out
    "dsp_mult": 1.70,  # DSP48E2 A/B/D through the pre-adder and multiplier to M
    "dsp_alu": 0.90,  # DSP48E2 M/C/PCIN through the ALU to P
    "dsp_tco": 0.35,  # a DSP48E2 pipeline register to its next stage
    "bram_tco": 0.95,  # RAMB18E2/36E2 clock to DOUT without the output register
    "bram_tco_reg": 0.35,  # with DOA_REG/DOB_REG
    "srl_tco": 1.00,  # SRL16E/SRLC32E clock to Q
    "ff_tco": 0.10,  # FDRE/FDSE/FDCE/FDPE clock to Q
    "setup": 0.10,  # setup of a flip-flop or a RAM/DSP input register
}

_FF = {"FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"}
_LUT = {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "LUT6_2"}
_MUXF = {"MUXF7", "MUXF8", "MUXF9"}
_CARRY = {"CARRY4", "CARRY8"}
#: LUT-RAM: read-address ports (combinational to the data outputs); every other input is a write port
_LUTRAM_READ = {
    "RAM32M": ("ADDRA", "ADDRB", "ADDRC", "ADDRD"),
    "RAM64M": ("ADDRA", "ADDRB", "ADDRC", "ADDRD"),
    "RAM32M16": tuple(f"ADDR{c}" for c in "ABCDEFGH"),
    "RAM64M8": tuple(f"ADDR{c}" for c in "ABCDEFGH"),
    **{f"RAM{n}X1S": ("A",) for n in (16, 32, 64, 128, 256, 512)},
    **{f"RAM{n}X1D": ("A", "DPRA") for n in (16, 32, 64, 128, 256)},
    **{f"ROM{n}X1": ("A",) for n in (16, 32, 64, 128, 256)},
}
_SRL = {"SRL16E": ("A",), "SRLC32E": ("A",), "SRLC16E": ("A",)}
_DSP_MULT_IN = ("A", "B", "D", "ACIN", "BCIN", "INMODE")
_DSP_ALU_IN = ("C", "PCIN", "CARRYIN", "CARRYINSEL", "OPMODE", "ALUMODE", "CARRYCASCIN", "MULTSIGNIN")
_DSP_OUT = ("P", "PCOUT", "CARRYOUT", "CARRYCASCOUT", "MULTSIGNOUT", "PATTERNDETECT", "PATTERNBDETECT")


@dataclass(frozen=True)
class Path_:
    """The worst path ending in one place.

    Attributes:
        delay: estimated ns from the start's clock edge to the end's setup.
        lut_levels: LUTs (and LUT-RAM reads) on the path.
        cells: combinational cells on the path (LUTs, carries, muxes, DSP stages).
        start: net of the path's first bit (a register output or an input port).
        end: net of the register (or port) it ends in.
        through: the cell types along the path, start to end (runs of one type as ``TYPE*n``).
        nets: the named nets along the path, start to end, without their bit index (filled for the paths
            of :attr:`Depth.over` only: where the logic lies in the RTL).
    """

    delay: float
    lut_levels: int
    cells: int
    start: str
    end: str
    through: str = ""
    nets: tuple[str, ...] = ()


@dataclass
class Depth:
    """Worst paths of one design: by delay and by LUT levels, for the top and per block instance.

    Attributes:
        worst: the longest path in delay (its LUT levels and cells are those of this path).
        deepest: the path with the most LUT levels.
        by_instance: instance (``u_<op>``, ``top`` for the glue) -> (worst, deepest) of paths ending there.
        modules: instance -> the module it instantiates (``top`` -> the top module itself).
        over: with ``analyse(..., over=K)``, the deepest path into each end register (its bits taken
            together) of more than K LUT levels, deepest first; empty otherwise.
    """

    worst: Path_
    deepest: Path_
    by_instance: dict[str, tuple[Path_, Path_]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    over: list[Path_] = field(default_factory=list)

    @property
    def fmax_mhz(self) -> float:
        """Estimated clock rate of the top (1 / worst delay)."""
        return 1000.0 / max(self.worst.delay, 1e-3)

    def summary(self) -> str:
        """One line: LUT levels, cells and the estimated Fmax (labelled an estimate)."""
        w, d = self.worst, self.deepest
        return (
            f"deepest path {d.lut_levels} LUT levels ({d.cells} cells); slowest {w.delay:.2f} ns "
            f"({w.lut_levels} LUT levels, {w.cells} cells): estimated Fmax {self.fmax_mhz:.0f} MHz "
            "(UltraScale+ -2, delay model of hlsgen.backends.rtl.logic_depth; an estimate, not Vivado timing)"
        )

    def table(self) -> list[dict[str, object]]:
        """One row per instance, deepest first: instance, module, LUT levels, cells, ns, Fmax (none for an
        instance where only paths of no delay end)."""
        rows = []
        for inst, (w, d) in self.by_instance.items():
            if w.delay <= 0.0:  # only paths of no delay end there (a port wired to a port): no figure
                continue
            rows.append(
                {
                    "instance": inst,
                    "module": self.modules.get(inst, ""),
                    "lut_levels": d.lut_levels,
                    "cells": d.cells,
                    "ns": round(w.delay, 2),
                    "fmax_mhz": round(1000.0 / max(w.delay, 1e-3)),
                    "end": d.end,
                }
            )
        rows.sort(key=lambda r: (-int(r["lut_levels"]), -float(r["ns"])))  # type: ignore[call-overload]
        return rows


# -- estimates for the RTL's planners (the same cell delays, before any netlist exists) ---------------
def rom_delay(bits: int) -> float:
    """Estimated ns through a ROM of ``2**bits`` entries in LUTs: a LUT6 per 6 address bits, MUXF7/F8
    for two more, then another LUT level (and net) per further 2 bits."""
    d = NET + DELAYS["lut"]
    if bits > 6:
        d += DELAYS["muxf"] * min(bits - 6, 2)
    if bits > 8:
        d += (NET + DELAYS["lut"]) * ((bits - 7) // 2)
    return d


def rom_luts(bits: int, width: int) -> int:
    """LUT estimate of a ROM of ``2**bits`` entries of ``width`` bits: a LUT6 per 64 entries and bit."""
    return width * max(1, (1 << bits) // 64)


def priority_delay(options: int) -> float:
    """Estimated ns through a priority mux of ``options`` inputs (a leading-one select and the bits it
    picks): ``1 + ceil(log2(options))`` LUT levels and their nets, what Yosys ``synth_xilinx`` gave for
    the 8-segment address of a layer norm's 1/sqrt table (4 levels; a hand-mapped mux needs fewer)."""
    return (NET + DELAYS["lut"]) * (1 + max(options - 1, 1).bit_length())


def lut_product(a_bits: int, b_bits: int) -> tuple[int, int]:
    """LUTs and adder levels of a variable product ``a * b`` on LUTs (no DSP).

    The planner builds it as ``a_bits`` partial products (``b`` gated by one bit of ``a``, shifted; the
    sign bit's subtracted) summed by a balanced tree of ripple adders, each adder bit one LUT6 into a
    carry chain. So about ``(a_bits - 1) * (b_bits + 1)`` LUTs and ``ceil(log2(a_bits))`` adders deep,
    each an ``adder_delay`` (:mod:`hlsgen.backends.rtl.unrolled`) of the partial sum's width, after one
    LUT level of AND gates (Yosys ``synth_xilinx`` maps the gates apart from the adders: a layer norm's
    netlist had 3 LUT levels through a gated adder and the adder after it); the pipeline scheduler
    places registers between them like any adder. A square adds each cross product once: about half
    the LUTs.
    """
    levels = max(a_bits - 1, 0).bit_length()
    return gated_product_luts(a_bits, b_bits), levels


def _int(v: object) -> int:
    if isinstance(v, int):
        return v
    s = str(v)
    return int(s, 2) if s and set(s) <= {"0", "1"} else 0


# an arc: (input ports, output ports, delay, lut levels); a source: (output ports, clock-to-out);
# a sink: (input ports, setup)
_Arc = tuple[tuple[str, ...], tuple[str, ...], float, int]


def _model(
    typ: str, cell: dict[str, Any]
) -> tuple[list[_Arc], list[tuple[tuple[str, ...], float]], list[tuple[tuple[str, ...], float]]]:
    """(arcs, sources, sinks) of one cell; ports named ``@M`` are internal DSP nodes."""
    ports = cell.get("port_directions", {})
    ins = tuple(p for p, d in ports.items() if d == "input")
    outs = tuple(p for p, d in ports.items() if d == "output")
    if typ in _LUT:
        return [(ins, outs, NET + DELAYS["lut"], 1)], [], []
    if typ == "INV":  # Vivado folds an inverter into the LUT it feeds (opt_design): no level
        return [(ins, outs, 0.0, 0)], [], []
    if typ in _MUXF:
        return [(ins, outs, DELAYS["muxf"], 0)], [], []
    if typ in _CARRY:
        rest = tuple(p for p in ins if p != "CI")
        return [(("CI",), outs, DELAYS["carry_chain"], 0), (rest, outs, NET + DELAYS["carry_in"], 0)], [], []
    if typ in _FF:
        return [], [(outs, DELAYS["ff_tco"])], [(ins, DELAYS["setup"])]
    if typ in _LUTRAM_READ:
        rd = _LUTRAM_READ[typ]
        wr = tuple(p for p in ins if p not in rd)
        return [(rd, outs, NET + DELAYS["lutram_read"], 1)], [], [(wr, DELAYS["setup"])]
    if typ in _SRL:
        rd = _SRL[typ]
        wr = tuple(p for p in ins if p not in rd)
        return [(rd, outs, NET + DELAYS["lut"], 1)], [(outs, DELAYS["srl_tco"])], [(wr, DELAYS["setup"])]
    if typ.startswith("RAMB") or typ.startswith("URAM") or typ.startswith("FIFO"):
        par = cell.get("parameters", {})
        reg = _int(par.get("DOA_REG", 0)) or _int(par.get("DOB_REG", 0))
        tco = DELAYS["bram_tco_reg" if reg else "bram_tco"] + (0.6 if typ.startswith("URAM") else 0.0)
        return [], [(outs, tco)], [(ins, DELAYS["setup"] + 0.2)]
    if typ.startswith("DSP48"):
        return _dsp(cell, ins, outs)
    # unknown cell (BUFG, GND, VCC, ...): a sequential end both ways, no delay
    return [], [(outs, 0.0)], [(ins, 0.0)]


def _dsp(cell: dict[str, Any], ins: tuple[str, ...], outs: tuple[str, ...]) -> tuple[list, list, list]:
    """DSP48E2 in two stages: multiplier inputs -> M -> P, each stage registered or not."""
    par = cell.get("parameters", {})
    in_reg = max(_int(par.get("AREG", 0)), _int(par.get("BREG", 0))) > 0
    m_reg, p_reg = _int(par.get("MREG", 0)) > 0, _int(par.get("PREG", 0)) > 0
    alu_in = tuple(p for p in ins if p in _DSP_ALU_IN or p not in _DSP_MULT_IN)
    mult_in = tuple(p for p in ins if p in _DSP_MULT_IN)
    arcs: list[_Arc] = []
    src: list[tuple[tuple[str, ...], float]] = []
    snk: list[tuple[tuple[str, ...], float]] = []
    m_out = ("@M",)
    if in_reg:
        snk.append((mult_in, NET + DELAYS["setup"]))
        src.append((("@MI",), DELAYS["dsp_tco"]))
        arcs.append((("@MI",), m_out, DELAYS["dsp_mult"], 0))
    else:
        arcs.append((mult_in, m_out, NET + DELAYS["dsp_mult"], 0))
    if m_reg:
        snk.append((m_out, DELAYS["setup"]))
        src.append((("@MQ",), DELAYS["dsp_tco"]))
        m_out = ("@MQ",)
    if p_reg:
        snk.append((m_out, DELAYS["dsp_alu"] + DELAYS["setup"]))
        snk.append((alu_in, NET + DELAYS["dsp_alu"] + DELAYS["setup"]))
        src.append((outs, DELAYS["dsp_tco"]))
    else:
        arcs.append((m_out, outs, DELAYS["dsp_alu"], 0))
        arcs.append((alu_in, outs, NET + DELAYS["dsp_alu"], 0))
    return arcs, src, snk


def analyse(netlist: dict[str, Any], top: str, input_start: float = 0.0, over: int | None = None) -> Depth:
    """The worst paths of module ``top`` of a flattened Yosys JSON netlist; paths from its input ports
    start at ``input_start`` ns (a flip-flop's clock-to-out when the ports are register outputs, as the
    inputs of a part of a split pipeline, :mod:`.split`). With ``over``, :attr:`Depth.over` lists every
    register (or port) reached by a path of more than ``over`` LUT levels, with the nets of that path."""
    mod = netlist["modules"][top]
    names: dict[object, str] = {}
    for name, info in sorted(
        mod.get("netnames", {}).items(), key=lambda kv: (kv[1].get("hide_name", 0), kv[0])
    ):
        bits = info.get("bits", [])
        for i, b in enumerate(bits):
            if isinstance(b, int) and b not in names:
                names[b] = f"{name}[{i}]" if len(bits) > 1 else name
    modules = {}
    succ: dict[object, list[tuple[object, float, int, str]]] = defaultdict(list)  # bit -> (bit, ns, lv, type)
    indeg: dict[object, int] = defaultdict(int)
    start: dict[object, float] = {}
    sinks: list[tuple[object, float, str]] = []  # (bit, setup, end label)
    for cname, cell in mod.get("cells", {}).items():
        typ = cell["type"]
        if typ == "$scopeinfo":
            attrs = cell.get("attributes", {})
            modules[cname] = str(attrs.get("module_hdlname") or attrs.get("module", ""))
            continue
        conn = cell.get("connections", {})

        def bits(ports: tuple[str, ...], cname: str = cname, conn: dict = conn) -> list[object]:
            out: list[object] = []
            for p in ports:
                if p.startswith("@"):
                    out.append((cname, p))
                else:
                    out.extend(b for b in conn.get(p, []) if isinstance(b, int))
            return out

        typ = typ.split("\\")[-1]
        arcs, srcs, snks = _model(typ, cell)
        end = cname
        if typ in _FF or cname.startswith("$"):  # a register is named by the net it drives
            q = bits(tuple(p for p, d in cell.get("port_directions", {}).items() if d == "output"))
            end = next((names[b] for b in q if b in names), cname)
        for ports, tco in srcs:
            for b in bits(ports):
                start[b] = max(start.get(b, 0.0), tco)
        for ports, setup in snks:
            for b in bits(ports):
                sinks.append((b, setup, end))
        for ins, outs, ns, lv in arcs:
            ob = bits(outs)
            for a in bits(ins):
                for o in ob:
                    succ[a].append((o, ns, lv, typ))
                    indeg[o] += 1
    for name, port in mod.get("ports", {}).items():
        for b in port.get("bits", []):
            if not isinstance(b, int):
                continue
            if port.get("direction") == "input":
                start.setdefault(b, input_start)
            else:
                sinks.append((b, 0.0, name))
    # arrival by delay: (ns, levels, cells, start); by levels: (levels, ns, cells, start)
    by_ns: dict[object, tuple[float, int, int, object]] = {}
    by_lv: dict[object, tuple[int, float, int, object]] = {}
    if start:  # an arc into a sequential output (an SRL's address) does not delay it: drop it
        for a in list(succ):
            kept = [e for e in succ[a] if e[0] not in start]
            for e in succ[a]:
                if e[0] in start:
                    indeg[e[0]] -= 1
            succ[a] = kept
    nodes = set(succ) | set(indeg) | set(start)
    for b in nodes:
        if b in start or indeg.get(b, 0) == 0:
            t = start.get(b, 0.0)
            by_ns[b] = (t, 0, 0, b)
            by_lv[b] = (0, t, 0, b)
    pred: dict[object, tuple[object, str]] = {}  # the deepest (by levels) arc into each bit
    pred_ns: dict[object, tuple[object, str]] = {}  # the slowest (by delay) arc into each bit
    queue = deque(b for b in nodes if indeg.get(b, 0) == 0)
    left = dict(indeg)
    while queue:
        a = queue.popleft()
        an, al = by_ns.get(a), by_lv.get(a)
        for o, ns, lv, typ in succ.get(a, ()):
            nc = int(typ != "INV")
            if an is not None:
                cand = (an[0] + ns, an[1] + lv, an[2] + nc, an[3])
                if o not in by_ns or cand[0] > by_ns[o][0]:
                    by_ns[o] = cand
                    pred_ns[o] = (a, typ)
            if al is not None:
                cl = (al[0] + lv, al[1] + ns, al[2] + nc, al[3])
                if o not in by_lv or cl[:2] > by_lv[o][:2]:
                    by_lv[o] = cl
                    pred[o] = (a, typ)
            left[o] -= 1
            if left[o] == 0:
                queue.append(o)
    per: dict[str, tuple[Path_, Path_]] = {}
    deep: dict[str, tuple[Path_, object]] = {}  # end (bit index dropped) -> deepest path over ``over``, bit
    zero = Path_(0.0, 0, 0, "", "")
    worst, deepest = zero, zero

    def label(b: object) -> str:
        return names.get(b, str(b)) if not isinstance(b, tuple) else f"{b[0]}{b[1]}"

    for b, setup, end in sinks:
        if b not in by_ns:
            continue
        n, lv = by_ns[b], by_lv[b]
        pw = Path_(n[0] + setup, n[1], n[2], label(n[3]), end, _through(b, pred_ns))
        pd = Path_(lv[1] + setup, lv[0], lv[2], label(lv[3]), end, _through(b, pred))
        inst = _instance(end, modules)
        w0, d0 = per.get(inst, (zero, zero))
        per[inst] = (
            pw if pw.delay > w0.delay else w0,
            pd if (pd.lut_levels, pd.delay) > (d0.lut_levels, d0.delay) else d0,
        )
        if pw.delay > worst.delay:
            worst = pw
        if (pd.lut_levels, pd.delay) > (deepest.lut_levels, deepest.delay):
            deepest = pd
        if over is not None and pd.lut_levels > over:
            key = _base(end)
            if key not in deep or (pd.lut_levels, pd.delay) > (deep[key][0].lut_levels, deep[key][0].delay):
                deep[key] = (pd, b)
    top_mods = {"top": top, **{k: v for k, v in modules.items() if "." not in k}}  # "top": the glue
    found = [
        Path_(p.delay, p.lut_levels, p.cells, p.start, _base(p.end), p.through, _nets(b, pred, names))
        for p, b in sorted(deep.values(), key=lambda pb: (-pb[0].lut_levels, -pb[0].delay, pb[0].end))
    ]
    return Depth(worst, deepest, dict(sorted(per.items())), top_mods, found)


def _base(net: str) -> str:
    """A net's name without its bit index."""
    return net[: net.rindex("[")] if net.endswith("]") and "[" in net else net


def _nets(b: object, pred: dict[object, tuple[object, str]], names: dict[object, str]) -> tuple[str, ...]:
    """The named nets (bit index dropped, runs merged) along the deepest path into bit ``b``, start to
    end."""
    out: list[str] = []
    seen = 0
    while seen < 100000:
        n = names.get(b)
        if n is not None and (not out or out[-1] != _base(n)):
            out.append(_base(n))
        if b not in pred:
            break
        b = pred[b][0]
        seen += 1
    return tuple(reversed(out))


def _through(b: object, pred: dict[object, tuple[object, str]]) -> str:
    """The cell types on the path into bit ``b`` that ``pred`` (each bit's arc of that path) traces,
    start to end, runs compressed."""
    types: list[str] = []
    seen = 0
    while b in pred and seen < 100000:
        b, typ = pred[b]
        types.append(typ)
        seen += 1
    runs: list[list[object]] = []
    for t in reversed(types):
        if runs and runs[-1][0] == t:
            runs[-1][1] = int(runs[-1][1]) + 1  # type: ignore[call-overload]
        else:
            runs.append([t, 1])
    return " > ".join(f"{t}*{n}" if int(n) > 1 else str(t) for t, n in runs)  # type: ignore[call-overload]


def _instance(net: str, modules: dict[str, str]) -> str:
    """The top-level instance a net lies in (``top`` for the generated glue)."""
    head = net.split(".", 1)[0] if "." in net else ""
    return head if head and (head in modules or head.startswith("u_")) else "top"


def analyse_file(path: str | Path, top: str) -> Depth:
    """:func:`analyse` of a ``write_json`` netlist file."""
    return analyse(json.loads(Path(path).read_text()), top)


__all__ = [
    "DELAYS",
    "NET",
    "Depth",
    "Path_",
    "analyse",
    "analyse_file",
    "lut_product",
    "priority_delay",
    "rom_delay",
    "rom_luts",
]
