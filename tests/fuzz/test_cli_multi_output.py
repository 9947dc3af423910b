"""Regressions of issue #15: a two-output model in every CLI command, and a custom layer Keras cannot
rebuild named in hlsgen's own one-line error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from hlsgen.cli import main  # noqa: E402

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def two_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A model with a sequence output and a pooled output, saved; its data; its written project."""
    d = tmp_path_factory.mktemp("two")
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((4, 8), name="x")
    h = tf.keras.layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    a = tf.keras.layers.Dense(3, name="seq_out")(h)
    b = tf.keras.layers.Dense(5, name="pooled_out")(tf.keras.layers.GlobalAveragePooling1D(name="pool")(h))
    tf.keras.Model(x, [a, b]).save(d / "two.keras")
    np.save(d / "x.npy", np.random.default_rng(0).normal(size=(3, 4, 8)).astype(np.float32))
    assert main(["convert", str(d / "two.keras"), "-o", str(d / "prj"), "--tb-data", str(d / "x.npy")]) == 0
    return d / "two.keras", d / "x.npy", d / "prj"


def test_predict_writes_one_array_per_output(two_outputs, tmp_path: Path, capsys) -> None:
    model, x, prj = two_outputs
    assert main(["predict", str(prj), "--data", str(x), "-o", str(tmp_path / "y.npy")]) == 0
    assert "y.npz" in capsys.readouterr().out
    z = np.load(tmp_path / "y.npz")
    assert z.files == ["seq_out", "pooled_out"]
    assert z["seq_out"].shape == (3, 4, 3) and z["pooled_out"].shape == (3, 5)
    assert not (tmp_path / "y.npy").exists()
    import hlsgen

    want = hlsgen.convert(str(model)).predict(np.load(x))
    np.testing.assert_array_equal(z["seq_out"], want[0])
    np.testing.assert_array_equal(z["pooled_out"], want[1])


@pytest.mark.gxx
def test_predict_csim_and_csim_with_two_outputs(two_outputs, tmp_path: Path, capsys) -> None:
    _, x, prj = two_outputs
    assert main(["predict", str(prj), "--data", str(x), "--csim", "-o", str(tmp_path / "c.npz")]) == 0
    assert main(["predict", str(prj), "--data", str(x), "-o", str(tmp_path / "e.npz")]) == 0
    c, e = np.load(tmp_path / "c.npz"), np.load(tmp_path / "e.npz")
    for k in e.files:
        np.testing.assert_array_equal(c[k], e[k])
    assert main(["csim", str(prj), "--data", str(x)]) == 0
    assert "bit-exact" in capsys.readouterr().out


def test_printing_names_each_output(two_outputs, capsys) -> None:
    _, x, prj = two_outputs
    assert main(["predict", str(prj), "--data", str(x)]) == 0
    out = capsys.readouterr().out
    assert "seq_out: shape (3, 4, 3)" in out and "pooled_out: shape (3, 5)" in out


def test_compare_plan_report_with_two_outputs(two_outputs, tmp_path: Path, capsys) -> None:
    model, x, prj = two_outputs
    assert main(["compare", str(model), "--data", str(x), "--json", str(tmp_path / "c.json")]) == 0
    assert main(["plan", str(model)]) == 0
    assert main(["report", str(prj), "--data", str(x), "-o", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "report.md").is_file()


_DOUBLING = """import tensorflow as tf


class Doubling(tf.keras.layers.Layer):
    def call(self, x):
        return x * 2.0
"""


def _custom_model(path: Path) -> None:
    """A model of a custom layer whose module is gone when the model is read (as for a user whose
    training script defined it)."""
    import importlib.util
    import sys

    src = path.with_name("doubling.py")
    src.write_text(_DOUBLING)
    name = f"hlsgen_fuzz_doubling_{path.suffix[1:]}"
    spec = importlib.util.spec_from_file_location(name, src)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
        x = tf.keras.Input((4, 8), name="x")
        tf.keras.Model(x, mod.Doubling(name="twice")(x)).save(path)
    finally:
        del sys.modules[name]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_custom_layer_is_named_with_what_to_do(tmp_path: Path, suffix: str, capsys) -> None:
    _custom_model(tmp_path / f"m{suffix}")
    rc = main(["convert", str(tmp_path / f"m{suffix}"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert "custom layer class Doubling" in err and "custom_objects" in err and "--import" in err
    assert "TypeError" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_import_registers_the_custom_layer(tmp_path: Path, capsys) -> None:
    _custom_model(tmp_path / "m.keras")
    try:
        out = tmp_path / "prj"
        rc = main(
            ["--import", str(tmp_path / "doubling.py"), "convert", str(tmp_path / "m.keras"), "-o", str(out)]
        )
    finally:
        tf.keras.utils.get_custom_objects().pop("Doubling", None)
    err = capsys.readouterr().err
    # Keras now rebuilds it, and the front end traces its call() (x * 2 is an op it converts)
    assert rc == 0 and not err, err
    assert (out / "hlsgen_config.yml").is_file()
    assert main(["--import", str(tmp_path / "nope.py"), "boards"]) == 2
    assert "no such Python file" in capsys.readouterr().err
