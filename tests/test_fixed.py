"""hlsgen.fixed by hand: spellings, errors, the Vitis HLS user guide's examples, each rounding mode on
ties and each overflow mode. The comparison with g++ and the real headers is test_fixed_differential."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from hlsgen.fixed import (
    MAX_WIDTH,
    FixedType,
    Overflow,
    Rounding,
    add,
    add_type,
    convert,
    from_raw,
    mul,
    mul_type,
    quantize,
    sub,
    sub_type,
    to_raw,
)

# ---------------------------------------------------------------------------------------------------
# spellings
# ---------------------------------------------------------------------------------------------------
CANONICAL = [
    "ap_fixed<16,6>",
    "ap_fixed<1,1>",
    "ap_fixed<8,-3>",
    "ap_fixed<5,12>",
    "ap_ufixed<8,0>",
    "ap_ufixed<1,-7>",
    "ap_fixed<16,6,AP_RND>",
    "ap_fixed<16,6,AP_RND_CONV,AP_SAT>",
    "ap_ufixed<12,4,AP_TRN_ZERO,AP_SAT_SYM>",
    "ap_fixed<18,8,AP_RND_INF,AP_SAT_ZERO>",
    "ap_fixed<10,3,AP_RND_MIN_INF,AP_WRAP_SM>",
    "ap_fixed<10,3,AP_RND_ZERO,AP_WRAP,2>",
    "ap_fixed<10,3,AP_TRN,AP_WRAP_SM,3>",
    "ap_ufixed<10,3,AP_TRN,AP_WRAP,1>",
    "ap_fixed<8,4,AP_TRN,AP_SAT>",
    "ap_fixed<1024,512>",
    "ap_int<8>",
    "ap_int<1>",
    "ap_uint<1>",
    "ap_uint<64>",
    "ap_int<1024>",
]


@pytest.mark.parametrize("spelling", CANONICAL)
def test_spelling_round_trip(spelling: str) -> None:
    t = FixedType.parse(spelling)
    assert str(t) == spelling
    assert FixedType.parse(str(t)) == t


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("ap_fixed<16,6,AP_TRN>", "ap_fixed<16,6>"),
        ("ap_fixed<16,6,AP_TRN,AP_WRAP>", "ap_fixed<16,6>"),
        ("ap_fixed<16,6,AP_TRN,AP_WRAP,0>", "ap_fixed<16,6>"),
        ("ap_fixed<16,6,AP_RND,AP_WRAP>", "ap_fixed<16,6,AP_RND>"),
        ("ap_fixed<16,6,AP_RND,AP_SAT,0>", "ap_fixed<16,6,AP_RND,AP_SAT>"),
        ("  ap_ufixed < 8 , 3 , AP_RND , AP_SAT >  ", "ap_ufixed<8,3,AP_RND,AP_SAT>"),
        ("ap_fixed<0x10,6>", "ap_fixed<16,6>"),
        ("ap_uint< 12 >", "ap_uint<12>"),
    ],
)
def test_spelling_normalised(spelling: str, canonical: str) -> None:
    assert str(FixedType.parse(spelling)) == canonical


def test_parsed_fields() -> None:
    t = FixedType.parse("ap_ufixed<12,4,AP_RND_CONV,AP_WRAP,2>")
    assert (t.width, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits) == (
        12,
        4,
        False,
        Rounding.RND_CONV,
        Overflow.WRAP,
        2,
    )
    assert (t.frac, t.raw_min, t.raw_max, t.lsb, t.max) == (8, 0, 4095, 2.0**-8, 4095 / 256)
    i = FixedType.parse("ap_int<8>")
    assert (i.width, i.integer, i.signed, i.is_int, i.min, i.max) == (8, 8, True, True, -128.0, 127.0)
    assert FixedType.parse(t) is t


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("ap_fixed<0,3>", "outside 1..1024"),
        ("ap_fixed<1025,3>", "outside 1..1024"),
        ("ap_int<2000>", "outside 1..1024"),
        ("ap_uint<0>", "outside 1..1024"),
        ("ap_ufixed<8,4,AP_RND,AP_WRAP_SM>", "AP_WRAP_SM"),
        ("ap_fixed<8,4,AP_ROUND>", "unknown rounding mode 'AP_ROUND'"),
        ("ap_fixed<8,4,AP_RND,AP_SATURATE>", "unknown overflow mode 'AP_SATURATE'"),
        ("ap_fixed<8,4,AP_SAT>", "unknown rounding mode 'AP_SAT'"),
        ("ap_fixed<8,4,AP_RND,AP_SAT,2>", "apply only to AP_WRAP"),
        ("ap_fixed<8,4,AP_RND,AP_WRAP,9>", "N=9"),
        ("ap_fixed<8,4,AP_RND,AP_WRAP,x>", "saturation bits N must be an integer"),
        ("ap_fixed<16>", "2 to 5 arguments"),
        ("ap_fixed<16,6,AP_RND,AP_SAT,1,2>", "2 to 5 arguments"),
        ("ap_int<8,4>", "exactly one argument"),
        ("ap_fixed<a,b>", "the width W must be an integer"),
        ("ap_fixed<16,6", "cannot read fixed-point type"),
        ("ap_fixed<ap_fixed<8,4>,2>", "cannot read fixed-point type"),
        ("float", "cannot read fixed-point type"),
        ("", "cannot read fixed-point type"),
        ("ap_float<16,6>", "cannot read fixed-point type"),
    ],
)
def test_parse_errors(spelling: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        FixedType.parse(spelling)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        FixedType.parse(16)  # type: ignore[arg-type]


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="AP_WRAP_SM"):
        FixedType(8, 4, signed=False, overflow=Overflow.WRAP_SM)
    with pytest.raises(ValueError, match="default modes"):
        FixedType(8, 8, rounding=Rounding.RND, is_int=True)
    with pytest.raises(ValueError, match="outside"):
        FixedType(MAX_WIDTH + 1, 3)
    with pytest.raises(ValueError):
        FixedType(8, 4, rounding="AP_NEAREST")


# ---------------------------------------------------------------------------------------------------
# Vitis HLS user guide (UG1399, "Arbitrary Precision Fixed-Point Data Types")
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spelling", "x", "value"),
    [
        ("ap_fixed<4,4,AP_RND,AP_SAT>", 19.0, 7.0),
        ("ap_fixed<4,4,AP_RND,AP_SAT>", -19.0, -8.0),
        ("ap_fixed<4,4,AP_RND,AP_SAT_SYM>", 19.0, 7.0),
        ("ap_fixed<4,4,AP_RND,AP_SAT_SYM>", -19.0, -7.0),
        ("ap_fixed<3,2,AP_RND>", 1.25, 1.5),
        ("ap_fixed<3,2,AP_RND>", -1.25, -1.0),
        ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", 19.0, 0.0),
        ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", -19.0, 0.0),
        ("ap_fixed<4,4,AP_RND,AP_WRAP>", 19.0, 3.0),
        ("ap_fixed<4,4,AP_RND,AP_WRAP>", -19.0, -3.0),
        ("ap_fixed<4,4,AP_RND,AP_WRAP_SM>", 19.0, -4.0),
        ("ap_fixed<4,4,AP_RND,AP_WRAP_SM>", -19.0, 2.0),
        ("ap_fixed<3,2,AP_RND_ZERO>", 1.25, 1.0),
        ("ap_fixed<3,2,AP_RND_ZERO>", -1.25, -1.0),
        ("ap_fixed<3,2,AP_RND_MIN_INF>", 1.25, 1.0),
        ("ap_fixed<3,2,AP_RND_MIN_INF>", -1.25, -1.5),
        ("ap_fixed<3,2,AP_RND_INF>", 1.25, 1.5),
        ("ap_fixed<3,2,AP_RND_INF>", -1.25, -1.5),
        ("ap_fixed<3,2,AP_RND_CONV>", 0.75, 1.0),
        ("ap_fixed<3,2,AP_RND_CONV>", -1.25, -1.0),
        ("ap_fixed<3,2,AP_TRN>", 1.25, 1.0),
        ("ap_fixed<3,2,AP_TRN>", -1.25, -1.5),
        ("ap_fixed<3,2,AP_TRN_ZERO>", 1.25, 1.0),
        ("ap_fixed<3,2,AP_TRN_ZERO>", -1.25, -1.0),
    ],
)
def test_user_guide_examples(spelling: str, x: float, value: float) -> None:
    assert quantize(x, spelling) == value


# ---------------------------------------------------------------------------------------------------
# every rounding mode on ties, every overflow mode, by hand
# ---------------------------------------------------------------------------------------------------
TIES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
ROUNDED = {
    Rounding.RND: [-2, -1, 0, 1, 2, 3],  # half toward +infinity
    Rounding.RND_ZERO: [-2, -1, 0, 0, 1, 2],  # half toward zero
    Rounding.RND_MIN_INF: [-3, -2, -1, 0, 1, 2],  # half toward -infinity
    Rounding.RND_INF: [-3, -2, -1, 1, 2, 3],  # half away from zero
    Rounding.RND_CONV: [-2, -2, 0, 0, 2, 2],  # half to even
    Rounding.TRN: [-3, -2, -1, 0, 1, 2],  # floor
    Rounding.TRN_ZERO: [-2, -1, 0, 0, 1, 2],  # toward zero
}


@pytest.mark.parametrize("mode", list(Rounding), ids=[m.value for m in Rounding])
def test_rounding_on_ties(mode: Rounding) -> None:
    t = FixedType(8, 8, rounding=mode)
    np.testing.assert_array_equal(to_raw(np.array(TIES), t), ROUNDED[mode])
    # the same ties one LSB further down in a fractional type, and in a conversion
    tf = FixedType(8, 4, rounding=mode)
    np.testing.assert_array_equal(quantize(np.array(TIES) / 16, tf), np.array(ROUNDED[mode]) / 16)
    src = FixedType(12, 8)
    np.testing.assert_array_equal(convert(to_raw(np.array(TIES), src), src, t), ROUNDED[mode])


@pytest.mark.parametrize("mode", list(Rounding), ids=[m.value for m in Rounding])
def test_rounding_off_ties(mode: Rounding) -> None:
    """Away from ties every nearest mode agrees, and values just beside a tie go to its sides."""
    t = FixedType(8, 8, rounding=mode)
    x = np.array([-1.75, -1.25, 1.25, 1.75, np.nextafter(0.5, 1), np.nextafter(-0.5, 0)])
    got = to_raw(x, t)
    if mode is Rounding.TRN:
        np.testing.assert_array_equal(got, [-2, -2, 1, 1, 0, -1])
    elif mode is Rounding.TRN_ZERO:
        np.testing.assert_array_equal(got, [-1, -1, 1, 1, 0, 0])
    else:
        np.testing.assert_array_equal(got, [-2, -1, 1, 2, 1, 0])


OVERFLOWED = {  # ap_fixed<4,4,AP_TRN,O> / ap_ufixed<4,4,AP_TRN,O> for 9, -9, 19, -19, 7, -8
    "ap_fixed<4,4,AP_TRN,AP_SAT>": [7, -8, 7, -8, 7, -8],
    "ap_fixed<4,4,AP_TRN,AP_SAT_ZERO>": [0, 0, 0, 0, 7, -8],
    "ap_fixed<4,4,AP_TRN,AP_SAT_SYM>": [7, -7, 7, -7, 7, -7],
    "ap_fixed<4,4,AP_TRN,AP_WRAP>": [-7, 7, 3, -3, 7, -8],
    "ap_fixed<4,4,AP_TRN,AP_WRAP_SM>": [6, -8, -4, 2, 7, -8],
    # N = 1: the sign bit saturates; N = 2: the sign and the next bit
    "ap_fixed<4,4,AP_TRN,AP_WRAP,1>": [1, -1, 3, -3, 7, -8],
    "ap_fixed<4,4,AP_TRN,AP_WRAP,2>": [5, -5, 7, -7, 7, -8],
    "ap_fixed<4,4,AP_TRN,AP_WRAP_SM,1>": [6, -8, 3, -3, 7, -8],
    "ap_ufixed<4,4,AP_TRN,AP_SAT>": [9, 0, 15, 0, 7, 0],
    "ap_ufixed<4,4,AP_TRN,AP_SAT_ZERO>": [9, 0, 0, 0, 7, 0],
    "ap_ufixed<4,4,AP_TRN,AP_SAT_SYM>": [9, 0, 15, 0, 7, 0],
    "ap_ufixed<4,4,AP_TRN,AP_WRAP>": [9, 7, 3, 13, 7, 8],
    "ap_ufixed<4,4,AP_TRN,AP_WRAP,1>": [9, 15, 11, 13, 7, 8],
}


@pytest.mark.parametrize("spelling", list(OVERFLOWED))
def test_overflow_modes(spelling: str) -> None:
    x = np.array([9.0, -9.0, 19.0, -19.0, 7.0, -8.0])
    np.testing.assert_array_equal(to_raw(x, spelling), OVERFLOWED[spelling])
    src = FixedType(12, 8)
    np.testing.assert_array_equal(convert(to_raw(x, src), src, spelling), OVERFLOWED[spelling])


def test_sat_sym_in_one_bit() -> None:
    """In one signed bit the headers' -max pattern (1 | 1) is -1: AP_SAT_SYM saturates like AP_SAT."""
    t = "ap_fixed<1,1,AP_TRN,AP_SAT_SYM>"
    np.testing.assert_array_equal(to_raw(np.array([-3.0, -1.0, 0.0, 2.0]), t), [-1, -1, 0, 0])


