"""``hlsgen build``: run Vitis HLS, Vivado and v++ on a written project, and read their reports.

Stages, each runnable alone (in this order when several are asked for):

========== ============================================================== =========================
stage      what runs                                                       tool
========== ============================================================== =========================
csim       ``vitis_hls -f build_prj.tcl`` with csim=1                      vitis_hls
csynth     ... synth=1: reports -> measurements (source ``vitis_hls``)     vitis_hls
cosim      ... cosim=1 (synthesises first): measured latency               vitis_hls
export     Zynq: ``vitis_hls -f build_ip.tcl`` (the AXI4-Stream IP);      vitis_hls / v++
           Alveo: ``build_xclbin.sh`` compile (``v++ -c``, the .xo);
           bare part: ``build_prj.tcl`` export=1 (the IP of the top)
bitstream  Zynq: ``vivado -mode batch -source vivado/build_bd.tcl``;        vivado / v++
           Alveo: ``build_xclbin.sh`` link (``v++ -l``, the .xclbin)
========== ============================================================== =========================

Before anything runs, every tool the stages need is looked up on PATH; a missing one stops the build
with :class:`~hlsgen.tools.ToolMissing` naming it, and the project is not touched.
"""

from __future__ import annotations

import enum
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .boards import Board, Shell, read_board_file
from .report.measurements import Measurement, Source, add_measurement
from .tools import ToolMissing, have


class Stage(enum.StrEnum):
    """Build stages, in the order they run."""

    CSIM = "csim"
    CSYNTH = "csynth"
    COSIM = "cosim"
    EXPORT = "export"
    BITSTREAM = "bitstream"


#: What to install when a tool is missing.
_TOOL_HINT = {
    "vitis_hls": "install AMD Vitis HLS and source <Vitis>/settings64.sh",
    "vivado": "install AMD Vivado and source <Vivado>/settings64.sh",
    "v++": "install AMD Vitis and source <Vitis>/settings64.sh and /opt/xilinx/xrt/setup.sh",
    "bash": "install bash",
}


def parse_stages(text: str | Sequence[str]) -> list[Stage]:
    """Stages from ``"csim,csynth"`` (or a list), in run order.

    Raises:
        ValueError: an unknown stage (the valid ones listed).
    """
    names = [s.strip().lower() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    if not names:
        raise ValueError(f"no stages given; valid stages: {', '.join(s.value for s in Stage)}")
    valid = {s.value for s in Stage}
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(f"unknown stage {bad[0]!r}; valid stages: {', '.join(s.value for s in Stage)}")
    return [s for s in Stage if s.value in names]


def project_board(project_dir: Path) -> Board | None:
    """The board a project was written for: its ``hlsgen_board.yml``, else None (a part only)."""
    f = project_dir / "hlsgen_board.yml"
    if f.is_file():
        return read_board_file(f)
    return None


@dataclass(frozen=True)
class Step:
    """One command of the build: which stages it serves, the tool it needs, the command line."""

    stages: tuple[Stage, ...]
    tool: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env)
        return f"{env + ' ' if env else ''}{' '.join(self.argv)}"


