"""Readers of the reports that Vitis HLS, Vivado and v++ write, into :class:`Measurement` records.

- :func:`parse_csynth_xml`: Vitis HLS ``syn/report/csynth.xml`` (and the per-module ``*_csynth.xml``):
  latency, interval, estimated clock, resources used and available.
- :func:`parse_cosim_report`: Vitis HLS ``sim/report/<top>_cosim.rpt``: measured latency and interval.
- :func:`parse_utilization`: Vivado ``report_utilization`` text (also what v++ link writes): LUT, FF,
  DSP, block RAM (36 Kb tiles, counted here as BRAM18 = 2 x tiles), URAM.
- :func:`parse_timing_summary`: worst negative slack of Vivado ``report_timing_summary``.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .measurements import Measurement, Source

_CSYNTH_RESOURCES = {
    "LUT": "lut",
    "FF": "ff",
    "DSP": "dsp",
    "DSP48E": "dsp",
    "BRAM_18K": "bram18",
    "URAM": "uram",
}


class ReportError(ValueError):
    """A tool report that cannot be read (the message names the file and what is missing)."""


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    t = text.strip()
    if not t or t.lower() in ("undef", "na", "n/a", "-"):
        return None
    try:
        return float(t)
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    v = _number(text)
    return None if v is None else int(v)


def _resources(node: ET.Element | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if node is None:
        return out
    for child in node:
        key = _CSYNTH_RESOURCES.get(child.tag)
        v = _number(child.text)
        if key and v is not None:
            out[key] = v
    return out


def parse_csynth_xml(
    path: str | os.PathLike[str], scope: str = "design", relative_to: Path | None = None
) -> Measurement:
    """A Vitis HLS synthesis report (``csynth.xml`` or ``<module>_csynth.xml``).

    Raises:
        ReportError: not XML, or no PerformanceEstimates / AreaEstimates.
    """
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (ET.ParseError, OSError) as e:
        raise ReportError(f"{p}: not a readable csynth.xml: {e}") from None
    perf = root.find("PerformanceEstimates")
    area = root.find("AreaEstimates")
    if perf is None or area is None:
        raise ReportError(f"{p}: no PerformanceEstimates / AreaEstimates: not a Vitis HLS csynth.xml")
    lat = perf.find("SummaryOfOverallLatency")
    worst = _int(lat.findtext("Worst-caseLatency")) if lat is not None else None
    interval = _int(lat.findtext("Interval-max")) if lat is not None else None
    clock = _number(perf.findtext("SummaryOfTimingAnalysis/EstimatedClockPeriod"))
    version = root.findtext("ReportVersion/Version") or ""
    part = root.findtext("UserAssignments/Part") or ""
    target = root.findtext("UserAssignments/TargetClockPeriod") or ""
    note = ", ".join(
        x
        for x in (f"Vitis HLS {version}" if version else "", part, f"target {target} ns" if target else "")
        if x
    )
    return Measurement(
        source=Source.VITIS_HLS,
        stage="csynth",
        scope=scope,
        resources=_resources(area.find("Resources")),
        available=_resources(area.find("AvailableResources")),
        latency_cycles=worst,
        interval_cycles=interval,
        clock_ns=clock,
        file=_rel(p, relative_to),
        note=note,
    )


def module_layer(module: str, layers: list[str]) -> str | None:
    """The layer a synthesised module belongs to: hlsgen's primitives are templates over ``config_<op>``,
    which Vitis HLS keeps in the module name (the longest matching op name wins)."""
    best = None
    for name in layers:
        if re.search(rf"config_{re.escape(name)}(?:_s|_|$)", module) and (
            best is None or len(name) > len(best)
        ):
            best = name
    return best


def parse_csynth_modules(
    report_dir: str | os.PathLike[str], layers: list[str], relative_to: Path | None = None
) -> list[Measurement]:
    """Per-layer measurements from the ``<module>_csynth.xml`` files of a synthesis report folder."""
    out = []
    seen: set[str] = set()
    for f in sorted(Path(report_dir).glob("*_csynth.xml")):
        layer = module_layer(f.name[: -len("_csynth.xml")], layers)
        if layer is None or layer in seen:
            continue
        seen.add(layer)
        out.append(parse_csynth_xml(f, scope=layer, relative_to=relative_to))
    return out


_COSIM_ROW = re.compile(r"^\|\s*(Verilog|VHDL)\s*\|\s*(\w+)\s*\|(.*)\|\s*$")


def parse_cosim_report(path: str | os.PathLike[str], relative_to: Path | None = None) -> Measurement:
    """A Vitis HLS co-simulation report: latency (max) and interval (max) of the passing RTL.

    Raises:
        ReportError: no passing Verilog or VHDL row.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        m = _COSIM_ROW.match(line.strip())
        if not m or m.group(2).lower() != "pass":
            continue
        cells = [c.strip() for c in m.group(3).split("|")]
        if len(cells) < 6:
            continue
        return Measurement(
            source=Source.VITIS_COSIM,
            stage="cosim",
            latency_cycles=_int(cells[2]),
            interval_cycles=_int(cells[5]),
            file=_rel(p, relative_to),
            note=f"{m.group(1)} RTL, latency min/avg/max {cells[0]}/{cells[1]}/{cells[2]}",
        )
    raise ReportError(f"{p}: no passing Verilog or VHDL row: not a cosim report, or co-simulation failed")


