"""Train the text classifier that ``make demo`` converts; the trained file is committed.

    python examples/textcls/train.py     # about half a minute on a CPU

textcls.keras: the keras.io text classifier (TokenAndPositionEmbedding + a subclassed TransformerBlock)
on the reviews of data.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    import numpy as np
    import tensorflow as tf
    from data import MAXLEN, VOCAB, load_reviews
    from model import text_classifier

    tf.keras.utils.set_random_seed(12)
    x_tr, y_tr, x_te, y_te = load_reviews()
    model = text_classifier(MAXLEN, len(VOCAB))
    model.compile(
        optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x_tr, y_tr, batch_size=64, epochs=12, validation_split=0.1, verbose=2)
    acc = float(np.mean(np.argmax(model.predict(x_te, verbose=0), -1) == y_te))
    print(f"test accuracy {acc:.4f}")
    model.save(HERE / "textcls.keras")


if __name__ == "__main__":
    main()
