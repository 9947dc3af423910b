"""The hlsgen command: version, help, and errors without tracebacks."""

from __future__ import annotations

import pytest

from hlsgen import __version__
from hlsgen.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert __version__ in capsys.readouterr().out


@pytest.mark.parametrize(
    "cmd",
    [
        "convert",
        "predict",
        "csim",
        "cosim",
        "boards",
        "plan",
        "build",
        "report",
        "compare",
        "sweep",
        "selfcheck",
        "demo",
    ],
)
def test_help(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    assert "usage: hlsgen" in capsys.readouterr().out


def test_missing_model_is_a_clear_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["convert", str(tmp_path / "nope.keras"), "-o", str(tmp_path / "out")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "nope.keras" in err and "does not exist" in err
    assert not (tmp_path / "out").exists()


def test_cosim_ram_min_rows_reaches_the_rtl_options() -> None:
    """``hlsgen cosim --ram-min-rows N`` sets RtlOptions.ram_min_rows (0: register arrays always), beside
    ``--max-par`` and the config's clock; the default is RtlOptions'."""
    from hlsgen.backends.rtl.ops import RtlOptions
    from hlsgen.cli import _build_parser
    from hlsgen.commands.cosim import rtl_options

    parse = _build_parser().parse_args
    opts = rtl_options(parse(["cosim", "prj"]), 3.0)
    assert opts.ram_min_rows == RtlOptions().ram_min_rows and opts.clock_ns == 3.0
    opts = rtl_options(parse(["cosim", "prj", "--ram-min-rows", "8", "--max-par", "16"]), 5.0)
    assert (opts.ram_min_rows, opts.max_par) == (8, 16) and opts.ram_bank(8) and not opts.ram_bank(7)
    opts = rtl_options(parse(["cosim", "prj", "--ram-min-rows", "0"]), 5.0)
    assert opts.ram_min_rows is None and not opts.ram_bank(10**6)
