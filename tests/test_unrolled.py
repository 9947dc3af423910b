"""The latency strategy of Linear in RTL (hlsgen.backends.rtl.unrolled): fully unrolled, a new sample
every cycle. Cosim (Verilator) equals the op's reference bit for bit with back-to-back samples and idle
gaps, measures II = 1 and the latency the plan estimates; Yosys: no DSP for the shift-add form."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from test_rtl import needs_verilator, needs_yosys

from hlsgen.backends.rtl.casts import FAST_MODE_CODE
from hlsgen.backends.rtl.cosim import check_casts_in_rtl
from hlsgen.backends.rtl.latency import cosim_unrolled as cosim
from hlsgen.backends.rtl.unrolled import (
    CastImpl,
    Multiplier,
    choose_multiplier,
    plan_cast,
    plan_linear,
    write_rtl,
)
from hlsgen.config import Config
from hlsgen.fixed import FixedType, Overflow, Rounding
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Linear
from hlsgen.project import quantize_graph


def _linear(
    n_in: int, n_out: int, rows: int, precision: str, bias: bool = True, seed: int = 0, sparse: float = 0.0
) -> Linear:
    rng = np.random.default_rng(seed)
    g = Graph("lin")
    x = g.add_tensor("x", (rows, n_in))
    y = g.add_tensor("y", (rows, n_out))
    g.inputs, g.outputs = [x], [y]
    k = rng.normal(size=(n_in, n_out))
    k[rng.random(k.shape) < sparse] = 0.0
    k[:, -1] = 0.0  # a zero column: the output is the bias alone (or zero)
    k[0, 0] = 0.25  # a power of two
    g.add_op(Linear("d", [x], [y], kernel=k, bias=rng.normal(size=n_out) if bias else None))
    return quantize_graph(g, Config.from_dict({"default_precision": precision})).ops[0]


def _samples(op: Linear, rows: int, n: int, seed: int = 1) -> np.ndarray:
    t = op.types["x"]
    x = np.random.default_rng(seed).integers(t.raw_min, t.raw_max + 1, (n, rows, op.n_in))
    x[0], x[1], x[2] = t.raw_min, t.raw_max, 0
    x[3] = np.where(op.w_raw[:, 0] > 0, t.raw_max, t.raw_min)  # drives column 0 to its extremes
    x[4] = np.where(op.w_raw[:, 0] > 0, t.raw_min, t.raw_max)
    return x


def test_plan_places_more_stages_for_a_faster_clock_and_counts_costs() -> None:
    op = _linear(12, 10, 1, "ap_fixed<8,3,AP_RND,AP_SAT>", sparse=0.3)
    slow, fast = plan_linear(op, clock_ns=10.0), plan_linear(op, clock_ns=3.0)
    assert slow.stages < fast.stages
    assert fast.worst_stage_ns <= 3.0 and slow.worst_stage_ns <= 10.0
    assert slow.latency == slow.stages + 1
    assert slow.multipliers == 0 and slow.graph is not None
    outs = slow.graph.outputs
    # one more adder where a column's sum meets its bias or is negated; a zero column is a constant
    extra = sum(1 for j, t in enumerate(outs) if t is not None and (op.b_raw[j] != 0 or t.sign < 0))
    assert outs[-1] is None and slow.adders == slow.graph.cost.adders + extra
    dsp = plan_linear(op, multiplier="dsp")
    nz = [int(v) for v in op.w_raw.flat if int(v) != 0]
    assert dsp.multipliers == sum(1 for v in nz if v < 0 or v & (v - 1))  # powers of two are shifts
    # narrow weights: shift-adds are cheap, auto takes LUTs; a DSP is worth LUT_PER_DSP LUTs
    assert choose_multiplier(op) is Multiplier.LUT
    assert plan_linear(op, multiplier="auto").multiplier is Multiplier.LUT


def test_config_chooses_strategy_and_multiplier_per_layer() -> None:
    from hlsgen.backends.rtl.unrolled import plan_from_config
    from hlsgen.config import Strategy
    from hlsgen.quant.resolver import TypeResolver

    op = _linear(6, 4, 1, "ap_fixed<8,3>")
    cfg = Config.from_dict(
        {"clock_period": 2.5, "strategy": "latency", "layers": {"d": {"multiplier": "dsp"}, "e": {}}}
    )
    assert Config.from_dict(cfg.to_dict()) == cfg
    r = TypeResolver(cfg)
    assert r.strategy(op) is Strategy.LATENCY and r.multiplier(op) is Multiplier.DSP
    u = plan_from_config(op, cfg)
    assert u.multiplier is Multiplier.DSP and u.clock_ns == 2.5
    assert TypeResolver(Config()).strategy(op) is Strategy.RESOURCE  # the default stays as it was
    with pytest.raises(ValueError, match="layers.d: multiplier: 'lutt' is not one of 'lut', 'dsp', 'auto'"):
        Config.from_dict({"layers": {"d": {"multiplier": "lutt"}}})
    with pytest.raises(ValueError, match="strategy: 'fast'"):
        Config.from_dict({"strategy": "fast"})


def test_bad_settings_are_refused() -> None:
    op = _linear(4, 3, 1, "ap_fixed<8,3>")
    with pytest.raises(ValueError, match="'d'.*clock"):
        plan_linear(op, clock_ns=0)
    with pytest.raises(ValueError, match="'d'.*multiplier 'fpga'.*'lut'"):
        plan_linear(op, multiplier="fpga")


@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize(
    "multiplier, precision, bias, clock",
    [
        ("lut", "ap_fixed<8,3,AP_RND,AP_SAT>", True, 3.333),
        ("dsp", "ap_ufixed<6,2,AP_TRN,AP_WRAP>", False, 2.5),
    ],
)
def test_cosim_is_bit_exact_at_ii_1_and_latency_as_estimated(
    tmp_path: Path, multiplier: str, precision: str, bias: bool, clock: float
) -> None:
    rows = 2
    op = _linear(6, 5, rows, precision, bias=bias, sparse=0.2)
    u = plan_linear(op, rows=rows, clock_ns=clock, multiplier=multiplier)
    x = _samples(op, rows, 48)
    valid = [1] * 20 + [0, 1, 0, 0, 1, 1, 0] + [1] * 40  # back to back, then idle gaps, then back to back
    m = cosim(u, op, x, tmp_path, valid=valid)
    assert m["failures"] == [], m
    assert m["mismatches"] == 0 and m["outputs"] == len(x)
    assert m["latency"] == [u.latency]  # every sample, exactly the estimate
    assert m["ii"] == 1 and int(m["back_to_back"]) >= 40


@pytest.mark.yosys
@needs_yosys
def test_yosys_shift_add_form_uses_no_dsp(tmp_path: Path) -> None:
    from hlsgen.backends.rtl.yosys import synthesize

    op = _linear(8, 6, 1, "ap_fixed<8,3,AP_RND,AP_SAT>")
    u = plan_linear(op, clock_ns=3.333)
    srcs = write_rtl(u, tmp_path)
    c = synthesize(tmp_path, srcs, u.module, depth=True)
    assert c.dsp == 0 and c.lut > 0
    assert c.ff >= u.in_width + op.n_out * op.types["y"].width  # input and output registers at least
    assert c.depth is not None and c.depth.deepest.lut_levels <= 6
    # the stage budget held in the synthesised netlist too (same cell delays)
    assert c.depth.worst.delay <= u.clock_ns


@pytest.mark.verilator
@needs_verilator
def test_fast_cast_equals_convert(tmp_path: Path) -> None:
    """hlsgen_fastcast (the latency strategy's cast: overflow found in parallel with the rounding) against
    hlsgen.fixed.convert: every rounding mode x AP_WRAP / AP_SAT / AP_SAT_ZERO, signed and unsigned
    outputs, narrowing, widening and 1-bit outputs, on random raw values and the extremes (where the
    rounding increment overflows the kept field: fs == HI and fs == LO - 1)."""
    rng = np.random.default_rng(0)
    srcs = [FixedType(16, 6), FixedType(5, 7), FixedType(12, -2), FixedType(9, 4), FixedType(3, 1)]
    pairs = []
    for r, o in itertools.product(Rounding, FAST_MODE_CODE):
        for signed in (True, False):
            for _ in range(2):
                w = int(rng.integers(1, 13))
                i = int(rng.integers(-3, w + 4))
                pairs.append((srcs[int(rng.integers(len(srcs)))], FixedType(w, i, signed, r, o)))
    pairs.append((FixedType(16, 6), FixedType(8, 8, True, is_int=True)))  # ap_int: toward zero
    assert check_casts_in_rtl(pairs, tmp_path, samples=150, fast=True) == []


def test_cast_plan_uses_the_exact_range() -> None:
    """A cast whose rounded range fits its output needs no overflow logic (and no delay beyond the
    rounding); truncation without overflow is wires; AP_SAT_SYM is left to hlsgen_cast."""
    src = FixedType(16, 6)  # 10 fractional bits
    sat = FixedType(8, 3, True, Rounding.RND, Overflow.SAT)
    full = plan_cast(src, sat)
    assert full.impl is CastImpl.FAST and full.checks and full.rounds and full.width == 16
    # [-4, 4 - 2^-6] in the source's raw units: 4 - 2^-6 rounds up to 4 (raw 128): an overflow
    assert plan_cast(src, sat, -4 << 10, (4 << 10) - (1 << 4)).checks
    small = plan_cast(src, sat, -4 << 10, (4 << 10) - (1 << 4) - 1)  # rounds to at most 127
    assert not small.checks and small.rounds and small.width == 13 and small.delay < full.delay
    trn = FixedType(8, 3, True, Rounding.TRN, Overflow.SAT)
    wires = plan_cast(src, trn, -4 << 10, (4 << 10) - 1)
    assert not wires.checks and not wires.rounds and wires.delay == 0.0 and wires.luts == 0
    assert plan_cast(src, FixedType(8, 3, True, Rounding.RND, Overflow.SAT_SYM)).impl is CastImpl.FULL
    assert (
        plan_cast(src, FixedType(8, 3, True, Rounding.RND, Overflow.SAT_SYM), -64, 64).impl is CastImpl.FAST
    )