def test_rounding_carry_then_saturation() -> None:
    """Rounding up past the maximum overflows: saturate, zero or wrap."""
    x = np.array([7.75])
    assert to_raw(x, "ap_fixed<4,4,AP_RND,AP_SAT>")[0] == 7
    assert to_raw(x, "ap_fixed<4,4,AP_RND,AP_SAT_ZERO>")[0] == 0
    assert to_raw(x, "ap_fixed<4,4,AP_RND,AP_WRAP>")[0] == -8
    assert to_raw(np.array([-8.25]), "ap_fixed<4,4,AP_RND,AP_SAT_SYM>")[0] == -7


# ---------------------------------------------------------------------------------------------------
# ap_int / ap_uint targets: C's double -> int, and two quirks of the headers kept for bit-exactness
# ---------------------------------------------------------------------------------------------------
def test_ap_int_truncates_toward_zero() -> None:
    np.testing.assert_array_equal(
        to_raw(np.array([-1.5, -1.0, 1.5, 300.7, -300.7]), "ap_int<8>"), [-1, -1, 1, 44, -44]
    )
    np.testing.assert_array_equal(to_raw(np.array([-1.5, 255.9, 256.0]), "ap_uint<8>"), [255, 255, 0])
    src = FixedType(16, 8)
    np.testing.assert_array_equal(convert(to_raw(np.array([-1.5, 2.75]), src), src, "ap_int<8>"), [-1, 2])