def plan_steps(project_dir: Path, stages: Sequence[Stage], board: Board | None) -> list[Step]:
    """The commands that carry out ``stages`` for this project (nothing runs).

    Raises:
        ValueError: a stage the project's shell has no meaning for (a bitstream for a bare part).
    """
    shell = board.shell if board is not None else Shell.BARE
    want = set(stages)
    steps: list[Step] = []
    hls = [s for s in (Stage.CSIM, Stage.CSYNTH, Stage.COSIM) if s in want]
    bare_export = Stage.EXPORT in want and shell is Shell.BARE
    if hls or bare_export:
        synth = Stage.CSYNTH in want or Stage.COSIM in want or bare_export
        args = [
            f"csim={int(Stage.CSIM in want)}",
            f"synth={int(synth)}",
            f"cosim={int(Stage.COSIM in want)}",
            f"export={int(bare_export)}",
        ]
        served = tuple(hls) + ((Stage.EXPORT,) if bare_export else ())
        steps.append(Step(served, "vitis_hls", ("vitis_hls", "-f", "build_prj.tcl", "-tclargs", *args)))
    if Stage.EXPORT in want and shell is Shell.ZYNQ:
        steps.append(Step((Stage.EXPORT,), "vitis_hls", ("vitis_hls", "-f", "build_ip.tcl")))
    if Stage.EXPORT in want and shell is Shell.ALVEO:
        steps.append(
            Step((Stage.EXPORT,), "v++", ("bash", "build_xclbin.sh", "hw"), (("HLSGEN_STAGE", "compile"),))
        )
    if Stage.BITSTREAM in want:
        if shell is Shell.BARE:
            where = f"board {board.name}" if board is not None else "a project without a board"
            raise ValueError(
                f"{where} has no bitstream stage (a bare part: instantiate the exported IP in your own "
                "design); use --stages csim,csynth,cosim,export"
            )
        if shell is Shell.ZYNQ:
            if Stage.EXPORT not in want and not (project_dir / f"{_name(project_dir)}_axi_prj").is_dir():
                raise ValueError(
                    "the bitstream needs the exported IP: add the export stage (--stages export,bitstream)"
                )
            steps.append(
                Step(
                    (Stage.BITSTREAM,),
                    "vivado",
                    ("vivado", "-mode", "batch", "-source", "vivado/build_bd.tcl"),
                )
            )
        else:
            steps.append(
                Step(
                    (Stage.BITSTREAM,), "v++", ("bash", "build_xclbin.sh", "hw"), (("HLSGEN_STAGE", "link"),)
                )
            )
    return steps


def _name(project_dir: Path) -> str:
    from .config import Config

    return Config.from_yaml(project_dir / "hlsgen_config.yml").project_name


def check_tools(steps: Sequence[Step]) -> None:
    """Raise :class:`ToolMissing` naming every tool the steps need that is not on PATH."""
    missing: dict[str, list[str]] = {}
    for s in steps:
        for tool in dict.fromkeys((s.tool, s.argv[0])):
            if not have(tool):
                missing.setdefault(tool, []).extend(st.value for st in s.stages)
    if missing:
        lines = [
            f"{tool} is not on PATH (needed by stage{'s' if len(set(st)) > 1 else ''} "
            f"{', '.join(dict.fromkeys(st))}): {_TOOL_HINT.get(tool, 'install it')}"
            for tool, st in missing.items()
        ]
        raise ToolMissing(
            "cannot build: " + "; ".join(lines) + ". Nothing was run; the project is unchanged."
        )


@dataclass
class BuildResult:
    """What a build ran and measured."""

    steps: list[Step] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)


def build(
    project_dir: str | os.PathLike[str],
    stages: str | Sequence[str] = "csim,csynth",
    echo: Callable[[str], None] = print,
) -> BuildResult:
    """Run the stages on the project in ``project_dir`` and record what the tools report.

    Raises:
        FileNotFoundError: not an hlsgen project.
        ValueError: unknown stage, or a stage the shell has no meaning for.
        ToolMissing: a tool is not on PATH (checked before anything runs: the project is unchanged).
        RuntimeError: a tool failed (its log is named).
    """
    d = Path(project_dir)
    if not (d / "hlsgen_config.yml").is_file():
        raise FileNotFoundError(
            f"{d} is not an hlsgen project (no hlsgen_config.yml): write it with hlsgen convert"
        )
    wanted = parse_stages(stages)
    board = project_board(d)
    steps = plan_steps(d, wanted, board)
    check_tools(steps)
    result = BuildResult(steps=steps)
    logs = d / "reports" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for i, step in enumerate(steps):
        log = logs / f"{i:02d}_{'_'.join(s.value for s in step.stages)}.log"
        echo(f"hlsgen build: {step.describe()}  (log: {log.relative_to(d)})")
        with log.open("w", encoding="utf-8") as f:
            rc = subprocess.run(
                step.argv, cwd=d, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **dict(step.env)}
            ).returncode
        result.logs.append(log)
        if rc != 0:
            raise RuntimeError(
                f"{step.argv[0]} failed (exit status {rc}) in stage {step.stages[0].value}: see {log}"
            )
    result.measurements = collect_reports(d, board)
    for m in result.measurements:
        echo(f"  {m.source.value} {m.stage} {m.scope}: {_summary(m)}")
    return result