_UTIL_ROWS = {
    "slice luts": "lut",
    "clb luts": "lut",
    "slice registers": "ff",
    "clb registers": "ff",
    "dsps": "dsp",
    "block ram tile": "bram36",
    "uram": "uram",
}


def parse_utilization(
    path: str | os.PathLike[str],
    source: Source = Source.VIVADO,
    stage: str = "bitstream",
    relative_to: Path | None = None,
) -> Measurement:
    """A Vivado ``report_utilization`` text report (flat): used and available LUT, FF, DSP, BRAM, URAM.

    Raises:
        ReportError: none of the resource rows is there.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8", errors="replace")
    used: dict[str, float] = {}
    avail: dict[str, float] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("|"):
            continue
        cells = [c.strip() for c in s.strip("|").split("|")]
        if cells and cells[0].lower() == "site type":
            header = [c.lower() for c in cells]
            continue
        if header is None or not cells:
            continue
        name = re.sub(r"\*+$", "", cells[0]).strip().lower()
        key = _UTIL_ROWS.get(name)
        if key is None or key in used or len(cells) != len(header):
            continue
        u = _number(cells[header.index("used")]) if "used" in header else None
        a = _number(cells[header.index("available")]) if "available" in header else None
        if u is None:
            continue
        used[key], avail[key] = u, a if a is not None else 0.0
    if not used:
        raise ReportError(f"{p}: no LUT / register / DSP / block RAM rows: not a Vivado utilisation report")
    for d in (used, avail):
        if "bram36" in d:
            d["bram18"] = 2 * d.pop("bram36")
    return Measurement(
        source=source,
        stage=stage,
        resources=used,
        available={k: v for k, v in avail.items() if v},
        file=_rel(p, relative_to),
    )


def parse_timing_summary(path: str | os.PathLike[str]) -> float | None:
    """Worst negative slack (ns) of a Vivado ``report_timing_summary``; None when absent."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("WNS(ns)"):
            for nxt in lines[i + 1 : i + 4]:
                parts = nxt.split()
                if parts and _number(parts[0]) is not None:
                    return _number(parts[0])
    return None


def _rel(p: Path, base: Path | None) -> str:
    if base is None:
        return str(p)
    try:
        return str(p.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(p)


__all__ = [
    "ReportError",
    "module_layer",
    "parse_cosim_report",
    "parse_csynth_modules",
    "parse_csynth_xml",
    "parse_timing_summary",
    "parse_utilization",
]
