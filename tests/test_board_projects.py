"""Firmware projects for boards: every registry board gets a complete project for the digits model, its
Tcl parses and drives (stubbed) Vivado / Vitis HLS commands with the board's part and clock, the
host-side packing and the generated C++ wrappers carry the reference's bits exactly, and bad input
(unknown board, bad board file, build without the tools) fails clearly, leaving nothing behind.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

tf = pytest.importorskip("tensorflow")

import hlsgen  # noqa: E402
from hlsgen.backends.ci import project_check_files  # noqa: E402
from hlsgen.boards import Board, Shell, board_names, load_board  # noqa: E402
from hlsgen.cli import main  # noqa: E402
from hlsgen.ir.graph import input_raw  # noqa: E402
from hlsgen.project import Project  # noqa: E402
from hlsgen.quant.config import IOType  # noqa: E402
from hlsgen.resources import REPO_ROOT  # noqa: E402
from hlsgen.shells import apply_board, expected_files, shell_files  # noqa: E402

DIGITS = REPO_ROOT / "examples" / "digits" / "digits_float.keras"
STUBS = Path(__file__).parent / "data" / "tool_stubs.tcl"
TCLSH = shutil.which("tclsh")


def needs_tclsh(test: Any) -> Any:
    """The tclsh marker, skipping only where tclsh is truly absent."""
    return pytest.mark.tclsh(pytest.mark.skipif(TCLSH is None, reason="tclsh is not installed")(test))


@pytest.fixture(scope="module")
def digits() -> Project:
    return hlsgen.convert(str(DIGITS), {"project_name": "digits"})


@pytest.fixture(scope="module")
def written(digits: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The digits project written for every board of the registry."""
    root = tmp_path_factory.mktemp("boards")
    out = {}
    for name in board_names():
        proj = Project(digits.graph, apply_board(digits.config, name))
        out[name] = proj.write(root / name, model_source=DIGITS)
    return out


