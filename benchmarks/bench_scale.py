"""How hlsgen's flow scales with sequence length T and d_model: the MHA block of bench_rtl.py (4 heads of
d / 4, ap_fixed<8,3> data, default RTL settings) at T in 16 / 64 / 256 / 1024 and d in 32 / 64 / 128, each
stage timed: convert, emulation (predict on 8 sequences), csim build (g++), Verilator build, one cosim run
(one sequence, no idle cycles nor back-pressure: bit-exact against the reference, cycles measured) and
Yosys synth_xilinx -family xcup (LUT / FF / DSP / BRAM18 and the LUT levels of the deepest path between
registers, hlsgen.backends.rtl.logic_depth); the cycle estimate (hlsgen.backends.rtl.timing) beside the
cosim latency. ``--model norm`` takes bench_emulation.py's block instead (MHA + residual + layer norm).

Each stage runs in its own process with a time limit (``--limit``, seconds); one that exceeds it is
killed and printed as "> LIMIT" (a measurement too), and the later stages of that case still run where
they can (every stage but convert needs the converted project). A stage that fails prints "err" and its
last lines go to stderr. Run on a shared 2-core machine: wall times carry the other load (printed).

How the figures grow (measured, README "Scaling with sequence length and d_model"): cycles as T^2 (scores
and context on a fixed multiplier count) plus T * d^2 (projections), estimate == cosim; convert a few
seconds, then quadratic in T (the Keras calibration's T x T attention); emulation quadratic in T; the
csim build flat in T and d; the Verilator build flat to T 256, then faster; the cosim run as cycles x
design size; Yosys over 240 s from T 64 with the banks as register arrays read several rows a cycle
(multiplexers of about SIMD * T * d LUTs), still over 600 s at T 256 with them in RAM (RtlOptions.
ram_min_rows) while the softmax's and scores' T-wide rows were registers; with those rows in memories too
(#14) see the README for the T 256 figures; LUT about linear in d at T 16.

    python benchmarks/bench_scale.py [--seq 16 64 256 1024] [--d 32 64 128] [--limit 600]
        [--stages convert emulate csim verilator cosim yosys] [--model mha|norm] [--parts]

``--parts``: Yosys in parts (each engine alone and the rest of the top, two single-threaded processes at
a time, :mod:`hlsgen.backends.rtl.parts`): the row has the sums, the slowest / deepest path over the
parts and the wall time of the whole; a table under it has each part's figures and seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# the Verilator builds of long sequences are large: split into one g++ run a class, which `make -j` spreads
# over the cores (the test suite's small builds compile as one file: less CPU, see cosim._make_vars)
os.environ.setdefault("HLSGEN_VERILATOR_PARALLEL", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


class Stage(StrEnum):
    """The timed stages of one case, in run order."""

    CONVERT = "convert"
    EMULATE = "emulate"
    CSIM = "csim"
    VERILATOR = "verilator"
    COSIM = "cosim"
    YOSYS = "yosys"


#: sequences predicted by the emulation stage
EMULATE_BATCH = 8


@dataclass
class StageResult:
    """One stage of one case: its wall time (None: not run), whether it ran out of time or failed, and the
    figures it measured."""

    seconds: float | None = None
    timed_out: bool = False
    failed: bool = False
    figures: dict[str, Any] = field(default_factory=dict)

    skipped: str = ""

    def cell(self, stage: Stage, limit: float) -> str:
        """The time printed: the stage's own time when it measured one (without the imports and the
        loading of the project by its process), else the process's wall time."""
        if self.timed_out:
            return f">{limit:.0f}"
        if self.failed:
            return "err"
        if self.skipped:
            return self.skipped
        t = self.figures.get(f"{stage.value}_s", self.seconds)
        return "-" if t is None else f"{t:.1f}"


# -- worker: one stage in its own process --------------------------------------------------------------
def _project(work: Path) -> Any:
    with (work / "project.pkl").open("rb") as f:
        return pickle.load(f)