def _summary(m: Measurement) -> str:
    parts = [f"{k.upper()} {v:g}" for k, v in m.resources.items()]
    if m.latency_cycles is not None:
        parts.append(f"latency {m.latency_cycles} cycles")
    if m.interval_cycles is not None:
        parts.append(f"interval {m.interval_cycles}")
    if m.clock_ns is not None:
        parts.append(f"clock {m.clock_ns:g} ns")
    return ", ".join(parts) or "-"


def collect_reports(project_dir: str | os.PathLike[str], board: Board | None = None) -> list[Measurement]:
    """Read every tool report found in the project into measurements (and store them with
    :func:`~hlsgen.report.add_measurement`). Reports that are absent are skipped."""
    from .config import Config
    from .report.parsers import (
        parse_cosim_report,
        parse_csynth_modules,
        parse_csynth_xml,
        parse_timing_summary,
        parse_utilization,
    )

    d = Path(project_dir)
    name = Config.from_yaml(d / "hlsgen_config.yml").project_name
    found: list[Measurement] = []
    syn = d / f"{name}_prj" / "solution1" / "syn" / "report"
    if (syn / "csynth.xml").is_file():
        found.append(parse_csynth_xml(syn / "csynth.xml", relative_to=d))
        layers = _layer_names(d)
        found += parse_csynth_modules(syn, layers, relative_to=d)
    cosim = d / f"{name}_prj" / "solution1" / "sim" / "report" / f"{name}_cosim.rpt"
    if cosim.is_file():
        found.append(parse_cosim_report(cosim, relative_to=d))
    util = d / "vivado" / "reports" / "utilization.rpt"
    if util.is_file():
        m = parse_utilization(util, Source.VIVADO, "bitstream", relative_to=d)
        timing = d / "vivado" / "reports" / "timing_summary.rpt"
        wns = parse_timing_summary(timing) if timing.is_file() else None
        if wns is not None:
            m = Measurement(**{**m.__dict__, "note": f"WNS {wns:g} ns"})
        found.append(m)
    for f in sorted((d / "reports" / "hw").rglob("*util*.rpt")) if (d / "reports" / "hw").is_dir() else []:
        try:
            found.append(parse_utilization(f, Source.VPP, "bitstream", relative_to=d))
            break
        except ValueError:
            continue
    for m in found:
        add_measurement(
            d,
            m.source,
            stage=m.stage,
            scope=m.scope,
            resources=m.resources,
            available=m.available,
            latency_cycles=m.latency_cycles,
            interval_cycles=m.interval_cycles,
            clock_ns=m.clock_ns,
            file=m.file,
            note=m.note,
        )
    return found


def _layer_names(project_dir: Path) -> list[str]:
    """Op names of the project, read from its parameters.h (``struct config_<op>``), without converting."""
    import re

    p = project_dir / "firmware" / "parameters.h"
    if not p.is_file():
        return []
    return re.findall(r"struct\s+config_(\w+)", p.read_text(encoding="utf-8"))


__all__ = [
    "BuildResult",
    "Stage",
    "Step",
    "build",
    "check_tools",
    "collect_reports",
    "parse_stages",
    "plan_steps",
    "project_board",
]