def test_ap_int_header_quirks() -> None:
    # ap_int_base(double) turns every x in (-0.5, 0) into 1
    np.testing.assert_array_equal(to_raw(np.array([-0.25, -0.5, -0.0, -1e-300]), "ap_int<8>"), [1, 0, 0, 1])
    # to_ap_int_base of a signed type with I == 0 gives -1 for every negative value
    src = FixedType(8, 0)
    np.testing.assert_array_equal(convert(np.array([-128, -1, 0, 127]), src, "ap_int<8>"), [-1, -1, 0, 0])
    np.testing.assert_array_equal(convert(np.array([-1]), src, "ap_uint<8>"), [255])


# ---------------------------------------------------------------------------------------------------
# conversions, paths and widths
# ---------------------------------------------------------------------------------------------------
ALL_MODES = [(q, o) for q in Rounding for o in Overflow]


@pytest.mark.parametrize(("q", "o"), ALL_MODES, ids=[f"{q.value}-{o.value}" for q, o in ALL_MODES])
def test_convert_agrees_with_quantize(q: Rounding, o: Overflow) -> None:
    """``T v = s;`` from an ap_fixed and from the double of the same value agree (both paths of the
    headers compute the same value; the int64 formulas of convert and to_raw are separate code)."""
    rng = np.random.default_rng(7)
    src = FixedType(24, 10)
    raw = np.concatenate(
        [rng.integers(src.raw_min, src.raw_max + 1, 4000), [src.raw_min, src.raw_max, 0, -1]]
    )
    x = from_raw(raw, src)
    for dst in (FixedType(8, 3, True, q, o), FixedType(12, 14, True, q, o), FixedType(6, -2, True, q, o, 0)):
        np.testing.assert_array_equal(convert(raw, src, dst), to_raw(x, dst), err_msg=str(dst))
    if o is not Overflow.WRAP_SM:
        dst = FixedType(7, 2, False, q, o)
        np.testing.assert_array_equal(convert(raw, src, dst), to_raw(x, dst), err_msg=str(dst))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_saturation_bits_agree(n: int) -> None:
    rng = np.random.default_rng(n)
    src = FixedType(20, 9)
    raw = rng.integers(src.raw_min, src.raw_max + 1, 3000)
    x = from_raw(raw, src)
    for o in (Overflow.WRAP, Overflow.WRAP_SM):
        for q in (Rounding.RND, Rounding.TRN):
            dst = FixedType(6, 3, True, q, o, n)
            np.testing.assert_array_equal(convert(raw, src, dst), to_raw(x, dst), err_msg=str(dst))


