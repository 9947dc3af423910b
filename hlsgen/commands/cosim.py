"""``hlsgen cosim PROJECT``: co-simulate a project's RTL (hlsgen's, or Vitis HLS's with ``--rtl``) against
the NumPy reference, print measured and estimated cycles, write JUnit XML; exit status 1 on a mismatch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.rtl.ops import RtlOptions
from ..config import Strategy


def add_arguments(s: argparse.ArgumentParser) -> None:
    """The arguments of ``hlsgen cosim``."""
    s.add_argument("project", help="project folder written by hlsgen convert (with its model/ copy)")
    s.add_argument(
        "--rtl",
        metavar="DIR",
        help="simulate the .v/.sv files of DIR instead of hlsgen's RTL: e.g. what Vitis HLS exported for this "
        "project, with the same top interface (ap_clk, ap_rst_n, one AXI4-Stream port per model input and "
        "output named after it; see hlsgen/backends/rtl/cosim.py)",
    )
    s.add_argument(
        "--decode",
        action="store_true",
        help="co-simulate the decode top (one token a step, caches inside; the config's decode section) on "
        "a session: each sample's tokens in turn, a new sequence per sample (TUSER reset), tokens past "
        "max_length refused (TUSER overflow)",
    )
    s.add_argument("--data", metavar="X.npy", help="inputs (default: the project's tb_data/)")
    s.add_argument("--samples", type=int, default=0, metavar="N", help="only the first N samples")
    s.add_argument(
        "--junit",
        metavar="OUT.xml",
        help="JUnit XML (default PROJECT/reports/junit/cosim.xml; with --decode cosim_decode.xml, as make check "
        "names them, so that the prefill run's is kept)",
    )
    add_rtl_arguments(s)
    s.add_argument("--seed", type=int, default=1, help="seed of the idle-cycle and back-pressure patterns")
    s.add_argument("--work", metavar="DIR", help="work folder (default PROJECT/cosim)")


def add_rtl_arguments(s: argparse.ArgumentParser) -> None:
    """The RTL settings that ``hlsgen cosim`` and ``hlsgen report --yosys`` share, so that Yosys counts the
    design that was co-simulated."""
    s.add_argument(
        "--max-par",
        type=int,
        default=RtlOptions().max_par,
        metavar="P",
        help="most multipliers of one engine of hlsgen's RTL (default %(default)s); the reuse factor asks for "
        "MACs / reuse factor",
    )
    s.add_argument(
        "--ram-min-rows",
        type=int,
        default=RtlOptions().ram_min_rows,
        metavar="N",
        help="rows a lane of an attention row bank must hold to be built as a memory (hlsgen_ram) rather than "
        "a register array (default %(default)s; 0: register arrays always)",
    )


def rtl_options(args: argparse.Namespace, clock_ns: float) -> RtlOptions:
    """The RTL settings of ``hlsgen cosim``'s options (``--ram-min-rows 0``: register arrays always)."""
    ram = None if args.ram_min_rows == 0 else args.ram_min_rows
    return RtlOptions(max_par=args.max_par, clock_ns=clock_ns, ram_min_rows=ram)


def tb_inputs(project: Any, project_dir: Path) -> dict[str, np.ndarray]:
    """Raw inputs of the project's tb_data/tb_input_features.dat (one line per sample, every input's raw
    integers in order)."""
    f = project_dir / "tb_data" / "tb_input_features.dat"
    if not f.is_file():
        raise FileNotFoundError(
            f"{f} does not exist: write the project with --tb-data (hlsgen convert) or pass --data X.npy"
        )
    g = project.graph
    rows = [np.array(line.split(), dtype=np.int64) for line in f.read_text().splitlines() if line.strip()]
    sizes = [g.tensors[k].size for k in g.inputs]
    out: dict[str, np.ndarray] = {}
    k0 = 0
    for name, size in zip(g.inputs, sizes, strict=True):
        out[name] = np.stack([r[k0 : k0 + size] for r in rows]).reshape(len(rows), *g.tensors[name].shape)
        k0 += size
    bad = [i for i, r in enumerate(rows) if r.size != k0]
    if bad:
        raise ValueError(f"{f}: line {bad[0] + 1} has {rows[bad[0]].size} values, the inputs take {k0}")
    return out


def raw_from_data(project: Any, x: Any, decode: bool = False) -> dict[str, np.ndarray]:
    """Raw inputs from float data (an array, or a list of arrays for several inputs)."""
    from ..ir.graph import input_raw

    g = project.graph
    if not decode:  # count, dtype, shapes, finite values, a non-empty batch
        xs = g.check_inputs(x, "data")
    else:  # a decode session may hold more tokens than the model's T (those past max_length are refused)
        xs = x if isinstance(x, (list, tuple)) else [x]
        if len(xs) != len(g.inputs):
            raise ValueError(f"the model takes {len(g.inputs)} inputs, the data holds {len(xs)}")
    return {
        k: input_raw(np.asarray(v, np.float64), g.tensors[k].type) for k, v in zip(g.inputs, xs, strict=True)
    }


