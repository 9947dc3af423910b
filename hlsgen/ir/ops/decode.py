"""Decoder primitives, re-exported for the imports that name this module: rotary position embedding
(:mod:`.rope`), key/value and latent caches and the decode mask (:mod:`.cache`), and the pieces of
multi-head latent attention (:mod:`.latent`). New code imports from those modules."""

from __future__ import annotations

from .cache import CacheContent, DecodeOverflowError, KVCache, LatentCache, PositionMask, position_type
from .latent import BlockLinear, ExactContext, ExactLinear, LatentScores
from .rope import RoPE, rope_tables

__all__ = [
    "BlockLinear",
    "CacheContent",
    "DecodeOverflowError",
    "ExactContext",
    "ExactLinear",
    "KVCache",
    "LatentCache",
    "LatentScores",
    "PositionMask",
    "RoPE",
    "position_type",
    "rope_tables",
]
