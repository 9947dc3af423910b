"""Measured figures of a project, each labelled with its source, kept in ``reports/hlsgen_measurements.json``.

The estimate (:mod:`hlsgen.plan`) is computed, never stored; everything that a tool measured is stored
here: Vitis HLS synthesis and co-simulation (``hlsgen build``), Vivado / v++ implementation, Yosys counts
and cocotb co-simulation cycles (other parts of hlsgen call :func:`add_measurement`). A measurement of
the same source, stage and scope replaces the earlier one.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..io import atomic_write_file

#: Where measurements live inside a project folder.
MEASUREMENTS_FILE = Path("reports") / "hlsgen_measurements.json"
_RESOURCE_KEYS = ("lut", "ff", "dsp", "bram18", "uram")


class Source(enum.StrEnum):
    """Where a figure comes from (shown beside it everywhere)."""

    ESTIMATE = "estimate"  #: hlsgen.plan's analytical model
    VITIS_HLS = "vitis_hls"  #: Vitis HLS C synthesis report (csynth.xml)
    VITIS_COSIM = "vitis_cosim"  #: Vitis HLS C/RTL co-simulation report
    VIVADO = "vivado"  #: Vivado post-implementation utilisation / timing
    VPP = "v++"  #: Vitis v++ link (xclbin) utilisation
    YOSYS = "yosys"  #: Yosys synth_xilinx cell counts of hlsgen's RTL
    COSIM = "cosim"  #: cocotb + Verilator co-simulation of hlsgen's RTL


@dataclass(frozen=True)
class Measurement:
    """One measured set of figures.

    Attributes:
        source: the tool that measured it.
        stage: the build stage or step (``csynth``, ``cosim``, ``bitstream``, ``synth``, ...).
        scope: ``design`` for the whole design, else a layer (op) name.
        resources: used resources, keyed lut / ff / dsp / bram18 / uram (missing = not measured).
        available: the device's resources as the tool reports them (may differ from the board file).
        latency_cycles: latency of one sample in clock cycles.
        interval_cycles: initiation interval in clock cycles.
        clock_ns: the clock period the figures are for (estimated or achieved).
        file: the report it was read from, relative to the project when inside it.
        note: anything else worth showing (a tool version, worst negative slack, ...).
    """

    source: Source
    stage: str = ""
    scope: str = "design"
    resources: dict[str, float] = field(default_factory=dict)
    available: dict[str, float] = field(default_factory=dict)
    latency_cycles: int | None = None
    interval_cycles: int | None = None
    clock_ns: float | None = None
    file: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "source", Source(self.source))
        except ValueError:
            valid = ", ".join(x.value for x in Source)
            raise ValueError(f"measurement source {self.source!r} is unknown; valid: {valid}") from None
        for what in ("resources", "available"):
            d = getattr(self, what)
            bad = [k for k in d if k not in _RESOURCE_KEYS]
            if bad:
                raise ValueError(
                    f"measurement {what}: unknown resource {bad[0]!r}; valid: {', '.join(_RESOURCE_KEYS)}"
                )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source.value, self.stage, self.scope)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.value,
            "stage": self.stage,
            "scope": self.scope,
            "resources": dict(self.resources),
            "available": dict(self.available),
            "latency_cycles": self.latency_cycles,
            "interval_cycles": self.interval_cycles,
            "clock_ns": self.clock_ns,
            "file": self.file,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Measurement:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def load_measurements(project_dir: str | os.PathLike[str]) -> list[Measurement]:
    """The measurements stored in a project ([] when there are none)."""
    p = Path(project_dir) / MEASUREMENTS_FILE
    if not p.is_file():
        return []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return [Measurement.from_dict(m) for m in data.get("measurements", [])]
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{p}: not an hlsgen measurements file: {e}") from None


def save_measurements(project_dir: str | os.PathLike[str], measurements: list[Measurement]) -> Path:
    """Write the measurements file atomically."""
    p = Path(project_dir) / MEASUREMENTS_FILE
    p.parent.mkdir(parents=True, exist_ok=True)
    body = {"hlsgen_version": __version__, "measurements": [m.to_dict() for m in measurements]}
    return atomic_write_file(p, json.dumps(body, indent=2) + "\n")


def add_measurement(
    project_dir: str | os.PathLike[str],
    source: Source | str,
    *,
    stage: str = "",
    scope: str = "design",
    resources: Mapping[str, float] | None = None,
    available: Mapping[str, float] | None = None,
    latency_cycles: int | None = None,
    interval_cycles: int | None = None,
    clock_ns: float | None = None,
    file: str = "",
    note: str = "",
) -> Measurement:
    """Record a measured figure for the project in ``project_dir`` (replacing one of the same source,
    stage and scope). For example, cocotb cycles of the RTL and Yosys counts::

        add_measurement(prj, "cosim", stage="rtl", latency_cycles=1118, interval_cycles=1119)
        add_measurement(prj, "yosys", stage="synth", resources={"lut": 18211, "ff": 20011, "dsp": 170})

    Raises:
        FileNotFoundError: ``project_dir`` is not an hlsgen project.
        ValueError: an unknown source or resource name.
    """
    d = Path(project_dir)
    if not (d / "hlsgen_config.yml").is_file():
        raise FileNotFoundError(f"{d} is not an hlsgen project (no hlsgen_config.yml)")
    m = Measurement(
        source=source,
        stage=stage,
        scope=scope,
        resources={k: v for k, v in (resources or {}).items() if v is not None},
        available=dict(available or {}),
        latency_cycles=latency_cycles,
        interval_cycles=interval_cycles,
        clock_ns=clock_ns,
        file=file,
        note=note,
    )
    ms = [x for x in load_measurements(d) if x.key != m.key]
    save_measurements(d, [*ms, m])
    return m


__all__ = [
    "MEASUREMENTS_FILE",
    "Measurement",
    "Source",
    "add_measurement",
    "load_measurements",
    "save_measurements",
]
