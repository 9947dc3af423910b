"""A ``strategy: latency`` layer inside a resource (row-streaming) RTL design: a fully unrolled engine.

The layer's Linear (a Dense, the FFN's projections, or the Linear behind a Conv1D's window) becomes an
unrolled pipeline over one row a cycle, built by the latency strategy's own net builder
(:func:`hlsgen.backends.rtl.unrolled.plan_linear`: every product of the row at once, constant products
as shifts and adds or DSPs by the layer's ``multiplier``, already resolved to lut or dsp in
``op.binding``; registers placed by the delay budget of the ``clock_ns`` target). It drops in where
hlsgen_linear would be, with the same valid/ready row stream: the pipeline never stalls, so
hlsgen_credit (templates/rtl/lib) accepts a row only while its output FIFO has room for every row in
flight (credits; depth latency + 2 for a row every cycle). Two generated modules: the pipeline
(templates/rtl/unrolled_linear.sv.j2) and its stream wrapper (templates/rtl/latency_engine.sv.j2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...ir.graph import c_identifier
from ...quant.resolver import ENGINE_KINDS
from . import timing
from .block import Block, RtlOptions, op_label
from .unrolled import CAST_MODULES, Unrolled, plan_linear

if TYPE_CHECKING:
    from ...ir.ops.base import Op


def credit_depth(latency: int) -> int:
    """Output FIFO rows of an engine of ``latency`` cycles: every row in flight, plus one so that a row a
    cycle flows while the consumer takes a row every cycle (:class:`~.timing.PipeModel`)."""
    return latency + 2


def engine_block(op: Op, opts: RtlOptions, source: str, rows: int) -> Block:
    """The unrolled engine of the latency layer ``op`` reading ``rows`` rows of ``op.n_in`` values a
    sequence from the stream ``source`` (its input, or a Conv1D's window)."""
    if int(getattr(op, "blocks", 1)) > 1:
        raise NotImplementedError(
            f"{op_label(op)}: strategy latency has no block-diagonal engine; use strategy 'resource' here"
        )
    name = c_identifier(op.name)
    core = plan_linear(op, 1, opts.clock_ns, op.binding, module=f"{name}_pipe")
    engine = f"{name}_engine"
    depth = credit_depth(core.latency)
    wrapper = engine_text(engine, core, depth)
    info: dict[str, object] = {
        "strategy": "latency",
        "multiplier": core.multiplier.value,
        "stages": core.stages,
        "latency": core.latency,
        "row_cycles": 1,
        "adders": core.adders,
        "lut_estimate": core.lut_estimate,
        "worst_stage_ns": round(core.worst_stage_ns, 2),
        "macs": rows * op.n_in * op.n_out,
    }
    return Block(
        op.name,
        op.kind,
        engine,
        {},
        {"in": source},
        op.outputs[0],
        timing.PipeModel(rows, core.latency, depth),
        multipliers=core.multipliers,
        info=info,
        sources={f"{core.module}.sv": core.render(), f"{engine}.sv": wrapper},
        libs=("hlsgen_credit", *(m.removesuffix(".sv") for m in CAST_MODULES)),
    )


def engine_text(module: str, core: Unrolled, depth: int) -> str:
    """The stream wrapper of ``core`` (templates/rtl/latency_engine.sv.j2)."""
    from ..templating import environment, render

    return render(environment(), "rtl/latency_engine.sv.j2", module=module, u=core, depth=depth)


__all__ = ["ENGINE_KINDS", "credit_depth", "engine_block", "engine_text"]
