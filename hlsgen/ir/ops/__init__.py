"""IR ops. Each op: shapes, types, a float and a bit-exact execution, an HLS rendering, a cost."""

from .attention import Context, Mask, Scores, attention_scale
from .base import Cost, HlsCall, Op, Param
from .basic import Activation, Add, GlobalAvgPool, Linear, Reshape
from .layernorm import LayerNorm
from .softmax import Softmax

__all__ = [
    "Activation",
    "Add",
    "Context",
    "Cost",
    "GlobalAvgPool",
    "HlsCall",
    "LayerNorm",
    "Linear",
    "Mask",
    "Op",
    "Param",
    "Reshape",
    "Scores",
    "Softmax",
    "attention_scale",
]
