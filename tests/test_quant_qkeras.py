"""hlsgen.quant.qkeras: QKeras quantizers map to FixedTypes whose values EQUAL QKeras's own output.

QKeras evaluates in float32 and returns ``x + stop_gradient(-x + xq)``. The comparison is meaningful only
when that float32 arithmetic is exact, so every input here is a float32 number chosen to keep it exact:

* grid inputs ``k * g`` with ``g`` a quarter of the finest output step (so exact ties k+0.5 LSB, values
  on the grid and values between occur), ``|k| <= 2**21``: ``x``, the output and ``x - output`` are all
  multiples of ``g`` below ``2**24 * g``, hence exact float32 numbers;
* arbitrary float32 numbers (normal samples, tiny values) when alpha is 1: inside the range
  ``|x - xq| <= LSB/2`` is then exact in float32 (see the module docstring of hlsgen.quant.qkeras);
* for quantized_relu any float32 number, huge ones included, because QKeras clips ``x_u`` first.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow

tf = pytest.importorskip("tensorflow")
qk = pytest.importorskip("qkeras")

from hlsgen.fixed import FixedType, quantize  # noqa: E402
from hlsgen.quant import QuantSpec, apply, quantizer_to_type  # noqa: E402


def qkeras_values(q, x: np.ndarray) -> np.ndarray:
    """QKeras's own output for float32 inputs, as float64."""
    x32 = np.asarray(x, dtype=np.float32)
    return np.asarray(q(tf.constant(x32)).numpy(), dtype=np.float64)


def grid_inputs(step: float, max_abs: float, rng: np.random.Generator, n: int = 6000) -> np.ndarray:
    """Multiples of ``g = step / 4`` covering three times the range (capped at 2**21 g), as float32."""
    g = step / 4
    kmax = int(min(np.ceil(3 * max_abs / g) + 8, 2**21))
    if 2 * kmax + 1 <= n:
        k = np.arange(-kmax, kmax + 1)
    else:
        edge = int(round(max_abs / g))
        parts = [rng.integers(-kmax, kmax + 1, n), np.arange(-64, 65)]  # ties at +-0.5, +-1.5 LSB
        if edge + 16 <= kmax:  # around the saturation bounds
            parts += [edge + np.arange(-16, 17), -edge + np.arange(-16, 17)]
        k = np.concatenate(parts)
    x = k.astype(np.float64) * g
    x32 = x.astype(np.float32)
    assert np.array_equal(x32.astype(np.float64), x), "inputs must be exact float32 numbers"
    return x32


def float_inputs(max_abs: float, rng: np.random.Generator, n: int = 3000) -> np.ndarray:
    """Arbitrary float32 numbers inside the range, plus tiny ones.

    Beyond the range QKeras's ``x + (xq - x)`` is exact only while ``xq - x`` fits in 24 bits; for a
    24-bit type an arbitrary float32 twice the maximum already breaks that (QKeras then returns a float32
    rounding of the saturated value), so arbitrary values stay inside and the grid covers the outside.
    """
    x = rng.normal(size=n) * max_abs * 0.6
    x = x[np.abs(x) <= max_abs]
    x = np.concatenate([x, rng.normal(size=200) * 1e-6, [0.0, -0.0, 1e-30, -1e-30]])
    return x.astype(np.float32)


def assert_matches(q, x32: np.ndarray, spec: QuantSpec | None = None) -> np.ndarray:
    spec = quantizer_to_type(q) if spec is None else spec
    want = qkeras_values(q, x32)
    got = apply(spec, x32.astype(np.float64))
    np.testing.assert_array_equal(got, want, err_msg=repr(spec))
    return got


# ---------------------------------------------------------------------------------------------------
# the type table
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spelling, expected",
    [
        ("quantized_bits(8,0,alpha=1)", "ap_fixed<8,1,AP_RND_CONV,AP_SAT>"),
        ("quantized_bits(8,0)", "ap_fixed<8,1,AP_RND_CONV,AP_SAT>"),
        ("quantized_bits(8,0,1,alpha=1)", "ap_fixed<8,1,AP_RND_CONV,AP_SAT_SYM>"),
        ("quantized_bits(16,6,alpha=1.0)", "ap_fixed<16,7,AP_RND_CONV,AP_SAT>"),
        ("quantized_bits(4,6,alpha=1)", "ap_fixed<4,7,AP_RND_CONV,AP_SAT>"),
        ("quantized_bits(6,2,keep_negative=False,alpha=1)", "ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"),
        ("quantized_bits(6,2,1,keep_negative=False)", "ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"),
        ("quantized_relu(6,2)", "ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"),
        ("quantized_relu(8,0)", "ap_ufixed<8,0,AP_RND_CONV,AP_SAT>"),
        ("quantized_relu(1,0)", "ap_ufixed<1,0,AP_RND_CONV,AP_SAT>"),
    ],
)
def test_type_table(spelling: str, expected: str) -> None:
    spec = quantizer_to_type(spelling)
    assert spec.type == FixedType.parse(expected)
    assert spec.shift is None
    # the object and its serialised form map the same way
    obj = qk.quantizers.get_quantizer(spelling)
    assert quantizer_to_type(obj) == spec
    ser = {"class_name": type(obj).__name__, "config": obj.get_config()}
    assert quantizer_to_type(ser) == spec


