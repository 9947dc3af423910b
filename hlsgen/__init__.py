"""hlsgen: trained attention models to bit-exact FPGA firmware."""

from __future__ import annotations

from ._version import __version__
from .analysis import compare, sweep
from .convert import calibrate, convert
from .project import Project
from .quant.config import Config

__all__ = ["Config", "Project", "__version__", "calibrate", "compare", "convert", "sweep"]
