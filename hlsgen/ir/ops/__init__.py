"""IR ops. Each op: shapes, types, a float and a bit-exact execution, an HLS rendering, a cost."""

from .base import Cost, HlsCall, Op, Param
from .basic import Activation, Add, GlobalAvgPool, Linear, Reshape

__all__ = ["Activation", "Add", "Cost", "GlobalAvgPool", "HlsCall", "Linear", "Op", "Param", "Reshape"]
