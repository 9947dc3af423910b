"""hlsgen: trained attention models to bit-exact FPGA firmware."""

from __future__ import annotations

from ._version import __version__
from .analysis import compare, sweep
from .config import Config
from .convert import calibrate, convert
from .project import Project

__all__ = ["Config", "Project", "__version__", "calibrate", "compare", "convert", "sweep"]
