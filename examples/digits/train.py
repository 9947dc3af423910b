"""Train the two digits transformers that ``make demo`` converts; the trained files are committed.

    python examples/digits/train.py            # both models, about a minute each on a CPU
    python examples/digits/train.py --only float

digits_float.keras: Keras MultiHeadAttention, float, quantized afterwards by calibration.
digits_qat.keras:   hlsgen's QMultiHeadAttention + QKeras QDense, trained aware of its quantization.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SEQ, FEAT, D_MODEL, HEADS, KEY_DIM, CLASSES = 8, 8, 16, 2, 8, 10


def float_model():
    import tensorflow as tf

    x = tf.keras.Input((SEQ, FEAT), name="pixels")
    h = tf.keras.layers.Dense(D_MODEL, name="embed")(x)
    a = tf.keras.layers.MultiHeadAttention(HEADS, KEY_DIM, name="mha")(h, h)
    h = tf.keras.layers.Add(name="residual")([h, a])
    h = tf.keras.layers.LayerNormalization(name="norm")(h)
    h = tf.keras.layers.Dense(D_MODEL, activation="relu", name="ffn")(h)
    h = tf.keras.layers.Flatten(name="flatten")(h)
    y = tf.keras.layers.Dense(CLASSES, activation="softmax", name="classifier")(h)
    return tf.keras.Model(x, y, name="digits_float")


def qat_model():
    import tensorflow as tf
    from qkeras import QActivation, QDense

    from hlsgen.layers import QMultiHeadAttention

    w8 = "quantized_bits(8,0,alpha=1)"
    a8 = "quantized_bits(10,3,alpha=1)"
    x = tf.keras.Input((SEQ, FEAT), name="pixels")
    h = QDense(D_MODEL, kernel_quantizer=w8, bias_quantizer=w8, name="embed")(x)
    h = QActivation(a8, name="embed_q")(h)
    a = QMultiHeadAttention(
        HEADS,
        KEY_DIM,
        kernel_quantizer=w8,
        bias_quantizer=w8,
        query_output_quantizer=a8,
        key_output_quantizer=a8,
        value_output_quantizer=a8,
        score_quantizer="quantized_bits(12,4,alpha=1)",
        probability_quantizer="quantized_bits(10,1,alpha=1)",
        context_quantizer=a8,
        output_quantizer=a8,
        name="mha",
    )(h, h)
    h = tf.keras.layers.Add(name="residual")([h, a])
    h = QActivation(a8, name="residual_q")(h)
    h = QDense(D_MODEL, kernel_quantizer=w8, bias_quantizer=w8, name="ffn")(h)
    h = QActivation("quantized_relu(10,3)", name="ffn_relu")(h)
    h = tf.keras.layers.Flatten(name="flatten")(h)
    y = QDense(CLASSES, kernel_quantizer=w8, bias_quantizer=w8, name="classifier")(h)
    y = tf.keras.layers.Activation("softmax", name="softmax")(y)
    return tf.keras.Model(x, y, name="digits_qat")


def train(model, epochs: int, seed: int):
    import tensorflow as tf
    from data import load_digits_tokens

    x_tr, y_tr, x_te, y_te = load_digits_tokens()
    model.compile(tf.keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0, validation_split=0.1)
    _, acc = model.evaluate(x_te, y_te, verbose=0)
    return acc


def main() -> None:
    import numpy as np
    import tensorflow as tf

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["float", "qat"])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    for kind, build in (("float", float_model), ("qat", qat_model)):
        if args.only and args.only != kind:
            continue
        tf.keras.utils.set_random_seed(1234)
        np.random.seed(1234)
        model = build()
        acc = train(model, args.epochs, 1234)
        path = args.out / f"digits_{kind}.keras"
        model.save(path)
        print(f"{path.name}: test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
