"""io_stream: the AXI4-Stream packing (pinned by golden words), csim of streaming designs bit for bit
against the reference (digits float and QAT, an MHA block with causal and padding masks), and the
written testbench compiled with plain g++."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hlsgen import tools
from hlsgen.backends.axis import pack_tokens, token_layout, unpack_tokens, word_width
from hlsgen.config import Config
from hlsgen.fixed import FixedType
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Add, Linear
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph
from hlsgen.resources import REPO_ROOT, resource_dir

DIGITS = REPO_ROOT / "examples" / "digits"
PREC = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"


# -- packing ------------------------------------------------------------------------------------------
MIXED = [FixedType.parse(t) for t in ("ap_fixed<8,3>", "ap_ufixed<4,2>", "ap_int<5>", "ap_uint<1>")]


def test_golden_word_mixed_types() -> None:
    # element 0 in the LSBs: -3 -> 0xFD (bits 7:0), 9 -> 0x9 (11:8), -16 -> 0b10000 (16:12), 1 (bit 17)
    raw = np.array([-3, 9, -16, 1])
    assert pack_tokens(raw, MIXED) == 0x309FD
    assert word_width(MIXED) == 24  # 18 bits of elements, rounded up to whole bytes
    np.testing.assert_array_equal(unpack_tokens(0x309FD, MIXED), raw)
    # bits above the elements are ignored on the way back
    np.testing.assert_array_equal(unpack_tokens(0x309FD | 0xFC0000, MIXED), raw)


def test_pack_shapes_and_errors() -> None:
    t = FixedType.parse("ap_fixed<5,2>")
    raw = np.array([[[-1, 15, -16], [3, -7, 0]]] * 2)  # [batch 2, 2 tokens, 3 elements]
    words = pack_tokens(raw, t)
    assert words.shape == (2, 2) and list(words[0]) == [0x41FF, 0x323]
    np.testing.assert_array_equal(unpack_tokens(words, t, 3), raw)
    assert (
        token_layout((8, 8)) == (8, 8)
        and token_layout((10,)) == (1, 10)
        and token_layout((2, 4, 6)) == (8, 6)
    )
    with pytest.raises(
        ValueError, match=r"element 1 of token 0 is 16, outside the raw range of ap_fixed<5,2>"
    ):
        pack_tokens([0, 16, 0], t)
    with pytest.raises(ValueError, match="2 element types for tokens of 3"):
        pack_tokens([0, 1, 0], MIXED[:2])


@pytest.mark.gxx
def test_golden_words_cxx(tmp_path: Path) -> None:
    """The C++ packing of hlsgen_stream.h (design and testbench side) gives the same golden words."""
    src = tmp_path / "golden.cpp"
    src.write_text(
        """
