"""hlsgen.fixed against g++ and the Xilinx ap_types headers, bit for bit.

One oracle program holds every case of the session (cxx_harness.session_cases); each test sends it
values and compares the raw integers it prints with hlsgen.fixed. Grid tests enumerate the edges of
every type; hypothesis tests draw further values against the same build.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cxx_harness import (
    Case,
    Op,
    Oracle,
    assert_matches,
    dense_doubles,
    dense_raws,
    double_grid,
    double_values,
    operand_grid,
    operand_values,
    raw_grid,
    session_cases,
    source_values,
    start_oracle,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlsgen import tools
from hlsgen.fixed import Overflow, Rounding
from hlsgen.fixed.selfcheck import expected

pytestmark = [pytest.mark.gxx, pytest.mark.xdist_group("gxx_fixed_oracle")]

CASES = session_cases()
INDEX = {op: [k for k, c in enumerate(CASES) if c.op is op] for op in Op}
ARITH = INDEX[Op.ADD] + INDEX[Op.SUB] + INDEX[Op.MUL]

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples every run, as a seeded RNG would give
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _ids(indices: list[int]) -> list[str]:
    return [f"{k}:{CASES[k]}".replace(" ", "") for k in indices]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    # HLSGEN_CACHE (a per-session folder unless the user sets one, see conftest) keeps the build
    cache = os.environ.get("HLSGEN_CACHE")
    directory = Path(cache) / "fixed-oracle" if cache else tmp_path_factory.mktemp("fixed-oracle")
    try:
        o = start_oracle(CASES, directory)
    except tools.ToolMissing as e:
        pytest.skip(str(e))
    with o:
        yield o


def test_cases_cover_every_mode_pair() -> None:
    """The session's choice holds what the differential tests promise to cover."""
    targets = [c.types[-1] for c in CASES if c.op in (Op.FROM_DOUBLE, Op.CONVERT)]
    for op in (Op.FROM_DOUBLE, Op.CONVERT):
        ts = [c.types[-1] for c in CASES if c.op is op]
        pairs = {(t.rounding, t.overflow, t.signed) for t in ts if not t.is_int}
        for q in Rounding:
            for o in Overflow:
                assert (q, o, True) in pairs, (op, q, o)
                assert o is Overflow.WRAP_SM or (q, o, False) in pairs, (op, q, o)
        assert {(t.overflow, t.sat_bits) for t in ts} >= {
            (o, n) for o in (Overflow.WRAP, Overflow.WRAP_SM) for n in (0, 1, 2, 3)
        }
    assert any(t.integer < 0 for t in targets) and any(t.integer > t.width for t in targets)
    assert any(t.width > 64 for t in targets) and min(t.width for t in targets) == 1
    assert any(t.is_int for t in targets)


def test_result_types(oracle: Oracle) -> None:
    """The C++ type of every result: the target of a conversion, the RType of +, - and *."""
    for k, case in enumerate(CASES):
        _, rt = expected(case, *[np.zeros(1, dtype=np.int64)] * case.arity)
        assert oracle.result_types[k] == (rt.width, rt.integer, rt.signed), case


# ---------------------------------------------------------------------------------------------------
# grids: every edge of every type
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", INDEX[Op.FROM_DOUBLE], ids=_ids(INDEX[Op.FROM_DOUBLE]))
def test_from_double_grid(oracle: Oracle, index: int) -> None:
    t = CASES[index].types[0]
    rng = np.random.default_rng(index)
    scale = rng.standard_normal(512) * 2.0 ** (t.integer + 1)
    x = np.concatenate(
        [double_grid(t), dense_doubles(t), np.ldexp(np.round(np.ldexp(scale, t.frac + 3)), -t.frac - 3)]
    )
    assert_matches(oracle, index, x)


@pytest.mark.parametrize("index", INDEX[Op.CONVERT], ids=_ids(INDEX[Op.CONVERT]))
def test_convert_grid(oracle: Oracle, index: int) -> None:
    src, dst = CASES[index].types
    rng = np.random.default_rng(index)
    raws = np.concatenate([raw_grid(src, dst), dense_raws(src), operand_grid(src, rng, 512)])
    assert_matches(oracle, index, raws)