def run(args: argparse.Namespace) -> int:
    """The ``hlsgen cosim`` command. A design the RTL backend cannot render raises NotImplementedError and a
    missing simulator :class:`~hlsgen.tools.ToolMissing`: ``hlsgen.cli`` prints both as usage errors."""
    from ..backends.rtl.cosim import cosim_graph, samples_estimate
    from ..backends.rtl.design import build_design
    from ..project import Project

    pdir = Path(args.project)
    if args.samples < 0:
        raise ValueError(f"--samples must be 0 (all) or more, got {args.samples}")
    proj = Project.load(pdir)
    if args.data:
        p = Path(args.data)
        if not p.is_file():
            raise FileNotFoundError(f"data file {p} does not exist")
        z = np.load(p)
        x = [z[k] for k in z.files] if p.suffix == ".npz" else z
        raw = raw_from_data(proj, x, decode=args.decode)
    else:
        raw = tb_inputs(proj, pdir)
    if args.samples:
        raw = {k: v[: args.samples] for k, v in raw.items()}
    n = next(iter(raw.values())).shape[0]
    opts = rtl_options(args, proj.config.clock_period)
    latency = proj.config.strategy is Strategy.LATENCY and not args.decode and not args.rtl
    work = Path(args.work) if args.work else pdir / ("cosim_decode" if args.decode else "cosim")
    if args.decode:
        from ..backends.hls.decode import decode_project_name
        from ..backends.rtl.cosim import cosim_decode
        from ..backends.rtl.design import build_decode_design
        from ..decode import decode_design

        dd = decode_design(proj)
        name = decode_project_name(proj.config)
        design = build_decode_design(dd, name, opts)
        tokens, resets = decode_session_of(raw[proj.graph.inputs[0]], proj.graph.inputs[0])
        what = f"{len(resets)} tokens in {n} sequences of at most {dd.max_length}"
    elif latency:
        from ..backends.rtl.latency import build_latency_design

        name = proj.name
        design = build_latency_design(proj.graph, proj.config, name)
        what = f"{n} samples"
    else:
        name = proj.name
        design = build_design(proj.graph, name, opts)
        what = f"{n} samples"
    if args.rtl:
        which = f"RTL of {args.rtl}"
    elif latency:
        c = design.core
        which = (
            f"hlsgen RTL, latency strategy: {c.stages} stages at {c.clock_ns:g} ns, {c.adders} adders, "
            f"{c.multipliers} multipliers, LUT estimate {c.lut_estimate}"
        )
    else:
        which = f"hlsgen RTL, {len(design.blocks)} blocks, {design.multipliers} multipliers"
    print(f"cosim of {name} ({which}): {what}, 4 runs (idle cycles x back-pressure)")
    if args.decode:
        res = cosim_decode(dd, name, tokens, resets, work, opts, rtl_dir=args.rtl, seed=args.seed)
    elif latency and not args.rtl:
        from ..backends.rtl.latency import cosim_latency

        res = cosim_latency(proj.graph, proj.config, name, raw, work, seed=args.seed)
    else:
        res = cosim_graph(proj.graph, name, raw, work, opts, rtl_dir=args.rtl, seed=args.seed)
    for r in res.runs:
        status = "bit-exact" if r.passed else "FAILED"
        cyc = (
            f", latency {r.latency} cycles, II {r.ii:.1f} cycles"
            if r.latency is not None and r.ii is not None
            else ""
        )
        print(f"  {r.name}: {status}{cyc}")
    est = design if latency else design.estimate if args.decode else samples_estimate(design, n)
    if est is not None and res.latency is not None and res.ii is not None:
        dl = 100.0 * (est.latency - res.latency) / max(res.latency, 1)
        di = 100.0 * (est.ii - res.ii) / max(res.ii, 1e-9)
        print(
            f"  estimate: latency {est.latency} cycles ({dl:+.1f}% of the measured {res.latency}), "
            f"II {est.ii:.1f} cycles ({di:+.1f}% of the measured {res.ii:.1f})"
        )
        own = None if latency or args.decode else design.estimate
        if own is not None and own.ii != est.ii:
            print(
                f"  note: in steady state (the design's estimate) the II is {own.ii:.1f} cycles; over {n} "
                f"samples it is {est.ii:.1f}: the pipeline has not settled within {n} samples"
            )
    print(f"  Verilator build {res.build_seconds:.1f} s (0 = cached), simulation {res.sim_seconds:.1f} s")
    default = "cosim_decode.xml" if args.decode else "cosim.xml"
    junit = Path(args.junit) if args.junit else pdir / "reports" / "junit" / default
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.write_text(res.junit())
    print(f"  JUnit XML: {junit}")
    if res.passed and not args.rtl and res.latency is not None and not args.decode:
        _record(pdir, res)
    if not res.passed:
        print(f"cosim of {name}: MISMATCH: {res.failure_message()}")
        return 1
    print(f"cosim of {name}: bit-exact against the reference in every run")
    return 0


def decode_session_of(x_raw: np.ndarray, name: str = "input") -> tuple[np.ndarray, list[int]]:
    """A decode session from prefill inputs ``[N, T, D]``: the tokens of each sample in turn, ``[N*T, 1, D]``,
    each sample a new sequence (reset on its first token); when T > max_length the tokens past it are
    refused by the hardware, which the session checks too. ``name``: the input, for messages."""
    x = np.asarray(x_raw)
    if x.ndim != 3:
        raise ValueError(f"decode cosim: input {name} must be [samples, tokens, features], got {x.shape}")
    n, t = x.shape[:2]
    resets = [int(k % t == 0) for k in range(n * t)]
    return x.reshape(n * t, 1, x.shape[2]), resets


def _record(project_dir: Path, res: Any) -> None:
    """Store the measured cycles with the project's measurements (hlsgen report shows them)."""
    try:
        from ..report.measurements import add_measurement
    except ImportError:
        return
    add_measurement(
        project_dir,
        "cosim",
        stage="rtl",
        latency_cycles=int(res.latency),
        interval_cycles=None if res.ii is None else int(round(res.ii)),  # None: one sample, no II
        note="cocotb + Verilator co-simulation of hlsgen's RTL",
    )


__all__ = ["add_arguments", "decode_session_of", "raw_from_data", "run", "tb_inputs"]