def _tree(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def _run_tcl(project: Path, script: str, tmp_path: Path) -> list[tuple[str, dict[str, str], list[str]]]:
    """Run a generated script under tclsh with the tool stubs, from a copy of the project; the calls."""
    work = tmp_path / f"run_{script.replace('/', '_')}"
    shutil.copytree(project, work)
    driver = f"source {{{STUBS}}}\nsource {{{script}}}\nstub_write_log {{{work / 'calls.log'}}}\n"
    r = subprocess.run([TCLSH], input=driver, cwd=work, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"{script}: {r.stderr or r.stdout}"
    calls = []
    for line in (work / "calls.log").read_text().split("\n")[:-1]:  # not splitlines(): it splits at \x1e
        cmd, flags, pos = line.split("\x1e")
        f = flags.split("\x1f") if flags else []
        calls.append((cmd, _pairs(f), pos.split("\x1f") if pos else []))
    return calls


def _pairs(items: list[str]) -> dict[str, str]:
    """A flat key/value list as a dict."""
    assert len(items) % 2 == 0, items
    return dict(zip(items[::2], items[1::2], strict=True))


def _tcl_list(text: str) -> list[str]:
    """Split a Tcl list (braces and words) written by the stubs."""
    r = subprocess.run([TCLSH], input=f"foreach x {{{text}}} {{ puts [string map {{\\n \\\\n}} $x] }}\n",
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def _one(calls: list, cmd: str) -> tuple[dict[str, str], list[str]]:
    found = [(f, p) for c, f, p in calls if c == cmd]
    assert len(found) == 1, f"{cmd}: {len(found)} calls"
    return found[0]


# -- every board -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", board_names())
def test_project_for_every_board(name: str, written: dict[str, Path], digits: Project) -> None:
    board = load_board(name)
    d = written[name]
    files = {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()}
    base = set(digits.files())
    checks = set(project_check_files(digits))  # make check and the CI workflows every project carries
    want = base | checks | set(expected_files(board, "digits")) | {"hlsgen_config.yml", "model/digits_float.keras"}
    assert files == want
    # the HLS project targets the board's part and clock; the config remembers the board
    tcl = (d / "build_prj.tcl").read_text()
    assert f"set_part {{{board.part}}}" in tcl
    assert float(re.search(r"create_clock -period ([0-9.]+) ", tcl).group(1)) == board.clock_period_ns
    cfg = yaml.safe_load((d / "hlsgen_config.yml").read_text())
    assert (cfg["board"], cfg["part"], cfg["clock_period"]) == (name, board.part, board.clock_period_ns)
    assert load_board(d / "hlsgen_board.yml") == board
    # every generated text file starts with the banner (after a shebang); Python parses on 3.10
    for rel in files - base - {"model/digits_float.keras", "hlsgen_config.yml"}:
        text = (d / rel).read_text()
        first = text.splitlines()[1 if text.startswith("#!") else 0]
        assert "Generated by hlsgen" in first, rel
        if rel.endswith(".py"):
            ast.parse(text, filename=rel, feature_version=(3, 10))
    if board.shell is Shell.ALVEO:
        _check_alveo(board, d)


def _check_alveo(board: Board, d: Path) -> None:
    r = subprocess.run(["bash", "-n", str(d / "build_xclbin.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    script = (d / "build_xclbin.sh").read_text()
    assert f'PLATFORM="{board.platform}"' in script
    kernel = (d / "kernel" / "digits_kernel.cpp").read_text()
    args = re.search(r'extern "C" void digits_kernel\(([^)]*)\)', kernel).group(1)
    names = [a.split()[-1].lstrip("*") for a in args.split(",")]
    for port in names:
        assert f"port = {port} " in kernel
    cfg = configparser.ConfigParser(strict=False)
    cfg.read_string((d / "link.cfg").read_text())
    text = (d / "link.cfg").read_text()
    assert "nk=digits_kernel:1:digits_kernel_1" in text
    banks = dict(re.findall(r"^sp=digits_kernel_1\.(\w+):(\w+)\[\d+\]$", text, re.M))
    assert set(banks) == {"in_words", "out_words"} <= set(names)
    assert set(banks.values()) == {board.memory.value.upper()}
    assert cfg["clock"]["freqHz"] == f"{round(1e9 / board.clock_period_ns)}:digits_kernel_1"


@pytest.mark.parametrize("name", [n for n in board_names() if load_board(n).shell is Shell.ZYNQ])
@needs_tclsh
def test_zynq_tcl_drives_the_tools(name: str, written: dict[str, Path], tmp_path: Path) -> None:
    """Each Tcl script is complete, and every command it calls exists with sane arguments (stubs)."""
    board = load_board(name)
    d = written[name]
    for script in ("build_prj.tcl", "build_ip.tcl", "vivado/build_bd.tcl"):
        text = (d / script).read_text()
        r = subprocess.run(
            [TCLSH], input=f"puts [info complete {{{text}}}]\n", capture_output=True, text=True
        )
        assert r.stdout.strip() == "1", script
    hls = _run_tcl(d, "build_ip.tcl", tmp_path)
    assert _one(hls, "set_top")[1] == ["digits_axi"]
    assert _one(hls, "set_part")[1] == [board.part]
    assert float(_one(hls, "create_clock")[0]["-period"]) == board.clock_period_ns
    added = [p[0] for c, f, p in hls if c == "add_files"]
    assert added == ["firmware/digits.cpp", "firmware/digits_axi.cpp"]
    flags, _ = _one(hls, "export_design")
    assert (flags["-format"], flags["-vendor"], flags["-library"], flags["-version"]) == (
        "ip_catalog",
        "hlsgen",
        "hls",
        "1.0",
    )

    viv = _run_tcl(d, "vivado/build_bd.tcl", tmp_path)
    assert _one(viv, "create_project")[0]["-part"] == board.part
    cells = {p[0]: f["-vlnv"] for c, f, p in viv if c == "create_bd_cell"}
    ps = board.ps.vivado_ip
    assert cells[f"{ps}_0"].startswith(f"xilinx.com:ip:{ps}:")
    assert cells["axi_dma_0"].startswith("xilinx.com:ip:axi_dma:")
    assert cells["digits_axi_0"] == "hlsgen:hls:digits_axi:1.0"
    nets = [tuple(p) for c, f, p in viv if c == "connect_bd_intf_net"]
    assert ("pin:/axi_dma_0/M_AXIS_MM2S", "pin:/digits_axi_0/in_stream") in nets
    assert ("pin:/digits_axi_0/out_stream", "pin:/axi_dma_0/S_AXIS_S2MM") in nets
    props = {}
    for c, f, _ in viv:
        if c == "set_property" and "-dict" in f:
            props.update(_pairs(_tcl_list(f["-dict"])))
    freq = props.get("CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ") or props.get(
        "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ"
    )
    assert float(freq) == pytest.approx(board.clock_mhz)
    assert props["CONFIG.c_include_sg"] == "0"
    automated = [
        _tcl_list(f["-config"]) for c, f, p in viv if c == "apply_bd_automation" and "axi4" in f["-rule"]
    ]
    slaves = {_pairs(a)["Slave"] for a in automated}
    assert {"/axi_dma_0/S_AXI_LITE", "/digits_axi_0/s_axi_control"} <= slaves
    assert _one(viv, "launch_runs")[0]["-to_step"] == "write_bitstream"
    assert (tmp_path / "run_vivado_build_bd.tcl" / "vivado" / "digits.bit").is_file()
    assert (tmp_path / "run_vivado_build_bd.tcl" / "vivado" / "digits.hwh").is_file()


@needs_tclsh
@pytest.mark.parametrize("name", ["xcvu13p", "alveo-u50"])
def test_hls_project_tcl_of_other_shells(name: str, written: dict[str, Path], tmp_path: Path) -> None:
    board = load_board(name)
    calls = _run_tcl(written[name], "build_prj.tcl", tmp_path)
    assert _one(calls, "set_part")[1] == [board.part]
    assert float(_one(calls, "create_clock")[0]["-period"]) == board.clock_period_ns


# -- the host side carries the reference's bits ------------------------------------------------------
def _io_words(driver: Path, x: list[np.ndarray], tmp_path: Path, drop_strenum: bool = False) -> np.ndarray:
    """Inputs packed by the generated driver module, in a fresh Python (only NumPy needed)."""
    np.savez(tmp_path / "x.npz", *x)
    code = (
        ("import enum; del enum.StrEnum\n" if drop_strenum else "")
        + "import sys, numpy as np\nimport digits_io as io\n"
        + f"z = np.load({str(tmp_path / 'x.npz')!r}); xs = [z[k] for k in z.files]\n"
        + f"np.save({str(tmp_path / 'w.npy')!r}, io.pack(io.quantize(xs if len(xs) > 1 else xs[0])))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", code], cwd=driver, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return np.load(tmp_path / "w.npy")


@pytest.mark.parametrize("drop_strenum", [False, True], ids=["py311", "py310-enum"])
def test_driver_packs_the_reference_bits(drop_strenum: bool, written: dict[str, Path], digits: Project,
                                         tmp_path: Path) -> None:  # fmt: skip
    rng = np.random.default_rng(1)
    x = rng.normal(0, 8, size=(16, 8, 8))  # beyond ap_fixed<16,6>'s range too: wraps must match
    x[0, 0, :3] = [31.99, -32.0, 1e-9]
    words = _io_words(written["pynq-z2"] / "driver", [x], tmp_path, drop_strenum)
    t = digits.graph.tensors["pixels"].type
    raw = input_raw(x, t).reshape(16, -1)
    assert words.dtype == np.uint32 and words.shape == (16, 64)
    np.testing.assert_array_equal(words, (raw & ((1 << t.width) - 1)).astype(np.uint32))
    # the driver reads the reference's output words back to the reference's raw values and floats
    sys.path.insert(0, str(written["alveo-u50"] / "host"))
    try:
        import digits_io as io  # the Alveo host carries the same module

        ref = digits.predict_raw(x)[0].reshape(16, -1)
        w = (ref & 0xFFFF).astype(np.uint32)
        (got,) = io.unpack(w)
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(io.to_float([got])[0], digits.predict(x))
    finally:
        sys.path.remove(str(written["alveo-u50"] / "host"))
        for m in [m for m in sys.modules if m == "digits_io" or m.startswith("hlsgen_fixed")]:
            del sys.modules[m]


_HARNESS = r"""
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "digits_axi.h"
extern "C" void digits_kernel(const unsigned int *in_words, unsigned int *out_words, unsigned int n_samples);

// argv[1] samples; stdin: the input words; stdout: "axi WORD LAST" per output word of the AXI wrapper,
// "left N" (input words it did not read), then "krn WORD" per output word of the Alveo kernel.
int main(int argc, char **argv) {
    unsigned n = (unsigned)atoi(argv[1]);
    std::vector<unsigned int> in(n * DIGITS_IN_WORDS), out(n * DIGITS_OUT_WORDS);
    for (size_t i = 0; i < in.size(); i++) if (scanf("%u", &in[i]) != 1) return 2;
    hls::stream<digits_word_t> si, so;
    for (size_t i = 0; i < in.size(); i++) {
        digits_word_t w;
        w.data = in[i]; w.keep = -1; w.strb = -1; w.last = (i + 1 == in.size());
        si.write(w);
    }
    digits_axi(si, so, n);
    for (size_t i = 0; i < out.size(); i++) {
        digits_word_t w = so.read();
        printf("axi %u %d\n", (unsigned)w.data.to_uint(), (int)w.last);
    }
    int left = 0;
    while (!si.empty()) { si.read(); left++; }
    printf("left %d %d\n", left, (int)!so.empty());
    digits_kernel(in.data(), out.data(), n);
    for (size_t i = 0; i < out.size(); i++) printf("krn %u\n", out[i]);
    return 0;
}
"""


def _tiny_model() -> tuple[Any, list[np.ndarray]]:
    """Two inputs (tokens, an ap_uint<1> padding mask), two outputs: every port offset is exercised."""
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((4, 4), name="tokens")
    m = tf.keras.Input((4, 4), name="pad_mask")
    h = tf.keras.layers.Dense(4, name="embed")(x)
    a = tf.keras.layers.MultiHeadAttention(2, 2, name="attn")(h, h, attention_mask=m)
    f = tf.keras.layers.Flatten(name="flat")(a)
    model = tf.keras.Model(
        [x, m], [tf.keras.layers.Dense(3, name="head_a")(f), tf.keras.layers.Dense(2, name="head_b")(f)]
    )
    rng = np.random.default_rng(5)
    xs = rng.normal(0, 6, size=(12, 4, 4))
    ms = (rng.random((12, 4, 4)) > 0.3).astype(np.float64)
    ms[:, :, 0] = 1.0
    return model, [xs, ms]


@pytest.mark.gxx
def test_wrappers_compute_the_reference_bit_exactly(tmp_path: Path) -> None:
    """Driver words -> the Zynq AXI4-Stream wrapper and the Alveo kernel (g++) -> driver: the reference."""
    from hlsgen.backends.hls.csim import CXXFLAGS
    from hlsgen.tools import ap_types_include, cxx

    model, data = _tiny_model()
    cfg = {"project_name": "digits", "default_precision": "ap_fixed<12,5,AP_RND,AP_SAT>"}
    zynq = hlsgen.convert(model, cfg, board="pynq-z2").write(tmp_path / "zynq")
    alveo = hlsgen.convert(model, cfg, board="alveo-u50").write(tmp_path / "alveo")
    proj = hlsgen.convert(model, cfg)
    words = _io_words(zynq / "driver", data, tmp_path)
    assert words.shape == (12, 32)
    (tmp_path / "harness.cpp").write_text(_HARNESS)
    exe = tmp_path / "harness"
    cmd = [cxx(), *[f for f in CXXFLAGS if f not in ("-shared", "-fPIC")], f"-I{ap_types_include()}",
           f"-I{zynq / 'firmware'}", f"-I{zynq / 'firmware' / 'hlsgen'}", str(tmp_path / "harness.cpp"),
           str(zynq / "firmware" / "digits.cpp"), str(zynq / "firmware" / "digits_axi.cpp"),
           str(alveo / "kernel" / "digits_kernel.cpp"), "-o", str(exe)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(
        [str(exe), "12"], input=" ".join(map(str, words.reshape(-1))), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    axi = np.array([[int(v) for v in ln.split()[1:]] for ln in lines if ln.startswith("axi ")])
    krn = np.array([int(ln.split()[1]) for ln in lines if ln.startswith("krn ")], dtype=np.uint32)
    assert [ln for ln in lines if ln.startswith("left")] == ["left 0 0"]
    # TLAST on the very last word only
    np.testing.assert_array_equal(axi[:, 1], np.r_[np.zeros(len(axi) - 1), 1])
    sys.path.insert(0, str(zynq / "driver"))
    try:
        import digits_io as io

        ref = proj.predict_raw(data)
        for got_words in (axi[:, 0].astype(np.uint32), krn):
            got = io.unpack(got_words)
            for g, want in zip(got, ref, strict=True):
                np.testing.assert_array_equal(g, want)
    finally:
        sys.path.remove(str(zynq / "driver"))
        for m in [m for m in sys.modules if m == "digits_io" or m.startswith("hlsgen_fixed")]:
            del sys.modules[m]


# -- the command line and bad input ------------------------------------------------------------------
def test_cli_convert_for_a_board_fits_or_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "prj"
    rc = main(["convert", str(DIGITS), "-o", str(out), "--board", "pynq-z2"])
    err = capsys.readouterr().err
    assert rc == 2 and "does not fit the pynq-z2" in err and "DSP" in err and "--fit" in err
    assert not out.exists() and not list(tmp_path.iterdir())
    rc = main(["convert", str(DIGITS), "-o", str(out), "--board", "pynq-z2", "--fit"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "reuse factor" in text and "estimate" in text
    cfg = yaml.safe_load((out / "hlsgen_config.yml").read_text())
    assert cfg["board"] == "pynq-z2"
    assert any(lc.get("reuse_factor", 0) > 1 for lc in cfg["layers"].values())
    assert (out / "vivado" / "build_bd.tcl").is_file() and (out / "driver" / "myproject_overlay.py").is_file()


def test_unknown_board_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["convert", str(DIGITS), "-o", str(tmp_path / "prj"), "--board", "pynq-z3"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "unknown board 'pynq-z3'" in err and "did you mean 'pynq-z2'" in err
    for name in board_names():
        assert name in err
    assert not (tmp_path / "prj").exists()


def test_board_file_with_a_missing_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((REPO_ROOT / "boards" / "zcu104.yaml").read_text())
    del data["part"]
    f = tmp_path / "my-board.yaml"
    f.write_text(yaml.safe_dump(data))
    rc = main(["convert", str(DIGITS), "-o", str(tmp_path / "prj"), "--board", str(f)])
    err = capsys.readouterr().err
    assert rc == 2 and str(f) in err and "part: missing" in err
    assert not (tmp_path / "prj").exists()


def test_user_board_file_is_copied_and_recorded(digits: Project, tmp_path: Path) -> None:
    data = yaml.safe_load((REPO_ROOT / "boards" / "xcvu13p.yaml").read_text())
    data.update(name="my-vu13p", clock_mhz=200)
    f = tmp_path / "my-vu13p.yaml"
    f.write_text(yaml.safe_dump(data))
    out = Project(digits.graph, apply_board(digits.config, str(f))).write(tmp_path / "prj")
    cfg = yaml.safe_load((out / "hlsgen_config.yml").read_text())
    assert cfg["board"] == str(f.resolve()) and cfg["clock_period"] == 5.0
    assert load_board(out / "hlsgen_board.yml").name == "my-vu13p"


def test_io_stream_projects_get_no_shell(digits: Project) -> None:
    cfg = apply_board(digits.config, "zcu104")
    cfg.io_type = IOType.STREAM
    with pytest.raises(ValueError, match="zcu104: the zynq integration wraps an io_parallel top"):
        shell_files(digits.graph, cfg, load_board("zcu104"))


def test_build_without_the_tools_touches_nothing(written: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    prj = tmp_path / "prj"
    shutil.copytree(written["pynq-z2"], prj)
    before = _tree(prj)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    rc = main(["build", str(prj), "--stages", "csim,csynth,cosim,export,bitstream"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "vitis_hls is not on PATH" in err and "vivado is not on PATH" in err and "unchanged" in err
    assert _tree(prj) == before
    rc = main(["build", str(prj), "--stages", "csynth,lint"])
    assert rc == 2 and "unknown stage 'lint'" in capsys.readouterr().err
    rc = main(["build", str(written["xcvu13p"]), "--stages", "bitstream"])
    assert rc == 2 and "no bitstream stage" in capsys.readouterr().err
    assert _tree(prj) == before