@pytest.mark.parametrize("index", ARITH, ids=_ids(ARITH))
def test_arithmetic_grid(oracle: Oracle, index: int) -> None:
    a, b = CASES[index].types
    rng = np.random.default_rng(index)
    ga, gb = operand_grid(a, rng, 48), operand_grid(b, rng, 48)
    ia, ib = np.meshgrid(np.arange(ga.size), np.arange(gb.size))
    assert_matches(oracle, index, ga[ia.reshape(-1)], gb[ib.reshape(-1)])


# ---------------------------------------------------------------------------------------------------
# hypothesis: drawn values, batched per request
# ---------------------------------------------------------------------------------------------------
def _case(data: st.DataObject, indices: list[int]) -> tuple[int, Case]:
    k = data.draw(st.sampled_from(indices), label="case")
    return k, CASES[k]


@FUZZ
@given(data=st.data())
def test_from_double_fuzz(oracle: Oracle, data: st.DataObject) -> None:
    k, case = _case(data, INDEX[Op.FROM_DOUBLE])
    xs = data.draw(st.lists(double_values(case.types[0]), min_size=1, max_size=64), label="x")
    assert_matches(oracle, k, np.array(xs, dtype=np.float64))


@FUZZ
@given(data=st.data())
def test_convert_fuzz(oracle: Oracle, data: st.DataObject) -> None:
    k, case = _case(data, INDEX[Op.CONVERT])
    raws = data.draw(st.lists(source_values(*case.types), min_size=1, max_size=64), label="raw")
    assert_matches(oracle, k, raws)


@FUZZ
@given(data=st.data())
def test_arithmetic_fuzz(oracle: Oracle, data: st.DataObject) -> None:
    k, case = _case(data, ARITH)
    a, b = case.types
    pairs = data.draw(st.lists(st.tuples(operand_values(a), operand_values(b)), min_size=1, max_size=64))
    assert_matches(oracle, k, [p[0] for p in pairs], [p[1] for p in pairs])


# ---------------------------------------------------------------------------------------------------
# the hlsgen selfcheck command (a few cases, so that the build stays short)
# ---------------------------------------------------------------------------------------------------
def _few_cases() -> list[Case]:
    return [
        Case(Op.FROM_DOUBLE, ("ap_fixed<6,2,AP_RND_CONV,AP_SAT_SYM>",)),
        Case(Op.CONVERT, ("ap_fixed<12,5>", "ap_ufixed<5,2,AP_RND_INF,AP_WRAP,1>")),
        Case(Op.MUL, ("ap_fixed<6,2>", "ap_ufixed<5,1>")),
    ]


@pytest.fixture(scope="module")
def selfcheck_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = os.environ.get("HLSGEN_CACHE")
    return Path(cache) / "fixed-selfcheck" if cache else tmp_path_factory.mktemp("fixed-selfcheck")


def test_selfcheck_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], selfcheck_dir: Path
) -> None:
    from hlsgen.fixed import selfcheck

    monkeypatch.setattr(selfcheck, "selfcheck_cases", _few_cases)
    assert selfcheck.run_selfcheck(verbose=True, directory=selfcheck_dir) == 0
    out = capsys.readouterr().out
    assert "AP_RND_CONV, AP_SAT_SYM" in out and "arithmetic *" in out
    assert "0 mismatches: ok" in out


def test_selfcheck_reports_mismatches(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], selfcheck_dir: Path
) -> None:
    from hlsgen.fixed import selfcheck

    monkeypatch.setattr(selfcheck, "selfcheck_cases", _few_cases)
    monkeypatch.setattr(selfcheck, "to_raw", lambda x, t: np.zeros(np.shape(x), dtype=np.int64))
    assert selfcheck.run_selfcheck(verbose=False, directory=selfcheck_dir) == 1
    assert "FAIL" in capsys.readouterr().out
