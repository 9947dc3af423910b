"""Reports: measurements labelled with their source, readers of tool reports, Markdown / HTML / PNG output."""

from __future__ import annotations

from .measurements import MEASUREMENTS_FILE, Measurement, Source, add_measurement, load_measurements
from .parsers import (
    ReportError,
    parse_cosim_report,
    parse_csynth_modules,
    parse_csynth_xml,
    parse_timing_summary,
    parse_utilization,
)

__all__ = [
    "MEASUREMENTS_FILE",
    "Measurement",
    "ReportError",
    "Source",
    "add_measurement",
    "load_measurements",
    "parse_cosim_report",
    "parse_csynth_modules",
    "parse_csynth_xml",
    "parse_timing_summary",
    "parse_utilization",
    "write_report",
]


def write_report(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    """See :func:`hlsgen.report.render.write_report` (imported lazily: it pulls in matplotlib)."""
    from .render import write_report as _write

    return _write(*args, **kwargs)
