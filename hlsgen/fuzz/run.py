"""Fuzz campaigns: seeds checked on local processes or a Dask cluster (as :mod:`hlsgen.analysis.sweep`
runs its points), each failure shrunk to a minimal spec and saved as a reproducer; models per hour."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .check import Levels, Outcome, check_spec
from .spec import ModelSpec, random_spec, smaller


@dataclass(frozen=True)
class FuzzOptions:
    """How each seed is checked."""

    csim: bool = True  #: g++ csim of every model
    cosim_every: int = 0  #: co-simulate every n-th seed (0: never)
    decode_csim_every: int = 0  #: the compiled decode top of every n-th causal seed (0: never)
    shrink: bool = True  #: shrink a failure to a minimal reproducer
    shrink_seconds: float = 300.0  #: time budget of one shrink
    cli_every: int = 3  #: also run every n-th seed through the hlsgen command (0: never) ...
    #: ... given its entry point (``hlsgen.cli.main``; None: no seed goes through the command)
    command: Callable[[list[str]], int] | None = None
    keep: bool = False  #: keep the work folders of passing seeds
    estimate_tolerance: float = 0.0  #: allowed relative |estimate - measured| of latency and II

    def levels(self, seed: int) -> Levels:
        return Levels(
            csim=self.csim,
            cosim=bool(self.cosim_every) and seed % self.cosim_every == 0,
            decode=True,
            decode_csim=self.csim and bool(self.decode_csim_every) and seed % self.decode_csim_every == 0,
            estimate_tolerance=self.estimate_tolerance,
            cli=self.command if self.cli_every and seed % self.cli_every == 0 else None,
        )


@dataclass
class SeedResult:
    """One seed: its outcome, and for a failure the shrunk spec and the reproducer folder."""

    outcome: Outcome
    minimal: ModelSpec | None = None
    minimal_message: str = ""
    reproducer: Path | None = None

    def format(self) -> str:
        s = self.outcome.line()
        if self.reproducer is not None:
            s += f"\n    minimal reproducer ({self.minimal_message[:200]}): {self.reproducer}"
        return s


def shrink(
    spec: ModelSpec, failed: Outcome, work: Path, levels: Levels, seconds: float = 300.0
) -> tuple[ModelSpec, Outcome]:
    """The smallest spec reachable by :func:`smaller` steps that still fails at the same stage."""
    best, best_out = spec, failed
    deadline = time.monotonic() + seconds
    k = 0
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for cand in smaller(best):
            if time.monotonic() >= deadline:
                break
            if cand.size() >= best.size():
                continue
            k += 1
            out = check_spec(cand, work / f"try{k}", levels)
            shutil.rmtree(work / f"try{k}", ignore_errors=True)
            if not out.passed and out.stage == failed.stage:
                best, best_out, progress = cand, out, True
                break
    return best, best_out


def _reproducer(dest: Path, res: SeedResult, levels: Levels) -> Path:
    """Save the original and minimal specs, the minimal model and data, and a script that replays it."""
    spec = res.minimal or res.outcome.spec
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "spec.json").write_text(res.outcome.spec.to_json())
    (dest / "minimal.json").write_text(spec.to_json())
    check_spec(spec, dest / "minimal", levels)  # leaves model.keras, data.npz and the project there
    lv = ", ".join(
        f"{k}={'main' if k == 'cli' and v is not None else repr(v)}" for k, v in levels.__dict__.items()
    )
    (dest / "repro.py").write_text(
        f'"""hlsgen fuzz reproducer: seed {res.outcome.spec.seed} failed at {res.outcome.stage}.\n\n'
        f"{res.outcome.message}\n\nMinimal spec ({res.minimal_message}): minimal.json; its model and data: "
        'minimal/model.keras, minimal/data.npz.\nRun: python repro.py (or hlsgen fuzz --replay minimal.json)\n"""\n\n'
        "from pathlib import Path\n\n"
        "from hlsgen.cli import main\n"
        "from hlsgen.fuzz import Levels, ModelSpec, check_spec\n\n"
        "here = Path(__file__).resolve().parent\n"
        'spec = ModelSpec.from_json((here / "minimal.json").read_text())\n'
        f'out = check_spec(spec, here / "replay", Levels({lv}))\n'
        "print(out.line())\n"
        "raise SystemExit(0 if out.passed else 1)\n"
    )
    return dest


