"""Softmax primitive: tables built once, reference against float (with a derived bound), masks, and csim
equal to the reference bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from hlsgen.backends.hls.ops import hls_call
from hlsgen.config import Config, SoftmaxConfig, SoftmaxVariant
from hlsgen.fixed import FixedType, from_raw, to_raw
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Softmax
from hlsgen.ir.ops.softmax import softmax_tables
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph

TYPES = ["ap_fixed<8,3>", "ap_fixed<16,6>", "ap_fixed<24,8>"]


def _graph(shape: tuple[int, ...], mask: bool = False, name: str = "sm") -> Graph:
    g = Graph(name)
    x = g.add_tensor("x", shape)
    g.inputs = [x]
    if mask:
        g.inputs.append(g.add_tensor("m", shape[-2:]))
    y = g.add_tensor("y", shape)
    g.add_op(Softmax("softmax", list(g.inputs), [y]))
    g.outputs = [y]
    return g


def _typed(g: Graph, in_type: str, **softmax: object) -> Graph:
    return quantize_graph(g, Config.from_dict({"default_precision": in_type, "softmax": softmax}))


def _quantized(x: np.ndarray, t: str | FixedType) -> np.ndarray:
    return from_raw(to_raw(x, t), FixedType.parse(t))


def _causal(tq: int, tk: int) -> np.ndarray:
    return (np.arange(tk)[None, :] <= np.arange(tq)[:, None] + (tk - tq)).astype(np.float64)


def _error_bound(op: Softmax, x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per-element bound on |reference - float softmax| (of the same quantized logits), first order in
    each rounding the reference performs:

    - stable: the difference max - x is exact, then rounded to 2^(s-F) (s dropped bits): the exponential
      is off by at most a factor exp(2^(s-F-1)); the two table entries and their product are each rounded
      to exp_type (<= 1.5 LSB together, 2 taken); differences past the tables' range give 0 where the
      true value is below half an LSB.
    - latency: the table entry is exp() of its bucket's centre, off by at most a factor exp(h) with h half
      a bucket, then rounded (half an LSB).
    - with de_j those errors and S the float sum, |e'_i/S' - e_i/S| <= (de_i + f_i (sum de + lsb_S)) /
      (S - sum de - lsb_S) (the sum is also cast to sum_type);
    - the reciprocal table is exact to half a mantissa bucket (2^-(b+1) relative) plus the rounding of
      its entries (>= 0.5, so 2 LSB relative); the output cast loses at most one output LSB.
    """
    t, pl = op.types, op.plan
    assert pl is not None
    tx, te, ts, ti, ty = t["x"], t["exp"], t["sum"], t["inv"], t["y"]
    z = np.where(keep, x, -np.inf)
    if pl.variant is SoftmaxVariant.STABLE:
        m = np.max(z, axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        e = np.where(keep, np.exp(z - m), 0.0)
        half_step = 2.0 ** (pl.drop_bits - tx.frac - 1) if pl.drop_bits else 0.0
        de = e * np.expm1(half_step) + 2 * te.lsb
    else:
        e = np.where(keep, np.exp(z), 0.0)
        h = ((1 << (tx.width - pl.exp_table_bits)) - 1) / 2 * tx.lsb
        de = e * np.expm1(h) + te.lsb / 2
    de = np.where(keep, de, 0.0)
    s = e.sum(axis=-1, keepdims=True)
    f = np.divide(e, s, out=np.zeros_like(e), where=s > 0)
    sde = de.sum(axis=-1, keepdims=True) + ts.lsb
    ratio = (de + f * sde) / np.maximum(s - sde, 1e-300)
    inv_rel = 2.0 ** -(pl.inv_bits + 1) + 2 * ti.lsb
    return np.where(keep & (s > 0), ratio + f * inv_rel * 1.01 + ty.lsb, 0.0)


def _logits(rng: np.random.Generator, shape: tuple[int, ...], t: str, variant: SoftmaxVariant) -> np.ndarray:
    ft = FixedType.parse(t)
    if variant is SoftmaxVariant.LATENCY:  # inside the exp table's range (the latency variant overflows)
        x = np.clip(rng.normal(0.0, 1.0, size=shape), -3.0, 3.0)
    else:
        x = rng.normal(0.0, 0.3 * ft.max, size=shape)  # some beyond the range: AP_WRAP applies
    return _quantized(x, t)


# ---------------------------------------------------------------------------------------------------
def test_tables_are_built_once_and_are_the_hls_params() -> None:
    for variant in SoftmaxVariant:
        q = _typed(_graph((3, 8)), "ap_fixed<16,6>", variant=variant.value)
        op = q.ops[0]
        assert isinstance(op, Softmax) and op.plan is not None
        call = hls_call(op, q)
        fresh = softmax_tables(op.types["x"], op.settings)
        assert [p.name for p in call.params] == [f"{k}_softmax" for k in fresh.tables]
        for p in call.params:
            key = p.name.removesuffix("_softmax")
            t, raw = op.plan.tables[key]
            assert p.raw is raw and p.type == t  # the very arrays the reference indexes
            np.testing.assert_array_equal(fresh.tables[key][1], raw)
        # and the reference reads them: with a zero reciprocal table every output is 0
        x = to_raw(np.random.default_rng(0).normal(size=(4, 3, 8)), op.types["x"])
        assert np.any(op.execute(x)[0])
        op.plan.tables["inv"][1][:] = 0
        assert not np.any(op.execute(x)[0])


def test_table_geometry() -> None:
    cfg = SoftmaxConfig()
    # ap_fixed<16,6>: differences up to 2^4 matter (exp(-16) underflows exp_type), 4 + 10 bits: all kept
    g = softmax_tables(FixedType.parse("ap_fixed<16,6>"), cfg)
    assert (g.drop_bits, g.hi_bits, g.lo_bits) == (0, 7, 7)
    assert g.tables["exp_lo"][1].size == 128 and g.tables["inv"][1].size == 1024
    # ap_fixed<24,8>: 4 + 16 bits, the 6 LSBs below the tables' resolution are rounded away
    assert softmax_tables(FixedType.parse("ap_fixed<24,8>"), cfg).drop_bits == 6
    # ap_fixed<8,3>: 8 bits in all; the coarse table shrinks to 1 bit
    g = softmax_tables(FixedType.parse("ap_fixed<8,3>"), cfg)
    assert (g.drop_bits, g.hi_bits, g.lo_bits) == (0, 1, 7)
    lo = from_raw(g.tables["exp_lo"][1], g.tables["exp_lo"][0])
    np.testing.assert_allclose(lo, np.exp(-np.arange(128) / 32.0), atol=2.0**-17)


@pytest.mark.parametrize("variant", list(SoftmaxVariant))
@pytest.mark.parametrize("in_type", TYPES)
def test_reference_against_float(in_type: str, variant: SoftmaxVariant) -> None:
    rng = np.random.default_rng(10 * TYPES.index(in_type) + list(SoftmaxVariant).index(variant))
    shape = (2, 6, 10)
    g = _graph(shape, mask=True)
    q = _typed(g, in_type, variant=variant.value)
    op = q.ops[0]
    x = _logits(rng, (400, *shape), in_type, variant)
    m = (rng.random((400, 6, 10)) < 0.8).astype(np.float64)
    m[::2] = _causal(6, 10)
    m[::7, 3] = 0.0  # fully masked rows
    got = q.predict([x, m])[0]
    want = g.run_float([x, m])["y"]
    keep = np.broadcast_to((m != 0)[:, None], x.shape)
    bound = _error_bound(op, x, keep)
    excess = np.abs(got - want) - bound
    assert excess.max() <= 1e-12, (
        f"worst excess {excess.max()} at {np.unravel_index(excess.argmax(), x.shape)}"
    )
    assert np.all(got[~keep] == 0)  # masked: exactly 0
    assert np.all(got[::7, :, 3] == 0)  # fully masked rows: all zeros
    sums = got.sum(-1)[keep.any(-1)]
    lsb = q.tensors["y"].type.lsb
    assert np.all(np.abs(sums - 1) <= 0.01 + 10 * lsb)
    if in_type == "ap_fixed<16,6>" and variant is SoftmaxVariant.STABLE:
        assert np.abs(got - want).max() < 2e-3


def test_stable_defaults_on_16_bit_logits() -> None:
    """Full resolution, no argmax flip on 5000 rows, sums within 0.2 % (benchmarks/bench_softmax.py: 100k)."""
    rng = np.random.default_rng(7)
    g = _graph((16,))
    q = _typed(g, "ap_fixed<16,6>")
    assert str(q.tensors["y"].type) == "ap_fixed<16,2>"  # probabilities typed for [0, 1]
    for scale in (1.0, 3.0, 8.0):
        x = _quantized(rng.normal(0.0, scale, size=(5000, 16)), "ap_fixed<16,6>")
        p, f = q.predict([x])[0], g.run_float([x])["y"]
        flips = np.any((p == p.max(-1, keepdims=True)) != (f == f.max(-1, keepdims=True)), axis=-1)
        assert flips.sum() == 0
        assert np.abs(p.sum(-1) - 1).max() < 2e-3


def test_far_logits_give_exact_zeros_and_ties_stay_ties() -> None:
    q = _typed(_graph((4,)), "ap_fixed<16,6>")
    x = np.array([[3.0, 3.0, -14.0, -20.0], [0.0, 0.0, 0.0, 0.0]])
    p = q.predict([x])[0]
    assert p[0, 0] == p[0, 1] and p[0, 3] == 0.0  # exp(-23) is far below exp_type's LSB
    assert np.all(p[1] == p[1, 0]) and abs(p[1].sum() - 1) < 1e-3


def test_mask_with_batch_axis_one_broadcasts() -> None:
    """A constant mask (e.g. causal, from the Mask op) arrives with a batch axis of 1."""
    rng = np.random.default_rng(11)
    q = _typed(_graph((3, 4, 5), mask=True), "ap_fixed<16,6>")
    op = q.ops[0]
    x = to_raw(rng.normal(size=(6, 3, 4, 5)), op.types["x"])
    causal = _causal(4, 5).astype(np.int64)
    one = op.execute(x, causal[None])[0]
    full = op.execute(x, np.broadcast_to(causal, (6, 4, 5)))[0]
    np.testing.assert_array_equal(one, full)
    assert np.all(one[..., causal == 0] == 0)
    assert q.tensors["m"].type == FixedType.parse("ap_uint<1>")  # a model input mask carries single bits


def test_mask_shape_must_match_the_last_two_axes() -> None:
    g = Graph("bad")
    x = g.add_tensor("x", (2, 4, 5))
    m = g.add_tensor("m", (5, 4))
    y = g.add_tensor("y", (2, 4, 5))
    g.inputs, g.outputs = [x, m], [y]
    g.add_op(Softmax("softmax", [x, m], [y]))
    with pytest.raises(ValueError, match=r"mask shape \(5, 4\) does not match"):
        quantize_graph(g, Config())


# ---------------------------------------------------------------------------------------------------
@pytest.mark.gxx
def test_csim_equals_reference() -> None:
    """One build holds every case side by side: three input types, both variants, no mask, a causal-shaped
    and a random mask with fully masked rows, dropped difference bits (24-bit input) and a custom config
    with narrow types and other rounding modes."""
    rng = np.random.default_rng(5)
    h, tq, tk = 2, 4, 6
    g = Graph("softmax_csim")
    ins = {
        "x16": ((h, tq, tk), "ap_fixed<16,6>", 3.0),
        "x8": ((h, tq, tk), "ap_fixed<8,3>", 1.5),
        "x24": ((h, tq, tk), "ap_fixed<24,8>", 8.0),
        "xs": ((10,), "ap_fixed<12,4,AP_RND,AP_SAT>", 2.0),
    }
    for name, (shape, _, _) in ins.items():
        g.add_tensor(name, shape)
    mc = g.add_tensor("mc", (tq, tk))
    mr = g.add_tensor("mr", (tq, tk))
    g.inputs = [*ins, mc, mr]
    cases = [
        ("s16", ["x16"], {}),
        ("s16_causal", ["x16", mc], {}),
        ("s8_random", ["x8", mr], {}),
        ("s24", ["x24"], {}),
        ("s24_causal", ["x24", mc], {}),
        ("l16", ["x16"], {"variant": "latency"}),
        ("l8_random", ["x8", mr], {"variant": "latency"}),
        ("l24", ["x24"], {"variant": "latency"}),
        (
            "custom",
            ["xs"],
            {
                "exp_hi_bits": 3,
                "exp_lo_bits": 4,
                "exp_type": "ap_ufixed<12,1,AP_RND_CONV,AP_SAT>",
                "sum_type": "ap_ufixed<16,5>",
                "inv_bits": 6,
                "inv_type": "ap_ufixed<10,1,AP_RND_INF,AP_SAT>",
            },
        ),
        (
            "custom_latency",
            ["xs"],
            {"variant": "latency", "latency_table_bits": 7, "sum_type": "ap_ufixed<20,4>"},
        ),
    ]
    layers: dict = {name: {"result": t} for name, (_, t, _) in ins.items()}
    for op_name, inputs, sm in cases:
        y = g.add_tensor(f"y_{op_name}", g.tensors[inputs[0]].shape)
        g.add_op(Softmax(op_name, inputs, [y]))
        g.outputs.append(y)
        layers[op_name] = {"softmax": sm}
    layers["custom"]["probability"] = "ap_ufixed<10,1,AP_RND_INF,AP_SAT>"
    cfg = Config.from_dict({"project_name": "softmax_csim", "layers": layers})
    q = quantize_graph(g, cfg)
    n = 300
    xs = [_quantized(rng.normal(0, s, size=(n, *shape)), t) for shape, t, s in ins.values()]
    causal = np.broadcast_to(_causal(tq, tk), (n, tq, tk))
    rand = (rng.random((n, tq, tk)) < 0.6).astype(np.float64)
    rand[::3, 1] = 0.0
    proj = Project(q, cfg)
    ref = proj.predict_raw([*xs, causal, rand])
    sim = proj.csim_raw([*xs, causal, rand])
    for name, a, b in zip(g.outputs, ref, sim, strict=True):
        assert np.any(a), name
        np.testing.assert_array_equal(np.asarray(a).reshape(b.shape), b, err_msg=name)
