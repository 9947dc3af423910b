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
