"""Small pieces every layer uses: the one check of model inputs and the one atomic writer of a folder of
files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def as_inputs(x: Any, n: int) -> list[np.ndarray]:
    """Model inputs as a list of float64 arrays (one array is the only input); checks the count."""
    if isinstance(x, (list, tuple)):
        xs = [np.asarray(v, dtype=np.float64) for v in x]
    else:
        xs = [np.asarray(x, dtype=np.float64)]
    if len(xs) != n:
        raise ValueError(f"the model takes {n} inputs, got {len(xs)}")
    return xs


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


__all__ = ["as_inputs", "atomic_write"]
