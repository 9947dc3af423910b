"""QONNX quantizer nodes (``Quant`` / ``IntQuant``, ``BipolarQuant``, ``Trunc``) as exact fixed-point casts.

The arithmetic is QONNX's (``qonnx.custom_op.general.quant``, the port of Brevitas's ``IntQuant``):
``y = clamp(round(x / scale + zero_point), min_int, max_int) - zero_point) * scale``. With a zero point of 0
and a power-of-two ``scale = 2^-F`` that is a cast to ``ap_fixed<b, b - F>`` (``ap_ufixed`` when unsigned):
the clamp is ``AP_SAT`` (``AP_SAT_SYM`` for a signed narrow range, ``[-(2^(b-1) - 1), 2^(b-1) - 1]``) and
the rounding modes map one to one (the table below; each checked on ties in tests/test_qonnx.py). On a
constant (a weight or bias initializer) the node is evaluated at read time with the same arithmetic in
the constant's own float type, as Brevitas computes it, so any scale works there, per channel included.

Pure NumPy: this module reads no model; :mod:`hlsgen.frontend.onnx` calls it for the nodes it meets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fixed import FixedType
from ..fixed.types import Overflow, Rounding
from .errors import UnsupportedModelError

#: node domains QONNX / FINN / older Brevitas exports write
DOMAINS = frozenset({"qonnx.custom_op.general", "finn.custom_op.general", "finn", "onnx.brevitas"})
#: QONNX quantizer ops hlsgen maps (``Quant`` and its new name ``IntQuant``)
QUANT_OPS = frozenset({"Quant", "IntQuant", "BipolarQuant", "Trunc"})

#: QONNX rounding mode -> the ap_fixed quantization mode that rounds identically (ties included)
ROUNDING: dict[str, Rounding] = {
    "ROUND": Rounding.RND_CONV,  # numpy.round / torch.round: half to even
    "HALF_EVEN": Rounding.RND_CONV,
    "HALF_UP": Rounding.RND_INF,  # sign(x) * floor(|x| + 1/2): half away from zero
    "HALF_DOWN": Rounding.RND_ZERO,  # sign(x) * ceil(|x| - 1/2): half toward zero
    "FLOOR": Rounding.TRN,  # toward -infinity
    "DOWN": Rounding.TRN_ZERO,  # numpy.fix: toward zero
    "ROUND_TO_ZERO": Rounding.TRN_ZERO,  # Brevitas's name for DOWN
}

#: modes with no ap_fixed counterpart, and why
NO_FIXED_FORM = {
    "CEIL": "ap_fixed has no round-toward-+infinity mode (AP_TRN floors)",
    "UP": "ap_fixed has no round-away-from-zero mode for non-ties",
    "DPU": "Brevitas's DPU rounding (ties of negative values up, of positive values to even) is no ap_fixed mode",
}


def is_quantizer(domain: str, op_type: str) -> bool:
    """True for a QONNX quantizer node hlsgen maps."""
    return domain in DOMAINS and op_type in QUANT_OPS


def rounding(mode: str | bytes, where: str) -> Rounding:
    """The ap_fixed quantization mode of a QONNX rounding mode; refused by name when there is none."""
    m = (mode.decode() if isinstance(mode, bytes) else str(mode)).upper()
    if m in ROUNDING:
        return ROUNDING[m]
    why = NO_FIXED_FORM.get(m, "not a QONNX rounding mode")
    raise UnsupportedModelError(
        f"{where}: rounding_mode {m}: {why}; use ROUND, HALF_UP, HALF_DOWN, FLOOR or DOWN (ROUND_TO_ZERO)"
    )


def int_range(signed: bool, narrow: bool, bits: int) -> tuple[int, int]:
    """``(min_int, max_int)`` of QONNX's ``Quant``."""
    if signed:
        return -(2 ** (bits - 1)) + int(narrow), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - int(narrow)