def test_values_beside_negative_ties() -> None:
    """s = -0.49999999999999994 LSB: 1 + s rounds to exactly 0.5 in doubles, yet it is no tie."""
    x = np.nextafter(-0.5, 0.0) / 16
    assert to_raw(x, "ap_fixed<8,4,AP_RND_MIN_INF>") == 0
    assert to_raw(x, "ap_fixed<8,4,AP_RND_INF>") == 0
    assert to_raw(np.array([x, 1e30]), "ap_fixed<8,4,AP_RND_INF>")[0] == 0  # the other path
    assert to_raw(np.nextafter(0.5, 0.0) / 16, "ap_fixed<8,4,AP_RND_INF>") == 0


def test_wide_types_are_exact() -> None:
    t = FixedType(100, 60, rounding=Rounding.RND, overflow=Overflow.SAT)
    raw = to_raw(np.array([2.0**40 + 2.0**-12, -(2.0**70), 1.0 / 3.0]), t)
    assert raw.dtype == object
    assert raw[0] == (1 << 80) + (1 << 28) and raw[1] == t.raw_min
    assert raw[2] == math.floor(Fraction(1.0 / 3.0) * 2**40 + Fraction(1, 2))
    wide = FixedType(90, 30)
    v = (1 << 88) + (3 << 19) + 5  # bit 19, the first one dropped, is set
    assert convert(np.array([v], dtype=object), wide, FixedType(70, 30))[0] == v >> 20
    assert (
        convert(np.array([v], dtype=object), wide, FixedType(70, 30, rounding=Rounding.RND))[0]
        == (v >> 20) + 1
    )
    assert convert(np.array([-v], dtype=object), wide, FixedType(70, 30))[0] == -(v >> 20) - 1


