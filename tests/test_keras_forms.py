"""The three transformer forms users write, as the public keras.io examples write them, trained briefly on
data made here: a text classifier (TokenAndPositionEmbedding and a subclassed TransformerBlock), a
time-series classifier (Conv1D FFN, ``x + inputs``, channels_first pooling) and a ViT-like model
(patches by Reshape/Permute, a class token layer, ``x + Embedding(...)(tf.range(T))``, GELU FFN, ``x[:, 0]``).

Each converts with hlsgen.convert at a wide type with calibration; predict stays within 2% of Keras
float (max error / max |output|) and csim equals predict bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from helpers import run_cli  # noqa: E402
from test_rtl import needs_verilator  # noqa: E402

import hlsgen  # noqa: E402
from hlsgen.frontend.keras import UnsupportedModelError, load_model, read_keras  # noqa: E402

# one worker trains the session fixture `forms` (three Keras models, ~25 s) for the whole module under xdist
pytestmark = [pytest.mark.tensorflow, pytest.mark.xdist_group("keras_forms")]
L = tf.keras.layers
WIDE = "ap_fixed<32,12>"


# ---------------------------------------------------------------------------------------------------
# the models, written the way the keras.io examples write them
# ---------------------------------------------------------------------------------------------------
class TokenAndPositionEmbedding(L.Layer):
    def __init__(self, maxlen: int, vocab_size: int, embed_dim: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.token_emb = L.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = L.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x: Any) -> Any:
        maxlen = tf.shape(x)[-1]
        positions = tf.range(start=0, limit=maxlen, delta=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


class TransformerBlock(L.Layer):
    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, rate: float = 0.1, **kw: Any) -> None:
        super().__init__(**kw)
        self.att = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = tf.keras.Sequential([L.Dense(ff_dim, activation="relu"), L.Dense(embed_dim)])
        self.layernorm1 = L.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = L.LayerNormalization(epsilon=1e-6)
        self.dropout1 = L.Dropout(rate)
        self.dropout2 = L.Dropout(rate)

    def call(self, inputs: Any, training: Any = None) -> Any:
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


def _text_data(rng: np.random.Generator, n: int, maxlen: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences; the label says whether token 1 occurs more often than token 2."""
    x = rng.integers(0, vocab, size=(n, maxlen))
    y = ((x == 1).sum(axis=1) > (x == 2).sum(axis=1)).astype(np.int64)
    return x.astype(np.float32), y


def text_classifier(rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    maxlen, vocab, d = 8, 12, 8
    inputs = L.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab, d)(inputs)
    x = TransformerBlock(d, 2, 16)(x)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dropout(0.1)(x)
    x = L.Dense(8, activation="relu")(x)
    x = L.Dropout(0.1)(x)
    outputs = L.Dense(2, activation="softmax")(x)
    model = tf.keras.Model(inputs=inputs, outputs=outputs)
    xs, ys = _text_data(rng, 512, maxlen, vocab)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(xs, ys, batch_size=64, epochs=2, verbose=0)
    return model, _text_data(rng, 64, maxlen, vocab)[0]


def _transformer_encoder(inputs: Any, head_size: int, num_heads: int, ff_dim: int, dropout: float = 0) -> Any:
    x = L.LayerNormalization(epsilon=1e-6)(inputs)
    x = L.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(x, x)
    x = L.Dropout(dropout)(x)
    res = x + inputs
    x = L.LayerNormalization(epsilon=1e-6)(res)
    x = L.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(x)
    x = L.Dropout(dropout)(x)
    x = L.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    return x + res


