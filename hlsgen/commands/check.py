"""One-command checks of a written project, for the user's own CI: csim (g++) and cosim (cocotb +
Verilator) against the project's tb_data/, JUnit XML for CI systems; and the files that carry them into
every project (a Makefile, a GitHub Actions workflow, a GitLab CI file: rendered by
:func:`hlsgen.backends.templating.project_check_files` from templates/ci/).

    python -m hlsgen.commands.check PROJECT [--stages csim,cosim,cosim_decode] --junit-dir PROJECT/reports/junit

Exit status 0 when every stage is bit-exact against the reference, 1 on a mismatch (named), 2 on an error.
"""

from __future__ import annotations

import argparse
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..tools import ToolMissing

#: stages of :func:`check`, in order (cosim_decode: the decode top on tb_data/ as a decode session)
STAGES = ("csim", "cosim", "cosim_decode")


def reference_raw(graph: Any, raw_inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference's raw outputs for raw inputs (the ops executed on raw integers)."""
    env = dict(raw_inputs)
    for op in graph.ops:
        env.update(zip(op.outputs, op.execute(*(env[t] for t in op.inputs)), strict=True))
    return {k: np.asarray(env[k]) for k in graph.outputs}


def tb_outputs(project: Any, project_dir: Path) -> dict[str, np.ndarray]:
    """Raw expected outputs of tb_data/tb_output_predictions.dat (every output's raw integers per line)."""
    f = project_dir / "tb_data" / "tb_output_predictions.dat"
    if not f.is_file():
        raise FileNotFoundError(f"{f} does not exist: write the project with --tb-data")
    g = project.graph
    rows = [np.array(line.split(), dtype=np.int64) for line in f.read_text().splitlines() if line.strip()]
    out: dict[str, np.ndarray] = {}
    k0 = 0
    for name in g.outputs:
        size = g.tensors[name].size
        out[name] = np.stack([r[k0 : k0 + size] for r in rows]).reshape(len(rows), *g.tensors[name].shape)
        k0 += size
    return out


def _first_mismatch(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> str:
    for k in want:
        g = np.asarray(got[k]).reshape(np.shape(want[k]))
        bad = np.argwhere(g != want[k])
        if len(bad):
            i = tuple(int(v) for v in bad[0])
            return (
                f"output {k}: {len(bad)} mismatching value(s); first at sample {i[0]}, index {i[1:]}: "
                f"{int(g[i])} != reference {int(want[k][i])} (raw integers)"
            )
    return ""


def _junit(path: Path, suite: str, cases: list[tuple[str, float, str]]) -> None:
    ts = ET.Element(
        "testsuite", name=suite, tests=str(len(cases)), failures=str(sum(bool(c[2]) for c in cases))
    )
    for name, seconds, failure in cases:
        tc = ET.SubElement(ts, "testcase", classname=suite, name=name, time=f"{seconds:.3f}")
        if failure:
            ET.SubElement(tc, "failure", message=failure).text = failure
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ET.tostring(ts, encoding="unicode") + "\n")


def default_stages(project: Any) -> list[str]:
    """csim and cosim, and cosim_decode when the model decodes token by token (a causal model) and the
    RTL backend renders its decode top (else the reason is printed)."""
    from ..backends.rtl.design import build_decode_design
    from ..decode import decode_design
    from ..quant.decode_pass import NotDecodableError

    try:
        build_decode_design(decode_design(project), f"{project.name}_decode")
    except NotDecodableError:
        return ["csim", "cosim"]
    except NotImplementedError as e:
        print(f"hlsgen check: no cosim_decode stage: {e}")
        return ["csim", "cosim"]
    return ["csim", "cosim", "cosim_decode"]


def check(
    project_dir: str | Path,
    stages: Sequence[str] | None = None,
    junit_dir: str | Path | None = None,
    max_par: int | None = None,
) -> int:
    """Run the stages (default :func:`default_stages`) on the project's tb_data/; 0 when all are
    bit-exact, 1 otherwise."""
    from ..backends.rtl.cosim import cosim_graph
    from ..backends.rtl.ops import RtlOptions
    from ..config import Strategy
    from ..project import Project
    from .cosim import tb_inputs

    d = Path(project_dir)
    bad_stage = [s for s in stages or () if s not in STAGES]
    if bad_stage:
        raise ValueError(f"unknown stage {bad_stage[0]!r}; valid: {', '.join(STAGES)}")
    proj = Project.load(d)
    stages = default_stages(proj) if stages is None else stages
    raw_in = tb_inputs(proj, d)
    want = tb_outputs(proj, d)
    ref = reference_raw(proj.graph, raw_in)
    stale = _first_mismatch(ref, want)
    if stale:
        raise ValueError(
            f"{d}/tb_data/ does not match the project's reference ({stale}): write the project again"
        )
    jdir = Path(junit_dir) if junit_dir else d / "reports" / "junit"
    status = 0
    n = next(iter(raw_in.values())).shape[0]
    if "csim" in stages:
        from ..fixed import from_raw

        t0 = time.perf_counter()
        xs = [from_raw(raw_in[k], proj.graph.tensors[k].type) for k in proj.graph.inputs]
        got = dict(zip(proj.graph.outputs, proj.csim_raw(xs), strict=True))
        msg = _first_mismatch(got, want)
        dt = time.perf_counter() - t0
        _junit(jdir / "csim.xml", f"hlsgen.csim.{proj.name}", [("csim", dt, msg)])
        print(
            f"csim of {proj.name}: {n} samples, {'MISMATCH: ' + msg if msg else 'bit-exact against tb_data'}"
        )
        status |= bool(msg)
    if "cosim" in stages:
        opts = RtlOptions(clock_ns=proj.config.clock_period)
        if max_par is not None:
            opts.max_par = max_par
        if proj.config.strategy is Strategy.LATENCY:  # the II = 1 design, as hlsgen cosim builds it
            from ..backends.rtl.latency import cosim_latency

            res = cosim_latency(proj.graph, proj.config, proj.name, raw_in, d / "cosim")
        else:
            res = cosim_graph(proj.graph, proj.name, raw_in, d / "cosim", opts)
        (jdir / "cosim.xml").parent.mkdir(parents=True, exist_ok=True)
        (jdir / "cosim.xml").write_text(res.junit())
        lat = (
            f", latency {res.latency} cycles, II {res.ii:.1f} cycles"
            if res.latency is not None and res.ii
            else ""
        )
        print(
            f"cosim of {proj.name}: {n} samples x 4 runs, "
            f"{'bit-exact against tb_data' if res.passed else 'MISMATCH: ' + res.failure_message()}{lat}"
        )
        status |= not res.passed
    if "cosim_decode" in stages:
        from ..backends.hls.decode import decode_project_name
        from ..backends.rtl.cosim import cosim_decode
        from ..decode import decode_design
        from .cosim import decode_session_of

        opts = RtlOptions(clock_ns=proj.config.clock_period)
        if max_par is not None:
            opts.max_par = max_par
        dd = decode_design(proj)
        name = decode_project_name(proj.config)
        tokens, resets = decode_session_of(raw_in[proj.graph.inputs[0]], proj.graph.inputs[0])
        res = cosim_decode(dd, name, tokens, resets, d / "cosim_decode", opts)
        (jdir / "cosim_decode.xml").parent.mkdir(parents=True, exist_ok=True)
        (jdir / "cosim_decode.xml").write_text(res.junit())
        print(
            f"cosim of {name}: {len(resets)} tokens x 4 runs, "
            f"{'bit-exact against the reference decoder' if res.passed else 'MISMATCH: ' + res.failure_message()}"
        )
        status |= not res.passed
    print(f"JUnit XML in {jdir}")
    return int(status)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hlsgen.commands.check", description=__doc__.split("\n\n")[0])
    p.add_argument("project", help="project folder written by hlsgen convert --tb-data")
    p.add_argument(
        "--stages",
        help="comma-separated: csim,cosim,cosim_decode (default csim and cosim, and cosim_decode for a causal "
        "model: its decode top on tb_data/ as a decode session)",
    )
    p.add_argument("--junit-dir", metavar="DIR", help="JUnit XML folder (default PROJECT/reports/junit)")
    p.add_argument("--max-par", type=int, metavar="P", help="most multipliers of one RTL engine")
    a = p.parse_args(argv)
    try:
        stages = None if a.stages is None else [s.strip() for s in a.stages.split(",") if s.strip()]
        return check(a.project, stages, a.junit_dir, a.max_par)
    except (ValueError, FileNotFoundError, NotImplementedError, ToolMissing) as e:
        print(f"hlsgen check: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
