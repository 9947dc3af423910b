"""The ``hlsgen`` command.

Each subcommand lives in a ``_cmd_<name>`` function registered in ``_build_parser``; a subcommand that
fails raises :class:`CliError` (or ValueError / FileNotFoundError), which ``main`` prints without a
traceback and turns into exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__


class CliError(Exception):
    """An error to print to the user without a traceback."""


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    from .fixed.selfcheck import run_selfcheck

    return run_selfcheck(verbose=True)


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
