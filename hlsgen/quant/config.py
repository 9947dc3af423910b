"""Compatibility: the config schema moved to :mod:`hlsgen.config` and the type resolver to
:mod:`hlsgen.quant.resolver`; import them from there."""

from __future__ import annotations

from ..config import (
    ActivationConfig,
    CacheMemory,
    Config,
    DecodeConfig,
    IOType,
    LayerConfig,
    LayerNormConfig,
    MlaForm,
    Multiplier,
    SoftmaxConfig,
    SoftmaxVariant,
    Strategy,
)
from ..fixed.ranges import calibrated_type, integer_bits_for
from .resolver import TypeResolver

__all__ = [
    "ActivationConfig",
    "CacheMemory",
    "Config",
    "DecodeConfig",
    "IOType",
    "LayerConfig",
    "LayerNormConfig",
    "MlaForm",
    "Multiplier",
    "SoftmaxConfig",
    "SoftmaxVariant",
    "Strategy",
    "TypeResolver",
    "calibrated_type",
    "integer_bits_for",
]
