"""Generated bad input to the CLI (hlsgen.fuzz.bad_input): every case one clear error line naming what is
wrong, a non-zero exit, no traceback, nothing half-written; SIGINT during convert leaves no partial
project."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

from hlsgen.fuzz.bad_input import BadCase, Valid, judge, make_cases, make_valid, run_case  # noqa: E402

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Valid:
    return make_valid(tmp_path_factory.mktemp("valid"))


@pytest.fixture(scope="module")
def cases(valid: Valid, tmp_path_factory: pytest.TempPathFactory) -> list[BadCase]:
    return make_cases(tmp_path_factory.mktemp("cases"), valid)


def test_every_bad_input_fails_clearly(cases: list[BadCase]) -> None:
    assert len(cases) >= 60
    problems = []
    for case in cases:
        rc, out, err = run_case(case)
        why = judge(case, rc, out, err)
        if why:
            problems.append(f"{case.name} (hlsgen {' '.join(case.argv)}): {why}")
    assert not problems, "\n".join(problems)


def test_the_judge_catches_bad_failures(tmp_path: Path) -> None:
    """A case that succeeds, or fails with a traceback or vague text, is reported."""
    ok = BadCase("boards", ("boards",), ("x",))
    rc, out, err = run_case(ok)
    assert rc == 0 and "exit status 0" in judge(ok, rc, out, err)
    case = BadCase("c", ("convert",), ("model.keras",), str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    (tmp_path / ".out.tmp1").write_text("")
    why = judge(case, 2, "", "Traceback (most recent call last):\n  File x\nValueError: no\n")
    for part in ("a traceback", "error lines", "does not name", "out was written", "temporary files left"):
        assert part in why


def test_data_checks_in_the_api(valid: Valid) -> None:
    """The library refuses the same data (one check behind predict, csim, calibration and tb_data)."""
    import numpy as np

    import hlsgen

    proj = hlsgen.convert(str(valid.model))
    x = np.load(valid.data)
    bad = x.copy()
    bad[2, 1, 0] = np.nan
    for call in (proj.predict, proj.predict_raw, proj.csim_raw):
        with pytest.raises(ValueError, match=r"input x holds nan at sample 2, index \(1, 0\)"):
            call(bad)
    with pytest.raises(ValueError, match="calibration data: input x holds nan"):
        hlsgen.convert(str(valid.model), calibration_data=bad)
    with pytest.raises(ValueError, match="the batch is empty"):
        proj.predict(x[:0])
    assert proj.predict(x.astype(np.int32)).shape == (len(x), 3)  # integers are numbers too


def _sigint_convert(model: Path, data: Path, out: Path, delay: float) -> subprocess.Popen[str]:
    # SIGINT as a terminal leaves it (default): a suite started in the background of a non-interactive
    # shell (`make test &`) ignores SIGINT, its children inherit that, and Python then installs no
    # KeyboardInterrupt handler, so no run would ever be interrupted
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    p = subprocess.Popen(
        [sys.executable, "-m", "hlsgen.cli", "convert", str(model), "-o", str(out), "--tb-data", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    p.delay = delay  # type: ignore[attr-defined]
    return p


def test_sigint_leaves_no_partial_project(valid: Valid, tmp_path: Path) -> None:
    """SIGINT at two moments of a convert (30 % and 60 % of an uninterrupted run's time, measured first on
    this machine): the project is whole or absent, never partial; an interrupted run prints one line, no
    traceback, and exits 130 (or dies of the SIGINT itself after that line, which a shell reports as 130
    too: seen when the signal lands while TensorFlow is being imported). A run that finished its work
    before the signal (``wrote`` printed; the signal then lands in the interpreter's shutdown) must have
    written the whole project. The reference run may read TensorFlow from a cold disk cache, and the later
    runs were seen to finish before 30 % of its time: when no run of a round was interrupted, another round
    signals at 30 % / 60 % of that round's own runs (at most 3 rounds). A signal during TensorFlow's
    import counts as an interruption too (message, exit, no project); an interruption in the middle of the
    write itself is made deterministic by :func:`test_interrupt_while_writing_leaves_nothing`."""
    t0 = time.monotonic()
    ref = _sigint_convert(valid.model, valid.data, tmp_path / "ref", 0.0)
    ref.communicate(timeout=300)
    assert ref.returncode == 0
    took = time.monotonic() - t0
    whole = (valid.project / "firmware").is_dir()
    assert whole
    want = sorted(q.relative_to(valid.project) for q in valid.project.rglob("*") if q.is_file())
    interrupted, seen = 0, []
    for round_ in range(3):
        runs = [
            _sigint_convert(valid.model, valid.data, tmp_path / f"r{round_}p{k}", f * took)
            for k, f in enumerate((0.3, 0.6))
        ]
        t0 = time.monotonic()
        for p in sorted(runs, key=lambda p: p.delay):  # type: ignore[attr-defined]
            time.sleep(max(0.0, t0 + p.delay - time.monotonic()))  # type: ignore[attr-defined]
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for k, p in enumerate(runs):
            out_text, err = p.communicate(timeout=120)
            out = tmp_path / f"r{round_}p{k}"
            if "wrote" in out_text:  # the work was done: the whole project, whatever the shutdown did
                got = sorted(q.relative_to(out) for q in out.rglob("*") if q.is_file())
                assert got == want
            else:
                assert "Traceback" not in err, err
                assert p.returncode in (130, -signal.SIGINT), (p.returncode, err)
                lines = err.strip().splitlines()
                assert lines and lines[-1] == "hlsgen convert: interrupted; nothing was half-written", err
                assert not out.exists()
                interrupted += 1
            assert not list(tmp_path.glob(f".r{round_}p{k}*")), "temporary folder left behind"
        seen.append(round(took, 1))
        if interrupted:
            break
        took = time.monotonic() - t0  # this round's runs, none interrupted: the later one's time
    assert interrupted >= 1, f"no run was interrupted mid-work (uninterrupted converts took {seen} s)"


def test_interrupt_while_writing_leaves_nothing(valid: Valid, tmp_path: Path, monkeypatch, capsys) -> None:
    """Ctrl-C in the middle of writing the project's files (the fifth file): no project, no temporary
    folder, exit status 130, one line."""
    from hlsgen.cli import main

    written = []
    real = Path.write_text

    def interrupted(self: Path, *a, **k):
        written.append(self)
        if len(written) == 5:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", interrupted)
    out = tmp_path / "prj"
    rc = main(["convert", str(valid.model), "-o", str(out), "--tb-data", str(valid.data)])
    err = capsys.readouterr().err
    assert rc == 130 and len(written) == 5
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".prj*"))
