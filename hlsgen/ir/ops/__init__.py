"""IR ops. Each op: shapes, types, a float and a bit-exact execution, an HLS rendering, a cost."""

from .attention import Context, Mask, Scores, attention_scale
from .base import Cost, HlsCall, Op, Param
from .basic import Activation, Add, GlobalAvgPool, Linear, Reshape, TableInput, is_table_function
from .conv import Conv1D, Padding
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
    "HlsCall",
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
    "token_type",
]
