"""Front ends: trained Keras 2 / QKeras models to the IR."""

from .keras import UnsupportedModelError, load_model, read_keras

__all__ = ["UnsupportedModelError", "load_model", "read_keras"]
