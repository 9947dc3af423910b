"""A small sentiment dataset made here: short "reviews" over a 24-word vocabulary, labelled positive when
their sentiment words (a "not" flips the next one) sum above zero. Seeded, so every run makes the same
split."""

from __future__ import annotations

import numpy as np

PAD = "<pad>"
POSITIVE = ["good", "great", "fun", "love", "nice"]
NEGATIVE = ["bad", "awful", "boring", "hate", "poor"]
NEUTRAL = ["the", "movie", "was", "a", "plot", "actor", "film", "it", "is", "very", "and", "story"]
VOCAB = [PAD, "not", *POSITIVE, *NEGATIVE, *NEUTRAL]
MAXLEN = 10


def _sentence(rng: np.random.Generator) -> tuple[list[str], int]:
    while True:
        n = int(rng.integers(4, MAXLEN + 1))
        words = list(rng.choice(NEUTRAL, size=n))
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, n))
            good = bool(rng.random() < 0.5)
            words[pos] = str(rng.choice(POSITIVE if good else NEGATIVE))
        for k in range(n - 1):  # negations in front of some sentiment words
            if words[k] in NEUTRAL and words[k + 1] in POSITIVE + NEGATIVE and rng.random() < 0.3:
                words[k] = "not"
        score, flip = 0, False
        for w in words:
            s = 1 if w in POSITIVE else -1 if w in NEGATIVE else 0
            score += -s if flip else s
            flip = w == "not"
        if score != 0:
            return words, int(score > 0)


def encode(words: list[str]) -> list[int]:
    """Token ids, padded with 0 at the end to MAXLEN."""
    ids = [VOCAB.index(w) for w in words]
    return ids + [0] * (MAXLEN - len(ids))


def load_reviews(n_train: int = 2000, n_test: int = 500, seed: int = 12) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test): token ids [n, MAXLEN] as float32, labels 0/1."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n_train + n_test):
        words, label = _sentence(rng)
        xs.append(encode(words))
        ys.append(label)
    x = np.asarray(xs, dtype=np.float32)
    y = np.asarray(ys, dtype=np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
