"""The cocotb bench of hlsgen's co-simulation: drives an AXI4-Stream top (hlsgen's RTL, or RTL exported
by Vitis HLS with the same interface) and checks every output beat against the NumPy reference.

Built from parts, as cocotb's examples are:

* :class:`Driver`: one event-driven AXI4-Stream source (sim/hlsgen_axis.py) per model input, optionally
  with random idle cycles between beats;
* :class:`Monitor`: one event-driven AXI4-Stream sink per model output, optionally with random
  back-pressure;
* the handshake cycles: the source and the sink of every port note the clock cycle of each accepted
  beat from the simulation time (latency and II);
* :class:`Model`: the NumPy reference (``hlsgen`` IR ops executed on raw integers), run on the very
  inputs the driver sends;
* :class:`Checker`: compares received and expected tokens and remembers the first mismatch (sample,
  token, element).

The packing (hlsgen.backends.rtl.packing): one beat per token (a row of the last axis), element j at
TDATA[j*w +: w], TLAST on the last token of a sample; a top with TKEEP gets every byte kept.

The drivers wake Python only when something can happen on their port (a beat in flight, a TREADY or
TVALID change), not on every clock edge: the cycles where a compute-bound design holds its ports still
cost no Python. Idle cycles and back-pressure are drawn from their pattern only on the cycles where they
act (hlsgen_axis.py says which).

The runner (hlsgen.backends.rtl.cosim) points ``HLSGEN_COSIM_SPEC`` at a JSON file: the ports, the raw
inputs (.npz), the pickled typed graph of the reference, where to write the measurements. Every
combination of idle cycles and back-pressure is a test; each must see every sample bit-exact.

A decode top (``decode`` in the spec) takes one token a sample: the spec lists the TUSER bit of every
input beat (1 = reset: a new sequence starts with this token) and the TUSER bit every output beat must
carry (1 = overflow); the expected outputs come from a decode session of the reference run by the
runner (``expected``, .npz), since the reference of a step depends on the steps before it. Latency and
II are measured over the leading ``measure`` samples (tokens that fill the caches without a reset).
"""

from __future__ import annotations

import json
import os
import pickle
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotb.utils import get_sim_time
from hlsgen_axis import Beat, StreamSink, StreamSource

from hlsgen.backends.rtl.packing import sample_to_tokens, tokens_to_sample
from hlsgen.fixed import FixedType

CLOCK_NS = 5


@dataclass
class PortSpec:
    name: str
    direction: str
    tensor: str
    type: FixedType
    n: int
    rows: int
    tdata_width: int
    shape: tuple[int, ...]


def load_spec() -> dict[str, Any]:
    path = os.environ.get("HLSGEN_COSIM_SPEC")
    if not path:
        raise RuntimeError("HLSGEN_COSIM_SPEC is not set: run the bench through hlsgen.backends.rtl.cosim")
    spec = json.loads(Path(path).read_text())
    spec["ports"] = [
        PortSpec(
            p["name"],
            p["direction"],
            p["tensor"],
            FixedType.parse(p["type"]),
            p["n"],
            p["rows"],
            p["tdata_width"],
            tuple(p["shape"]),
        )
        for p in spec["ports"]
    ]
    return spec


def pause_pattern(seed: int, density: float) -> Any:
    """An endless random on/off pattern (True = pause this cycle), reproducible from ``seed``."""
    rng = random.Random(seed)
    while True:
        yield rng.random() < density


# ---------------------------------------------------------------------------------------------------
class Model:
    """The NumPy reference: the typed graph's ops executed on raw integers."""

    def __init__(self, graph_path: str) -> None:
        with open(graph_path, "rb") as f:
            self.graph = pickle.load(f)

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        env = dict(inputs)
        for op in self.graph.ops:
            outs = op.execute(*(env[t] for t in op.inputs))
            env.update(zip(op.outputs, outs, strict=True))
        return {k: np.asarray(env[k]) for k in self.graph.outputs}


class Driver:
    """Sends each sample of one input as a frame of tokens."""

    def __init__(self, dut: Any, port: PortSpec, idle_seed: int | None) -> None:
        self.port = port
        pause = None if idle_seed is None else pause_pattern(idle_seed, 0.3)
        self.source = StreamSource(dut, port.name, dut.ap_clk, CLOCK_NS, port.tdata_width, pause)

    def send(self, raw: np.ndarray, origin: int, user: list[int] | None = None) -> None:
        """Every sample as a frame from the next rising edge on; ``user``: the TUSER value of each sample's
        beats (decode tops); handshake cycles count from ``origin`` (simulator steps)."""
        beats = []
        for s, sample in enumerate(raw):
            # the port's shape: the tensor's, or flat for a top that takes a whole sample a beat
            words = sample_to_tokens(np.asarray(sample).reshape(self.port.shape), self.port.type)
            u = 0 if user is None else int(user[s])
            beats += [Beat(w, k == len(words) - 1, u) for k, w in enumerate(words)]
        self.source.start(beats, origin)


