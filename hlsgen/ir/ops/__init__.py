"""IR ops. Each op: shapes, types, a float and a bit-exact execution, an HLS rendering, a cost."""

from .attention import Context, Mask, Scores, attention_scale
from .base import Cost, HlsCall, Op, Param
from .basic import Activation, Add, GlobalAvgPool, Linear, Reshape
from .decode import (
    BlockLinear,
    ExactContext,
    ExactLinear,
    KVCache,
    LatentCache,
    LatentScores,
    PositionMask,
    RoPE,
)
from .layernorm import LayerNorm
from .softmax import Softmax

__all__ = [
    "Activation",
    "Add",
    "BlockLinear",
    "Context",
    "Cost",
    "ExactContext",
    "ExactLinear",
    "GlobalAvgPool",
    "HlsCall",
    "KVCache",
    "LatentCache",
    "LatentScores",
    "LayerNorm",
    "Linear",
    "Mask",
    "Op",
    "Param",
    "PositionMask",
    "RoPE",
    "Reshape",
    "Scores",
    "Softmax",
    "attention_scale",
]
