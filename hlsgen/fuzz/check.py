"""Run one spec through every level and compare them: emulation (the oracle) == csim; the written project,
loaded back, == the emulation; cosim bit-exact and its cycles == the estimate; decode == prefill."""

from __future__ import annotations

import enum
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .spec import ModelSpec


class Stage(enum.StrEnum):
    """Where a check failed (in the order they run)."""

    GENERATE = "generate"  #: Keras refused the spec's model (a generator bug, not hlsgen's)
    REFUSED = "refused"  #: hlsgen refused the config with one of its documented, clear errors
    CONVERT = "convert"  #: hlsgen.convert raised
    EMULATION = "emulation"  #: predict / predict_raw raised or disagree
    CSIM = "csim"  #: csim raised or differs from the emulation
    WRITE = "write"  #: writing or loading the project back raised, or the loaded project differs
    COSIM = "cosim"  #: RTL co-simulation raised or differs
    ESTIMATE = "estimate"  #: measured latency / II differ from the estimate
    CLI = "cli"  #: hlsgen convert / predict / csim on the files failed or differ from the API
    DECODE = "decode"  #: token-by-token decode differs from prefill
    DECODE_CSIM = "decode_csim"  #: the compiled decode top differs from prefill


@dataclass(frozen=True)
class Levels:
    """Which levels to run (csim needs g++, cosim Verilator)."""

    csim: bool = True
    cosim: bool = False
    decode: bool = True
    decode_csim: bool = False
    #: also through the command (convert with a config YAML, predict to .npz, csim): its entry point,
    #: ``hlsgen.cli.main``, given by the caller (the command line imports this package, not the reverse)
    cli: Callable[[list[str]], int] | None = None
    estimate_tolerance: float = 0.0  #: allowed |estimate - measured| / measured of latency and II


@dataclass
class Outcome:
    """What happened to one spec."""

    spec: ModelSpec
    passed: bool
    stage: Stage | None = None
    message: str = ""
    seconds: float = 0.0
    ran: list[str] = field(default_factory=list)  #: levels that ran and agreed
    ops: int = 0

    @property
    def invalid(self) -> bool:
        """The spec's model could not be built, or hlsgen refused its types with a documented error
        (counted apart: not a finding about hlsgen)."""
        return self.stage in (Stage.GENERATE, Stage.REFUSED)

    def line(self) -> str:
        status = "ok" if self.passed else f"FAIL at {self.stage}: {self.message.splitlines()[0][:300]}"
        return f"seed {self.spec.seed}: {self.ops} ops, {'+'.join(self.ran) or '-'} ({self.seconds:.1f} s) {status}"


#: errors hlsgen is meant to give for a valid model whose types cannot work (seen at convert)
DOCUMENTED_REFUSALS = (
    "has too few bits for the exp tables",  # calibrated scores with no fractional bits left for softmax
)


class Mismatch(AssertionError):
    """Two levels disagree."""


def _equal(what: str, ref: list[np.ndarray], got: list[np.ndarray], names: list[str]) -> None:
    if len(ref) != len(got):
        raise Mismatch(f"{what}: {len(got)} outputs, the reference has {len(ref)}")
    for k, (r, g) in enumerate(zip(ref, got, strict=True)):
        r, g = np.asarray(r), np.asarray(g)
        if r.size != g.size:
            raise Mismatch(f"{what}: output {names[k]} has {g.size} values, the reference {r.size}")
        r = r.reshape(g.shape)
        bad = np.argwhere(r != g)
        if len(bad):
            i = tuple(int(v) for v in bad[0])
            raise Mismatch(
                f"{what}: output {names[k]}: {len(bad)} of {r.size} raw values differ; first at {i}: "
                f"{int(g[i])} != reference {int(r[i])}"
            )


