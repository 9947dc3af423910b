"""The RTL backend: parameterised SystemVerilog (templates/rtl) for the IR ops, a generated AXI4-Stream
top, co-simulation with cocotb + Verilator (sim/) and resource counts from Yosys.

Stages, each runnable alone: :func:`build_design` (blocks, streams, cycle estimate),
:func:`write_rtl` (the files), :func:`hlsgen.backends.rtl.lint.lint`,
:func:`hlsgen.backends.rtl.cosim.cosim_graph` and :func:`yosys_resources`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .design import Design, build_design, estimate
from .ops import RtlOptions
from .writer import rtl_files, source_order, write_rtl
from .yosys import YosysCounts


def yosys_synthesis(
    project: Any,
    options: RtlOptions | None = None,
    family: str | None = None,
    depth: bool = True,
    parts: int | None = None,
) -> YosysCounts:
    """Yosys ``synth_xilinx`` of a project's RTL: the cell counts and, with ``depth``, the logic depth
    between registers with an estimated Fmax (``hlsgen report --yosys`` calls this). ``family``
    defaults to the one of the project's part. ``parts`` defaults to ``HLSGEN_YOSYS_PARTS``.

    A ``strategy: latency`` project is its II = 1 design (:mod:`.latency`), its core cut into ``parts``
    stage ranges (by default :func:`.split.default_parts`: about :data:`.split.PART_LUTS` estimated
    LUTs each; 1 is one piece), each synthesised in its own Yosys process (:func:`.split.synthesize_split`).

    An engine design (the row-streaming one) is synthesised in parts, each engine alone and the rest of
    the top (:func:`.parts.synthesize_engines`: cells summed, paths end at the parts' ports), when
    ``parts`` > 1; in one piece when it is 1; by default in parts when the design is large: two engines
    or more and at least :data:`.parts.PARTS_MIN_MULTIPLIERS` multipliers (:func:`.parts.wants_parts`).
    ``YosysCounts.engine_parts`` says which (the number of Yosys processes, 0 for one piece).

    Raises:
        ValueError: ``HLSGEN_YOSYS_PARTS`` or ``parts`` is no integer >= 1.
    """
    from ...config import Strategy
    from .yosys import family_of_part, synthesize

    fam = family or family_of_part(getattr(project.config, "part", "") or "")
    env = os.environ.get("HLSGEN_YOSYS_PARTS")
    if parts is None and env:
        try:
            parts = int(env)
        except ValueError:
            parts = 0
        if parts < 1:
            raise ValueError(f"HLSGEN_YOSYS_PARTS must be an integer >= 1, got {env!r}")
    if parts is not None and parts < 1:
        raise ValueError(f"yosys_synthesis: parts must be >= 1, got {parts}")
    if project.config.strategy is Strategy.LATENCY:
        from .latency import build_latency_design, plan_graph, synthesize_latency, top_files
        from .split import default_parts

        n = parts if parts is not None else default_parts(plan_graph(project.graph, project.config))
        lat = build_latency_design(project.graph, project.config, project.name, n)
        with tempfile.TemporaryDirectory(prefix="hlsgen_rtl_") as d:
            for name, text in top_files(lat).items():
                Path(d, name).write_text(text)
            return synthesize_latency(lat, d, fam, depth=depth)
    from .parts import synthesize_engines, wants_parts

    opts = options or RtlOptions(clock_ns=project.config.clock_period)
    design = build_design(project.graph, project.name, opts)
    apart = parts > 1 if parts is not None else wants_parts(design)
    with tempfile.TemporaryDirectory(prefix="hlsgen_rtl_") as d:
        write_rtl(design, d)
        if apart:
            return synthesize_engines(d, design, fam, depth=depth)
        return synthesize(d, source_order(design), design.top, fam, depth=depth)


def yosys_resources(
    project: Any, options: RtlOptions | None = None, family: str | None = None
) -> dict[str, int]:
    """LUT / FF / DSP / BRAM18 / URAM of a project's RTL from Yosys ``synth_xilinx``."""
    return yosys_synthesis(project, options, family, depth=False).resources()


__all__ = [
    "Design",
    "RtlOptions",
    "build_design",
    "estimate",
    "rtl_files",
    "source_order",
    "write_rtl",
    "yosys_resources",
    "yosys_synthesis",
]