# ---------------------------------------------------------------------------------------------------
# values equal QKeras's
# ---------------------------------------------------------------------------------------------------
BITS_CONFIGS = [
    (bits, integer, symmetric, keep_negative, alpha)
    for bits, integer in [
        (2, 0),
        (3, 0),
        (4, 1),
        (6, 2),
        (8, 0),
        (8, 3),
        (8, 7),
        (8, 10),
        (12, 4),
        (16, 6),
        (24, 2),
    ]
    for symmetric in (0, 1)
    for keep_negative in (True, False)
    for alpha in (None, 1)
] + [(1, 0, 0, False, 1), (1, 2, 0, False, None)]


@pytest.mark.parametrize("bits, integer, symmetric, keep_negative, alpha", BITS_CONFIGS)
def test_quantized_bits_equals_qkeras(bits, integer, symmetric, keep_negative, alpha) -> None:
    rng = np.random.default_rng(bits * 1000 + integer * 10 + symmetric * 2 + keep_negative)
    q = qk.quantized_bits(bits, integer, symmetric=symmetric, keep_negative=keep_negative, alpha=alpha)
    spec = quantizer_to_type(q)
    t = spec.type
    assert (t.width, t.signed) == (bits, keep_negative)
    # just beyond both bounds (exact in float32 even for 24 bits, where the grid stays inside the range)
    beyond = np.array([t.max + t.lsb, -(t.max + t.lsb), t.min - t.lsb], dtype=np.float32)
    x = np.concatenate([grid_inputs(t.lsb, max(abs(t.min), t.max), rng), float_inputs(t.max, rng), beyond])
    got = assert_matches(q, x, spec)
    # the comparison saw ties, saturation on both sides and negatives
    scaled = x.astype(np.float64) / t.lsb
    assert np.any(np.abs(scaled - np.floor(scaled)) == 0.5)
    assert np.any(got == t.max) and np.any(x > t.max)
    if keep_negative:
        lo = -t.max if symmetric else t.min
        assert np.any(got == lo) and np.any(x < lo) and got.min() == lo
    else:
        assert np.all(got[x < 0] == 0)