@pytest.mark.parametrize("width", [59, 60, 61, 62, 63, 64, 65])
def test_int64_and_object_paths_meet(width: int) -> None:
    """Across the int64 / Python-int boundary the results are the same numbers."""
    rng = np.random.default_rng(width)
    x = rng.normal(0, 100, 500)
    for q, o in [(Rounding.RND_CONV, Overflow.SAT), (Rounding.TRN, Overflow.WRAP)]:
        t = FixedType(width, 12, True, q, o)
        got = [int(v) for v in to_raw(x, t)]
        ref = FixedType(width, 12, True, q, o)
        scaled = x * 2.0**ref.frac  # exact: a power-of-two scaling
        if q is Rounding.TRN:
            want = [int(np.floor(s)) for s in scaled]
        else:
            want = [int(np.rint(s)) for s in scaled]
        assert got == want


def test_quantize_shapes_and_errors() -> None:
    assert quantize(np.zeros((2, 0)), "ap_fixed<8,3>").shape == (2, 0)
    assert quantize(np.full((3, 4), 1.3), "ap_fixed<8,3>").shape == (3, 4)
    assert np.ndim(quantize(1.3, "ap_fixed<8,3>")) == 0
    assert to_raw(np.zeros((2, 2)), "ap_fixed<80,3>").shape == (2, 2)
    assert convert(5, "ap_fixed<8,4>", "ap_fixed<4,2,AP_RND>") == 1
    assert convert(5, "ap_fixed<80,4>", "ap_fixed<4,2,AP_RND>").shape == ()
    assert convert(np.ones((3, 1), dtype=np.int16), "ap_fixed<8,4>", "ap_fixed<70,2>").shape == (3, 1)
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="NaN or infinity"):
            to_raw(np.array([0.0, bad]), "ap_fixed<8,3>")
        with pytest.raises(ValueError, match="NaN or infinity"):
            to_raw(np.array([bad]), "ap_fixed<80,3>")
    with pytest.raises(ValueError, match="integers"):
        convert(np.array([0.5]), "ap_fixed<8,3>", "ap_fixed<8,3>")