def run_seed(seed: int | ModelSpec, out_dir: str | Path, options: FuzzOptions = FuzzOptions()) -> SeedResult:
    """Check one seed (or spec); a failure is shrunk and saved under ``out_dir/failures/seed-S``."""
    spec = seed if isinstance(seed, ModelSpec) else random_spec(seed)
    out_dir = Path(out_dir)
    work = out_dir / "work" / f"seed-{spec.seed}"
    levels = options.levels(spec.seed)
    outcome = check_spec(spec, work, levels)
    res = SeedResult(outcome)
    if not outcome.passed and not outcome.invalid:
        minimal, mout = spec, outcome
        if options.shrink:
            minimal, mout = shrink(spec, outcome, work / "shrink", levels, options.shrink_seconds)
        res.minimal = minimal
        res.minimal_message = f"size {minimal.size()} of {spec.size()}: {mout.message.splitlines()[0][:300]}"
        res.reproducer = _reproducer(out_dir / "failures" / f"seed-{spec.seed}", res, levels)
    if outcome.passed and not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


# ---------------------------------------------------------------------------------------------------
@dataclass
class Campaign:
    """Every seed's result, and the rate."""

    results: list[SeedResult] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    where: str = "local"

    @property
    def checked(self) -> list[SeedResult]:
        return [r for r in self.results if not r.outcome.invalid]

    @property
    def failures(self) -> list[SeedResult]:
        return [r for r in self.checked if not r.outcome.passed]

    @property
    def models_per_hour(self) -> float:
        return 3600.0 * len(self.checked) / max(self.seconds, 1e-9)

    def summary(self) -> str:
        levels: dict[str, int] = {}
        for r in self.checked:
            for lv in r.outcome.ran:
                levels[lv] = levels.get(lv, 0) + 1
        per = ", ".join(f"{k} {v}" for k, v in levels.items())
        invalid = len(self.results) - len(self.checked)
        return (
            f"hlsgen fuzz: {len(self.checked)} models checked ({per}), {len(self.failures)} failed"
            + (f", {invalid} specs refused (Keras, or hlsgen's documented type limits)" if invalid else "")
            + f"; {self.seconds:.0f} s on {self.workers} {self.where} worker(s): "
            f"{self.models_per_hour:.0f} models/hour"
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "models": len(self.checked),
                "failed": len(self.failures),
                "seconds": self.seconds,
                "models_per_hour": self.models_per_hour,
                "workers": self.workers,
                "where": self.where,
                "seeds": [
                    {
                        "seed": r.outcome.spec.seed,
                        "passed": r.outcome.passed,
                        "stage": r.outcome.stage,
                        "message": r.outcome.message,
                        "levels": r.outcome.ran,
                        "ops": r.outcome.ops,
                        "seconds": r.outcome.seconds,
                        "reproducer": str(r.reproducer) if r.reproducer else None,
                    }
                    for r in self.results
                ],
            },
            indent=1,
        )


def _worker(args: tuple[int, str, FuzzOptions]) -> SeedResult:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return run_seed(*args)


def campaign(
    seeds: Iterable[int],
    out_dir: str | Path,
    options: FuzzOptions = FuzzOptions(),
    workers: int | None = None,
    scheduler: str | None = None,
    on_result: Callable[[SeedResult], None] | None = None,
) -> Campaign:
    """Check ``seeds`` on ``workers`` local processes (1: in this process) or on the Dask cluster at
    ``scheduler``; ``on_result`` sees each result as it comes."""
    seeds = list(seeds)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(s, str(out_dir), options) for s in seeds]
    camp = Campaign()
    t0 = time.perf_counter()

    def take(r: SeedResult) -> None:
        camp.results.append(r)
        if on_result:
            on_result(r)

    if scheduler:
        from ..analysis.sweep import connect

        client = connect(scheduler)
        try:
            from dask.distributed import as_completed

            camp.where, camp.workers = "Dask", max(1, len(client.scheduler_info().get("workers", {})))
            for f in as_completed(client.map(_worker, jobs, pure=False)):
                take(f.result())
        finally:
            client.close()
    else:
        n = min(workers or (os.cpu_count() or 1), max(len(jobs), 1))
        camp.workers = n
        if n <= 1:
            for j in jobs:
                take(_worker(j))
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(n, mp_context=ctx) as ex:
                for f in as_completed([ex.submit(_worker, j) for j in jobs]):
                    take(f.result())
    camp.seconds = time.perf_counter() - t0
    camp.results.sort(key=lambda r: r.outcome.spec.seed)
    (out_dir / "fuzz.json").write_text(camp.to_json())
    return camp


def replay(path: str | Path, out_dir: str | Path, options: FuzzOptions = FuzzOptions()) -> SeedResult:
    """Check the spec of a reproducer's JSON file again (no shrinking)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"spec file {p} does not exist")
    try:
        spec = ModelSpec.from_json(p.read_text())
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{p} is not a fuzz spec (spec.json / minimal.json of a reproducer): {e}") from None
    return run_seed(spec, out_dir, replace(options, shrink=False))


def print_result(r: SeedResult) -> None:
    print(r.format(), flush=True)
    sys.stdout.flush()
