"""LayerNorm primitive: the 1/sqrt table built once, reference against float (with a derived bound), and
csim equal to the reference bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from hlsgen.backends.hls.ops import hls_call
from hlsgen.config import Config
from hlsgen.fixed import FixedType, from_raw, quantize, to_raw
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import LayerNorm
from hlsgen.ir.ops.layernorm import inv_sqrt_geometry, inv_sqrt_table
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph

TYPES = ["ap_fixed<8,3>", "ap_fixed<16,6>", "ap_fixed<24,8>"]


def _params(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    """gamma and beta on a 2^-6 grid: exact in the default ap_fixed<16,6> weights, so only the
    datapath's roundings separate the reference from float."""
    return np.round(rng.normal(1.0, 0.3, d) * 64) / 64, np.round(rng.normal(0.0, 0.3, d) * 64) / 64


def _graph(shape: tuple[int, ...], rng: np.random.Generator, eps: float = 1e-3) -> Graph:
    g = Graph("ln")
    x = g.add_tensor("x", shape)
    y = g.add_tensor("y", shape)
    g.inputs, g.outputs = [x], [y]
    gamma, beta = _params(rng, shape[-1])
    g.add_op(LayerNorm("ln", [x], [y], gamma=gamma, beta=beta, epsilon=eps))
    return g


def _rows(rng: np.random.Generator, n: int, shape: tuple[int, ...], t: str) -> np.ndarray:
    """Rows with standard deviations from 0.1 to 4 (variances 0.01 to 16), offsets, and constant rows."""
    sd = np.exp(rng.uniform(np.log(0.1), np.log(4.0), size=(n, *shape[:-1], 1)))
    x = rng.normal(0.0, 1.0, size=(n, *shape)) * sd + rng.normal(0.0, 0.5, size=(n, *shape[:-1], 1))
    x[::9] = 0.75  # var = 0: the subnormal segment, address 0
    return from_raw(to_raw(x, t), FixedType.parse(t))


def _error_bound(op: LayerNorm, x: np.ndarray) -> np.ndarray:
    """Per-element bound on |reference - float| (same quantized inputs, exact gamma and beta), first order
    in each rounding the reference performs:

    - mean: cast to mean_type (half an LSB) after the product with 1/D (a rounded 18-bit constant unless D
      is a power of two): dm <= lsb_m / 2 + |sum x| |c - 1/D|;
    - variance about the rounded mean is var + dm^2, times c, cast: dv <= dm^2 + var |cD - 1| + lsb_v / 2;
    - 1/sqrt: the table entry is 1/sqrt at the centre of a bucket of relative width 2^-M, so within
      2^-(M+2) (1.02 for the second order), plus the rounding of the entry (half an LSB over the smallest
      entry), plus dv / (2 (var + eps)) from the variance;
    - norm = (x - mean') / sqrt: |dm| / sqrt(var + eps) + |norm| eps_inv + lsb_n / 2 (AP_RND);
    - y = gamma norm + beta is exact before the output cast, which loses at most one LSB (AP_TRN).
    """
    t = op.types
    d = x.shape[-1]
    c = op.c_raw / 2.0**op.c_frac
    assert op.geometry is not None and op.table_raw is not None
    m = op.geometry.mant_bits
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(var + op.epsilon)
    norm = (x - mean) * inv
    dm = t["mean"].lsb / 2 + np.abs(x.sum(axis=-1, keepdims=True)) * abs(c - 1.0 / d)
    dv = dm**2 + var * abs(c * d - 1) + t["var"].lsb / 2
    smallest = from_raw(op.table_raw[op.table_raw > 0], t["table"]).min()
    eps_inv = 2.0 ** -(m + 2) * 1.02 + t["table"].lsb / (2 * smallest) + dv / (2 * (var + op.epsilon))
    dn = dm * inv + np.abs(norm) * eps_inv + t["norm"].lsb / 2
    return np.abs(op.gamma) * dn + t["y"].lsb


# ---------------------------------------------------------------------------------------------------
def test_table_is_built_once_and_is_the_hls_param() -> None:
    rng = np.random.default_rng(0)
    cfg = Config()
    q = quantize_graph(_graph((2, 16), rng), cfg)
    op = q.ops[0]
    assert isinstance(op, LayerNorm) and op.geometry is not None
    call = hls_call(op, q)
    table = next(p for p in call.params if p.name == "inv_sqrt_ln")
    assert table.raw is op.table_raw and table.type == op.types["table"]
    fresh = inv_sqrt_table(
        inv_sqrt_geometry(op.types["var"], cfg.layernorm.table_bits, 1e-3), 1e-3, table.type
    )
    np.testing.assert_array_equal(fresh, op.table_raw)
    # the reference reads it: a zero table zeroes the normalised part, leaving beta
    x = to_raw(rng.normal(size=(3, 2, 16)), op.types["x"])
    op.table_raw[:] = 0
    y = from_raw(op.execute(x)[0], op.types["y"])
    np.testing.assert_array_equal(y, np.broadcast_to(op.beta, y.shape))


