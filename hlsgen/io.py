"""Small pieces every layer uses: the one check of model inputs (and of decode tokens) and the atomic
writers (one file, or a folder of files at once)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: inputs at or beyond this magnitude are refused: float64 no longer holds fixed-point steps there
MAX_INPUT_MAGNITUDE = 2.0**53


def check_inputs(
    data: Any,
    names: Sequence[str],
    shapes: Sequence[Sequence[int]] | None = None,
    what: str = "data",
    dtype: Any = np.float64,
    need_samples: bool = True,
) -> list[np.ndarray]:
    """Model inputs as one array per input, checked: the one check every entry point uses (``predict``,
    ``csim``, ``compare``, ``sweep``, calibration, the testbench data, the graph's runs).

    Checked: the count; rectangular arrays of real numbers (bool, integer or float); the per-sample shape;
    every value finite and below 2^53 in magnitude (where float64 still holds a fixed-point step); with
    ``need_samples``, the same non-zero number of samples in every input.

    Args:
        data: an array (the only input) or a list/tuple of arrays, one per input, batch axis first.
        names: the model's input names, in order.
        shapes: the per-sample shape of each input (None: only the count is checked).
        what: what ``data`` is, for the messages ("data", "calibration data", ...).
        dtype: the arrays' dtype (None keeps it: raw integers stay integers).
        need_samples: refuse an empty batch and inputs with different numbers of samples.

    Raises:
        ValueError: one line naming ``what``, the input, and the shape expected and given or (for a
        value) the sample and index.
    """
    xs = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(xs) != len(names):
        raise ValueError(f"{what}: the model takes {len(names)} input(s) ({', '.join(names)}), got {len(xs)}")
    out = []
    for k, (name, x) in enumerate(zip(names, xs, strict=True)):
        try:
            a = np.asarray(x)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"{what}: input {name} is not a rectangular array ({e})") from None
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"{what}: input {name} has dtype {a.dtype}; give real numbers (float or integer arrays)"
            )
        if shapes is not None:
            want = tuple(int(w) for w in shapes[k])
            if a.ndim != len(want) + 1 or tuple(a.shape[1:]) != want:
                raise ValueError(
                    f"{what}: shape {tuple(a.shape)} does not match the model input {name!r} of shape "
                    f"(batch, {', '.join(map(str, want))})"
                )
        if a.dtype.kind == "f":
            bad = ~np.isfinite(a) | (np.abs(a) >= MAX_INPUT_MAGNITUDE)
            if bad.any():
                i = tuple(int(v) for v in np.argwhere(bad)[0])
                v = a[i]
                why = "cannot be quantized" if not np.isfinite(v) else "is beyond 2^53 (no fixed-point value)"
                raise ValueError(
                    f"{what}: input {name} holds {v:g} at sample {i[0] if i else 0}, index {i[1:]} "
                    f"({int(bad.sum())} in all); it {why}: clean, clip or rescale the data"
                )
        out.append(a.astype(dtype) if dtype is not None else a)
    if need_samples and out:  # a graph without inputs (a mask alone) runs once
        n = {x.shape[0] if x.ndim else 0 for x in out}
        if len(n) > 1:
            raise ValueError(f"{what}: the inputs hold different numbers of samples {sorted(n)}")
        if not out[0].ndim or not out[0].shape[0]:
            raise ValueError(f"{what}: the batch is empty (0 samples); give at least one sample")
    return out


def as_inputs(x: Any, n: int) -> list[np.ndarray]:
    """Model inputs as float64 arrays, the count checked (:func:`check_inputs` without names)."""
    return check_inputs(x, [f"input {k}" for k in range(n)], need_samples=False)


def check_token(x: Any, n_features: int, what: str) -> tuple[np.ndarray, bool]:
    """One decode token ``[D]`` or a batch of them ``[B, D]`` (``[B, 1, D]`` too) as float64 ``[B, D]``,
    and whether it was a single token.

    Raises:
        ValueError: another shape, naming ``what`` (the decoder) and the shapes.
    """
    a = np.asarray(x, dtype=np.float64)
    single = a.ndim == 1
    if single:
        a = a[None]
    if a.ndim == 3 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 2 or a.shape[1] != n_features:
        raise ValueError(f"{what}: a token is [{n_features}] (or [batch, {n_features}]), got {np.shape(x)}")
    return a, single


def atomic_write_file(path: str | Path, content: str | bytes) -> Path:
    """Write one file through a temporary file beside it and a rename (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; this is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write(files: dict[str, str | bytes], out_dir: Path, force: bool = False) -> Path:
    """Write ``files`` into ``out_dir`` all at once: built in a temporary folder beside it, then moved.

    An existing ``out_dir`` is refused unless ``force``; a failure leaves nothing half-written.
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not force:
        raise FileExistsError(f"output directory {out_dir} exists (use --force / force=True to replace it)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the project is an ordinary folder
    try:
        for rel, text in sorted(files.items()):
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                p.write_bytes(text)
            else:
                p.write_text(text)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


__all__ = ["as_inputs", "atomic_write", "atomic_write_file", "check_inputs", "check_token"]