def check_spec(spec: ModelSpec, work: str | Path, levels: Levels = Levels()) -> Outcome:
    """Build ``spec``'s model, convert it from its saved file and compare the levels; never raises."""
    t0 = time.perf_counter()
    out = Outcome(spec, passed=False)
    stage = Stage.GENERATE
    try:
        import hlsgen

        from .model import build_model, make_data

        work = Path(work)
        work.mkdir(parents=True, exist_ok=True)
        model = build_model(spec)
        path = work / "model.keras"
        model.save(path)
        data = make_data(spec)
        (work / "spec.json").write_text(spec.to_json())
        np.savez(work / "data.npz", *data)

        stage = Stage.CONVERT
        proj = hlsgen.convert(str(path), spec.config(), calibration_data=data if spec.calibrate else None)
        g = proj.graph
        out.ops = len(g.ops)

        stage = Stage.EMULATION
        ref = proj.predict_raw(data)
        fl = proj.predict(data)
        fl = fl if isinstance(fl, list) else [fl]
        if len(fl) != len(ref) or any(not np.all(np.isfinite(v)) for v in fl):
            raise Mismatch("predict: outputs missing or not finite")
        out.ran.append("emulation")

        if levels.csim:
            stage = Stage.CSIM
            _equal("csim", ref, proj.csim_raw(data), g.outputs)
            out.ran.append("csim")

        stage = Stage.WRITE
        prj = proj.write(work / "prj", force=True, tb_data=data, model_source=path)
        loaded = hlsgen.Project.load(prj)
        _equal("the project loaded back", ref, loaded.predict_raw(data), g.outputs)
        out.ran.append("write")

        if levels.cli is not None:
            stage = Stage.CLI
            _cli(levels.cli, spec, path, work, fl, levels.csim)
            out.ran.append("cli")

        if levels.cosim:
            stage = Stage.COSIM
            cycles = _cosim(loaded, data, work, levels.estimate_tolerance, out)
            if cycles:
                stage = Stage.ESTIMATE
                raise Mismatch(cycles)

        if spec.causal and levels.decode:
            stage = Stage.DECODE
            x = data[0]
            dec = proj.decoder()
            _equal("decode (emulation) vs prefill", ref, dec.run_raw(x), g.outputs)
            out.ran.append("decode")
            if levels.decode_csim:
                stage = Stage.DECODE_CSIM
                for b in range(x.shape[0]):
                    dc = proj.decoder("csim")
                    got = dc.run_raw(x[b : b + 1])
                    _equal(
                        f"decode (csim) vs prefill, sample {b}", [r[b : b + 1] for r in ref], got, g.outputs
                    )
                out.ran.append("decode_csim")
        out.passed = True
    except Exception as e:
        if stage == Stage.CONVERT and any(r in str(e) for r in DOCUMENTED_REFUSALS):
            stage = Stage.REFUSED
        out.stage = stage
        out.message = f"{type(e).__name__}: {e}" if isinstance(e, Mismatch) else _describe(e)
    out.seconds = time.perf_counter() - t0
    return out


def _cli(
    main: Callable[[list[str]], int],
    spec: ModelSpec,
    model: Path,
    work: Path,
    want: list[np.ndarray],
    csim: bool,
) -> None:
    """The same model through ``hlsgen convert``, ``predict`` and ``csim`` (``main``, the command's entry
    point, in this process): the config as YAML, data as .npz; predict's outputs equal the API's
    emulation."""
    import contextlib
    import io

    from ..config import Config

    cfg = work / "config.yml"
    cfg.write_text(Config.from_dict(spec.config()).to_yaml())
    data = str(work / "data.npz")
    calib = ["--calibration", data] if spec.calibrate else []
    prj = work / "cli_prj"
    log = io.StringIO()
    for argv in (
        ["convert", str(model), "-o", str(prj), "--config", str(cfg), "--tb-data", data, "--force", *calib],
        ["predict", str(prj), "--data", data, "-o", str(work / "y.npz")],
        *([["csim", str(prj), "--data", data]] if csim else []),
    ):
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            rc = main(argv)
        if rc != 0:
            raise Mismatch(f"hlsgen {argv[0]} exited {rc}: {log.getvalue().strip()[-400:]}")
    with np.load(work / "y.npz") as z:
        got = [z[k] for k in z.files]
    if len(got) != len(want):
        raise Mismatch(f"hlsgen predict wrote {len(got)} arrays, the model has {len(want)} outputs")
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        if g.shape != np.shape(w) or not np.array_equal(g, w):
            raise Mismatch(f"hlsgen predict: output {k} differs from the API's emulation")


def _cosim(proj: Any, data: list[np.ndarray], work: Path, tolerance: float, out: Outcome) -> str:
    """Co-simulate; returns what differs between the estimated and measured cycles ("" if nothing)."""
    from ..backends.rtl import RtlOptions, build_design
    from ..backends.rtl.cosim import cosim_graph, samples_estimate
    from ..ir.graph import input_raw

    g = proj.graph
    raw = {
        k: input_raw(np.asarray(v, np.float64), g.tensors[k].type)
        for k, v in zip(g.inputs, data, strict=True)
    }
    opts = RtlOptions(clock_ns=proj.config.clock_period)
    res = cosim_graph(g, proj.name, raw, work / "cosim", opts)
    if not res.passed:
        raise Mismatch(f"cosim: {res.failure_message()}")
    out.ran.append("cosim")
    est = samples_estimate(build_design(g, proj.name, opts), len(data[0]))
    if est is None or res.latency is None:
        return ""
    bad = []
    if abs(est.latency - res.latency) > tolerance * res.latency:
        bad.append(f"latency estimate {est.latency} != measured {res.latency} cycles")
    if res.ii is not None and abs(est.ii - res.ii) > tolerance * res.ii:
        bad.append(f"II estimate {est.ii:g} != measured {res.ii:g} cycles")
    if not bad:
        out.ran.append("estimate")
    return "; ".join(bad)


def _describe(e: BaseException) -> str:
    """The exception and where it was raised (the innermost hlsgen frame)."""
    tb = traceback.extract_tb(e.__traceback__)
    where = next((f for f in reversed(tb) if "/hlsgen/" in f.filename), tb[-1] if tb else None)
    at = f" [{Path(where.filename).name}:{where.lineno} in {where.name}]" if where else ""
    return f"{type(e).__name__}: {e}{at}"
