"""Differential fuzzing in CI: a fixed set of random models (hlsgen.fuzz) through convert, emulation,
csim, the written project loaded back, decode == prefill and (one) cosim with its cycle estimate, bit for
bit; the shrinker and the reproducer; ``hlsgen fuzz``. ``make fuzz`` runs many more seeds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")

from hlsgen.cli import main  # noqa: E402
from hlsgen.fuzz import BlockKind, BlockSpec, Levels, ModelSpec, Stage, check_spec, random_spec, smaller  # noqa: E402
from hlsgen.fuzz import run as fuzz_run  # noqa: E402

pytestmark = pytest.mark.tensorflow

#: csim seeds: MHA with a padding mask and a causal mask, GQA with RoPE, two outputs, io_stream, odd names
#: (7); causal MHA + MLA with a query latent under io_stream, two outputs, decoded (19)
CSIM_SEEDS = (7, 19)
#: emulation, write + load, decode seeds (fast): every block kind, pooling, names, rounding and overflow modes
EMULATION_SEEDS = (2, 3, 16, 24, 30, 34, 37, 58)


def _assert_passed(out) -> None:
    assert out.passed, f"seed {out.spec.seed} ({out.spec.describe()}): {out.stage}: {out.message}"


def _run(seed: int, tmp_path: Path, **options) -> fuzz_run.SeedResult:
    """Check a seed as ``hlsgen fuzz`` does: a failure is shrunk (two minutes at most) and its reproducer
    saved under this test's tmp_path; the assertion message names the seed and the reproducer."""
    res = fuzz_run.run_seed(
        seed, tmp_path, fuzz_run.FuzzOptions(shrink_seconds=120, keep=True, command=main, **options)
    )
    assert res.outcome.passed or res.outcome.stage == Stage.REFUSED, res.format()
    return res


def test_specs_are_deterministic_and_round_trip() -> None:
    for seed in range(50):
        spec = random_spec(seed)
        assert random_spec(seed) == spec
        assert ModelSpec.from_json(spec.to_json()) == spec
    kinds = {b.kind for s in range(50) for b in random_spec(s).blocks}
    assert kinds == set(BlockKind)
    specs = [random_spec(s) for s in range(50)]
    assert any(s.causal for s in specs) and any(s.mem_seq for s in specs) and any(s.has_mask for s in specs)
    assert any(s.io_type == "io_stream" for s in specs) and any(s.second_output for s in specs)


@pytest.mark.gxx
@pytest.mark.parametrize("seed", CSIM_SEEDS)
def test_random_model_csim_equals_emulation(seed: int, tmp_path: Path) -> None:
    out = _run(seed, tmp_path, csim=True).outcome
    assert out.passed and {"emulation", "csim", "write"} <= set(out.ran)
    assert ("decode" in out.ran) == random_spec(seed).causal


@pytest.mark.parametrize("seed", EMULATION_SEEDS)
def test_random_model_converts_writes_and_decodes(seed: int, tmp_path: Path) -> None:
    out = _run(seed, tmp_path, csim=False).outcome
    if out.stage == Stage.REFUSED:  # hlsgen's documented refusal, with its clear message
        assert "score:" in out.message and "layer" in out.message
    else:
        assert {"emulation", "write"} <= set(out.ran)


@pytest.mark.gxx
@pytest.mark.verilator
def test_small_random_model_cosim_and_estimate(tmp_path: Path) -> None:
    """One small model through the RTL: bit-exact under idle cycles and back-pressure, latency and II
    equal to the estimate."""
    pytest.importorskip("cocotb")
    spec = ModelSpec(
        seed=1001, seq=3, d_in=4, d_model=4, batch=3,
        blocks=(BlockSpec(BlockKind.MHA, heads=2, key_dim=2, causal=True, norm=True, name="logic"),),
        second_output=True, head_dim=2, precision="ap_fixed<12,4,AP_RND_CONV,AP_SAT>",
    )  # fmt: skip
    out = check_spec(spec, tmp_path, Levels(csim=False, cosim=True, decode=True))
    _assert_passed(out)
    assert {"cosim", "estimate", "decode"} <= set(out.ran)


def _fake_check(spec: ModelSpec, work: Path, levels: Levels):
    """A stand-in for check_spec that fails on every model holding an MLA block with a query latent (the
    real checks are tested above; this one tests the shrinker alone, fast)."""
    from hlsgen.fuzz.check import Outcome

    Path(work).mkdir(parents=True, exist_ok=True)
    bad = any(b.kind == BlockKind.MLA and b.q_latent for b in spec.blocks)
    return Outcome(spec, passed=not bad, stage=Stage.CSIM if bad else None, message="csim: 3 values differ")


def test_failure_is_shrunk_and_saved_as_a_reproducer(tmp_path: Path, monkeypatch) -> None:
    seed = 28  # three blocks, the last an MLA with a query latent
    spec = random_spec(seed)
    assert any(b.kind == BlockKind.MLA and b.q_latent for b in spec.blocks) and len(spec.blocks) == 3
    monkeypatch.setattr(fuzz_run, "check_spec", _fake_check)
    res = fuzz_run.run_seed(seed, tmp_path, fuzz_run.FuzzOptions(csim=False))
    assert not res.outcome.passed and res.outcome.stage == Stage.CSIM
    small = res.minimal
    assert small is not None and len(small.blocks) == 1 and small.blocks[0].kind == BlockKind.MLA
    assert small.blocks[0].q_latent and small.size() < spec.size() // 2
    assert (
        small.seq == 1 and small.d_model == 2 and not small.second_output and small.io_type == "io_parallel"
    )
    assert all(
        sm.size() >= small.size() or _fake_check(sm, tmp_path / "x", Levels()).passed for sm in smaller(small)
    )
    rep = res.reproducer
    assert rep == tmp_path / "failures" / f"seed-{seed}"
    assert ModelSpec.from_json((rep / "minimal.json").read_text()) == small
    assert ModelSpec.from_json((rep / "spec.json").read_text()) == spec
    text = (rep / "repro.py").read_text()
    assert f"seed {seed} failed at csim" in text and "minimal.json" in text
    compile(text, "repro.py", "exec")


def test_reproducer_model_is_the_spec(tmp_path: Path) -> None:
    """The model a reproducer saves is the spec's: same layers and weights when rebuilt."""
    import tensorflow as tf

    from hlsgen.fuzz.model import build_model, make_data

    spec = random_spec(11)
    m1 = build_model(spec)
    m1.save(tmp_path / "m.keras")
    m2 = tf.keras.models.load_model(tmp_path / "m.keras", compile=False, custom_objects=_custom())
    for a, b in zip(m1.get_weights(), m2.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    rebuilt = build_model(spec)
    for a, b in zip(m1.get_weights(), rebuilt.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [x.shape[1:] for x in make_data(spec)] == [tuple(i.shape[1:]) for i in m1.inputs]


def _custom() -> dict:
    from hlsgen.layers import custom_objects

    return custom_objects()


def test_fuzz_command(tmp_path: Path, capsys) -> None:
    from hlsgen.cli import main

    rc = main(["fuzz", "--seed", "22", "--count", "2", "--no-csim", "--workers", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "seed 22:" in out and "seed 23:" in out and "models/hour" in out
    report = json.loads((tmp_path / "fuzz.json").read_text())
    assert [s["seed"] for s in report["seeds"]] == [22, 23] and report["failed"] == 0
    spec = tmp_path / "spec.json"
    spec.write_text(replace(random_spec(21), batch=1).to_json())
    assert main(["fuzz", "--replay", str(spec), "--no-csim", "--out", str(tmp_path / "replay")]) == 0