def test_table_geometry_and_contents() -> None:
    tv = FixedType.parse("ap_ufixed<26,8,AP_RND,AP_SAT>")
    geo = inv_sqrt_geometry(tv, 8, 1e-3)
    assert (geo.n_segments, geo.size) == (19, 19 * 256)
    tt = FixedType.parse("ap_ufixed<18,1,AP_RND,AP_SAT>")
    entries = from_raw(inv_sqrt_table(geo, 1e-3, tt), tt)
    assert entries.max() <= 2**0.5 and entries.min() > 0.5
    # the entry times 2^-k is within 2^-(M+2) (plus rounding) of 1/sqrt(v + eps) over 1e-4 .. 200
    op = LayerNorm("ln", [], [], gamma=np.ones(1), beta=np.zeros(1))
    op.types["var"], op.geometry, op.table_raw = tv, geo, inv_sqrt_table(geo, 1e-3, tt)
    v = np.exp(np.random.default_rng(1).uniform(np.log(1e-4), np.log(200.0), 20000))
    raw = to_raw(v, tv)
    e, k = op.lookup(raw)
    got = from_raw(e, tt) * 2.0 ** -k.astype(float)
    want = 1.0 / np.sqrt(from_raw(raw, tv) + 1e-3)
    assert np.max(np.abs(got / want - 1)) < 2.0**-10 * 1.02 + 2.0**-17


@pytest.mark.parametrize("d", [8, 12, 64])
@pytest.mark.parametrize("in_type", TYPES)
def test_reference_against_float(in_type: str, d: int) -> None:
    rng = np.random.default_rng(10 * TYPES.index(in_type) + d)
    shape = (3, d)
    g = _graph(shape, rng, eps=1e-3 if d != 12 else 1e-5)
    x = _rows(rng, 300, shape, in_type)
    cfg = {"default_precision": in_type, "default_weight_precision": "ap_fixed<16,6>"}
    q = quantize_graph(g, Config.from_dict(cfg))  # input and output of in_type; internal types: defaults
    op = q.ops[0]
    got = q.predict([x])[0]
    want = g.run_float([x])["y"]
    bound = _error_bound(op, x)
    ty = op.types["y"]
    inside = (want - bound >= ty.min) & (want + bound <= ty.max)  # elsewhere the output type wraps
    assert inside.mean() > 0.99
    excess = np.where(inside, np.abs(got - want) - bound, 0.0)
    assert excess.max() <= 1e-12, (
        f"worst excess {excess.max()} at {np.unravel_index(excess.argmax(), x.shape)}"
    )
    if in_type == "ap_fixed<16,6>":  # the figure in LayerNormConfig's comment: a few output LSBs
        assert np.abs(got - want).max() < 8 * q.tensors["y"].type.lsb
    if d in (8, 64):  # power of two: the mean is exact, a constant row gives beta exactly
        np.testing.assert_array_equal(
            got[::9], np.broadcast_to(quantize(op.beta, op.types["y"]), got[::9].shape)
        )


# ---------------------------------------------------------------------------------------------------
@pytest.mark.gxx
def test_csim_equals_reference() -> None:
    """One build holds every case side by side: three input types, D a power of two or not, eps from 1e-5
    to 5e-2, constant rows (the subnormal segment), and a custom config with narrow types and other
    rounding modes."""
    rng = np.random.default_rng(3)
    cases = {
        "ln16": ((4, 16), "ap_fixed<16,6>", 1e-3),
        "ln12": ((3, 12), "ap_fixed<16,6>", 1e-5),
        "ln8": ((2, 8), "ap_fixed<8,3>", 1e-3),
        "ln24": ((2, 20), "ap_fixed<24,8>", 1e-3),
        "custom": ((3, 16), "ap_fixed<16,6>", 5e-2),
    }
    g = Graph("layernorm_csim")
    layers: dict = {}
    for name, (shape, t, eps) in cases.items():
        x = g.add_tensor(f"x_{name}", shape)
        y = g.add_tensor(f"y_{name}", shape)
        g.inputs.append(x)
        g.outputs.append(y)
        gamma, beta = _params(rng, shape[-1])
        g.add_op(LayerNorm(name, [x], [y], gamma=gamma, beta=beta, epsilon=eps))
        layers[x] = {"result": t}
        layers[name] = {"result": t}
    layers["custom"] = {
        "result": "ap_fixed<12,4,AP_RND,AP_SAT>",
        "weight": "ap_fixed<10,3>",
        "bias": "ap_fixed<10,3,AP_RND_CONV>",
        "layernorm": {
            "table_bits": 5,
            "var_type": "ap_ufixed<16,4,AP_RND_CONV,AP_SAT>",
            "mean_type": "ap_fixed<18,6,AP_RND_ZERO,AP_SAT>",
            "norm_type": "ap_fixed<14,4>",
            "inv_sqrt_type": "ap_ufixed<14,1,AP_RND_INF,AP_SAT>",
        },
    }
    cfg = Config.from_dict({"project_name": "layernorm_csim", "layers": layers})
    q = quantize_graph(g, cfg)
    xs = [_rows(rng, 200, shape, t) for shape, t, _ in cases.values()]
    proj = Project(q, cfg)
    ref = proj.predict_raw(xs)
    sim = proj.csim_raw(xs)
    for name, a, b in zip(g.outputs, ref, sim, strict=True):
        assert np.any(a), name
        np.testing.assert_array_equal(np.asarray(a).reshape(b.shape), b, err_msg=name)