#include <cstdio>
#include "hlsgen_stream.h"
typedef ap_fixed<5, 2> el_t;
int main() {
    const long long raw[6] = {-1, 15, -16, 3, -7, 0};
    hls::stream<hlsgen::axis_word<16> > s;
    hlsgen::raw_to_axis<el_t, 3, 6>(raw, s);
    hlsgen::axis_word<16> b0 = s.read(), b1 = s.read();
    std::printf("%llx %d %llx %d\\n", (unsigned long long)b0.data.to_uint64(), (int)b0.last,
                (unsigned long long)b1.data.to_uint64(), (int)b1.last);
    s.write(b0);
    s.write(b1);
    long long back[6];
    int rc = hlsgen::axis_to_raw<el_t, true, 3, 6>(s, back, "golden");
    for (int i = 0; i < 6; i++) std::printf("%lld ", back[i]);
    hlsgen::token<el_t, 3> tok = hlsgen::unpack_token<el_t, 3>(ap_uint<16>(0x41FF));
    std::printf("%d %llx\\n", rc, (unsigned long long)hlsgen::pack_token<16>(tok).to_uint64());
    return 0;
}
"""
    )
    exe = tmp_path / "golden"
    inc = resource_dir("templates") / "hls" / "firmware" / "hlsgen"
    cmd = [
        tools.cxx(),
        "-std=c++14",
        "-O0",
        "-w",
        f"-I{tools.ap_types_include()}",
        f"-I{inc}",
        str(src),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    assert lines[0] == "41ff 0 323 1"  # TLAST on the last token only
    assert lines[1].split() == ["-1", "15", "-16", "3", "-7", "0", "0", "41ff"]


# -- csim of streaming designs ------------------------------------------------------------------------
def _check_csim(proj, xs) -> None:
    ref = proj.predict_raw(xs)
    got = proj.csim_raw(xs)
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_array_equal(np.asarray(r).reshape(g.shape), g)
    want, out = proj.predict(xs), proj.csim(xs)
    for a, b in zip(
        want if isinstance(want, list) else [want], out if isinstance(out, list) else [out], strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def digits_data() -> tuple[np.ndarray, np.ndarray]:
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(DIGITS))
    try:
        from data import load_digits_tokens  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(DIGITS))
    x_tr, _, x_te, _ = load_digits_tokens()
    return x_tr[:32], x_te[:40]


@pytest.mark.gxx
@pytest.mark.tensorflow
@pytest.mark.parametrize("kind", ["float", "qat"])
def test_digits_stream_csim_equals_reference(kind: str, digits_data) -> None:
    pytest.importorskip("tensorflow")
    import hlsgen

    calib, x = digits_data
    cfg = {"project_name": f"digits_{kind}_s", "default_precision": PREC, "io_type": "io_stream"}
    proj = hlsgen.convert(
        DIGITS / f"digits_{kind}.keras", cfg, calibration_data=calib if kind == "float" else None
    )
    files = proj.files()
    top = files[f"firmware/digits_{kind}_s.cpp"]
    assert "#pragma HLS DATAFLOW" in top and "#pragma HLS INTERFACE mode = axis port = pixels" in top
    assert "hlsgen::stream_dup<N_EMBED" in top  # embed (or embed_q) read by Q, K, V and the residual
    _check_csim(proj, x)


T, D = 5, 8


def _mha_model():
    """Self-attention with a causal mask (a constant, generated inside), then attention with a padding
    mask input (1-bit elements: a 5-bit token padded to one byte); the residual sum is both a model
    output (5 beats) and read by the pooling (a duplicator feeds the AXI4-Stream port); a 3-value head
    (36 bits padded to 40)."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((T, D), name="tokens")
    pad = tf.keras.Input((T, T), name="pad_mask")
    h = tf.keras.layers.Dense(D, name="embed")(x)
    a = tf.keras.layers.MultiHeadAttention(2, 4, name="causal_attn")(h, h, use_causal_mask=True)
    r = tf.keras.layers.Add(name="res")([h, a])
    b = tf.keras.layers.MultiHeadAttention(1, 4, name="pad_attn")(r, r, attention_mask=pad)
    pool = tf.keras.layers.GlobalAveragePooling1D(name="pool")(b)
    out = tf.keras.layers.Dense(3, name="head")(pool)
    model = tf.keras.Model([x, pad], [r, out])
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(24, T, D)).astype(np.float32)
    pm = (rng.random((24, T, T)) > 0.3).astype(np.float32)
    pm[:, :, 0] = 1.0
    return model, [xs, pm]


@pytest.fixture(scope="module")
def mha_project():
    import hlsgen

    model, data = _mha_model()
    cfg = {
        "project_name": "mha_s",
        "default_precision": "ap_fixed<12,5,AP_RND,AP_SAT>",
        "io_type": "io_stream",
    }
    return hlsgen.convert(model, cfg), data


@pytest.mark.gxx
@pytest.mark.tensorflow
def test_mha_stream_csim_equals_reference(mha_project) -> None:
    proj, data = mha_project
    assert "mask_causal" in proj.files()["firmware/mha_s.cpp"]
    header = proj.files()["firmware/mha_s.h"]
    assert "#define WORD_PAD_MASK 8" in header and "#define WORD_HEAD 40" in header
    _check_csim(proj, data)