def run_stage(
    stage: Stage, seq: int, d: int, model: str, work: Path, opts: Any = None, parts: bool = False
) -> dict[str, Any]:
    """Run ``stage`` of case (seq, d) in this process, the RTL built with ``opts`` (an RtlOptions; None:
    the defaults); returns its figures (the time is the caller's). With ``parts``, Yosys synthesises
    each engine alone and the rest of the top, two processes at a time
    (:func:`hlsgen.backends.rtl.parts.synthesize_engines`), and the figures list each part."""
    import numpy as np

    if stage is Stage.CONVERT:
        from bench_emulation import mha_block
        from bench_rtl import mha_model, mha_project

        keras_model = mha_model(seq, d, 4) if model == "mha" else mha_block(seq, d, 4)
        t0 = time.perf_counter()
        proj, x = mha_project(seq, d, 4, model=keras_model)
        t = time.perf_counter() - t0
        with (work / "project.pkl").open("wb") as f:
            pickle.dump(proj, f)
        np.save(work / "x.npy", x)
        g = proj.graph
        macs = sum(op.cost(g).macs for op in g.ops if op.kind in ("linear", "scores", "context"))
        return {"convert_s": t, "macs": macs}
    proj = _project(work)
    x = np.load(work / "x.npy")
    if stage is Stage.EMULATE:
        proj.predict(x[:1])
        t0 = time.perf_counter()
        proj.predict(x[:EMULATE_BATCH])
        return {"emulate_s": time.perf_counter() - t0}
    if stage is Stage.CSIM:
        t0 = time.perf_counter()
        proj.build_csim()
        return {"csim_s": time.perf_counter() - t0}
    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl

    opts = opts or RtlOptions()
    design = build_design(proj.graph, proj.name, opts)
    est = design.estimate
    figures: dict[str, Any] = {"est_latency": est.latency, "est_ii": est.ii, "mults": design.multipliers}
    if stage is Stage.VERILATOR:
        from hlsgen.backends.rtl import cosim

        rtl = write_rtl(design, work / "rtl_v")
        _, dt = cosim.build(rtl, source_order(design), design.top)
        figures["verilator_s"] = dt
    elif stage is Stage.COSIM:
        from hlsgen.backends.rtl.cosim import cosim_graph
        from hlsgen.ir.graph import input_raw

        g = proj.graph
        raw = {g.inputs[0]: input_raw(x[:1], g.tensors[g.inputs[0]].type)}
        res = cosim_graph(g, proj.name, raw, work / "cosim", opts, plain_only=True)
        figures.update(
            passed=res.passed, latency=res.latency, build_s=res.build_seconds, cosim_s=res.sim_seconds
        )
        if not res.passed:
            figures["message"] = res.failure_message()
    elif stage is Stage.YOSYS:
        from hlsgen.backends.rtl.parts import synthesize_engines
        from hlsgen.backends.rtl.yosys import synthesize

        rtl = write_rtl(design, work / "rtl_y")
        if parts:
            c = synthesize_engines(rtl, design, depth=True, log=lambda line: print(line, flush=True))
            figures["parts"] = [
                [name, p.lut, p.lutram, p.ff, p.dsp, p.bram18, p.depth.deepest.lut_levels if p.depth else 0,
                 p.seconds]
                for name, p in c.instances.items()
            ]  # fmt: skip
            figures["yosys_cpu_s"] = c.cpu_seconds
            figures["yosys_rss_mib"] = c.peak_rss_mib
        else:
            c = synthesize(rtl, source_order(design), design.top, depth=True)
        assert c.depth is not None
        figures.update(
            lut=c.lut,
            lutram=c.lutram,
            ff=c.ff,
            dsp=c.dsp,
            bram18=c.bram18,
            levels=c.depth.deepest.lut_levels,
            fmax=c.depth.fmax_mhz,
            yosys_s=c.seconds,
        )
    return figures