class Monitor:
    """Receives the frames of one output."""

    def __init__(self, dut: Any, port: PortSpec, pause_seed: int | None) -> None:
        self.port = port
        pause = None if pause_seed is None else pause_pattern(pause_seed, 0.3)
        self.sink = StreamSink(dut, port.name, dut.ap_clk, CLOCK_NS, port.tdata_width, pause)

    async def receive(self) -> tuple[list[int], list[int]]:
        """The TDATA words of one frame, and the TUSER value of each beat (zeros without TUSER)."""
        frame = await self.sink.frames.get()
        return [b.data for b in frame], [b.user for b in frame]


@dataclass
class Checker:
    """Compares received tokens with the reference; counts mismatching elements, keeps the first."""

    mismatches: int = 0
    first: dict[str, Any] | None = None
    samples: int = 0

    def check_user(self, port: PortSpec, sample: int, users: list[int], want: int) -> None:
        """Every beat of the sample carries TUSER ``want`` (decode tops: the overflow flag)."""
        bad = [t for t, u in enumerate(users) if u != want]
        self.mismatches += len(bad)
        if bad and self.first is None:
            self.first = {
                "output": port.name,
                "sample": sample,
                "token": bad[0],
                "element": "TUSER",
                "got": users[bad[0]],
                "want": want,
                "message": f"TUSER {users[bad[0]]} != {want} (1 = the sequence was full)",
            }

    def check(self, port: PortSpec, sample: int, words: list[int], want: np.ndarray) -> None:
        self.samples += 1
        if len(words) != port.rows:
            self.mismatches += 1
            if self.first is None:
                self.first = {
                    "output": port.name,
                    "sample": sample,
                    "token": min(len(words), port.rows),
                    "element": 0,
                    "message": f"{len(words)} tokens received, {port.rows} expected",
                }
            return
        got = tokens_to_sample(words, port.shape, port.type).reshape(port.rows, port.n)
        exp = np.asarray(want).reshape(port.rows, port.n)
        bad = np.argwhere(got != exp)
        self.mismatches += len(bad)
        if len(bad) and self.first is None:
            t, e = (int(v) for v in bad[0])
            self.first = {
                "output": port.name,
                "sample": sample,
                "token": t,
                "element": e,
                "got": int(got[t, e]),
                "want": int(exp[t, e]),
                "message": f"cosim {int(got[t, e])} != reference {int(exp[t, e])} (raw integers)",
            }


# ---------------------------------------------------------------------------------------------------
@dataclass
class Bench:
    dut: Any
    spec: dict[str, Any]
    idle: bool
    backpressure: bool
    checker: Checker = field(default_factory=Checker)

    @property
    def inputs(self) -> list[PortSpec]:
        return [p for p in self.spec["ports"] if p.direction == "in"]

    @property
    def outputs(self) -> list[PortSpec]:
        return [p for p in self.spec["ports"] if p.direction == "out"]

    async def run(self) -> dict[str, Any]:
        dut, spec = self.dut, self.spec
        seed = int(spec.get("seed", 1))
        data = np.load(spec["inputs"], allow_pickle=True)
        raw_in = {p.tensor: data[p.tensor] for p in self.inputs}
        n = int(next(iter(raw_in.values())).shape[0])
        decode = spec.get("decode")
        if decode:
            want = np.load(decode["expected"], allow_pickle=True)
            expected = {p.tensor: want[p.tensor] for p in self.outputs}
        else:
            expected = Model(spec["graph"]).run(raw_in)

        if hasattr(dut, "ap_start"):  # a Vitis HLS top with block-level handshakes
            dut.ap_start.value = 1
        dut.ap_rst_n.value = 0
        drivers = [Driver(dut, p, seed + 11 * k if self.idle else None) for k, p in enumerate(self.inputs)]
        monitors = [
            Monitor(dut, p, seed + 17 * k + 5 if self.backpressure else None)
            for k, p in enumerate(self.outputs)
        ]
        await ClockCycles(dut.ap_clk, 4)
        dut.ap_rst_n.value = 1
        await RisingEdge(dut.ap_clk)
        origin = get_sim_time("step")  # cycle 0: handshakes count clock cycles from this edge
        for m in monitors:  # TREADY low through reset (as an AXI4-Stream sink must keep it)
            m.sink.origin = origin
            m.sink.start()
        audit = EdgeAudit(dut, self.inputs + self.outputs) if os.environ.get("HLSGEN_COSIM_AUDIT") else None
        audit_task = cocotb.start_soon(audit.run()) if audit else None
        for d in drivers:
            d.send(raw_in[d.port.tensor], origin, decode["reset"] if decode else None)

        received: dict[str, list[list[int]]] = {m.port.name: [] for m in monitors}

        async def collect(m: Monitor) -> None:
            for s in range(n):
                words, users = await m.receive()
                received[m.port.name].append(words)
                self.checker.check(m.port, s, words, expected[m.port.tensor][s])
                if decode:
                    self.checker.check_user(m.port, s, users, int(decode["overflow"][s]))

        budget = int(spec.get("timeout_cycles", 100000))
        tasks = [cocotb.start_soon(collect(m)) for m in monitors]
        for t in tasks:
            await with_timeout(t, budget * CLOCK_NS, "ns")
        for m in monitors:
            m.sink.stop()
        cycles = {d.port.name: d.source.handshakes for d in drivers}
        cycles.update({m.port.name: m.sink.handshakes for m in monitors})
        if audit is not None and audit_task is not None:
            audit_task.cancel()
            audit.compare(cycles)
        n_beats = sum(len(w) for v in received.values() for w in v)
        tokens = None
        if n_beats <= 256:  # small runs keep every TDATA word (golden-vector tests read them)
            tokens = {
                d.port.name: [
                    sample_to_tokens(np.asarray(x).reshape(d.port.shape), d.port.type)
                    for x in raw_in[d.port.tensor]
                ]
                for d in drivers
            }
            tokens.update(received)
        return {
            "tokens": tokens,
            "idle": self.idle,
            "backpressure": self.backpressure,
            "samples": n,
            "mismatches": self.checker.mismatches,
            "first_mismatch": self.checker.first,
            **measure(cycles, self.inputs, self.outputs, int(decode["measure"]) if decode else n),
        }


