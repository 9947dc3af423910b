"""Loading a Keras model from a file, a SavedModel folder or an object."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_model(source: Any) -> Any:
    """A tf.keras model from a ``.keras`` / ``.h5`` file, a SavedModel folder, or a model object."""
    import tensorflow as tf

    if isinstance(source, tf.keras.Model):
        return source
    p = Path(source)
    if not p.exists():
        raise FileNotFoundError(f"model file {p} does not exist")
    if p.is_dir() and not (p / "saved_model.pb").exists():
        raise ValueError(f"{p} is a folder but not a SavedModel (no saved_model.pb)")
    if p.is_file() and p.suffix not in (".keras", ".h5", ".hdf5"):
        raise ValueError(f"{p}: expected a .keras or .h5 file or a SavedModel folder")
    from ...layers import custom_objects

    try:
        return tf.keras.models.load_model(str(p), custom_objects=custom_objects(), compile=False)
    except Exception as e:  # Keras raises many kinds for a corrupt file
        raise ValueError(f"cannot read model {p}: {type(e).__name__}: {e}") from None