def power_of_two(value: float) -> int | None:
    """``e`` when ``value == 2**e`` exactly, else None."""
    if not math.isfinite(value) or value <= 0:
        return None
    m, e = math.frexp(value)
    return e - 1 if m == 0.5 else None


def _scalar(a: np.ndarray, what: str, where: str) -> float:
    a = np.asarray(a)
    if a.size != 1:
        raise UnsupportedModelError(
            f"{where}: {what} has shape {a.shape}; on activations hlsgen casts a whole tensor to one type, "
            "so it must be one value (a per-tensor quantizer)"
        )
    return float(a.ravel()[0])


def _bits(bitwidth: np.ndarray, where: str) -> int:
    b = _scalar(bitwidth, "the bit width", where)
    if b != int(b) or b < 1:
        raise UnsupportedModelError(f"{where}: bit width {b:g} is not a positive integer")
    return int(b)


def _zero_point(zp: np.ndarray, where: str) -> None:
    if np.any(np.asarray(zp) != 0):
        raise UnsupportedModelError(
            f"{where}: zero point {np.asarray(zp).ravel()[:4]} is not 0: an offset grid has no ap_fixed form; "
            "use a symmetric quantizer (zero_point = 0, e.g. Brevitas's *FixedPoint quantizers)"
        )


@dataclass(frozen=True)
class QuantAttrs:
    """The attributes of a ``Quant`` node."""

    signed: bool = True
    narrow: bool = False
    rounding_mode: str = "ROUND"


def quant_type(
    scale: np.ndarray, zero_point: np.ndarray, bitwidth: np.ndarray, attrs: QuantAttrs, where: str,
    value_scale: float = 1.0,
) -> FixedType:  # fmt: skip
    """The ap_fixed type a ``Quant`` node on activations casts to: ``ap_fixed<b, b + log2(scale)>``.

    ``value_scale``: the node's input is ``x * value_scale`` for the tensor ``x`` that will be cast (the
    query scaled by ``1/sqrt(d)`` before its quantizer); the type is ``x``'s, so the grid is ``scale /
    value_scale``, which must be a power of two too.
    """
    _zero_point(zero_point, where)
    bits = _bits(bitwidth, where)
    s = _scalar(scale, "the scale", where)
    e = power_of_two(s / value_scale)
    if power_of_two(s) is None or e is None:
        what = (
            f"scale {s!r}"
            if power_of_two(s) is None
            else f"scale {s!r} over the input's 1/{1 / value_scale:g}"
        )
        raise UnsupportedModelError(
            f"{where}: {what} is not a power of two, so the quantized values have no exact fixed-point "
            "form; use a power-of-two quantizer (Brevitas: Int8ActPerTensorFixedPoint and the like"
            + (", and a head_dim that is a power of 4" if value_scale != 1.0 else "")
            + ")"
        )
    if bits == 1 and attrs.signed:
        raise UnsupportedModelError(
            f"{where}: a 1-bit signed Quant is bipolar (QONNX maps it to +-scale), which no cast gives; "
            "use 2 or more bits"
        )
    lo, hi = int_range(attrs.signed, attrs.narrow, bits)
    rnd = rounding(attrs.rounding_mode, where)
    if not attrs.signed and attrs.narrow:
        raise UnsupportedModelError(
            f"{where}: an unsigned narrow range [0, {hi}] has no ap_fixed saturation mode; use narrow=0"
        )
    ovf = Overflow.SAT_SYM if attrs.signed and attrs.narrow else Overflow.SAT
    t = FixedType(bits, bits + e, attrs.signed, rnd, ovf)
    assert (t.raw_min if ovf is Overflow.SAT else -t.raw_max, t.raw_max) == (lo, hi)
    return t


