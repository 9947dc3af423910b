"""Train the tiny causal character-level LM that ``generate.py`` runs; the trained file is committed.

    python examples/charlm/train.py             # a few minutes on a CPU
    python examples/charlm/train.py --epochs 5  # a quick check

Two blocks of pre-norm attention (MultiHeadLatentAttention: 4 heads of 8, KV latent 16, decoupled RoPE
of 4) and a ReLU MLP, d_model 32, on one-hot characters of the Zen of Python. Writes charlm.keras and
charlm_vocab.json beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

D_MODEL, HEADS, HEAD_DIM, KV_LATENT, ROPE, BLOCKS = 32, 4, 8, 16, 4, 2


def build(vocab_size: int, seq: int, attention: str = "mla"):
    """The LM; ``attention="mha"`` builds its twin with multi-head attention of the same heads."""
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention, MultiHeadLatentAttention

    x = tf.keras.Input((seq, vocab_size), name="chars")
    h = tf.keras.layers.Dense(D_MODEL, name="embed")(x)
    for b in range(BLOCKS):
        n = tf.keras.layers.LayerNormalization(name=f"norm{b}_attn")(h)
        if attention == "mla":
            a = MultiHeadLatentAttention(HEADS, HEAD_DIM, KV_LATENT, rope_dim=ROPE, name=f"attn{b}")(n)
        else:
            a = GroupedQueryAttention(HEADS, HEADS, HEAD_DIM, rope_dim=ROPE, name=f"attn{b}")(n)
        h = tf.keras.layers.Add(name=f"res{b}_attn")([h, a])
        n = tf.keras.layers.LayerNormalization(name=f"norm{b}_mlp")(h)
        f = tf.keras.layers.Dense(2 * D_MODEL, activation="relu", name=f"mlp{b}_up")(n)
        f = tf.keras.layers.Dense(D_MODEL, name=f"mlp{b}_down")(f)
        h = tf.keras.layers.Add(name=f"res{b}_mlp")([h, f])
    h = tf.keras.layers.LayerNormalization(name="norm_out")(h)
    y = tf.keras.layers.Dense(vocab_size, name="logits")(h)
    return tf.keras.Model(x, y, name=f"charlm_{attention}")


def main() -> None:
    import numpy as np
    import tensorflow as tf
    from data import SEQ, vocabulary, windows, zen

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    text = zen()
    vocab = vocabulary(text)
    x, y = windows(text, vocab, SEQ)
    tf.keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    model = build(len(vocab), SEQ)
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(tf.keras.optimizers.Adam(3e-3), loss, metrics=["accuracy"])
    model.fit(x, y, epochs=args.epochs, batch_size=32, verbose=2)
    _, acc = model.evaluate(x, y, verbose=0)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "charlm.keras")
    (args.out / "charlm_vocab.json").write_text(json.dumps(vocab) + "\n")
    print(f"charlm.keras: next-character accuracy on the text {acc:.3f}, {model.count_params()} parameters")


if __name__ == "__main__":
    main()
