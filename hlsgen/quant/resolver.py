"""The type resolver: each value's type from the config, QKeras quantizers and calibration ranges.

Precedence: the layer's entry in ``config.layers`` (by IR op name, then by the Keras layer name the op
comes from) > the type a QKeras quantizer fixes > calibration (integer bits from observed ranges) >
``default_precision``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import ActivationConfig, Config, LayerNormConfig, Multiplier, SoftmaxConfig, Strategy
from ..fixed import FixedType, calibrated_type
from ..fixed.ranges import integer_bits_for

if TYPE_CHECKING:
    from ..ir.graph import Tensor
    from ..ir.ops.base import Op


#: op kinds that a per-layer ``strategy: latency`` builds as unrolled engines inside a resource model
#: (Dense, the FFN's and an attention layer's projections, Conv1D)
ENGINE_KINDS = ("linear", "conv1d")


class TypeResolver:
    """Decides each value's type from the config, QKeras quantizers and calibration ranges."""

    def __init__(self, config: Config, ranges: dict[str, float] | None = None) -> None:
        self.config = config
        self.ranges = ranges or {}
        self.default = FixedType.parse(config.default_precision)
        self.default_weight = FixedType.parse(config.default_weight_precision or config.default_precision)

    def _override(self, op: Op, slot: str) -> FixedType | None:
        for lc in self.config.layer(op.name, op.origin):
            v = getattr(lc, slot, "")
            if v:
                return FixedType.parse(v)
        return None

    def slot(self, op: Op, slot: str, fallback: FixedType | None = None) -> FixedType:
        """Type of an internal value (``weight``, ``bias``, ...) of ``op``."""
        t = self._override(op, slot)
        if t is not None:
            return t
        q = getattr(op, "qtypes", {}).get(slot)
        if q is not None:
            return q
        return fallback or (self.default_weight if slot in ("weight", "bias") else self.default)

    def result(self, op: Op, tensor: Tensor, role: str | None = None) -> FixedType:
        """Type of an output tensor of ``op``; ``role`` names its config field (default ``op.role``)."""
        role = role or getattr(op, "role", "result")
        t = self._override(op, role)
        if t is not None:
            return t
        q = getattr(op, "qtypes", {}).get(role)
        if q is not None:
            return q
        if tensor.name in self.ranges:
            return calibrated_type(
                self.ranges[tensor.name],
                self.default,
                self.config.calibration_margin_bits,
                self.config.calibration_overflow,
            )
        return self.default

    def table_address(self, op: Op, tensor: Tensor, tx: FixedType) -> FixedType:
        """The address type of a table activation's input (``TableInput``): the ``result`` of the entry of
        the op's own name, as :meth:`~hlsgen.project.Project.resolved_config` writes it (so that a project
        loaded back keeps the calibrated range); else ``table_bits`` bits, AP_TRN and AP_SAT, over integer
        bits from ``range_bits``, else the calibrated range of the input, else the input type's. The entry
        of its Keras layer does not apply: that ``result`` is the activation's output."""
        own = self.config.layers.get(op.name)
        if own is not None and own.result:
            return FixedType.parse(own.result)
        cfg = self.activation(op)
        if cfg.range_bits:
            i = cfg.range_bits
        elif op.inputs[0] in self.ranges:
            i = integer_bits_for(self.ranges[op.inputs[0]], tx.signed) + self.config.calibration_margin_bits
        else:
            i = tx.integer
        return FixedType(max(cfg.table_bits, 1), i, tx.signed, "AP_TRN", "AP_SAT")

    def reuse(self, op: Op) -> int:
        """The layer's reuse factor (its entry, else the global one; 1 for an engine of a resource model,
        :meth:`engine`, which takes a row every cycle, unless its own entry sets one)."""
        for lc in self.config.layer(op.name, op.origin):
            if lc.reuse_factor:
                return lc.reuse_factor
        if self.engine(op):
            return 1
        return self.config.reuse_factor

    def softmax(self, op: Op) -> SoftmaxConfig:
        for lc in self.config.layer(op.name, op.origin):
            if lc.softmax is not None:
                return lc.softmax
        return self.config.softmax

    def activation(self, op: Op) -> ActivationConfig:
        for lc in self.config.layer(op.name, op.origin):
            if lc.activation is not None:
                return lc.activation
        return self.config.activation

    def layer_strategy(self, op: Op) -> Strategy:
        """The strategy the config gives the op's layer (its entry, else the global one)."""
        for lc in self.config.layer(op.name, op.origin):
            if lc.strategy is not None:
                return lc.strategy
        return self.config.strategy

    def strategy(self, op: Op) -> Strategy:
        """The strategy the op is built with: every op of a latency model; in a resource model, latency
        for the :data:`ENGINE_KINDS` ops of a ``strategy: latency`` layer only (the layer's other ops, e.g.
        an attention layer's scores, softmax and context, stay shared engines)."""
        if self.config.strategy is Strategy.LATENCY:
            return Strategy.LATENCY
        if op.kind in ENGINE_KINDS and self.layer_strategy(op) is Strategy.LATENCY:
            return Strategy.LATENCY
        return Strategy.RESOURCE

    def engine(self, op: Op) -> bool:
        """The op is an unrolled engine (a row a cycle) inside a resource model's row-streaming design."""
        return self.config.strategy is Strategy.RESOURCE and self.strategy(op) is Strategy.LATENCY

    def multiplier(self, op: Op) -> Multiplier:
        """The layer's constant-product choice (its entry, else the global one)."""
        for lc in self.config.layer(op.name, op.origin):
            if lc.multiplier is not None:
                return lc.multiplier
        return self.config.multiplier

    def binding(self, op: Op) -> Multiplier | None:
        """How an op built with the latency strategy binds its products (its layer's ``multiplier``: lut,
        dsp or auto, which the op resolves at typing); None for one built with the resource strategy."""
        return self.multiplier(op) if self.strategy(op) is Strategy.LATENCY else None

    def layernorm(self, op: Op) -> LayerNormConfig:
        for lc in self.config.layer(op.name, op.origin):
            if lc.layernorm is not None:
                return lc.layernorm
        return self.config.layernorm


__all__ = ["ENGINE_KINDS", "TypeResolver"]
