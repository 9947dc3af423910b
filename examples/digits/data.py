"""scikit-learn's bundled digits as token sequences: each 8x8 image is 8 tokens (rows) of 8 pixels."""

from __future__ import annotations

import numpy as np


def load_digits_tokens(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test); x is [N, 8, 8] in [0, 1], a fixed 75/25 split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(x))
    n_train = int(0.75 * len(x))
    tr, te = idx[:n_train], idx[n_train:]
    return x[tr], y[tr], x[te], y[te]