class EdgeAudit:
    """``HLSGEN_COSIM_AUDIT=1``: the cycle of every accepted beat of every port counted edge by edge (TVALID
    and TREADY read after each rising edge, as the old per-edge recorder did), to compare with the cycles
    the event-driven sources and sinks derive from the simulation time."""

    def __init__(self, dut: Any, ports: list[PortSpec]) -> None:
        self.sig = [
            (p.name, getattr(dut, f"{p.name}_TVALID"), getattr(dut, f"{p.name}_TREADY")) for p in ports
        ]
        self.clock = dut.ap_clk
        self.cycles: dict[str, list[int]] = {p.name: [] for p in ports}

    async def run(self) -> None:
        """Count from the edge this starts after (cycle 0) on."""
        cycle = 0
        while True:
            await RisingEdge(self.clock)
            cycle += 1
            for name, v, r in self.sig:
                if v.value.is_resolvable and r.value.is_resolvable and int(v.value) and int(r.value):
                    self.cycles[name].append(cycle)

    def compare(self, cycles: dict[str, list[int]]) -> None:
        for name, want in self.cycles.items():
            if cycles[name] != want:
                got = cycles[name]
                pairs = enumerate(zip(got, want, strict=False))
                k = next((i for i, (a, b) in pairs if a != b), min(len(got), len(want)))
                raise AssertionError(
                    f"handshake audit: port {name}: {len(got)} beats timed by the bench, {len(want)} "
                    f"counted edge by edge; first difference at beat {k}"
                )


def measure(
    cycles: dict[str, list[int]], inputs: list[PortSpec], outputs: list[PortSpec], n: int
) -> dict[str, Any]:
    """Latency (first input beat to last output beat of sample 0) and initiation interval (mean distance
    between the last output beats of successive samples, from the third sample on) in cycles."""
    first_in = [min(cycles[p.name][s * p.rows] for p in inputs) for s in range(n)]
    last_out = [max(cycles[p.name][(s + 1) * p.rows - 1] for p in outputs) for s in range(n)]
    gaps = [last_out[s] - last_out[s - 1] for s in range(2, n)] or [
        last_out[s] - last_out[s - 1] for s in range(1, n)
    ]
    return {
        "latency": last_out[0] - first_in[0],
        "ii": (sum(gaps) / len(gaps)) if gaps else None,
        "first_in": first_in,
        "last_out": last_out,
    }


def _record(result: dict[str, Any]) -> None:
    path = Path(os.environ["HLSGEN_COSIM_SPEC"]).with_name("measurements.jsonl")
    with path.open("a") as f:
        f.write(json.dumps(result) + "\n")


@cocotb.test()
@cocotb.parametrize(idle=[False, True], backpressure=[False, True])
async def cosim(dut: Any, idle: bool, backpressure: bool) -> None:
    """Every sample through the design, bit-exact, with or without idle input cycles and back-pressure."""
    # the clock in C++ (GPI): no Python between edges nobody waits for
    cocotb.start_soon(Clock(dut.ap_clk, CLOCK_NS, unit="ns", impl="gpi").start())
    spec = load_spec()
    bench = Bench(dut, spec, idle, backpressure)
    result = await bench.run()
    _record(result)
    c = bench.checker
    if c.first is not None:
        f = c.first
        raise AssertionError(
            f"output {f['output']}: {c.mismatches} mismatching element(s); first at sample {f['sample']}, "
            f"token {f['token']}, element {f['element']}: {f['message']}"
        )
