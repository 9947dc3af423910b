"""The Vitis HLS backend: project rendering and g++ csim."""

from .csim import build_library, run_library
from .writer import project_files

__all__ = ["build_library", "project_files", "run_library"]