def worker(args: argparse.Namespace) -> int:
    """``--worker STAGE``: run one stage and write its figures to WORK/STAGE.json."""
    work = Path(args.work)
    stage = Stage(args.worker)
    out = work / f"{stage.value}.json"
    try:
        from hlsgen.backends.rtl import RtlOptions

        opts = RtlOptions(ram_min_rows=None if args.ram_min_rows == 0 else args.ram_min_rows)
        figures = run_stage(stage, args.seq[0], args.d[0], args.model, work, opts, args.parts)
    except Exception:
        traceback.print_exc()
        return 1
    out.write_text(json.dumps(figures))
    return 0


# -- driver ----------------------------------------------------------------------------------------------
def timed(stage: Stage, seq: int, d: int, args: argparse.Namespace, work: Path) -> StageResult:
    """Run ``stage`` in a child process (its own process group, killed whole on time-out)."""
    cmd = [sys.executable, __file__, "--worker", stage.value, "--seq", str(seq), "--d", str(d)]
    cmd += ["--model", args.model, "--work", str(work), "--ram-min-rows", str(args.ram_min_rows)]
    cmd += ["--parts"] if args.parts else []
    log = work / f"{stage.value}.log"
    t0 = time.perf_counter()
    with log.open("w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=args.limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return StageResult(timed_out=True)
    dt = time.perf_counter() - t0
    out = work / f"{stage.value}.json"
    if rc != 0 or not out.is_file():
        tail = "\n".join(log.read_text().splitlines()[-15:])
        print(f"[T={seq} d={d}] {stage.value} failed (exit {rc}):\n{tail}", file=sys.stderr)
        return StageResult(seconds=dt, failed=True)
    return StageResult(seconds=dt, figures=json.loads(out.read_text()))


HEADER = (
    f"{'T':>5} {'d':>4} {'MACs':>10} | {'conv s':>7} {'emu s':>7} {'csim s':>7} {'veril s':>7} {'cosim s':>7} "
    f"{'yosys s':>7} | {'est lat':>8} {'cosim lat':>9} {'exact':>5} | {'LUT':>7} {'LUTRAM':>6} {'FF':>7} "
    f"{'DSP':>4} {'BRAM18':>6} {'levels':>6} {'MHz':>5}"
)


def row(seq: int, d: int, res: dict[Stage, StageResult], limit: float) -> str:
    fig: dict[str, Any] = {}
    for r in res.values():
        fig.update(r.figures)
    cells = [res.get(s, StageResult()).cell(s, limit) for s in Stage]
    ys = res.get(Stage.YOSYS)
    if ys is not None and ys.figures:
        syn = (
            f"{fig['lut']:>7} {fig['lutram']:>6} {fig['ff']:>7} {fig['dsp']:>4} {fig['bram18']:>6} "
            f"{fig['levels']:>6} {fig['fmax']:>5.0f}"
        )
    else:
        syn = f"{'-':>7} {'-':>6} {'-':>7} {'-':>4} {'-':>6} {'-':>6} {'-':>5}"
    exact = {True: "yes", False: "NO"}.get(fig.get("passed"), "-")  # type: ignore[call-overload]
    return (
        f"{seq:>5} {d:>4} {fig.get('macs', '-'):>10} | {' '.join(f'{c:>7}' for c in cells)} | "
        f"{fig.get('est_latency', '-'):>8} {fig.get('latency') or '-':>9} {exact:>5} | {syn}"
    )


def parts_table(fig: dict[str, Any]) -> str:
    """The figures of each Yosys part (``--parts``), their sum, and the wall and CPU time of the whole."""
    lines = [
        f"    {'part':<20} {'LUT':>7} {'LUTRAM':>6} {'FF':>7} {'DSP':>4} {'BRAM18':>6} {'levels':>6} {'s':>7}"
    ]
    for name, lut, lutram, ff, dsp, bram, levels, sec in fig["parts"]:
        lines.append(
            f"    {name:<20} {lut:>7} {lutram:>6} {ff:>7} {dsp:>4} {bram:>6} {levels:>6} {sec:>7.1f}"
        )
    lines.append(
        f"    {'sum / deepest':<20} {fig['lut']:>7} {fig['lutram']:>6} {fig['ff']:>7} {fig['dsp']:>4} "
        f"{fig['bram18']:>6} {fig['levels']:>6}   yosys wall {fig['yosys_s']:.1f} s, "
        f"CPU {fig['yosys_cpu_s']:.1f} s, peak {fig['yosys_rss_mib']:.0f} MiB"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seq", type=int, nargs="+", default=[16, 64, 256, 1024], help="sequence lengths T")
    ap.add_argument("--d", type=int, nargs="+", default=[32, 64, 128], help="d_model values (4 heads)")
    ap.add_argument("--limit", type=float, default=600.0, help="time limit of each stage, seconds")
    ap.add_argument(
        "--stages",
        nargs="+",
        choices=[s.value for s in Stage],
        default=[s.value for s in Stage],
        help="stages to run (convert always runs: the others load its project)",
    )
    ap.add_argument("--model", choices=["mha", "norm"], default="mha", help="MHA block, or + residual + LN")
    ap.add_argument("--keep", help="keep every case's files under this folder")
    ap.add_argument(
        "--ram-min-rows",
        type=int,
        default=32,
        help="RtlOptions.ram_min_rows: rows a lane of an attention bank holds to be a memory (0: register arrays)",
    )
    ap.add_argument(
        "--parts",
        action="store_true",
        help="yosys: each engine alone and the rest of the top, two Yosys processes at a time; per part figures",
    )
    ap.add_argument("--worker", choices=[s.value for s in Stage], help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)

    stages = [s for s in Stage if s.value in args.stages]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_scale_"))
    # fresh caches: every g++ / Verilator build is timed, none is reused from an earlier run
    os.environ["HLSGEN_CACHE"] = str(base / "cache")
    os.environ.setdefault("YOWASP_CACHE_DIR", str(Path.home() / ".cache" / "hlsgen" / "yowasp"))
    print(
        f"model {args.model}: 4 heads, ap_fixed<8,3,AP_RND_CONV,AP_SAT>, default RTL settings; stages "
        f"{', '.join(s.value for s in stages)}; limit {args.limit:.0f} s per stage; {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(HEADER, flush=True)
    failed = False
    try:
        for d in args.d:
            for seq in args.seq:
                work = base / f"t{seq}_d{d}"
                work.mkdir(parents=True, exist_ok=True)
                res: dict[Stage, StageResult] = {}
                for s in [Stage.CONVERT, *[s for s in stages if s is not Stage.CONVERT]]:
                    if s is not Stage.CONVERT and not (work / "project.pkl").is_file():
                        break
                    if s is Stage.COSIM and res.get(Stage.VERILATOR, StageResult()).timed_out:
                        res[s] = StageResult(skipped="nobuild")  # it would rebuild and time out too
                        continue
                    res[s] = timed(s, seq, d, args, work)
                    failed |= res[s].failed
                    if s is Stage.COSIM and res[s].figures.get("passed") is False:
                        failed = True
                        print(
                            f"[T={seq} d={d}] cosim mismatch: {res[s].figures.get('message')}",
                            file=sys.stderr,
                        )
                print(row(seq, d, res, args.limit), flush=True)
                if Stage.YOSYS in res and "parts" in res[Stage.YOSYS].figures:
                    print(parts_table(res[Stage.YOSYS].figures), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(
        "s: wall seconds of each stage (its own process); >N: killed at the limit; est lat: the cycle estimate "
        "of one sequence, cosim lat: measured (first input beat to last output beat); levels: LUT levels of "
        f"the deepest register-to-register path, MHz: estimated Fmax (not Vivado). load at the end "
        f"{os.getloadavg()[0]:.1f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