def test_from_raw() -> None:
    np.testing.assert_array_equal(from_raw(np.array([3, -4]), "ap_fixed<8,3>"), [3 / 32, -4 / 32])
    big = np.array([(1 << 1023) + (1 << 969), 1 << 80], dtype=object)  # a quarter ULP, rounded off
    vals = from_raw(big, "ap_ufixed<1024,1024>")
    assert vals[0] == 2.0**1023 and vals[1] == 2.0**80
    assert from_raw(np.array([(1 << 1024) - 1], dtype=object), "ap_ufixed<1024,1024>")[0] == np.inf


# ---------------------------------------------------------------------------------------------------
# arithmetic
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "plus", "minus", "times"),
    [
        ("ap_fixed<8,4>", "ap_fixed<8,4>", "ap_fixed<9,5>", "ap_fixed<9,5>", "ap_fixed<16,8>"),
        ("ap_fixed<8,4>", "ap_ufixed<6,2>", "ap_fixed<9,5>", "ap_fixed<9,5>", "ap_fixed<14,6>"),
        ("ap_ufixed<6,2>", "ap_ufixed<6,2>", "ap_ufixed<7,3>", "ap_fixed<7,3>", "ap_ufixed<12,4>"),
        ("ap_ufixed<8,8>", "ap_fixed<4,-2>", "ap_fixed<16,10>", "ap_fixed<16,10>", "ap_fixed<12,6>"),
        (
            "ap_fixed<16,6,AP_RND,AP_SAT>",
            "ap_fixed<10,12>",
            "ap_fixed<23,13>",
            "ap_fixed<23,13>",
            "ap_fixed<26,18>",
        ),
    ],
)
def test_result_types(a: str, b: str, plus: str, minus: str, times: str) -> None:
    ta, tb = FixedType.parse(a), FixedType.parse(b)
    assert str(add_type(ta, tb)) == plus
    assert str(sub_type(ta, tb)) == minus
    assert str(mul_type(ta, tb)) == times


def test_arithmetic_is_exact() -> None:
    ta, tb = FixedType.parse("ap_fixed<8,4>"), FixedType.parse("ap_ufixed<6,2>")
    a = to_raw(np.array([-8.0, 7.9375, -0.0625]), ta)
    b = to_raw(np.array([3.9375, 0.0, 1.5]), tb)
    s, ts = add(a, ta, b, tb)
    np.testing.assert_array_equal(from_raw(s, ts), [-4.0625, 7.9375, 1.4375])
    d, td = sub(a, ta, b, tb)
    np.testing.assert_array_equal(from_raw(d, td), [-11.9375, 7.9375, -1.5625])
    p, tp = mul(a, ta, b, tb)
    np.testing.assert_array_equal(from_raw(p, tp), [-31.5, 0.0, -0.09375])
    wa = FixedType(60, 30)
    big = np.array([wa.raw_max, wa.raw_min], dtype=np.int64)
    p, tp = mul(big, wa, big, wa)
    assert tp.width == 120 and [int(v) for v in p] == [wa.raw_max**2, wa.raw_min**2]


def test_selfcheck_names_a_missing_compiler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hlsgen.fixed.selfcheck import run_selfcheck

    monkeypatch.setenv("HLSGEN_CXX", "no-such-g++")
    assert run_selfcheck(verbose=True) == 2
    assert "no-such-g++" in capsys.readouterr().out
