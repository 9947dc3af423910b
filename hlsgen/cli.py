"""The ``hlsgen`` command.

Each subcommand lives in a ``_cmd_<name>`` function registered in ``_build_parser``; a subcommand that
fails raises :class:`CliError` (or ValueError / FileNotFoundError), which ``main`` prints without a
traceback and turns into exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__


class CliError(Exception):
    """An error to print to the user without a traceback."""


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    from .fixed.selfcheck import run_selfcheck

    return run_selfcheck(verbose=True)


def _cmd_boards(args: argparse.Namespace) -> int:
    import json

    from .boards import format_table, list_boards, load_board

    boards = [load_board(b) for b in args.boards] if args.boards else list_boards()
    print(json.dumps([b.to_dict() for b in boards], indent=2) if args.json else format_table(boards))
    return 0


def _load_array(path: str, what: str):
    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise CliError(f"{what} file {p} does not exist")
    try:
        if p.suffix == ".npz":
            z = np.load(p)
            return [z[k] for k in z.files] if len(z.files) > 1 else z[z.files[0]]
        return np.load(p)
    except Exception as e:
        why = "not a NumPy .npy / .npz file (np.save writes one)" if "pickle" in str(e) else str(e)
        raise CliError(f"cannot read {what} file {p}: {why}") from None


def _config_from_args(args: argparse.Namespace):
    from .config import Config

    cfg = Config.from_yaml(args.config) if getattr(args, "config", None) else Config()
    if getattr(args, "precision", None):
        cfg = Config.from_dict({**cfg.to_dict(), "default_precision": args.precision})
    if getattr(args, "name", None):
        cfg.project_name = args.name
    return cfg


def _project_from_args(args: argparse.Namespace):
    from .convert import convert

    calib = _load_array(args.calibration, "calibration") if getattr(args, "calibration", None) else None
    src = Path(args.model)
    if src.is_dir() and (src / "hlsgen_config.yml").is_file():
        from .project import Project

        return Project.load(src)
    example = _torch_example(args, src) if src.suffix in (".pt", ".pth") else None
    return convert(str(src), _config_from_args(args), calibration_data=calib, example_input=example)


def _torch_example(args: argparse.Namespace, src: Path):
    """The trace input of a pickled PyTorch module: the first sample of --calibration (or --tb-data)."""
    name = getattr(args, "calibration", None) or getattr(args, "tb_data", None)
    if not name:
        raise CliError(f"{src}: a pickled PyTorch module is traced on data: give --calibration X.npy")
    data = _load_array(name, "calibration")
    return [d[:1] for d in data] if isinstance(data, list) else data[:1]


def _cmd_convert(args: argparse.Namespace) -> int:
    _check_board_arg(args)
    proj, _ = _board_plan(_project_from_args(args), args.board, args.fit, args.force)
    tb = _load_array(args.tb_data, "testbench data") if args.tb_data else None
    src = Path(args.model)
    if src.is_dir() and (src / "hlsgen_config.yml").is_file():  # re-targeting a project: carry its model
        src = next(iter(sorted((src / "model").glob("*"))), src)
    tmp = None
    if src.suffix in (".pt", ".pth"):  # the project keeps the traced program (.pt2), which converts alone
        import tempfile

        from .frontend.torch import save_program

        tmp = tempfile.TemporaryDirectory()
        src = save_program(src, _torch_example(args, src), Path(tmp.name) / f"{src.stem}.pt2")
    try:
        out = proj.write(args.output, force=args.force, tb_data=tb, model_source=src)
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"wrote {out} ({len(proj.graph.ops)} ops, top function {proj.name})")
    return 0


def _check_board_arg(args: argparse.Namespace) -> None:
    """A bad --board fails before the (slow) conversion."""
    if getattr(args, "board", None):
        from .shells import resolve_board

        resolve_board(args.board)


def _board_plan(proj, board: str | None, fit: bool, force: bool):
    """With a board (--board, or the project's own): the estimate printed against it, reuse factors
    chosen with --fit, and the fit checked (an error past 100 % unless --force). Returns (project, plan)."""
    from .plan import apply_reuse, check, project_plan
    from .plan import fit as fit_reuse
    from .project import Project
    from .shells import apply_board

    if board:
        proj = Project(proj.graph, apply_board(proj.config, board), output_dir=proj.output_dir)
    if proj.board is None:
        if fit:
            raise CliError("--fit needs a board: give --board NAME (hlsgen boards lists them)")
        return proj, None
    if fit:
        res = fit_reuse(proj.graph, proj.board, project=proj.name)
        proj = apply_reuse(proj, res.reuse)
        print(res.format())
    plan = project_plan(proj)
    print(plan.format())
    for line in check(plan, force=force):
        print(line, file=sys.stderr)
    return proj, plan


def _cmd_plan(args: argparse.Namespace) -> int:
    from .plan import DoesNotFit, project_plan

    _check_board_arg(args)
    proj = _project_from_args(args)
    try:
        proj, plan = _board_plan(proj, args.board, args.fit, force=False)
    except DoesNotFit as e:
        print(f"hlsgen plan: {e}", file=sys.stderr)
        return 1
    if plan is None:
        print(project_plan(proj).format())
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from .build import build
    from .tools import ToolMissing

    try:
        build(args.project, args.stages)
    except (ToolMissing, RuntimeError) as e:
        raise CliError(str(e)) from None
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report.render import write_report

    x = _load_array(args.data, "data") if args.data else None
    y = _load_array(args.labels, "labels") if args.labels else None
    if y is not None and x is None:
        raise CliError("--labels needs --data")
    opts = proj = None
    if args.yosys:
        from .commands.cosim import rtl_options
        from .project import Project

        proj = Project.load(args.project)
        opts = rtl_options(args, proj.config.clock_period)
    out = write_report(
        args.project, args.output, data=x, labels=y, yosys=args.yosys, project=proj, rtl_options=opts
    )
    print(f"wrote {out}: report.md, report.html, resources.png, latency.png")
    if args.yosys:
        from .report.measurements import load_measurements

        for m in load_measurements(args.project):
            if m.source.value == "yosys" and m.stage in ("synth", "depth"):
                what = "design" if m.scope == "design" else m.scope
                print(f"yosys {what}: {m.note}")
    return 0


def _output_names(graph) -> list[str]:
    """A name per model output: its Keras layer where that is unique, else the IR tensor's name."""
    origins = [graph.tensors[k].origin or k for k in graph.outputs]
    return origins if len(set(origins)) == len(origins) else list(graph.outputs)


def _npy_bytes(a) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _npz_bytes(arrays: dict) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from .io import atomic_write_file

    proj = _project_from_args(args)
    x = _load_array(args.data, "data")
    y = proj.csim(x) if args.csim else proj.predict(x)
    ys = y if isinstance(y, list) else [y]
    names = _output_names(proj.graph)
    if args.output:
        out = Path(args.output)
        if len(ys) > 1 or out.suffix == ".npz":  # one array per output, named after it
            out = out.with_suffix(".npz")
            atomic_write_file(out, _npz_bytes(dict(zip(names, ys, strict=True))))
        else:
            atomic_write_file(out, _npy_bytes(ys[0]))
        print(f"wrote {out}: " + ", ".join(f"{k} {v.shape}" for k, v in zip(names, ys, strict=True)))
    else:
        np.set_printoptions(threshold=200, linewidth=120)
        for k, v in zip(names, ys, strict=True):
            if len(ys) > 1:
                print(f"{k}: shape {v.shape}")
            print(v)
    return 0


def _cmd_csim(args: argparse.Namespace) -> int:
    import numpy as np

    proj = _project_from_args(args)
    x = _load_array(args.data, "data")
    ref = proj.predict_raw(x)
    got = proj.csim_raw(x)
    bad = 0
    for k, (r, g) in enumerate(zip(ref, got, strict=True)):
        r = np.asarray(r).reshape(g.shape)
        diff = np.argwhere(r != g)
        if len(diff):
            bad += len(diff)
            i = tuple(diff[0])
            print(
                f"output {proj.graph.outputs[k]}: {len(diff)} mismatching values; first at sample {i[0]}, "
                f"index {i[1:]}: csim {g[i]} != reference {r[i]} (raw integers)"
            )
    n = np.shape(x[0] if isinstance(x, list) else x)[0]
    print(
        f"csim of {proj.name}: {n} samples, g++ build {proj.last_build_seconds or 0:.1f} s (0 = cached), "
        f"{'bit-exact against the reference' if not bad else f'{bad} mismatches'}"
    )
    return 0 if not bad else 1


def _int_list(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CliError(f"{option}: expected comma-separated integers such as 6,8,10, got {text!r}") from None
    if not vals:
        raise CliError(f"{option}: no values in {text!r}")
    return vals


def _analysis_config(args: argparse.Namespace):
    """The config of --config / --precision; None lets a project folder bring its own."""
    return _config_from_args(args) if (args.config or args.precision) else None


def _cmd_compare(args: argparse.Namespace) -> int:
    import os

    from .analysis.compare import compare
    from .io import atomic_write_file

    x = _load_array(args.data, "data")
    y = _load_array(args.labels, "labels") if args.labels else None
    calib = _load_array(args.calibration, "calibration") if args.calibration else None
    res = compare(args.model, x, y, _analysis_config(args), calibration=calib, target_error=args.target_error)
    print(res.format_table(), end="")
    files: dict[Path, str | bytes] = {}  # everything built first, then written
    if args.json:
        files[Path(args.json)] = res.to_json()
    if args.plot:
        files[Path(args.plot)] = res.plot()
    if args.markdown:
        rel = (
            os.path.relpath(Path(args.plot).resolve(), Path(args.markdown).resolve().parent)
            if args.plot
            else None
        )
        files[Path(args.markdown)] = res.to_markdown(plot=rel)
    for path, content in files.items():
        atomic_write_file(path, content)
        print(f"wrote {path}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .analysis.sweep import SweepError, sweep

    out = Path(args.out)
    if out.exists() and not args.force:
        raise CliError(f"output directory {out} exists (use --force to replace it)")
    kw = {
        "widths": _int_list(args.widths, "--widths"),
        "integer": _int_list(args.integer, "--integer"),
        "softmax_bits": _int_list(args.softmax_bits, "--softmax-bits"),
        "layernorm_bits": _int_list(args.layernorm_bits, "--layernorm-bits"),
        "grid": args.grid,
    }
    x = _load_array(args.data, "data")
    y = _load_array(args.labels, "labels")
    calib = _load_array(args.calibration, "calibration") if args.calibration else None
    try:
        res = sweep(
            args.model, x, y, _analysis_config(args), calibration=calib, workers=args.workers,
            scheduler=args.scheduler, connect_timeout=args.timeout, progress=not args.no_progress, **kw,
        )  # fmt: skip
    except SweepError as e:
        raise CliError(str(e)) from None
    print(res.format_table(), end="")
    res.write(out, force=args.force)
    print(f"wrote {out}/sweep.csv, sweep.json and sweep.png")
    return 0


def _cmd_cosim(args: argparse.Namespace) -> int:
    from .commands.cosim import run
    from .tools import ToolMissing

    try:
        return run(args)
    except (NotImplementedError, ToolMissing) as e:  # the backends' errors, printed as usage errors
        raise CliError(str(e)) from None


def _cmd_fuzz(args: argparse.Namespace) -> int:
    from .fuzz.run import FuzzOptions, campaign, print_result, replay

    if args.count < 1:
        raise CliError(f"--count must be at least 1, got {args.count}")
    opts = FuzzOptions(
        csim=not args.no_csim,
        cosim_every=args.cosim_every,
        decode_csim_every=args.decode_csim_every,
        shrink=not args.no_shrink,
        shrink_seconds=args.shrink_seconds,
        keep=args.keep,
        estimate_tolerance=args.estimate_tolerance,
        command=main,
    )
    if args.replay:
        res = replay(args.replay, args.out, opts)
        print_result(res)
        return 0 if res.outcome.passed else 1
    seeds = range(args.seed, args.seed + args.count)
    print(
        f"hlsgen fuzz: seeds {args.seed} to {args.seed + args.count - 1}, work and reproducers in {args.out}"
    )
    camp = campaign(
        seeds, args.out, opts, workers=args.workers, scheduler=args.scheduler, on_result=print_result
    )
    print(camp.summary())
    return 1 if camp.failures else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.output), force=True)


def _add_model_args(s: argparse.ArgumentParser, data: bool = False) -> None:
    """The model to read and how to type it; ``data``: also the required ``--data X.npy``."""
    s.add_argument(
        "model",
        help="trained model: .keras / .h5 file or SavedModel folder; PyTorch .pt2 "
        "(torch.export.save) or .pt (whole module, traced on --calibration); .onnx (opset 17+); or a "
        "project folder written by hlsgen convert",
    )
    s.add_argument("--config", metavar="CFG.yml", help="typed config (see hlsgen.config.Config)")
    s.add_argument("--precision", metavar="TYPE", help="default precision, e.g. 'ap_fixed<16,6>'")
    s.add_argument(
        "--calibration", metavar="X.npy", help="inputs whose ranges set the integer bits of float layers"
    )
    s.add_argument("--name", help="project / top function name (default myproject)")
    if data:
        s.add_argument(
            "--data", required=True, metavar="X.npy", help="inputs, shaped (batch, ...) like the model's"
        )


def _add_board_args(s: argparse.ArgumentParser, force: bool = True) -> None:
    s.add_argument(
        "--board",
        metavar="NAME",
        help="board name (hlsgen boards lists them) or board YAML file: "
        "part, clock and the board's integration (Zynq block design + PYNQ driver, Alveo kernel)",
    )
    s.add_argument(
        "--fit",
        action="store_true",
        help="choose reuse factors so that the design fits the board "
        "(80%% of every resource) at the lowest latency",
    )
    if force:
        s.add_argument(
            "--force",
            action="store_true",
            help="replace an existing output folder, and write a design that does not fit the board",
        )


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hlsgen",
        description="Trained Keras 2 / QKeras attention models to bit-exact Vitis HLS firmware and RTL.",
    )
    p.add_argument("--version", action="version", version=f"hlsgen {__version__}")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE (a dotted name or a .py file) first: e.g. the module that registers "
                   "your custom Keras layers (repeatable)")  # fmt: skip
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser(
        "selfcheck",
        help="check hlsgen's ap_fixed arithmetic against g++ and the Xilinx ap_types headers",
        description="Compile a small C++ program against the ap_types headers of the installed hls4ml "
        "package and compare its fixed-point conversions with hlsgen.fixed, bit for bit.",
    )
    s.set_defaults(func=_cmd_selfcheck)

    s = sub.add_parser(
        "boards",
        help="list the boards hlsgen builds for (part, clock, resources, shell)",
        description="List the boards of the registry (boards/*.yaml), or validate and show the given boards: "
        "registry names or paths of your own board YAML files.",
    )
    s.add_argument(
        "boards", nargs="*", metavar="BOARD", help="board names or YAML files (default: all known)"
    )
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=_cmd_boards)

    s = sub.add_parser(
        "convert",
        help="convert a trained model into a Vitis HLS project",
        description="Read a Keras 2 / QKeras, PyTorch (.pt2, .pt) or ONNX model, quantize it and write a Vitis HLS project (firmware/, "
        "testbench, tb_data/, build_prj.tcl, hlsgen_config.yml). Example: "
        "hlsgen convert model.keras -o prj --precision 'ap_fixed<16,6>' --calibration x.npy --tb-data x.npy",
    )
    _add_model_args(s)
    s.add_argument("-o", "--output", required=True, help="project folder to write (refused if it exists)")
    s.add_argument("--tb-data", metavar="X.npy", help="inputs for the testbench vectors in tb_data/")
    _add_board_args(s)
    s.set_defaults(func=_cmd_convert)

    s = sub.add_parser(
        "plan",
        help="estimate resources and latency per layer against a board; --fit chooses reuse factors",
        description="Print hlsgen's analytical estimate (DSP, BRAM18, LUT, FF, latency) per layer next to the "
        "board's resources; warns past 80%% of any resource; exit status 1 past 100%%. With --fit, choose the "
        "reuse factors that fit the board at the lowest latency, and say why. "
        "Example: hlsgen plan model.keras --board pynq-z2 --fit",
    )
    _add_model_args(s)
    _add_board_args(s, force=False)
    s.set_defaults(func=_cmd_plan)

    s = sub.add_parser(
        "build",
        help="run Vitis HLS / Vivado / v++ on a written project and read their reports",
        description="Run the stages on a project written by hlsgen convert: csim, csynth, cosim (vitis_hls "
        "build_prj.tcl), export (Zynq: the AXI4-Stream IP; Alveo: v++ -c), bitstream (Zynq: Vivado block "
        "design; Alveo: v++ -l). Their reports go to reports/hlsgen_measurements.json. A missing tool is named "
        "and nothing runs. Example: hlsgen build prj --stages csim,csynth",
    )
    s.add_argument("project", help="project folder written by hlsgen convert")
    s.add_argument(
        "--stages",
        default="csim,csynth",
        help="comma-separated: csim,csynth,cosim,export,bitstream (default csim,csynth)",
    )
    s.set_defaults(func=_cmd_build)

    s = sub.add_parser(
        "report",
        help="Markdown + HTML report of a project: types, latency, resources against the board, plots",
        description="Write report.md, report.html, resources.png and latency.png for a project written by "
        "hlsgen convert: per-layer types, reuse factors, latency and resources (estimate, and every "
        "measurement of hlsgen build or add_measurement, each labelled with its source), against the board; "
        "with --data (and --labels), float against fixed-point accuracy.",
    )
    s.add_argument("project", help="project folder written by hlsgen convert")
    s.add_argument("-o", "--output", help="report folder (default PROJECT/report; replaced)")
    s.add_argument("--data", metavar="X.npy", help="inputs for the float / fixed comparison")
    s.add_argument("--labels", metavar="Y.npy", help="class labels of --data (indices or one-hot)")
    s.add_argument("--yosys", action="store_true", help="also count the RTL backend's resources with Yosys")
    from .commands.cosim import add_rtl_arguments

    add_rtl_arguments(s)  # the RTL that --yosys counts: the settings hlsgen cosim took
    s.set_defaults(func=_cmd_report)

    s = sub.add_parser(
        "predict",
        help="bit-exact emulation of the converted model on data",
        description="Run inputs through hlsgen's bit-exact NumPy emulation (or the compiled C++ with --csim). "
        "A model with several outputs is saved as an .npz, one array per output named after its layer.",
    )
    _add_model_args(s, data=True)
    s.add_argument(
        "-o",
        "--output",
        metavar="Y.npy",
        help="save outputs here instead of printing them (several outputs: Y.npz)",
    )
    s.add_argument("--csim", action="store_true", help="run the compiled C++ instead of the emulation")
    s.set_defaults(func=_cmd_predict)

    s = sub.add_parser(
        "csim",
        help="compile the C++ with g++ and check it against the emulation, bit for bit",
        description="Compile the generated firmware with g++ against the ap_types headers of the installed "
        "hls4ml package, run the data through it and compare every output with the bit-exact reference. "
        "Exit status 1 on any mismatch (the first one is named).",
    )
    _add_model_args(s, data=True)
    s.set_defaults(func=_cmd_csim)

    from .commands.cosim import add_arguments as _cosim_arguments

    s = sub.add_parser(
        "cosim",
        help="co-simulate the project's RTL (cocotb + Verilator) against the emulation, bit for bit",
        description="Build hlsgen's RTL of a project (or the RTL in --rtl DIR, e.g. a Vitis HLS export with the "
        "same AXI4-Stream top) with Verilator, run the tb_data/ inputs through it with and without idle input "
        "cycles and output back-pressure, and compare every output token with the bit-exact reference; print "
        "measured and estimated latency and II; write JUnit XML. Exit status 1 on any mismatch (the first "
        "mismatching sample, token and element are named).",
    )
    _cosim_arguments(s)
    s.set_defaults(func=_cmd_cosim)

    s = sub.add_parser(
        "compare",
        help="float (Keras) against fixed (emulation): accuracy, errors, overflows, suggested types",
        description="Run the data through the Keras model and hlsgen's bit-exact emulation and compare them: "
        "task accuracy (with --labels), argmax agreement, output errors, and per tensor (weights and biases "
        "included) the error against float, overflowing values (saturated or wrapped), the range used "
        "against the type's, and a suggested type. Example: hlsgen compare model.keras --data x.npy "
        "--labels y.npy --calibration x_train.npy --markdown report.md --plot profile.png",
    )
    _add_model_args(s, data=True)
    s.add_argument(
        "--labels", metavar="Y.npy", help="class indices (batch,) or one-hot labels of the first output"
    )
    s.add_argument("--target-error", type=float, default=0.01, metavar="E",
                   help="suggested fractional bits keep quantization errors within E x max|x| (default 0.01)")  # fmt: skip
    s.add_argument("--json", metavar="OUT.json", help="write the report as JSON")
    s.add_argument("--markdown", metavar="OUT.md", help="write the report as Markdown")
    s.add_argument("--plot", metavar="OUT.png", help="write the profiling plot (PNG)")
    s.set_defaults(func=_cmd_compare)

    s = sub.add_parser(
        "sweep",
        help="emulation accuracy, error and resource estimate over widths, integer bits, table sizes or a grid",
        description="Quantize and emulate the model at every point of a sweep: total widths (integer bits from "
        "calibration), integer bits, softmax / layer-norm table sizes (every combination of the axes given), "
        "or the points of a YAML grid (see hlsgen.analysis.sweep). Points run on local processes, or on a "
        "running Dask cluster with --scheduler. Writes sweep.csv, sweep.json and sweep.png to --out. "
        "Example: hlsgen sweep model.keras --data x.npy --labels y.npy --widths 6,8,10,12,16",
    )
    _add_model_args(s, data=True)
    s.add_argument("--labels", required=True, metavar="Y.npy", help="class indices or one-hot labels")
    s.add_argument("--widths", metavar="W,W,...", help="total widths, e.g. 6,8,10,12,16")
    s.add_argument(
        "--integer", metavar="I,I,...", help="integer bits of the default precision (no calibration)"
    )
    s.add_argument("--softmax-bits", metavar="B,B,...", help="address bits of each softmax exp table")
    s.add_argument("--layernorm-bits", metavar="B,B,...", help="address bits of the layer norm 1/sqrt table")
    s.add_argument("--grid", metavar="GRID.yml", help="a YAML grid of points (instead of the axis options)")
    s.add_argument("--workers", type=int, metavar="N", help="local processes (default: one per CPU)")
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the points on this Dask scheduler")
    s.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for the scheduler (default 10)")  # fmt: skip
    s.add_argument(
        "--out", default="sweep_out", metavar="DIR", help="folder for the results (default sweep_out)"
    )
    s.add_argument("--force", action="store_true", help="replace an existing --out folder")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_sweep)

    s = sub.add_parser(
        "fuzz",
        help="check random attention models through convert, emulation, csim, cosim and decode (bit-exact)",
        description="Differential fuzzing: for each seed, a random valid model of what hlsgen converts (MHA / "
        "GQA / MLA, masks, residuals, norms, pooling, several inputs and outputs, odd layer names, random "
        "precisions, rounding and overflow modes, reuse factors, io_parallel / io_stream) is converted from its "
        "saved file; the emulation must equal csim and the written project loaded back bit for bit, cosim "
        "(every --cosim-every seeds) too with the estimated cycles, and decode must equal prefill for causal "
        "models. A failure is shrunk to a minimal model, saved under OUT/failures/seed-S (repro.py). Exit "
        "status 1 on any failure. Example: hlsgen fuzz --seed 0 --count 20 --workers 2",
    )
    s.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    s.add_argument("--count", type=int, default=10, help="number of seeds (default 10)")
    s.add_argument(
        "--out", default="fuzz_out", metavar="DIR", help="work folder and reproducers (default fuzz_out)"
    )
    s.add_argument("--workers", type=int, metavar="N", help="local processes (default: one per CPU)")
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the seeds on this Dask scheduler")
    s.add_argument("--no-csim", action="store_true", help="skip g++ csim (emulation, write and decode only)")
    s.add_argument("--cosim-every", type=int, default=0, metavar="K",
                   help="co-simulate the RTL of every K-th seed (needs Verilator; default 0: never)")  # fmt: skip
    s.add_argument("--decode-csim-every", type=int, default=0, metavar="K",
                   help="run the compiled decode top of every K-th causal seed (default 0: never)")  # fmt: skip
    s.add_argument("--estimate-tolerance", type=float, default=0.0, metavar="R",
                   help="allowed relative difference of estimated and measured cycles (default 0: equal)")  # fmt: skip
    s.add_argument("--no-shrink", action="store_true", help="save failures as they are, unshrunk")
    s.add_argument("--shrink-seconds", type=float, default=300.0, metavar="S",
                   help="time budget of one shrink (default 300)")  # fmt: skip
    s.add_argument("--keep", action="store_true", help="keep the work folders of passing seeds")
    s.add_argument(
        "--replay", metavar="SPEC.json", help="check a reproducer's spec.json / minimal.json again"
    )
    s.set_defaults(func=_cmd_fuzz)

    s = sub.add_parser(
        "demo", help="convert the bundled example models, run emulation and csim, print accuracy"
    )
    s.add_argument("-o", "--output", default="demo_out", help="folder for the written projects")
    s.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        _import_modules(args.imports)
        return int(args.func(args) or 0)
    except (CliError, ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"hlsgen {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hlsgen {args.command}: interrupted; nothing was half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `hlsgen predict ... | head`
        sys.stderr.close()
        return 0
    except Exception as e:
        if os.environ.get("HLSGEN_DEBUG"):
            raise
        first = (str(e).strip().splitlines() or [""])[0]
        print(f"hlsgen {args.command}: internal error: {type(e).__name__}: {first} (a bug in hlsgen: please "
              "report it with the command; HLSGEN_DEBUG=1 shows the traceback)", file=sys.stderr)  # fmt: skip
        return 3


def _import_modules(names: list[str]) -> None:
    """``--import``: modules (dotted names, or .py files) whose import registers custom Keras layers."""
    import importlib
    import importlib.util

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in names:
        try:
            if name.endswith(".py"):
                spec = importlib.util.spec_from_file_location(Path(name).stem, name)
                if spec is None or spec.loader is None or not Path(name).is_file():
                    raise CliError(f"--import {name}: no such Python file")
                mod = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = mod
                spec.loader.exec_module(mod)
            else:
                if "" not in sys.path and os.getcwd() not in sys.path:
                    sys.path.insert(0, os.getcwd())
                mod = importlib.import_module(name)
        except CliError:
            raise
        except Exception as e:
            raise CliError(f"--import {name}: {type(e).__name__}: {e}") from None
        if "tensorflow" in sys.modules:  # its Keras layer classes known by name to load_model
            import tensorflow as tf

            tf.keras.utils.get_custom_objects().update({
                k: v for k, v in vars(mod).items()
                if isinstance(v, type) and issubclass(v, tf.keras.layers.Layer) and v.__module__ == mod.__name__
            })  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
