"""hlsgen sweep: figures against hand computation on a 2x2 Dense, grids, local processes against a Dask
LocalCluster point for point, outputs and plot, bad input, and the digits example's accuracy curve."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import hlsgen  # noqa: E402
from hlsgen.analysis.sweep import SweepError, grid_settings, prepare_sweep  # noqa: E402
from hlsgen.cli import main  # noqa: E402
from hlsgen.resources import REPO_ROOT  # noqa: E402

pytestmark = pytest.mark.tensorflow

W = np.array([[1.0, 0.5], [0.25, -1.0]])
B = np.array([0.0, 0.125])
X = np.array(
    [[1.0, 1.0], [3.5, 3.0], [0.3, 0.1]]
)  # float y = [[1.25, -0.375], [4.25, -1.125], [0.325, 0.175]]
LABELS = np.array([0, 0, 1])  # float argmax [0, 0, 0]: accuracy 2/3
BASE = {"default_precision": "ap_fixed<8,3>"}
#: Keras computes in float32 (0.3 and 0.1 are inexact there): errors against it within 1e-6 relative
KERAS_TOL = 1e-6


@pytest.fixture(scope="module")
def model() -> tf.keras.Model:
    x = tf.keras.Input((2,), name="x")
    y = tf.keras.layers.Dense(2, name="dense")(x)
    m = tf.keras.Model(x, y, name="tiny")
    m.get_layer("dense").set_weights([W.astype(np.float32), B.astype(np.float32)])
    return m


def _by(res, key: str) -> dict:
    return {r["settings"][key]: r for r in res.rows}


def test_integer_bits_by_hand(model) -> None:
    res = hlsgen.sweep(model, X, LABELS, BASE, integer=[2, 3, 4], workers=1, progress=False)
    assert res.float_accuracy == pytest.approx(2 / 3, abs=0) and res.keys == ["integer"]
    rows = _by(res, "integer")
    # I = 2 (ap_fixed<8,2>, [-2, 1.984375], LSB 1/64): inputs 3.5, 3 wrap to -0.5, -1 (2 overflows), y1 =
    # [-0.75, 0.875] -> class 1; y2 = [0.3125, 0.171875]; 4.25 overflows in y (3 in all)
    # I = 3: y1[0] = 4.25 wraps to -3.75 (1 overflow) -> class 1
    # I = 4 (LSB 1/16): x2 = [0.25, 0.0625], y2 = [0.25, 0.1875]; nothing overflows -> classes [0, 0, 0]
    for i, acc, agree, over, err in (
        (2, 1 / 3, 2 / 3, 3, 5.0),
        (3, 1 / 3, 2 / 3, 1, 8.0),
        (4, 2 / 3, 1.0, 0, 0.075),
    ):
        r = rows[i]
        assert r["error"] == ""
        assert (r["accuracy"], r["agreement"], r["overflows"]) == pytest.approx((acc, agree, over), abs=0), i
        assert r["max_abs_error"] == pytest.approx(err, rel=KERAS_TOL), i
        # one Linear of 2 x 2 MACs at reuse 1 (8-bit operands: LUT multipliers, no DSP in hlsgen.plan);
        # constants: 4 weights + 2 biases of 8 bits
        assert (r["multipliers"], r["dsp"], r["bram18"], r["param_bits"]) == (4, 0, 0, 48)
    assert rows[4]["rel_error"] == pytest.approx(0.075 / 4.25, rel=KERAS_TOL)


def test_widths_with_calibration_by_hand(model) -> None:
    res = hlsgen.sweep(model, X, LABELS, BASE, widths=[4, 8], workers=1, progress=False)
    rows = _by(res, "width")
    # calibration: max|x| = 3.5 -> ap_fixed<W,3>; max|y| = 4.25 -> ap_fixed<W,4>; weights (max 1.0) ap_fixed<W,2>
    # W = 8: x2 = [0.28125, 0.09375], y2 = [0.3046875, 0.171875] -> [0.25, 0.125] (LSB 1/16)
    r = rows[8]
    assert (r["accuracy"], r["agreement"], r["overflows"], r["param_bits"]) == (2 / 3, 1.0, 0, 48)
    assert r["max_abs_error"] == pytest.approx(0.325 - 0.25, rel=KERAS_TOL)
    # W = 4: x2 -> [0, 0] (LSB 1/2), bias 0.125 -> 0 (LSB 1/4), y (LSB 1): y0 = [1.25, -0.5] -> [1, -1],
    # y1 = [4.25, -1.25] -> [4, -2], y2 = [0, 0]; worst error |-2 - (-1.125)| = 0.875
    r = rows[4]
    assert (r["accuracy"], r["agreement"], r["overflows"], r["param_bits"]) == (2 / 3, 1.0, 0, 24)
    assert r["max_abs_error"] == pytest.approx(0.875, rel=KERAS_TOL)


def test_grid_points_and_errors(model, tmp_path: Path) -> None:
    grid = tmp_path / "grid.yml"
    grid.write_text(
        "axes:\n  width: [6, 8]\n  calibrate: [true, false]\n"
        "points:\n  - {width: 8, layers: {dense: {result: 'ap_fixed<8,4>'}}}\n"
    )
    settings = grid_settings(grid)
    assert settings == [
        {"width": 6, "calibrate": True},
        {"width": 6, "calibrate": False},
        {"width": 8, "calibrate": True},
        {"width": 8, "calibrate": False},
        {"width": 8, "layers.dense.result": "ap_fixed<8,4>"},
    ]
    res = hlsgen.sweep(model, X, LABELS, BASE, grid=grid, workers=1, progress=False)
    assert [r["index"] for r in res.rows] == list(range(5))
    assert res.keys == ["width", "calibrate", "layers.dense.result"]
    # the override types y as calibration would: the same figures as the calibrated W = 8 point
    assert res.rows[4]["accuracy"] == res.rows[2]["accuracy"] == pytest.approx(2 / 3)
    assert res.rows[4]["max_abs_error"] == res.rows[2]["max_abs_error"]
    # not calibrated, W = 8: ap_fixed<8,3>, y1[0] wraps
    assert res.rows[3]["overflows"] == 1 and res.rows[3]["accuracy"] == pytest.approx(1 / 3)


def test_unbuildable_point_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    from PIL import Image

    x = tf.keras.Input((2,), name="x")
    m = tf.keras.Model(x, tf.keras.layers.Dense(3, activation="softmax", name="dense")(x))
    data = np.random.default_rng(0).normal(size=(8, 2))
    res = hlsgen.sweep(
        m, data, grid={"points": [{"width": 10}, {"softmax.exp_hi_bits": 0}]}, workers=1, progress=False
    )
    ok, bad = res.rows
    assert ok["error"] == "" and ok["agreement"] is not None and res.metric == "agreement"
    assert "exp_hi_bits" in bad["error"] and bad["agreement"] is None and bad["multipliers"] is None
    assert "not built: softmax" in res.format_table()
    assert res.to_csv().splitlines()[2].split(",")[:5] == ["1", "", "0", "", ""]  # metrics left empty
    res.write(tmp_path / "o")
    with Image.open(tmp_path / "o" / "sweep.png") as im:
        assert im.size == (750, 450)


def test_settings_are_checked_before_running(model, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"sweep point 1 \(softmax.exp_bits=5\).*unknown key 'exp_bits'"):
        hlsgen.sweep(
            model, X, LABELS, grid={"points": [{"width": 8}, {"softmax.exp_bits": 5}]}, progress=False
        )
    with pytest.raises(ValueError, match="width must be an integer >= 1"):
        hlsgen.sweep(model, X, LABELS, widths=[0, 8], progress=False)
    with pytest.raises(ValueError, match="either a grid or the axes"):
        hlsgen.sweep(model, X, LABELS, widths=[8], grid={"points": [{"width": 8}]}, progress=False)
    with pytest.raises(ValueError, match="nothing to sweep"):
        hlsgen.sweep(model, X, LABELS, progress=False)


@pytest.mark.parametrize("text", ["", "axes: {}\n", "axes:\n  width: []\n", "points: []\n", "[]\n"])
def test_empty_grid_is_refused(model, tmp_path: Path, text: str) -> None:
    grid = tmp_path / "grid.yml"
    grid.write_text(text)
    with pytest.raises(ValueError, match=f"grid {grid} defines no points"):
        hlsgen.sweep(model, X, LABELS, grid=grid, progress=False)


def test_bad_data_and_labels(model) -> None:
    with pytest.raises(
        ValueError, match=r"shape \(3, 3\) does not match the model input 'x' of shape \(batch, 2\)"
    ):
        hlsgen.sweep(model, np.zeros((3, 3)), LABELS, widths=[8], progress=False)
    with pytest.raises(ValueError, match="labels: 2 samples, but the data holds 3 samples"):
        hlsgen.sweep(model, X, LABELS[:2], widths=[8], progress=False)


def test_local_processes_and_dask_agree_point_for_point(model) -> None:
    from dask.distributed import Client, LocalCluster

    plan = prepare_sweep(
        model, X, LABELS, BASE, [{"integer": i} for i in (2, 3, 4)] + [{"width": w} for w in (4, 6)]
    )
    inproc = plan.run(workers=1, progress=False)
    local = plan.run(workers=2, progress=False)
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None) as cluster:
        with Client(cluster, set_as_default=False) as client:
            dask = plan.run(client=client, progress=False)
        # the whole entry point too, through the scheduler's address
        via_addr = hlsgen.sweep(
            model, X, LABELS, BASE, widths=[4, 6], scheduler=cluster.scheduler_address, progress=False
        )
    assert local.rows == inproc.rows == dask.rows
    assert local.to_json() == dask.to_json() and local.to_csv() == dask.to_csv()
    assert via_addr.rows[0]["accuracy"] == dask.rows[3]["accuracy"]
    assert via_addr.rows[1]["max_abs_error"] == dask.rows[4]["max_abs_error"]


def test_unreachable_scheduler_fails_fast_and_writes_nothing(model, tmp_path: Path, capsys) -> None:
    t0 = time.monotonic()
    with pytest.raises(SweepError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s"):
        hlsgen.sweep(
            model, X, LABELS, widths=[8], scheduler="tcp://127.0.0.1:9", connect_timeout=1, progress=False
        )
    assert time.monotonic() - t0 < 8  # 1 s to connect; the model is never loaded

    mpath = tmp_path / "tiny.keras"
    model.save(mpath)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", LABELS)
    out = tmp_path / "out"
    rc = main([
        "sweep", str(mpath), "--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
        "--widths", "6,8", "--scheduler", "tcp://127.0.0.1:9", "--timeout", "1", "--out", str(out),
    ])  # fmt: skip
    assert rc == 2 and "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.keras", "x.npy", "y.npy"]


def test_cli_sweep_writes_csv_json_png(model, tmp_path: Path, capsys) -> None:
    from PIL import Image

    mpath = tmp_path / "tiny.keras"
    model.save(mpath)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", LABELS)
    out = tmp_path / "out"
    args = ["sweep", str(mpath), "--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
            "--precision", "ap_fixed<8,3>", "--integer", "2,3,4", "--workers", "1", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert "0.3333" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep.json", "sweep.png"]
    lines = (out / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("index,integer,accuracy,agreement,max_abs_error")
    assert lines[1].split(",")[:3] == ["0", "2", str(1 / 3)] and lines[3].split(",")[2] == str(2 / 3)
    d = json.loads((out / "sweep.json").read_text())
    assert d["metric"] == "accuracy" and d["float_accuracy"] == 2 / 3 and len(d["points"]) == 3
    with Image.open(out / "sweep.png") as im:
        assert im.format == "PNG" and im.size == (750, 450)
    # an existing folder is refused before any work, and kept
    assert main(args) == 2 and "exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert main([*args[:-3], "--widths", "x,8", "--out", str(tmp_path / "o2")]) == 2
    assert "--widths: expected comma-separated integers" in capsys.readouterr().err


@pytest.mark.slow
def test_digits_sweep_reaches_float_accuracy_and_loses_it_below(tmp_path: Path) -> None:
    from PIL import Image

    sys.path.insert(0, str(REPO_ROOT / "examples" / "digits"))
    from data import load_digits_tokens  # type: ignore[import-not-found]

    x_tr, _, x_te, y_te = load_digits_tokens()
    n = 300
    res = hlsgen.sweep(
        REPO_ROOT / "examples" / "digits" / "digits_float.keras", x_te[:n], y_te[:n],
        {"default_precision": "ap_fixed<16,6>"}, widths=[5, 6, 8, 12], calibration=x_tr, workers=2, progress=False,
    )  # fmt: skip
    acc = {r["settings"]["width"]: r["accuracy"] for r in res.rows}
    f = res.float_accuracy
    assert f is not None and f > 0.95
    # reached: at 8 and 12 bits no more than one test sample of 300 away from float
    assert acc[8] >= f - 1 / n and acc[12] >= f - 1 / n
    # lost below: at 5 bits at least 5 points of accuracy gone, and the curve rises with the width
    assert acc[5] < f - 0.05 and acc[5] < acc[6] <= acc[8]
    out = res.write(tmp_path / "sweep")
    with Image.open(out / "sweep.png") as im:
        assert im.size == (750, 450)
    assert (out / "sweep.png").stat().st_size < 200_000