def _series(rng: np.random.Generator, n: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    """A noisy sine (class 1) or noise alone (class 0), one feature per step."""
    y = rng.integers(0, 2, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    s = np.sin(np.linspace(0, 4 * np.pi, t)[None] + phase) * y[:, None]
    return (s + 0.3 * rng.normal(size=(n, t)))[..., None].astype(np.float32), y


def series_classifier(rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    t = 16
    inputs = tf.keras.Input(shape=(t, 1))
    x = L.Conv1D(filters=8, kernel_size=3, padding="same")(inputs)  # a small convolutional front end
    x = L.BatchNormalization()(x)
    x = _transformer_encoder(x, head_size=4, num_heads=2, ff_dim=4, dropout=0.1)
    x = L.GlobalAveragePooling1D(data_format="channels_first")(x)
    x = L.Dense(8, activation="relu")(x)
    x = L.Dropout(0.1)(x)
    outputs = L.Dense(2, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    xs, ys = _series(rng, 512, t)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(xs, ys, batch_size=64, epochs=2, verbose=0)
    return model, _series(rng, 64, t)[0]


class ClassToken(L.Layer):
    """A learned token broadcast over the batch and put in front of the sequence."""

    def build(self, input_shape: Any) -> None:
        self.cls = self.add_weight(name="cls", shape=(1, 1, input_shape[-1]), initializer="random_normal")

    def call(self, x: Any) -> Any:
        cls = tf.broadcast_to(self.cls, [tf.shape(x)[0], 1, x.shape[-1]])
        return tf.concat([cls, x], axis=1)


def vit(rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    n_patches, d = 4, 8
    inputs = L.Input(shape=(8, 8))
    p = L.Reshape((2, 4, 2, 4))(inputs)  # patches of 4 x 4 pixels
    p = L.Permute((1, 3, 2, 4))(p)
    p = L.Reshape((n_patches, 16))(p)
    x = L.Dense(d)(p)
    x = x + L.Embedding(n_patches, d)(tf.range(n_patches))
    x = ClassToken()(x)
    h = L.LayerNormalization(epsilon=1e-6)(x)
    h = L.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    x = h + x
    h = L.LayerNormalization(epsilon=1e-6)(x)
    h = L.Dense(16, activation=tf.nn.gelu)(h)
    h = L.Dense(d)(h)
    x = x + h
    outputs = L.Dense(3, activation="softmax")(x[:, 0])
    model = tf.keras.Model(inputs, outputs)
    y = rng.integers(0, 3, size=512)
    xs = rng.normal(size=(512, 8, 8)) * 0.5
    xs[np.arange(512), :, y * 2] += 1.5  # the class is a bright column
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(xs.astype(np.float32), y, batch_size=64, epochs=2, verbose=0)
    return model, xs[:64].astype(np.float32)


FORMS = {"text": text_classifier, "series": series_classifier, "vit": vit}


@pytest.fixture(scope="session")
def forms() -> dict[str, tuple[Any, np.ndarray]]:
    tf.keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    return {k: f(rng) for k, f in FORMS.items()}


# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", list(FORMS))
def test_form_converts_within_two_percent(forms: dict[str, Any], form: str) -> None:
    model, x = forms[form]
    proj = hlsgen.convert(model, {"default_precision": WIDE}, calibration_data=x)
    ref = model.predict(x, verbose=0)
    got = proj.predict(x)
    err = float(np.abs(got - ref).max() / np.abs(ref).max())
    assert err < 0.02, f"{form}: max error {err:.4f} of max |output|"
    kinds = {op.kind for op in proj.graph.ops}
    want = {"text": {"embedding", "scores"}, "series": {"conv1d", "transpose"}, "vit": {"concat", "slice"}}[
        form
    ]
    assert want <= kinds, kinds


def test_batchnorm_after_a_convolution_is_folded(forms: dict[str, Any]) -> None:
    model, x = forms["series"]
    g = read_keras(model)
    assert not any(op.kind == "batchnorm" for op in g.ops)
    np.testing.assert_allclose(g.run_float([x])[g.outputs[0]], model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.gxx
def test_form_csim_equals_predict(forms: dict[str, Any]) -> None:
    # one build (about 17 s on 2 cores) for the test budget: the ViT form holds the most new ops (patches
    # by Reshape/Permute, a constant position table, a class token concatenated, x[:, 0], a GELU table
    # behind its TableInput); the text form's embedding is checked by `make demo` (textcls bit-exact) and
    # every new op by tests/test_tensor_ops.py
    form = "vit"
    model, x = forms[form]
    proj = hlsgen.convert(
        model, {"default_precision": WIDE, "project_name": f"form_{form}"}, calibration_data=x
    )
    np.testing.assert_array_equal(proj.csim(x[:16]), proj.predict(x[:16]))


def test_untraceable_layer_names_the_layer_and_op() -> None:
    class Bad(L.Layer):
        def call(self, x: Any) -> Any:
            return tf.math.cumsum(x, axis=1) + x

    inputs = L.Input(shape=(4, 3))
    model = tf.keras.Model(inputs, L.Dense(2)(Bad(name="my_bad")(inputs)))
    with pytest.raises(UnsupportedModelError, match=r"tf\.math\.cumsum.*in traced layer my_bad \(Bad\)"):
        read_keras(model)


def test_tensor_plus_tensor_is_never_a_constant() -> None:
    inputs = L.Input(shape=(4, 3))
    x = L.Dense(3)(inputs)
    y = x + inputs - 0.5 * x
    model = tf.keras.Model(inputs, y)
    g = read_keras(model)
    kinds = [op.kind for op in g.ops]
    assert kinds.count("constant") == 1 and "add" in kinds and "binary" in kinds
    xs = np.random.default_rng(0).normal(size=(8, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(g.run_float([xs])[g.outputs[0]], model.predict(xs, verbose=0), atol=1e-5)


def test_bundled_text_classifier_keeps_its_accuracy() -> None:
    from hlsgen.demo import TEXT_PRECISION, _load_module
    from hlsgen.resources import REPO_ROOT

    ex = REPO_ROOT / "examples" / "textcls"
    _load_module("textcls_model", ex / "model.py")
    x_tr, _, x_te, y_te = _load_module("textcls_data", ex / "data.py").load_reviews()
    model = load_model(ex / "textcls.keras")
    proj = hlsgen.convert(model, {"default_precision": TEXT_PRECISION}, calibration_data=x_tr)
    assert str(proj.graph.tensors[proj.graph.inputs[0]].type) == "ap_uint<5>"  # 24 words
    ref, got = model.predict(x_te, verbose=0), proj.predict(x_te)
    assert float(np.abs(got - ref).max() / np.abs(ref).max()) < 0.02
    acc_f = np.mean(ref.argmax(-1) == y_te)
    acc_q = np.mean(got.argmax(-1) == y_te)
    assert acc_f > 0.9 and abs(acc_q - acc_f) <= 0.004


@pytest.mark.parametrize(
    ("form", "modules"),
    [
        ("text", {"hlsgen_embedding", "hlsgen_const"}),
        ("series", {"hlsgen_window", "hlsgen_transpose"}),
        ("vit", {"hlsgen_rowperm", "hlsgen_const", "hlsgen_concat", "hlsgen_slice"}),
    ],
)
def test_rtl_design_of_every_form(forms: dict[str, Any], form: str, modules: set[str]) -> None:
    from hlsgen.backends.rtl import build_design

    model, x = forms[form]
    proj = hlsgen.convert(model, {"default_precision": WIDE}, calibration_data=x)
    design = build_design(proj.graph, proj.name)
    assert modules <= {b.module for b in design.blocks}


@pytest.mark.verilator
@pytest.mark.slow
@needs_verilator
@pytest.mark.parametrize("form", ["series", "vit"])
def test_keras_form_cosim(
    forms: dict[str, Any], form: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # the trained forms' RTL (Conv1D window, transposes, a class token, x[:, 0], x + positions) equals the
    # reference bit for bit: the received words with np.testing.assert_array_equal, and the bench's checker
    # under idle cycles and back-pressure; the estimate's latency and II are the measured ones
    from hlsgen.backends.rtl import RtlOptions, build_design
    from hlsgen.backends.rtl.cosim import cosim_graph
    from hlsgen.backends.rtl.packing import tokens_to_sample
    from hlsgen.ir.graph import input_raw

    model, x = forms[form]
    proj = hlsgen.convert(
        model, {"default_precision": WIDE, "project_name": f"form_{form}"}, calibration_data=x
    )
    g = proj.graph
    xs = [x[:3]]
    raw = {k: input_raw(v, g.tensors[k].type) for k, v in zip(g.inputs, xs, strict=True)}
    opts = RtlOptions(max_par=16)
    res = cosim_graph(g, proj.name, raw, tmp_path, opts)
    assert res.passed, res.failure_message()
    want = proj.predict_raw(xs)
    for run in res.runs:
        assert run.tokens is not None
        for name, w in zip(g.outputs, want, strict=True):
            t = g.tensors[name]
            got = np.stack([tokens_to_sample(words, t.shape, t.type) for words in run.tokens[name]])
            np.testing.assert_array_equal(got, w, err_msg=f"{form}: {name}")
    est = build_design(g, proj.name, opts).estimate
    assert (res.latency, res.ii) == (est.latency, est.ii)

    if form == "vit":
        return  # its ClassToken layer is the test's own class: a written project could not reload it
    # and as a user runs it: the written project through `hlsgen cosim` (its tb_data/ against the RTL), at
    # the same --max-par, so that the Verilator build above is reused from the cache
    model.save(tmp_path / f"{form}.keras")
    prj = proj.write(tmp_path / "prj", tb_data=xs[0], model_source=tmp_path / f"{form}.keras")
    code, out, err = run_cli(capsys, "cosim", str(prj), "--max-par", "16")
    assert code == 0, out + err
    assert "bit-exact against the reference in every run" in out
    assert "Verilator build 0.0 s" in out  # the same RTL as above: the build cache serves it
