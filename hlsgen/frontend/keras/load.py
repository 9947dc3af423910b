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
        raise ValueError(_load_error(p, e)) from None


def _load_error(path: Path, e: Exception) -> str:
    """One line saying why Keras could not read ``path``: a custom layer class named with what to do, else
    Keras's own reason (first line)."""
    import re

    text = str(e)
    m = re.search(r"Unknown (?:layer|object)[^']*'([\w.]+)'|object of type `([\w.]+)`", text)
    classes = [m.group(1) or m.group(2)] if m else _unknown_layer_classes(path)
    if classes:
        cls = classes[0]
        more = f" (and {', '.join(classes[1:])})" if len(classes) > 1 else ""
        return (
            f"cannot read model {path}: it uses the custom layer class {cls}{more}, which Keras cannot rebuild "
            f"here. Load the model yourself (tf.keras.models.load_model(path, custom_objects={{'{cls}': {cls}}})) "
            f"and pass the model object to hlsgen.convert, or import the module that defines {cls} with "
            "hlsgen --import MODULE"
        )
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"cannot read model {path} (corrupt, truncated or not a Keras model?): {type(e).__name__}: {first}"


def _unknown_layer_classes(path: Path) -> list[str]:
    """Layer classes named in a model file's config that neither Keras nor hlsgen / QKeras define."""
    import json

    import tensorflow as tf

    from ...layers import custom_objects

    try:
        if path.suffix == ".keras":
            import zipfile

            with zipfile.ZipFile(path) as z:
                cfg = json.loads(z.read("config.json"))
        else:
            import h5py

            with h5py.File(path, "r") as f:
                cfg = json.loads(f.attrs["model_config"])
    except Exception:  # not readable at all: Keras's own reason is the message
        return []
    known = {**custom_objects(), **tf.keras.utils.get_custom_objects()}
    found: list[str] = []

    def walk(node: Any) -> None:  # the entries of every "layers" list, nested models included
        if isinstance(node, dict):
            for layer in node.get("layers", []) if isinstance(node.get("layers"), list) else []:
                cls = layer.get("class_name") if isinstance(layer, dict) else None
                if isinstance(cls, str):
                    mod = layer.get("module") or ""
                    builtin = (
                        mod.startswith("keras") or hasattr(tf.keras.layers, cls) or hasattr(tf.keras, cls)
                    )
                    if not builtin and cls not in known and cls not in found:
                        found.append(cls)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(cfg)
    return found