def _round(y: np.ndarray, mode: str) -> np.ndarray:
    """QONNX's rounding functions, exact on floats (ties decided without adding 1/2 in float)."""
    tie = (y - np.floor(y)) == 0.5
    half = np.where(y < 0, -0.5, 0.5).astype(y.dtype)
    if mode in ("ROUND", "HALF_EVEN"):
        return np.round(y)
    if mode == "HALF_UP":
        return np.where(tie, y + half, np.round(y))
    if mode == "HALF_DOWN":
        return np.where(tie, y - half, np.round(y))
    if mode == "FLOOR":
        return np.floor(y)
    if mode in ("DOWN", "ROUND_TO_ZERO"):
        return np.trunc(y)
    raise AssertionError(mode)


def evaluate_quant(
    x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, bitwidth: np.ndarray, attrs: QuantAttrs,
    where: str,
) -> np.ndarray:  # fmt: skip
    """A ``Quant`` node on a constant, evaluated as QONNX / Brevitas compute it, in ``x``'s float type
    (scales per tensor or per channel, any value). Refused: a nonzero zero point, a mode with no
    fixed-point form (the value would still be computable, but the casts it stands for are not)."""
    _zero_point(zero_point, where)
    bits = _bits(bitwidth, where)
    mode = attrs.rounding_mode.decode() if isinstance(attrs.rounding_mode, bytes) else attrs.rounding_mode
    mode = mode.upper()
    rounding(mode, where)
    dt = x.dtype if x.dtype.kind == "f" else np.float32
    x = np.asarray(x, dt)
    s = np.asarray(scale, dt)
    if np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise UnsupportedModelError(f"{where}: scale {s.ravel()[:4]} is not positive and finite")
    y = x / s
    if bits == 1 and attrs.signed:  # QONNX: bipolar
        return np.where(y >= 0, 1, -1).astype(dt) * s
    lo, hi = int_range(attrs.signed, attrs.narrow, bits)
    y = np.clip(y, dt.type(lo), dt.type(hi))
    return (_round(y, mode) * s).astype(dt)


def evaluate_bipolar(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``BipolarQuant`` on a constant: ``where(x >= 0, 1, -1) * scale``."""
    dt = x.dtype if x.dtype.kind == "f" else np.float32
    return (np.where(np.asarray(x) >= 0, 1, -1).astype(dt) * np.asarray(scale, dt)).astype(dt)


def trunc_types(
    scale: np.ndarray, zero_point: np.ndarray, in_bits: np.ndarray, out_scale: np.ndarray,
    out_bits: np.ndarray, attrs: QuantAttrs, where: str,
) -> tuple[FixedType, FixedType]:  # fmt: skip
    """The two casts of a QONNX ``Trunc`` (opset 2: ``x, scale, zeropt, in_bitwidth, out_scale,
    out_bitwidth``): to the input grid, half to even (QONNX's ``np.round(x / scale)``), then to the output
    type with the node's rounding mode and a saturating clamp. The first cast keeps one integer bit more
    than the output type, saturating, so that its clamp never changes what the second one gives."""
    _zero_point(zero_point, where)
    _bits(in_bits, where)
    s_in = power_of_two(_scalar(scale, "the input scale", where))
    if s_in is None:
        raise UnsupportedModelError(
            f"{where}: input scale {_scalar(scale, 'scale', where)!r} is not a power of two"
        )
    t_out = quant_type(out_scale, zero_point, out_bits, attrs, where)
    if s_in > -t_out.frac:
        raise UnsupportedModelError(
            f"{where}: output scale finer than the input scale (a Trunc only drops bits)"
        )
    width = t_out.integer + 1 - s_in
    t_in = FixedType(max(width, 2), t_out.integer + 1, True, Rounding.RND_CONV, Overflow.SAT)
    return t_in, t_out


__all__ = [
    "DOMAINS",
    "NO_FIXED_FORM",
    "QUANT_OPS",
    "ROUNDING",
    "QuantAttrs",
    "evaluate_bipolar",
    "evaluate_quant",
    "int_range",
    "is_quantizer",
    "power_of_two",
    "quant_type",
    "rounding",
    "trunc_types",
]