@pytest.mark.parametrize("alpha", [0.5, 4, 0.125, "per_channel"])
def test_quantized_bits_po2_alpha(alpha) -> None:
    rng = np.random.default_rng(7)
    shape = (40, 4)
    if alpha == "per_channel":
        alpha = np.array([[0.25, 1.0, 2.0, 0.5]], dtype=np.float32)
    q = qk.quantized_bits(6, 1, alpha=alpha)
    spec = quantizer_to_type(q)
    assert spec.type == FixedType.parse("ap_fixed<6,2,AP_RND_CONV,AP_SAT>") and not spec.shift_input
    assert np.array_equal(np.ldexp(1.0, spec.shift), np.broadcast_to(alpha, spec.shift.shape))
    step = spec.type.lsb * float(np.min(alpha))  # finest output step
    x = grid_inputs(step, spec.type.max * 1.5, rng, n=int(np.prod(shape)) * 30)
    x = x[: (x.size // shape[1]) * shape[1]].reshape(-1, shape[1])
    assert_matches(q, x, spec)


RELU_CONFIGS = [(1, 0), (2, 0), (4, 0), (4, 2), (6, 2), (8, 0), (8, 3), (8, 9), (16, 6), (24, 4)]


@pytest.mark.parametrize("bits, integer", RELU_CONFIGS)
@pytest.mark.parametrize("clip", ["quantized", "none"])
def test_quantized_relu_equals_qkeras(bits, integer, clip) -> None:
    rng = np.random.default_rng(bits * 100 + integer)
    if clip == "quantized":
        q = qk.quantized_relu(bits, integer)
    else:
        q = qk.quantized_relu(bits, integer, is_quantized_clip=False, relu_upper_bound=None)
    spec = quantizer_to_type(q)
    t = spec.type
    assert t == FixedType(bits, integer, False, "AP_RND_CONV", "AP_SAT")
    huge = np.array([1e6, -1e6, 3e30, -3e30, 2.0**100, t.max * 1.25, -t.max], dtype=np.float32)
    beyond = np.array([t.max + t.lsb, -t.lsb], dtype=np.float32)
    x = np.concatenate([grid_inputs(t.lsb, t.max, rng), float_inputs(t.max, rng), beyond])
    if clip == "quantized":  # with x_u clipped first, every float32 input is exact
        x = np.concatenate([x, huge])
    got = assert_matches(q, x, spec)
    assert np.all(got[x < 0] == 0) and got.max() == t.max
    scaled = x.astype(np.float64) / t.lsb
    assert np.any((np.abs(scaled - np.floor(scaled)) == 0.5) & (x > 0) & (x < t.max))


# ---------------------------------------------------------------------------------------------------
# auto_po2: per-channel power-of-two scales read from the quantizer after it ran on the weights
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bits, integer", [(4, 0), (6, 0), (8, 1), (12, 2)])
@pytest.mark.parametrize("keep_negative", [True, False])
@pytest.mark.parametrize("shape", [(16, 8), (8, 2, 4), (4, 3, 6), (12,)])
def test_auto_po2_weights(bits, integer, keep_negative, shape) -> None:
    rng = np.random.default_rng(bits + 10 * integer + 100 * len(shape) + keep_negative)
    # weights on a fine power-of-two grid (exact float32), a spread of magnitudes per channel so the
    # scales differ, and many exact ties k+0.5 of the chosen scale; one channel all zero
    mags = 2.0 ** rng.integers(-3, 3, size=shape[-1])
    w = np.round(rng.normal(size=shape) * mags * 2.0**12) / 2.0**12
    if len(shape) > 1:
        w[..., 0] = 0.0
    w = w.astype(np.float32)
    q = qk.quantized_bits(bits, integer, keep_negative=keep_negative, alpha="auto_po2")
    want = qkeras_values(q, w)
    spec = quantizer_to_type(q)  # uses q.scale from the call above
    assert spec.shift_input and spec.shift is not None
    assert spec.type == FixedType(bits, integer + keep_negative, True, "AP_RND_INF", "AP_SAT_SYM")
    got = apply(spec, w.astype(np.float64))
    np.testing.assert_array_equal(got, want)
    # the same through weights= (a fresh quantizer, called by the mapping)
    q2 = qk.quantized_bits(bits, integer, keep_negative=keep_negative, alpha="auto_po2")
    assert quantizer_to_type(q2, weights=w) == spec
    # the values lie on the shifted grid of the type, within the symmetric range
    unshifted = np.ldexp(got, -spec.shift)
    np.testing.assert_array_equal(quantize(unshifted, spec.type), unshifted)
    assert np.all(np.abs(unshifted) <= spec.type.max)


def test_auto_po2_rounds_half_away_from_zero() -> None:
    """Ties of auto_po2 go away from zero (AP_RND_INF), unlike the half-to-even of the fixed alphas."""
    w = np.array([[1.0, -1.0], [0.5 / 8, -0.5 / 8], [1.5 / 8, -1.5 / 8], [2.5 / 8, -2.5 / 8]], np.float32)
    q = qk.quantized_bits(4, 0, alpha="auto_po2")
    want = qkeras_values(q, w)
    spec = quantizer_to_type(q)
    np.testing.assert_array_equal(apply(spec, w), want)
    lsb = spec.type.lsb * 2.0 ** spec.shift[0, 0]
    assert lsb == 1 / 8
    np.testing.assert_array_equal(want[1:] / lsb, [[1, -1], [2, -2], [3, -3]])


def test_auto_po2_needs_scale() -> None:
    with pytest.raises(ValueError, match="auto_po2"):
        quantizer_to_type(qk.quantized_bits(8, 0, alpha="auto_po2"))


# ---------------------------------------------------------------------------------------------------
# what is not supported says so, naming the quantizer
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spelling, name",
    [
        ("quantized_bits(8,0,alpha='auto')", "quantized_bits"),
        ("quantized_bits(8,0,alpha=3)", "quantized_bits"),
        ("quantized_bits(8,0,alpha=1,use_stochastic_rounding=1)", "quantized_bits"),
        ("quantized_bits(1,0)", "quantized_bits"),
        ("quantized_bits(8,-2)", "quantized_bits"),
        ("quantized_bits(8,0,qnoise_factor=0.5)", "quantized_bits"),
        ("quantized_relu(4,0,negative_slope=0.25)", "quantized_relu"),
        ("quantized_relu(4,0,use_sigmoid=1)", "quantized_relu"),
        ("quantized_relu(4,2,is_quantized_clip=False,relu_upper_bound=1.0)", "quantized_relu"),
        ("quantized_po2(4)", "quantized_po2"),
        ("quantized_relu_po2(4)", "quantized_relu_po2"),
        ("ternary()", "ternary"),
        ("binary()", "binary"),
        ("stochastic_binary()", "stochastic_binary"),
        ("quantized_tanh(4)", "quantized_tanh"),
        ("quantized_hswish(8,3)", "quantized_hswish"),
    ],
)
def test_unsupported(spelling: str, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        quantizer_to_type(spelling)


def test_not_a_quantizer() -> None:
    with pytest.raises(ValueError):
        quantizer_to_type(None)
    with pytest.raises(ValueError):
        quantizer_to_type(lambda x: x)
