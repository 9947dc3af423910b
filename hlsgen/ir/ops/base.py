"""The op contract.

An op knows its inputs and outputs (tensor names in the graph), the fixed-point types of its internal
values (``types``: weights, biases, tables), its parameters (float from the front end, raw after the
quantize pass), and executes itself twice over: in float64 (``forward_float``, for calibration and
comparison) and bit-exactly on raw integers (``execute``, the reference). It knows no backend: each
backend renders every op kind from one table (``hlsgen.backends.hls.ops.RENDERERS``,
``hlsgen.backends.rtl.ops.RENDERERS``) that reads the op's public geometry (shapes, rows, multipliers
for a reuse factor), types and parameters.

Speed: Linear, Scores, Context, Softmax and LayerNorm have a float64 fast path (``_execute_float``)
that ``execute`` takes where every value is an exact integer below 2^52 (BLAS products, then
:func:`~hlsgen.fixed.arith.convert_float`); elsewhere it returns None and the exact integer path runs.
The two agree bit for bit (tests/test_emulation_fast.py) on what the graph guarantees: inputs that are
raw integers of the input types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from ...fixed import FixedType

if TYPE_CHECKING:
    from ...config import Config, LayerNormConfig, Multiplier, SoftmaxConfig
    from ..graph import Graph, Tensor


class TypeResolver(Protocol):
    """What an op asks while it is typed (``assign_types``): the quant layer's resolver
    (:class:`hlsgen.quant.resolver.TypeResolver`) answers, from the config, quantizers and calibration."""

    config: Config  #: the conversion config
    default: FixedType  #: the type of every value that nothing else types

    def slot(self, op: Op, slot: str, fallback: FixedType | None = None) -> FixedType: ...

    def result(self, op: Op, tensor: Tensor, role: str | None = None) -> FixedType: ...

    def reuse(self, op: Op) -> int: ...

    def binding(self, op: Op) -> Multiplier | None: ...

    def engine(self, op: Op) -> bool: ...

    def softmax(self, op: Op) -> SoftmaxConfig: ...

    def layernorm(self, op: Op) -> LayerNormConfig: ...


@dataclass
class Param:
    """A constant array the op reads (weights, biases, tables): raw integers of ``type``."""

    name: str
    type: FixedType
    raw: np.ndarray


def multipliers_for(ops: int, reuse: int) -> int:
    """Multipliers that do ``ops`` products at a reuse factor (each multiplier used ``reuse`` times)."""
    return max(1, -(-ops // max(reuse, 1)))


@dataclass
class Cost:
    """Analytical cost of one op (estimates; every figure printed says it is an estimate)."""

    macs: int = 0
    multipliers: int = 0
    latency_cycles: int = 0
    bram18: int = 0
    lut: int = 0
    #: operand widths of the multipliers in bits, wider first (how many DSP slices each takes, or LUTs)
    mult_widths: tuple[int, int] = (0, 0)
    #: bits of the constant parameters (weights, biases) and the depth of the ROM that holds them: the
    #: reuse factor for reshaped weights, 1 when they are constants folded into the logic
    param_bits: int = 0
    rom_depth: int = 1
    #: flip-flops (pipeline registers), rough
    ff: int = 0


@dataclass
class Op:
    """Base class of IR ops."""

    kind: ClassVar[str] = "op"

    name: str
    inputs: list[str]
    outputs: list[str]
    origin: str = ""  #: Keras layer this op comes from
    types: dict[str, FixedType] = field(default_factory=dict)
    reuse_factor: int = 1

    #: attributes that only cache what the fields determine (the fast paths' tables and scaled weights,
    #: keyed on the arrays they come from): left out of pickles and copies, rebuilt on first use
    CACHES: ClassVar[tuple[str, ...]] = ("_shifted", "_float_cache", "_joint")

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in self.CACHES}

    # -- typing -------------------------------------------------------------------------------------
    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        """Set the types of the outputs and internal values; quantize parameters."""
        for t in self.outputs:
            graph.tensors[t].type = resolve.result(self, graph.tensors[t])

    def bindings(self) -> tuple[Multiplier, ...]:
        """How the op's products are bound (lut or dsp, set at typing) when its layer is built with the
        latency strategy; () under the resource strategy or for an op without products."""
        return ()

    # -- execution ----------------------------------------------------------------------------------
    def forward_float(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        raise NotImplementedError(type(self).__name__)

    def execute(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        raise NotImplementedError(type(self).__name__)

    # -- cost ---------------------------------------------------------------------------------------
    def cost(self, graph: Graph) -> Cost:
        return Cost()

    # -- helpers ------------------------------------------------------------------------------------
    def in_type(self, graph: Graph, k: int = 0) -> FixedType:
        t = graph.tensors[self.inputs[k]].type
        assert t is not None
        return t

    def out_type(self, graph: Graph, k: int = 0) -> FixedType:
        t = graph.tensors[self.outputs[k]].type
        assert t is not None
        return t
