"""IR ops. Each op: shapes, types, a float and a bit-exact execution, a cost (no backend code:
hlsgen.backends.hls.ops and hlsgen.backends.rtl.ops render them)."""

from .attention import Context, Mask, Scores, attention_scale
from .base import Cost, Op, Param, multipliers_for
from .basic import Activation, Add, GlobalAvgPool, Linear, Reshape, TableInput, is_table_function
from .cache import KVCache, LatentCache, PositionMask
from .conv import Conv1D, Padding
from .latent import BlockLinear, ExactContext, ExactLinear, LatentScores
from .layernorm import LayerNorm
from .rope import RoPE
from .softmax import Softmax
from .tensor import (
    BatchNorm,
    Binary,
    BinaryKind,
    Concat,
    Constant,
    Embedding,
    GlobalMaxPool,
    Slice,
    Transpose,
    token_type,
)

__all__ = [
    "Activation",
    "Add",
    "BatchNorm",
    "Binary",
    "BinaryKind",
    "BlockLinear",
    "Concat",
    "Constant",
    "Context",
    "Conv1D",
    "Cost",
    "ExactContext",
    "Embedding",
    "ExactLinear",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "KVCache",
    "LatentCache",
    "LatentScores",
    "LayerNorm",
    "Linear",
    "Mask",
    "Op",
    "Padding",
    "Param",
    "PositionMask",
    "RoPE",
    "Reshape",
    "Scores",
    "Slice",
    "Softmax",
    "TableInput",
    "Transpose",
    "attention_scale",
    "is_table_function",
    "multipliers_for",
    "token_type",
]
