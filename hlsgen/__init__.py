"""hlsgen: trained attention models to bit-exact FPGA firmware."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import Config
from .convert import calibrate, convert
from .project import Project

if TYPE_CHECKING:
    from .analysis import compare, sweep

__all__ = ["Config", "Project", "__version__", "calibrate", "compare", "convert", "sweep"]


def __getattr__(name: str) -> Any:
    """``compare`` and ``sweep`` are imported on first use: their plotting imports are slow, and the
    ``hlsgen`` command must start (and handle Ctrl-C) quickly."""
    if name in ("compare", "sweep"):
        from . import analysis

        value = getattr(analysis, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hlsgen' has no attribute {name!r}")
