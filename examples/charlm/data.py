"""The text of the character-level LM: the Zen of Python, as it ships with Python (module ``this``).

The module stores the text ROT13-encoded in its variable ``s``; it is read from the module's source (so
that nothing is printed, as ``import this`` would) and decoded. Characters are one-hot vectors.
"""

from __future__ import annotations

import ast
import codecs
import importlib.util

import numpy as np

SEQ = 32  #: tokens per training window (and the prefill length of the converted model)


def zen() -> str:
    """The Zen of Python (856 characters)."""
    spec = importlib.util.find_spec("this")
    assert spec is not None and spec.origin is not None
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "s":
            return codecs.decode(ast.literal_eval(node.value), "rot13")
    raise RuntimeError("module this has no variable s")


def vocabulary(text: str) -> list[str]:
    """The characters of ``text``, sorted (the one-hot index of a character is its place here)."""
    return sorted(set(text))


def one_hot(ids: np.ndarray, n: int) -> np.ndarray:
    """``[..., n]`` float32 one-hot vectors of integer ids."""
    out = np.zeros((*np.shape(ids), n), dtype=np.float32)
    np.put_along_axis(out, np.asarray(ids)[..., None], 1.0, axis=-1)
    return out


def windows(text: str, vocab: list[str], seq: int = SEQ) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``seq`` characters (one-hot ``[N, seq, V]``) and the next characters (ids ``[N, seq]``)."""
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    starts = np.arange(len(ids) - seq)
    x = ids[starts[:, None] + np.arange(seq)]
    y = ids[starts[:, None] + np.arange(1, seq + 1)]
    return one_hot(x, len(vocab)), y
