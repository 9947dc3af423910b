"""QKeras quantizers inside hlsgen layers: (de)serialisation and exact float64 forward values.

A layer quantizes with :func:`quantize_with`: the QKeras quantizer runs as usual and supplies the
straight-through gradient, while the forward *value* is replaced, through ``stop_gradient``, by the exact
value of the type hlsgen maps the quantizer to (:func:`hlsgen.quant.quantizer_to_type`), computed in
float64. QKeras casts every input to float32 first (``K.cast_to_floatx`` / ``K.cast(x, "float32")``),
which rounds an accumulator with more than 24 significant bits once before it is quantized; the
hardware quantizes the exact accumulator, and so does the layer.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import tensorflow as tf

from hlsgen.fixed import FixedType, Overflow, Rounding
from hlsgen.quant.qkeras import QuantSpec, quantizer_to_type

# ---------------------------------------------------------------------------------------------------
# serialisation
# ---------------------------------------------------------------------------------------------------


def _plain(v: Any) -> Any:
    """JSON-friendly Python values from tf.Variables, NumPy scalars and arrays."""
    if isinstance(v, tf.Variable | tf.Tensor):
        v = v.numpy()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def serialize_quantizer(q: Any) -> Any:
    """A quantizer as it goes into a layer config: None, its string spelling, or a class/config dict.

    QKeras's own ``get_config`` leaves out some constructor arguments (``scale_axis``, ``use_ste``,
    ``is_quantized_clip``, ...); those that are plain values are added, so that the round trip is exact.
    """
    if q is None or isinstance(q, str):
        return q
    if isinstance(q, dict):
        return q
    if hasattr(q, "get_config"):
        cfg = {k: _plain(v) for k, v in q.get_config().items()}
        for name in inspect.signature(type(q).__init__).parameters:
            if name in ("self",) or name in cfg or not hasattr(q, name):
                continue
            v = _plain(getattr(q, name))
            if v is None or isinstance(v, bool | int | float | str):
                cfg[name] = v
        return {"class_name": type(q).__name__, "config": cfg}
    name = getattr(q, "__name__", None)
    if callable(q) and name:
        return name
    raise ValueError(f"cannot serialise quantizer {q!r}: give a QKeras quantizer object or its string")


def deserialize_quantizer(identifier: Any) -> Any:
    """A fresh quantizer object from what :func:`serialize_quantizer` wrote (or from an object)."""
    from qkeras.quantizers import get_quantizer

    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cfg = dict(identifier.get("config", {}))
        if isinstance(cfg.get("alpha"), list):
            cfg["alpha"] = np.asarray(cfg["alpha"], dtype=np.float32)
        identifier = {"class_name": identifier["class_name"], "config": cfg}
    q = get_quantizer(identifier)
    if q is None or isinstance(q, str):
        raise ValueError(f"cannot read quantizer {identifier!r}")
    return q


def clone_quantizer(q: Any) -> Any:
    """An independent copy (so that per-call state such as an auto_po2 ``scale`` is not shared)."""
    return deserialize_quantizer(serialize_quantizer(q))


# ---------------------------------------------------------------------------------------------------
# exact values
# ---------------------------------------------------------------------------------------------------


def quantize_tf(x: tf.Tensor, t: FixedType) -> tf.Tensor:
    """``t v = x;`` for float64 tensors, for the modes QKeras quantizers map to.

    Exact while ``|x| * 2**F < 2**52`` (beyond that ``x * 2**F`` is an integer already and saturates).
    Supports AP_RND_CONV and AP_RND_INF with AP_SAT and AP_SAT_SYM.
    """
    if t.rounding not in (Rounding.RND_CONV, Rounding.RND_INF) or t.overflow not in (
        Overflow.SAT,
        Overflow.SAT_SYM,
    ):
        raise ValueError(f"{t}: quantize_tf supports AP_RND_CONV/AP_RND_INF with AP_SAT/AP_SAT_SYM only")
    x = tf.convert_to_tensor(x, dtype=tf.float64)
    r = x * tf.constant(2.0**t.frac, tf.float64)
    if t.rounding is Rounding.RND_CONV:
        r = tf.round(r)  # half to even
    else:
        r = tf.sign(r) * tf.floor(tf.abs(r) + 0.5)  # half away from zero
    lo = -t.raw_max if (t.overflow is Overflow.SAT_SYM and t.signed) else t.raw_min
    r = tf.clip_by_value(r, float(lo), float(t.raw_max))
    return r * tf.constant(2.0**-t.frac, tf.float64)


def static_spec(q: Any, what: str) -> QuantSpec | None:
    """The QuantSpec of ``q`` when its values follow from the input alone, else None (with a warning
    for quantizers hlsgen cannot map; alpha='auto_po2' is mapped later, from the weights)."""
    if q is None:
        return None
    if isinstance(getattr(q, "alpha", None), str):
        return None
    try:
        return quantizer_to_type(q)
    except ValueError as e:
        warnings.warn(
            f"{what}: {e}; the layer uses QKeras's own float32 values, which hlsgen cannot convert",
            stacklevel=3,
        )
        return None


def quantize_with(q: Any, spec: QuantSpec | None, x: tf.Tensor) -> tf.Tensor:
    """``q(x)`` for a float64 ``x``: QKeras's gradient, and (when ``spec`` is given) the exact value."""
    if q is None:
        return x
    y = tf.cast(q(x), tf.float64)
    if spec is None:
        return y
    exact = quantize_tf(x, spec.type)
    if spec.shift is not None:  # constant power-of-two alpha: multiply after rounding
        exact = exact * tf.constant(np.ldexp(1.0, spec.shift), tf.float64)
    return y + tf.stop_gradient(exact - y)
