"""Constant-matrix multiplication as an adder graph (hlsgen.fixed.cmm): CSD digits, exact evaluation
against the integer matmul, exact ranges, costs (zero weights and zero digits cost nothing, sharing)."""

from __future__ import annotations

import numpy as np
import pytest

from hlsgen.fixed.cmm import bits_for, csd, optimise


def _matrices(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    w8 = rng.integers(-128, 128, (12, 10))
    w8[rng.random(w8.shape) < 0.3] = 0
    po2 = (1 << rng.integers(0, 7, (6, 5))) * rng.choice([-1, 1], (6, 5))
    neg = -rng.integers(1, 64, (5, 7))
    wide = rng.integers(-(2**20), 2**20, (4, 3))
    zc = rng.integers(-8, 8, (5, 6))
    zc[:, 2] = 0
    zc[3, :] = 0
    return [
        ("int8_sparse", w8),
        ("powers_of_two", po2),
        ("negative", neg),
        ("wide", wide),
        ("zero_column_and_row", zc),
        ("all_zero", np.zeros((3, 4), dtype=np.int64)),
        ("one_by_one", np.array([[-7]])),
    ]


def test_csd_digits_are_canonical() -> None:
    for v in [*range(-1100, 1100), 2**40 + 3, -(2**33), 0x5555, -0x2AAAA]:
        d = csd(v)
        assert sum(g << s for s, g in d) == v
        shifts = [s for s, _ in d]
        assert all(b - a >= 2 for a, b in zip(shifts, shifts[1:], strict=False)), (v, d)
        assert all(g in (-1, 1) for _, g in d)
        # never more digits than plain binary of |v|
        assert len(d) <= bin(abs(v)).count("1")
    assert csd(0) == []
    assert csd(0b0111_0111) == [(0, -1), (3, -1), (7, 1)]  # 119 = 128 - 8 - 1: 3 digits, binary has 6


@pytest.mark.parametrize("cse", [True, False])
def test_adder_graph_equals_integer_matmul(cse: bool) -> None:
    rng = np.random.default_rng(17)
    for name, w in _matrices(rng):
        n_in = w.shape[0]
        for lo, hi in ((-128, 127), (0, 255), (-(2**15), 2**15 - 1)):
            g = optimise(w, [lo] * n_in, [hi] * n_in, cse=cse)
            x = rng.integers(lo, hi + 1, (300, n_in))
            x[0], x[1], x[2] = lo, hi, 0
            x[3] = np.where(np.arange(n_in) % 2 == 0, lo, hi)
            x[4] = np.where(np.arange(n_in) % 2 == 0, hi, lo)
            np.testing.assert_array_equal(g.evaluate(x), x @ w, err_msg=name)


def test_output_ranges_are_exact_and_widths_hold_them() -> None:
    rng = np.random.default_rng(3)
    for name, w in _matrices(rng):
        n_in = w.shape[0]
        lo = rng.integers(-300, 1, n_in)
        hi = lo + rng.integers(0, 400, n_in)
        g = optimise(w, lo, hi)
        for j in range(w.shape[1]):
            col = w[:, j]
            x_max = np.where(col > 0, hi, lo)
            x_min = np.where(col > 0, lo, hi)
            assert g.output_range(j) == (int(x_min @ col), int(x_max @ col)), (name, j)
        x = np.stack([np.where(rng.random(n_in) < 0.5, lo, hi) for _ in range(64)])
        np.testing.assert_array_equal(g.evaluate(x), x @ w, err_msg=name)
        for n in g.nodes:
            assert n.lo <= n.hi and bits_for(n.lo, n.hi) == n.width
            assert -(1 << (n.width - 1)) <= n.lo and n.hi < (1 << (n.width - 1))


def test_zero_weights_and_zero_digits_cost_nothing() -> None:
    assert optimise(np.zeros((4, 3), dtype=int), [-8] * 4, [7] * 4).cost.adders == 0
    # a single power of two per column: a shift, no adder
    w = np.array([[4, 0, 0], [0, -1, 0], [0, 0, 0], [0, 0, 64]])
    g = optimise(w, [-8] * 4, [7] * 4)
    assert g.cost.adders == 0 and g.outputs[2] is not None and g.outputs[2].shift == 6
    # 7 = 8 - 1 (two digits: one adder), zeros around it add nothing
    g = optimise(np.array([[7], [0], [0]]), [-8] * 3, [7] * 3)
    assert g.cost.adders == 1 and g.cost.terms == 2 and g.cost.nonzero_weights == 1


def test_common_subexpressions_are_shared_across_columns() -> None:
    rng = np.random.default_rng(5)
    w = rng.integers(-128, 128, (8, 1))
    plain = optimise(w, [-128] * 8, [127] * 8, cse=False).cost.adders
    one = optimise(w, [-128] * 8, [127] * 8).cost.adders  # sharing inside the column too
    assert one <= plain
    # the same column four times over costs no more than one column
    g = optimise(np.repeat(w, 4, axis=1), [-128] * 8, [127] * 8)
    assert g.cost.adders <= one
    # a random matrix: fewer adders than the plain trees, every column still exact
    w = rng.integers(-128, 128, (16, 16))
    shared, alone = optimise(w, [-128] * 16, [127] * 16), optimise(w, [-128] * 16, [127] * 16, cse=False)
    assert shared.cost.adders < 0.85 * alone.cost.adders
    assert alone.cost.adders == alone.cost.adders_without_sharing


def test_depth_bound_and_bad_input() -> None:
    rng = np.random.default_rng(9)
    w = rng.integers(-128, 128, (16, 8))
    for d in (1, 2, 4):
        g = optimise(w, [-128] * 16, [127] * 16, max_cse_depth=d)
        x = rng.integers(-128, 128, (50, 16))
        np.testing.assert_array_equal(g.evaluate(x), x @ w)
    # the tree over n terms is at least ceil(log2 n) deep and the plain trees are exactly that
    plain = optimise(w, [-128] * 16, [127] * 16, cse=False)
    terms = max(sum(len(csd(int(v))) for v in w[:, j]) for j in range(8))
    assert plain.cost.depth == int(np.ceil(np.log2(terms)))
    with pytest.raises(ValueError, match="matrix"):
        optimise(np.zeros(3), [0], [1])
    with pytest.raises(ValueError, match="bounds"):
        optimise(np.zeros((3, 2)), [0, 0], [1, 1])
    with pytest.raises(ValueError, match="features"):
        optimise(np.ones((3, 2)), [0] * 3, [1] * 3).evaluate(np.zeros((2, 4)))
