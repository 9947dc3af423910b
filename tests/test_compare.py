"""hlsgen compare: figures against hand computation on a 2x2 Dense with known weights, overflow
counts on inputs built to overflow, the suggested-type rule, masks, reports, the plot, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import hlsgen  # noqa: E402
from hlsgen.analysis.compare import overflow_mask, suggest_type  # noqa: E402
from hlsgen.cli import main  # noqa: E402
from hlsgen.fixed import FixedType  # noqa: E402

pytestmark = pytest.mark.tensorflow

#: y = x W + b with values exact in every type below
W = np.array([[1.0, 0.5], [0.25, -1.0]])
B = np.array([0.0, 0.125])
#: sample 1 drives y0 = 3.5 + 0.75 = 4.25 past the top of ap_fixed<8,3> (3.96875); sample 2 is not a
#: multiple of the LSB 1/32, so that truncation shows
X = np.array([[1.0, 1.0], [3.5, 3.0], [0.3, 0.1]])
Y_FLOAT = np.array([[1.25, -0.375], [4.25, -1.125], [0.325, 0.175]])
LABELS = np.array([0, 0, 1])
#: Keras computes in float32: 0.3 and 0.1 are off by up to 2^-24 relative, so its outputs are
#: compared with the hand values within 1e-6 (relative); the IR's float pass is float64 (1e-12)
KERAS_TOL = 1e-6


def tiny_model() -> tf.keras.Model:
    x = tf.keras.Input((2,), name="x")
    y = tf.keras.layers.Dense(2, name="dense")(x)
    m = tf.keras.Model(x, y, name="tiny")
    m.get_layer("dense").set_weights([W.astype(np.float32), B.astype(np.float32)])
    return m


@pytest.fixture(scope="module")
def model() -> tf.keras.Model:
    return tiny_model()


def test_figures_match_hand_computation_wrap(model) -> None:
    r = hlsgen.compare(model, X, LABELS, {"default_precision": "ap_fixed<8,3>"})
    # fixed by hand (AP_TRN, AP_WRAP, LSB 1/32): x2 = [0.28125, 0.09375]; y1[0] = 4.25 wraps to 4.25 - 8;
    # y2 = [0.3046875, 0.171875] truncates to [0.28125, 0.15625]
    fixed = np.array([[1.25, -0.375], [-3.75, -1.125], [0.28125, 0.15625]])
    assert r.n_samples == 3
    # argmax: float [0, 0, 0], fixed [0, 1, 0]; labels [0, 0, 1]
    assert r.float_accuracy == pytest.approx(2 / 3, abs=0)
    assert r.fixed_accuracy == pytest.approx(1 / 3, abs=0)
    assert r.argmax_agreement == pytest.approx(2 / 3, abs=0)
    (out,) = r.outputs
    err = np.abs(fixed - Y_FLOAT)
    assert out.max_abs_error == pytest.approx(8.0, rel=KERAS_TOL)
    assert out.mean_abs_error == pytest.approx(err.mean(), rel=KERAS_TOL)
    assert out.rel_error == pytest.approx(8.0 / 4.25, rel=KERAS_TOL)

    x = r.tensor("x")
    assert (x.type, x.overflows, x.zeroed, x.values) == ("ap_fixed<8,3>", 0, 0, 6)
    assert x.max_abs_error == pytest.approx(0.3 - 0.28125, abs=1e-12)
    assert x.mean_abs_error == pytest.approx(((0.3 - 0.28125) + (0.1 - 0.09375)) / 6, abs=1e-12)
    assert (x.float_min, x.float_max) == (0.1, 3.5)

    y = r.tensor("dense")
    assert (y.overflows, y.wrapped, y.saturated, y.overflow_mode) == (1, 1, 0, "wrap")
    assert y.max_abs_error == pytest.approx(8.0, abs=1e-12)
    assert y.mean_abs_error == pytest.approx(err.mean(), abs=1e-12)
    assert y.rel_error == pytest.approx(8.0 / 4.25, abs=1e-12)
    assert (y.type_min, y.type_max, y.lsb) == (-4.0, 3.96875, 1 / 32)
    assert (y.float_min, y.float_max) == pytest.approx((-1.125, 4.25), abs=1e-12)
    # suggestion: max|y| = 4.25 < 2^3 -> I = 4; TRN error < 1 LSB <= 0.01 * 4.25 -> F = ceil(log2(1 / 0.0425)) = 5
    assert (y.needed_integer_bits, y.needed_frac_bits, y.suggested) == (4, 5, "ap_fixed<9,4>")
    assert (y.spare_integer_bits, y.spare_frac_bits) == (-1, 0)

    w = r.tensor("dense:weight")
    assert (w.kind, w.values, w.overflows, w.max_abs_error) == ("weight", 4, 0, 0.0)
    # max|w| = 1.0 -> I = 2; F = ceil(log2(1 / 0.01)) = 7
    assert w.suggested == "ap_fixed<9,2>" and w.spare_integer_bits == 1
    b = r.tensor("dense:bias")
    assert (b.values, b.max_abs_error, b.float_max) == (2, 0.0, 0.125)
    assert [t.name for t in r.tensors] == ["x", "dense:weight", "dense:bias", "dense"]


def test_saturation_counted_and_not_wrapped(model) -> None:
    # the same overflow with AP_SAT: 4.25 saturates to 3.96875
    r = hlsgen.compare(model, X, None, {"default_precision": "ap_fixed<8,3,AP_TRN,AP_SAT>"})
    y = r.tensor("dense")
    assert (y.overflows, y.saturated, y.wrapped, y.overflow_mode) == (1, 1, 0, "saturate")
    assert y.max_abs_error == pytest.approx(4.25 - 3.96875, abs=1e-12)
    assert r.float_accuracy is None and r.fixed_accuracy is None
    assert r.argmax_agreement == 1.0


def test_overflow_counts_on_inputs_built_to_overflow(model) -> None:
    # ap_fixed<6,2>: range [-2, 1.9375]; 40 of the 100 input values lie outside, 1.95 truncates
    # to 1.9375 and does not overflow, -2.0 is the minimum
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, size=(50, 2))
    x.flat[:10] = 2.5
    x.flat[10:30] = -3.0
    x.flat[30:40] = 17.0  # wraps to 1.0 exactly: still an overflow
    x.flat[40:45] = 1.95
    x.flat[45:50] = -2.0
    for mode, sat, wrap in (("AP_WRAP", 0, 40), ("AP_SAT", 40, 0), ("AP_SAT_ZERO", 40, 0)):
        r = hlsgen.compare(model, x, None, {"default_precision": f"ap_fixed<6,2,AP_TRN,{mode}>"})
        t = r.tensor("x")
        assert (t.overflows, t.saturated, t.wrapped) == (40, sat, wrap), mode
    # AP_SAT_SYM: the range is [-1.9375, 1.9375], so -2.0 overflows too
    r = hlsgen.compare(model, x, None, {"default_precision": "ap_fixed<6,2,AP_TRN,AP_SAT_SYM>"})
    assert r.tensor("x").saturated == 45


def test_overflow_rule_rounds_first() -> None:
    # ap_fixed<8,3>: LSB 1/32, raw range [-128, 127]
    x = np.array([3.97, 3.99, -4.0, -4.01, -4.02])  # raw 127.04, 127.68, -128, -128.32, -128.64
    rnd = FixedType.parse("ap_fixed<8,3,AP_RND>")  # half up: 127, 128, -128, -128, -129
    trn = FixedType.parse("ap_fixed<8,3>")  # floor: 127, 127, -128, -129, -129
    sym = FixedType.parse("ap_fixed<8,3,AP_RND,AP_SAT_SYM>")  # [-127, 127]
    assert overflow_mask(x, rnd).tolist() == [False, True, False, False, True]
    assert overflow_mask(x, trn).tolist() == [False, False, False, True, True]
    assert overflow_mask(x, sym).tolist() == [False, True, True, True, True]
    u = FixedType.parse("ap_ufixed<4,2>")
    assert overflow_mask(np.array([-0.1, 0.0, 3.75, 3.8]), u).tolist() == [True, False, False, False]


def test_suggested_type_rule() -> None:
    t = FixedType.parse("ap_fixed<8,3>")
    assert str(suggest_type(np.array([4.25, -1.0]), t)) == "ap_fixed<9,4>"
    # rounding halves the error: F = ceil(log2(0.5 / 0.0425)) = 4
    assert str(suggest_type(np.array([4.25]), t.with_modes("AP_RND"))) == "ap_fixed<8,4,AP_RND>"
    # a looser target: F = ceil(log2(1 / (0.1 * 4.25))) = 2
    assert str(suggest_type(np.array([4.25]), t, target_error=0.1)) == "ap_fixed<6,4>"
    # small values: max 0.09 -> I = -2 (|x| < 2^-3), F = ceil(log2(1 / 0.0009)) = 11
    assert str(suggest_type(np.array([0.09, -0.05]), t)) == "ap_fixed<9,-2>"
    # unsigned stays unsigned until it meets a negative value
    u = FixedType.parse("ap_ufixed<8,2>")
    assert str(suggest_type(np.array([1.5]), u)) == "ap_ufixed<8,1>"
    assert suggest_type(np.array([1.5, -0.5]), u).signed
    # rounding to nearest pushes 3.999 up to 4.0: one more integer bit
    s = suggest_type(np.array([3.999]), FixedType.parse("ap_fixed<8,3,AP_RND>"), target_error=0.05)
    assert str(s) == "ap_fixed<6,4,AP_RND>"
    with pytest.raises(ValueError, match="target_error"):
        suggest_type(np.array([1.0]), t, target_error=0.0)


def test_masks_are_left_out_and_attention_compares() -> None:
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((4, 4), name="tok")
    a = tf.keras.layers.MultiHeadAttention(1, 4, name="attn")(x, x, use_causal_mask=True)
    y = tf.keras.layers.Dense(3, name="head")(tf.keras.layers.Flatten(name="flat")(a))
    m = tf.keras.Model(x, y)
    data = np.random.default_rng(1).normal(size=(16, 4, 4))
    r = hlsgen.compare(m, data, config={"default_precision": "ap_fixed<24,8>"})
    kinds = {t.kind for t in r.tensors}
    assert {"scores", "softmax", "context", "linear"} <= kinds and "mask" not in kinds
    assert all("mask" not in t.name for t in r.tensors)
    probs = [t for t in r.tensors if t.kind == "softmax"]
    assert probs and all(0 <= t.float_min and t.float_max <= 1 for t in probs)
    # 24 bits with 16 fractional: the outputs follow float closely (bound: 1% of the largest output)
    assert r.outputs[0].rel_error < 0.01 and r.argmax_agreement == 1.0


def test_reports_and_plot(model, tmp_path: Path) -> None:
    from PIL import Image

    r = hlsgen.compare(model, X, LABELS, {"default_precision": "ap_fixed<8,3>"})
    d = json.loads(r.to_json())
    assert d["fixed_accuracy"] == pytest.approx(1 / 3) and len(d["tensors"]) == 4
    assert d["tensors"][3]["wrapped"] == 1 and d["tensors"][3]["spare_integer_bits"] == -1
    assert "samples" not in d
    md = r.to_markdown(plot="p.png")
    assert "| dense | `ap_fixed<8,3>`" in md and "1 WRAP" in md and "![profile](p.png)" in md
    txt = r.format_table()
    assert "dense:weight" in txt and "ap_fixed<9,4>" in txt
    png = tmp_path / "sub" / "p.png"
    r.plot(png)
    with Image.open(png) as im:
        # 10 x (1.4 + 0.3 x 4 tensors) inches at 100 dpi
        assert im.format == "PNG" and im.size == (1000, 260)
    assert [p.name for p in png.parent.iterdir()] == ["p.png"]  # no temporary file left


def test_bad_input_is_named(model) -> None:
    with pytest.raises(
        ValueError, match=r"shape \(3, 3\) does not match the model input 'x' of shape \(batch, 2\)"
    ):
        hlsgen.compare(model, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="labels: 4 samples, but the data holds 3 samples"):
        hlsgen.compare(model, X, np.zeros(4))
    with pytest.raises(ValueError, match="labels: shape"):
        hlsgen.compare(model, X, np.zeros((3, 5)))


def test_cli_compare(model, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mpath = tmp_path / "tiny.keras"
    model.save(mpath)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", LABELS)
    out = tmp_path / "out"
    rc = main([
        "compare", str(mpath), "--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
        "--precision", "ap_fixed<8,3>", "--json", str(out / "r.json"), "--markdown", str(out / "r.md"),
        "--plot", str(out / "img" / "p.png"),
    ])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "0.6667" in text and "0.3333" in text and "1 WRAP" in text
    assert json.loads((out / "r.json").read_text())["tensors"][3]["overflows"] == 1
    assert "![profile](img/p.png)" in (out / "r.md").read_text()
    assert (out / "img" / "p.png").stat().st_size > 1000

    np.save(tmp_path / "bad.npy", np.zeros((3, 5)))
    rc = main(
        ["compare", str(mpath), "--data", str(tmp_path / "bad.npy"), "--json", str(tmp_path / "no.json")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "(3, 5)" in err and "(batch, 2)" in err
    assert not (tmp_path / "no.json").exists()