def _ir_graph(feat: int = 5) -> Graph:
    """Two inputs, two outputs; x read by two ops and h by an op and an output port (duplicators); a
    tensor nothing reads (drained); 7-bit elements (a token of x: 5 x 7 bits, TDATA 40). Tensors named
    ``in``, ``out`` and ``rc`` must not clash with the generated code's own names."""
    rng = np.random.default_rng(4)
    g = Graph("tiny")
    x = g.add_tensor("x", (3, feat))
    z = g.add_tensor("in", (3, 4))
    h = g.add_tensor("rc", (3, 4))
    u = g.add_tensor("unused", (3, 4))
    s = g.add_tensor("out", (3, 4))
    g.add_op(Linear("d1", [x], [h], kernel=rng.normal(size=(feat, 4)), bias=rng.normal(size=4)))
    g.add_op(Linear("d2", [x], [u], kernel=rng.normal(size=(feat, 4))))
    g.add_op(Add("res", [h, z], [s]))
    g.inputs, g.outputs = [x, z], [s, h]
    return g


def _ir_data(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [rng.normal(size=(n, 3, 5)) * 3, rng.normal(size=(n, 3, 4)) * 3]


@pytest.fixture(scope="module")
def tiny_project() -> Project:
    cfg = Config.from_dict(
        {"project_name": "tiny_s", "default_precision": "ap_fixed<7,3>", "io_type": "io_stream"}
    )
    return Project(quantize_graph(_ir_graph(), cfg), cfg)


@pytest.mark.gxx
def test_ir_stream_duplicators_and_drain(tiny_project: Project) -> None:
    files = tiny_project.files()
    top = files["firmware/tiny_s.cpp"]
    assert "hlsgen::stream_dup<N_X, 2>" in top and "hlsgen::stream_drain<N_UNUSED>" in top
    assert "hlsgen::stream_to_axis<N_RC>(rc_s_c[1], rc);" in top
    assert "#define WORD_X 40" in files["firmware/tiny_s.h"]
    _check_csim(tiny_project, _ir_data(20))


@pytest.mark.gxx
def test_written_testbench_passes_with_plain_gxx(tiny_project: Project, tmp_path: Path) -> None:
    out = tiny_project.write(tmp_path / "prj", tb_data=_ir_data(8))
    assert (out / "firmware" / "tiny_s.cpp").read_text().startswith("// Generated by hlsgen")
    assert (out / "firmware" / "hlsgen" / "hlsgen_stream.h").is_file()
    exe = out / "tb"
    cmd = [
        tools.cxx(),
        "-std=c++14",
        "-O0",
        "-w",
        "-DHLSGEN_CSIM_RAW_WEIGHTS",
        f"-I{tools.ap_types_include()}",
        "-Ifirmware",
        "-Ifirmware/hlsgen",
        "tiny_s_test.cpp",
        "firmware/tiny_s.cpp",
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, cwd=out, check=True, capture_output=True, text=True)
    r = subprocess.run([str(exe), "tb_data"], cwd=out, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "8 samples, 0 mismatching values" in r.stdout
    # the testbench does compare: one wrong expected value fails it
    pred = out / "tb_data" / "tb_output_predictions.dat"
    lines = pred.read_text().splitlines()
    first = lines[0].split()
    first[-1] = str(int(first[-1]) + 1)
    pred.write_text("\n".join([" ".join(first), *lines[1:]]) + "\n")
    r = subprocess.run([str(exe), "tb_data"], cwd=out, capture_output=True, text=True)
    assert r.returncode == 1 and "1 mismatching values" in r.stdout


def test_too_wide_token_is_refused_by_name(tmp_path: Path) -> None:
    cfg = Config.from_dict({"default_precision": "ap_fixed<16,6>", "io_type": "io_stream"})
    proj = Project(quantize_graph(_ir_graph(feat=65), cfg), cfg)  # 65 x 16 bits > 1024
    with pytest.raises(ValueError, match=r"a token of x \(65 x ap_fixed<16,6>\) needs 1040 TDATA bits"):
        proj.write(tmp_path / "prj")
    assert not (tmp_path / "prj").exists()
