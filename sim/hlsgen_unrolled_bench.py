"""cocotb bench of an unrolled, pipelined block (hlsgen.backends.rtl.unrolled): a whole sample a beat.

``HLSGEN_COSIM_SPEC`` names a JSON file with the packed input words, the packed expected output words
(the NumPy reference), the ``valid`` pattern (1: a new sample in that cycle, 0: an idle cycle) and
where to write the measurements. Inputs are driven on the falling edge; the outputs are read after
each rising edge. Measured: every output word (bit for bit), the latency of every sample (cycle of its
output minus the cycle it was on the input port) and the interval between the outputs of samples that
entered in consecutive cycles (II).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def unrolled(dut: Any) -> None:
    """Every output equals the reference; latency and II as measured."""
    spec = json.loads(Path(os.environ["HLSGEN_COSIM_SPEC"]).read_text())
    ins = [int(w) for w in spec["inputs"]]
    want = [int(w) for w in spec["outputs"]]
    pattern = [int(v) for v in spec["valid"]]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_data.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    sent: list[int] = []  # cycle each sample was on the input port
    got: list[tuple[int, int]] = []  # (cycle, word) of each valid output
    k = 0
    cycle = 0
    drain = int(spec.get("drain", 64))
    while k < len(ins) or (cycle < len(pattern) + drain and len(got) < len(ins)):
        drive = k < len(ins) and (pattern[cycle] if cycle < len(pattern) else 1)
        dut.in_valid.value = int(drive)
        dut.in_data.value = ins[k] if drive else 0
        if drive:
            sent.append(cycle)
            k += 1
        await RisingEdge(dut.clk)
        await ReadOnly()
        cycle += 1
        if int(dut.out_valid.value):
            got.append((cycle, int(dut.out_data.value)))
        await FallingEdge(dut.clk)
    bad = [(i, w, g) for i, (w, (_, g)) in enumerate(zip(want, got, strict=False)) if w != g]
    lat = sorted({c - s for s, (c, _) in zip(sent, got, strict=False)})
    gaps = [
        got[i + 1][0] - got[i][0] for i in range(min(len(got), len(sent)) - 1) if sent[i + 1] - sent[i] == 1
    ]
    meas = {
        "samples": len(ins),
        "outputs": len(got),
        "mismatches": len(bad),
        "first_mismatch": None
        if not bad
        else {"sample": bad[0][0], "want": hex(bad[0][1]), "got": hex(bad[0][2])},
        "latency": lat,
        "ii": max(gaps) if gaps else None,
        "back_to_back": len(gaps),
    }
    Path(spec["measurements"]).write_text(json.dumps(meas))
    assert len(got) == len(ins), f"{len(got)} outputs for {len(ins)} samples"
    assert not bad, f"{len(bad)} mismatching samples; first: {meas['first_mismatch']}"
