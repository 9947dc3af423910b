"""A non-editable wheel carries templates/, boards/ and sim/ inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_carries_data(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    wheel = next(tmp_path.glob("hlsgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for must in (
        "hlsgen/_data/templates/hls/firmware/hlsgen/hlsgen_linear.h",
        "hlsgen/_data/templates/hls/project/build_prj.tcl.j2",
        "hlsgen/_data/boards/pynq-z2.yaml",
        "hlsgen/fixed/arith.py",
    ):
        assert must in names, must
    assert any(n.startswith("hlsgen/_data/sim/") for n in names)
