"""The ``hlsgen`` command.

Each subcommand lives in a ``_cmd_<name>`` function registered in ``_build_parser``; a subcommand that
fails raises :class:`CliError` (or ValueError / FileNotFoundError), which ``main`` prints without a
traceback and turns into exit status 2.
"""

from __future__ import annotations

import argparse
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
        raise CliError(f"cannot read {what} file {p}: {e}") from None


def _config_from_args(args: argparse.Namespace):
    from .quant.config import Config

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
    return convert(str(src), _config_from_args(args), calibration_data=calib)


def _cmd_convert(args: argparse.Namespace) -> int:
    proj = _project_from_args(args)
    tb = _load_array(args.tb_data, "testbench data") if args.tb_data else None
    out = proj.write(args.output, force=args.force, tb_data=tb, model_source=args.model)
    print(f"wrote {out} ({len(proj.graph.ops)} ops, top function {proj.name})")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    proj = _project_from_args(args)
    x = _load_array(args.data, "data")
    y = proj.csim(x) if args.csim else proj.predict(x)
    if args.output:
        np.save(args.output, y if not isinstance(y, list) else y[0])
        print(f"wrote {args.output}: {np.shape(y)}")
    else:
        np.set_printoptions(threshold=200, linewidth=120)
        print(y)
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
            print(f"output {proj.graph.outputs[k]}: {len(diff)} mismatching values; first at sample {i[0]}, "
                  f"index {i[1:]}: csim {g[i]} != reference {r[i]} (raw integers)")
    n = np.shape(x[0] if isinstance(x, list) else x)[0]
    print(f"csim of {proj.name}: {n} samples, g++ build {proj.last_build_seconds or 0:.1f} s (0 = cached), "
          f"{'bit-exact against the reference' if not bad else f'{bad} mismatches'}")
    return 0 if not bad else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.output), force=True)


def _add_model_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("model", help="trained model: .keras / .h5 file or SavedModel folder (or a project folder "
                   "written by hlsgen convert)")
    s.add_argument("--config", metavar="CFG.yml", help="typed config (see hlsgen.quant.config.Config)")
    s.add_argument("--precision", metavar="TYPE", help="default precision, e.g. 'ap_fixed<16,6>'")
    s.add_argument("--calibration", metavar="X.npy", help="inputs whose ranges set the integer bits of float layers")
    s.add_argument("--name", help="project / top function name (default myproject)")


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hlsgen",
        description="Trained Keras 2 / QKeras attention models to bit-exact Vitis HLS firmware and RTL.",
    )
    p.add_argument("--version", action="version", version=f"hlsgen {__version__}")
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
        description="Read a Keras 2 / QKeras model, quantize it and write a Vitis HLS project (firmware/, "
        "testbench, tb_data/, build_prj.tcl, hlsgen_config.yml). Example: "
        "hlsgen convert model.keras -o prj --precision 'ap_fixed<16,6>' --calibration x.npy --tb-data x.npy",
    )
    _add_model_args(s)
    s.add_argument("-o", "--output", required=True, help="project folder to write (refused if it exists)")
    s.add_argument("--force", action="store_true", help="replace an existing output folder")
    s.add_argument("--tb-data", metavar="X.npy", help="inputs for the testbench vectors in tb_data/")
    s.set_defaults(func=_cmd_convert)

    s = sub.add_parser(
        "predict",
        help="bit-exact emulation of the converted model on data",
        description="Run inputs through hlsgen's bit-exact NumPy emulation (or the compiled C++ with --csim).",
    )
    _add_model_args(s)
    s.add_argument("--data", required=True, metavar="X.npy", help="inputs, shaped (batch, ...) like the model's")
    s.add_argument("-o", "--output", metavar="Y.npy", help="save outputs here instead of printing them")
    s.add_argument("--csim", action="store_true", help="run the compiled C++ instead of the emulation")
    s.set_defaults(func=_cmd_predict)

    s = sub.add_parser(
        "csim",
        help="compile the C++ with g++ and check it against the emulation, bit for bit",
        description="Compile the generated firmware with g++ against the ap_types headers of the installed "
        "hls4ml package, run the data through it and compare every output with the bit-exact reference. "
        "Exit status 1 on any mismatch (the first one is named).",
    )
    _add_model_args(s)
    s.add_argument("--data", required=True, metavar="X.npy", help="inputs, shaped (batch, ...) like the model's")
    s.set_defaults(func=_cmd_csim)

    s = sub.add_parser("demo", help="convert the bundled digits models, run emulation and csim, print accuracy")
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
        return int(args.func(args) or 0)
    except (CliError, ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"hlsgen {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
