"""hlsgen: trained attention models to bit-exact FPGA firmware."""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
