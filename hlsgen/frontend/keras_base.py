"""What every Keras layer handler shares: the call being lowered, the error type, and the QKeras
quantizer readers. Handlers outside :mod:`hlsgen.frontend.keras` (hlsgen's decoder layers in
:mod:`hlsgen.frontend.decoder`) import from here, so that neither module imports the other's privates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..fixed import FixedType
from .errors import UnsupportedModelError

#: what a Keras tensor lowers to: the name of an IR tensor (batch axis implied), or a constant array
#: (no batch axis) that the front end folds into a typed parameter where an op reads it
Value = str | np.ndarray


@dataclass
class Call:
    """One call of a Keras layer, its arguments lowered.

    Attributes:
        layer: the Keras layer.
        inputs: positional arguments, a list argument flattened (IR tensor names or constants).
        kwargs: keyword arguments; tensors lowered, other values as Keras recorded them.
        out_shapes: per-sample shapes of the call's outputs as Keras infers them.
        args: the positional arguments as called (structure kept, tensors lowered).
    """

    layer: Any
    inputs: list[Value]
    kwargs: dict[str, Any] = field(default_factory=dict)
    out_shapes: list[tuple[int | None, ...]] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{getattr(self.layer, 'name', '?')} ({type(self.layer).__name__})"


def activation_type(q: Any, where: str) -> FixedType | None:
    """The FixedType a QKeras quantizer of activations (object or string) fixes, or None for none."""
    if q is None or q == "" or q == "None":
        return None
    from ..quant.qkeras import quantizer_to_type

    try:
        spec = quantizer_to_type(q)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    if spec.shift is not None:
        raise ValueError(f"{where}: {spec.source}: a power-of-two alpha on activations is not supported")
    return spec.type


def quantized_weights(q: Any, w: np.ndarray, where: str) -> tuple[FixedType | None, np.ndarray]:
    """Weights as QKeras quantizes them, and a type that holds every one exactly.

    A power-of-two alpha (constant or ``auto_po2``) scales channels by 2^shift: the type widens to hold
    the scaled values exactly (fractional bits for the smallest shift, integer bits for the largest),
    so the hardware needs no shifter and the values equal QKeras's.
    """
    if q is None or q == "" or q == "None":
        return None, w
    from ..quant.qkeras import apply, quantizer_to_type

    try:
        spec = quantizer_to_type(q, weights=w.astype(np.float32))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    wq = apply(spec, w.astype(np.float32).astype(np.float64))
    t = spec.type
    if spec.shift is not None:
        lo, hi = int(np.min(spec.shift)), int(np.max(spec.shift))
        t = FixedType(t.width + hi - lo, t.integer + hi, t.signed, t.rounding, t.overflow)
    return t, wq


__all__ = ["Call", "UnsupportedModelError", "Value", "activation_type", "quantized_weights"]
