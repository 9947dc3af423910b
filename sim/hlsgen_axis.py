"""Event-driven AXI4-Stream drivers of hlsgen's cosim bench: a source and a sink that wake Python only
when something can happen on their port, so that a compute-bound design simulates at Verilator speed.

Both sample their handshake signals just after a rising edge of the clock, as cocotbext-axi's
AxiStreamSource and AxiStreamSink do, and change their outputs there; a beat is accepted at an edge where
TVALID and TREADY were both high. Between edges where nothing can happen they sleep on a value change:

* the source holding a beat while TREADY is low awaits the TREADY change, then the next rising edge; a
  source with nothing left to send drops TVALID and ends;
* the sink awaits the TVALID change while TVALID is low (TREADY held as it is), then the next rising edge.

The cycle of every accepted beat comes from the simulation time, in integer simulator steps (cycles since
``origin``, a time in steps), not from counting edges in Python.

Idle cycles and back-pressure (``pause``: an endless True / False pattern, True = pause) are drawn only on
the cycles where they act: the source draws one value at each edge where it would offer a new beat (True:
TVALID low for that cycle), the sink one at each edge where TVALID was high (True: TREADY low for the next
cycle). Where beats are in flight this is cycle by cycle, as with cocotbext-axi's pause generators; the
pattern is not consumed while the port is quiet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cocotb
from cocotb.queue import Queue
from cocotb.task import Task
from cocotb.triggers import RisingEdge, ValueChange
from cocotb.utils import get_sim_steps, get_sim_time


@dataclass(frozen=True)
class Beat:
    """One transfer: the TDATA word, TLAST and the TUSER value (0 where the port has no TUSER)."""

    data: int
    last: bool
    user: int = 0


def _high(sig: Any) -> bool:
    """A 1-bit handshake signal is resolvable and high."""
    v = sig.value
    return v.is_resolvable and int(v) == 1


class _Port:
    """The signals of one AXI4-Stream port ``{prefix}_TDATA`` ..., the cycle clock and the port's pause
    pattern (``None``: never pauses)."""

    def __init__(
        self,
        dut: Any,
        prefix: str,
        clock: Any,
        period_ns: float,
        width: int,
        pause: Iterator[bool] | None = None,
    ) -> None:
        self.clock = clock
        self.pause = pause
        #: the clock period in simulator steps (an integer: cycles are exact at any simulated time)
        self.period = int(get_sim_steps(period_ns, "ns"))
        #: the simulation time of cycle 0, in steps
        self.origin = 0
        self.tdata = getattr(dut, f"{prefix}_TDATA")
        self.tvalid = getattr(dut, f"{prefix}_TVALID")
        self.tready = getattr(dut, f"{prefix}_TREADY")
        self.tlast = getattr(dut, f"{prefix}_TLAST", None)
        self.tuser = getattr(dut, f"{prefix}_TUSER", None)
        self.tkeep = getattr(dut, f"{prefix}_TKEEP", None)
        if len(self.tdata) != width:
            raise ValueError(f"{prefix}_TDATA has {len(self.tdata)} bits, the port spec says {width}")
        self.mask = (1 << width) - 1
        #: the cycle of every accepted beat, counted from ``origin``
        self.handshakes: list[int] = []

    def cycle(self) -> int:
        """The clock cycle of the present simulation time (the edge just sampled)."""
        return (get_sim_time("step") - self.origin) // self.period


class StreamSource(_Port):
    """Drives a sequence of beats into an input port, back to back unless ``pause`` idles a cycle."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tvalid.value = 0

    def start(self, beats: Sequence[Beat], origin: int) -> Task[None]:
        """Send ``beats`` from the next rising edge on; handshake cycles count from ``origin`` (a time in
        simulator steps)."""
        self.origin = origin
        return cocotb.start_soon(self._run(list(beats)))

    def _drive(self, beat: Beat | None) -> None:
        if beat is None:
            self.tvalid.value = 0
            if self.tlast is not None:
                self.tlast.value = 0
            return
        self.tdata.value = beat.data & self.mask
        self.tvalid.value = 1
        if self.tlast is not None:
            self.tlast.value = int(beat.last)
        if self.tuser is not None:
            self.tuser.value = beat.user
        if self.tkeep is not None:
            self.tkeep.value = (1 << len(self.tkeep)) - 1

    async def _run(self, beats: list[Beat]) -> None:
        edge = RisingEdge(self.clock)
        nxt = 0
        valid = False
        while True:
            await edge
            if valid and _high(self.tready):
                self.handshakes.append(self.cycle())
                valid = False
            if not valid:
                if nxt == len(beats):
                    self._drive(None)
                    return
                if self.pause is not None and next(self.pause):
                    self._drive(None)
                    continue
                self._drive(beats[nxt])
                nxt += 1
                valid = True
            elif not _high(self.tready):
                # holding a beat the design does not take: nothing happens before TREADY changes
                await ValueChange(self.tready)


class StreamSink(_Port):
    """Accepts the beats of an output port; TREADY high, or lowered by ``pause`` while TVALID is high.
    Frames (up to TLAST) go to :attr:`frames` as lists of beats."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: Queue[list[Beat]] = Queue()
        self.tready.value = 0
        self._task: Task[None] | None = None

    def start(self) -> None:
        """Raise TREADY at the next rising edge and accept beats from then on (set :attr:`origin`
        before the first beat)."""
        self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        edge = RisingEdge(self.clock)
        frame: list[Beat] = []
        await edge
        ready = self.pause is None or not next(self.pause)
        self.tready.value = int(ready)
        while True:
            await edge
            valid = _high(self.tvalid)
            if valid and ready:
                self.handshakes.append(self.cycle())
                user = int(self.tuser.value) if self.tuser is not None else 0
                last = self.tlast is None or _high(self.tlast)
                frame.append(Beat(int(self.tdata.value) & self.mask, last, user))
                if last:
                    self.frames.put_nowait(frame)
                    frame = []
            if valid:
                if self.pause is not None:
                    ready = not next(self.pause)
                    self.tready.value = int(ready)
            else:
                # nothing to take before TVALID changes
                await ValueChange(self.tvalid)
