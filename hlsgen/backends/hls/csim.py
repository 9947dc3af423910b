"""C simulation: compile the generated project with g++ against the ap_types headers, run it on raw integers.

The design is compiled into a shared library with a C entry point taking raw integers (value * 2^F),
loaded with ctypes. Builds are cached by a hash of the sources and the compiler flags
(``HLSGEN_CACHE`` or ~/.cache/hlsgen), so the same project is compiled once.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ... import tools

#: g++ flags of csim builds; -O1 keeps compile time low (the ap_fixed templates dominate it).
CXXFLAGS = ["-std=c++14", "-O1", "-fPIC", "-shared", "-w", "-DHLSGEN_CSIM_RAW_WEIGHTS"]


def cache_dir() -> Path:
    d = Path(os.environ.get("HLSGEN_CACHE") or Path.home() / ".cache" / "hlsgen") / "csim"
    d.mkdir(parents=True, exist_ok=True)
    return d


def build_library(files: dict[str, str], project: str, build_dir: Path | None = None) -> tuple[Path, float]:
    """Compile the project's firmware and csim bridge into a shared library; returns (path, seconds).

    ``files`` are the project's files as :func:`project_files` gives them.
    """
    inc = tools.ap_types_include()
    cxx = tools.cxx()
    h = hashlib.sha256()
    for k in sorted(files):
        if k.startswith("firmware/") or k == "csim_bridge.cpp":
            h.update(k.encode())
            h.update(files[k].encode())
    h.update(" ".join([cxx, *CXXFLAGS, str(inc)]).encode())
    key = h.hexdigest()[:20]
    lib = cache_dir() / f"{project}_{key}.so"
    if lib.exists():
        return lib, 0.0
    src = Path(build_dir) if build_dir else cache_dir() / f"src_{key}"
    if build_dir or not src.is_dir():
        # in the cache, the sources are written whole to a folder of this process's and renamed into
        # place: processes sharing the cache (pytest's workers) never compile a half-written file
        dest = src if build_dir else Path(tempfile.mkdtemp(prefix=f".src_{key}.", dir=cache_dir()))
        for rel, text in files.items():
            if rel.startswith("firmware/") or rel == "csim_bridge.cpp":
                p = dest / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
        if dest != src:
            try:
                os.replace(dest, src)
            except OSError:  # written meanwhile by another process: the same sources (the key is their hash)
                shutil.rmtree(dest, ignore_errors=True)
    tmp = lib.with_suffix(f".{os.getpid()}.tmp")
    cmd = [
        cxx,
        *CXXFLAGS,
        f"-I{inc}",
        f"-I{src / 'firmware'}",
        f"-I{src / 'firmware' / 'hlsgen'}",
        # one translation unit: the bridge read ahead of the design, so that the ap_types and hlsgen
        # headers are parsed once (digits model 11.8 -> 10.4 CPU s)
        "-include",
        str((src / "csim_bridge.cpp").resolve()),
        str(src / "firmware" / f"{project}.cpp"),
        "-o",
        str(tmp),
    ]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"csim build of {project} failed ({' '.join(cmd)}):\n{r.stderr[-4000:]}")
    os.replace(tmp, lib)
    return lib, dt


def run_library(lib: Path, project: str, inputs: list[np.ndarray], out_sizes: list[int]) -> list[np.ndarray]:
    """Run raw integer inputs (each [batch, ...]) through the compiled design; raw outputs [batch, size]."""
    n = int(inputs[0].shape[0])
    flat = np.ascontiguousarray(
        np.concatenate([np.asarray(x, dtype=np.int64).reshape(n, -1) for x in inputs], axis=1), dtype=np.int64
    )
    out = np.zeros((n, sum(out_sizes)), dtype=np.int64)
    dll = ctypes.CDLL(str(lib))
    fn = getattr(dll, f"hlsgen_csim_{project}")
    fn.argtypes = [ctypes.POINTER(ctypes.c_longlong), ctypes.POINTER(ctypes.c_longlong), ctypes.c_int]
    fn.restype = ctypes.c_int
    rc = fn(
        flat.ctypes.data_as(ctypes.POINTER(ctypes.c_longlong)),
        out.ctypes.data_as(ctypes.POINTER(ctypes.c_longlong)),
        n,
    )
    if rc != 0:
        raise RuntimeError(f"csim of {project} returned {rc}")
    res, k = [], 0
    for s in out_sizes:
        res.append(out[:, k : k + s])
        k += s
    return res


class DecodeLibrary:
    """The compiled decode top (``hlsgen_decode_step_<project>`` / ``hlsgen_decode_reset_<project>``) loaded
    with ctypes. Each instance loads its own copy of the shared library: its caches are that copy's static
    arrays, so two instances never share a cache.

    Attributes:
        build_seconds: the g++ time of the build (0 when it came from the cache).
    """

    def __init__(self, files: dict[str, str], project: str) -> None:
        self.project = project
        lib, self.build_seconds = build_library(files, project)
        self._dir = Path(tempfile.mkdtemp(prefix="hlsgen-decode-"))
        self._lib_path = self._dir / lib.name
        shutil.copyfile(lib, self._lib_path)
        self._dll = ctypes.CDLL(str(self._lib_path))
        p = ctypes.POINTER(ctypes.c_longlong)
        self._step = getattr(self._dll, f"hlsgen_decode_step_{project}")
        self._step.argtypes = [p, p, p]
        self._step.restype = ctypes.c_int
        self._reset = getattr(self._dll, f"hlsgen_decode_reset_{project}")
        self._reset.argtypes = [p]
        self._reset.restype = ctypes.c_int

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)

    def reset(self) -> tuple[int, int]:
        """Reset the design; its status (position, overflow)."""
        st = np.zeros(2, dtype=np.int64)
        self._reset(st.ctypes.data_as(ctypes.POINTER(ctypes.c_longlong)))
        return int(st[0]), int(st[1])

    def step(self, raw_in: np.ndarray, out_size: int) -> tuple[np.ndarray, tuple[int, int]]:
        """One token (raw integers) through the design: its raw outputs (all outputs concatenated) and the
        status (position, overflow) the design reports."""
        x = np.ascontiguousarray(np.asarray(raw_in).reshape(-1), dtype=np.int64)
        out = np.zeros(out_size, dtype=np.int64)
        st = np.zeros(2, dtype=np.int64)
        ptr = ctypes.POINTER(ctypes.c_longlong)
        rc = self._step(x.ctypes.data_as(ptr), out.ctypes.data_as(ptr), st.ctypes.data_as(ptr))
        if rc != 0:
            raise RuntimeError(f"csim decode step of {self.project} returned {rc}")
        return out, (int(st[0]), int(st[1]))
