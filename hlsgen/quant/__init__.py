"""Quantization and the passes over the IR: QKeras quantizers mapped exactly to hlsgen fixed-point types
(:mod:`.qkeras`), the type resolver (:mod:`.resolver`), and the passes, each a callable ``Graph -> Graph``
that returns a new graph (:mod:`.passes`: quantize, calibration; :mod:`.decode_pass`: the decode design;
:mod:`.decode_session`: its reference session)."""

from __future__ import annotations

from .qkeras import QuantSpec, apply, quantizer_to_type, resolve_quantizer

__all__ = ["QuantSpec", "apply", "quantizer_to_type", "resolve_quantizer"]
