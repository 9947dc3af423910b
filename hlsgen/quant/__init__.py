"""Quantization: QKeras quantizers mapped exactly to hlsgen fixed-point types."""

from __future__ import annotations

from .qkeras import QuantSpec, apply, quantizer_to_type, resolve_quantizer

__all__ = ["QuantSpec", "apply", "quantizer_to_type", "resolve_quantizer"]
