"""Run every benchmark script with small settings (``make bench``); each prints its figures beside its
baseline. ``--full`` runs them at their own defaults instead; ``--only NAME`` picks scripts.

    python benchmarks/run_all.py [--full] [--only bench_softmax bench_decode]

Exit status 1 when a script fails (its name is printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> the arguments of its small run (a minute or so each on 2 cores)
SMALL: dict[str, list[str]] = {
    "bench_quantize": ["--n", "1000000", "--repeat", "2"],
    "bench_softmax": ["--samples", "20000"],
    "bench_emulation": ["--batch", "200", "--csim-batch", "50", "--no-profile"],
    "bench_decode": ["--length", "16", "--batch", "8"],
    "bench_decode_rtl": ["--length", "8", "--no-yosys"],
    "bench_rtl": ["--par", "8", "--sequences", "2", "--no-yosys"],
    "bench_rtl_depth": ["--kinds", "fc", "sm"],
    "bench_keras_forms": [],
    "bench_trigger": [],
    "bench_qonnx_mha": ["--seeds", "4"],  # needs the torch extra
    "bench_tensor_rtl": ["--ops", "add", "slice", "rowperm"],
    # T 16 and 64 at d 32 without Yosys (about 4 minutes at the 2-core machine's load)
    "bench_scale": ["--seq", "16", "64", "--d", "32", "--limit", "300"]
    + ["--stages", "convert", "emulate", "csim", "verilator", "cosim"],
    "bench_btag": [],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="each script at its own default settings")
    ap.add_argument("--only", nargs="+", choices=sorted(SMALL), help="run only these scripts")
    args = ap.parse_args(argv)
    missing = sorted(set(SMALL) - {p.stem for p in HERE.glob("bench_*.py")})
    if missing:
        raise SystemExit(f"run_all: benchmarks/{missing[0]}.py is missing")
    failed = []
    for name in args.only or SMALL:
        cmd = [sys.executable, str(HERE / f"{name}.py"), *([] if args.full else SMALL[name])]
        print(f"\n=== {name} {' '.join(cmd[2:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {time.perf_counter() - t0:.0f} s")
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
