"""Analytical cycle estimates of the RTL design: per block, then for the whole design.

Every block of templates/rtl/lib moves whole rows (the last axis of a tensor) with a valid/ready
handshake. Each block has a row-timing model here that mirrors its RTL cycle by cycle at row
granularity: given the cycles at which its input rows become available, and the cycles at which its
output rows were taken downstream, it returns the cycles at which it accepts its input rows and at which
its output rows become available. It keeps its state (busy engines, ping-pong banks) from one sequence
to the next. The numbers are read off the RTL: e.g. a matrix-vector engine issues one operand group a
cycle and its result leaves 4 cycles after the last issue (operand register, product, accumulate, cast
into the output FIFO); the issue that completes a row waits until its output FIFO has room for it
(credits).

The design estimate (:func:`hlsgen.backends.rtl.design.estimate`) runs the blocks in topological order
over a few sequences driven back to back, then again with the take cycles of the previous pass, until
nothing moves (back-pressure through finite FIFOs is a fixpoint of these max-plus equations, reached
from below). Latency is the cycle of the last output beat of the first sequence (its first input beat is
cycle 0); the initiation interval is the mean distance between the last output beats of successive
sequences once the pipeline is full.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NEG = -(10**9)  #: "long ago": no constraint


@dataclass
class Timing:
    """What a block model returns for one sequence: accept cycles per input port, available cycles of
    the output rows."""

    accept: dict[str, list[int]] = field(default_factory=dict)
    avail: list[int] = field(default_factory=list)


def _taken(taken: list[int] | None, k: int) -> int:
    """Cycle at which output row k (counted over all sequences so far) was taken; NEG if unknown."""
    if taken is None or k < 0 or k >= len(taken):
        return NEG
    return taken[k]


class BlockModel:
    """Row timing of one block (subclasses mirror one SystemVerilog module).

    ``run`` is called once per sequence, in order; ``taken`` lists the cycles at which the block's output
    rows (all sequences, in order) were taken downstream in the previous pass (None: no back-pressure).
    """

    #: rows per sequence on each input port and on the output
    in_rows: dict[str, int]
    out_rows: int
    #: rows of the block's output FIFO, reserved by credits (0: the block has none)
    depth: int = 0

    def reset(self) -> None:
        """Forget every sequence (a new pass of the estimate)."""
        raise NotImplementedError

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        raise NotImplementedError

    def cycles_per_sequence(self) -> int:
        """Cycles the busiest engine of the block spends on one sequence (its throughput limit)."""
        raise NotImplementedError

    def credit_loop(self) -> tuple[int, int] | None:
        """``(r, stages)`` of an engine with an output FIFO of ``depth`` rows reserved by credits: a row
        issues over ``r`` cycles from the cycle it holds a credit and reaches the FIFO ``stages`` cycles
        after its last issue. None for a block whose model does not state that loop."""
        return None


class RowPipe(BlockModel):
    """Element-wise blocks (activation, add, mask with an input): one row a cycle into an output register
    that takes a row when it is empty or being emptied."""

    #: cycles from a row's acceptance to its output register (0: it enters the register itself)
    latency: int = 0
    #: rows the block holds (in flight and in its output buffer) before one of them must be taken
    depth: int = 1
    #: cycles after a take before the slot it frees accepts a row (1: registered credits)
    credit_lag: int = 0

    def __init__(self, ports: list[str], rows: int) -> None:
        self.in_rows = {p: rows for p in ports}
        self.out_rows = rows
        self.reset()

    def reset(self) -> None:
        self.last = NEG
        self.count = 0

    def _ready(self, avail: dict[str, list[int]], k: int) -> int:
        """The cycle at which every operand of output row ``k`` is available."""
        return max(avail[p][k] for p in self.in_rows)

    def _accepts(self, acc: list[int]) -> dict[str, list[int]]:
        """Accept cycles per input port, from those of the output rows."""
        return {p: acc for p in self.in_rows}

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc, out = [], []
        for k in range(self.out_rows):
            free = _taken(taken, self.count - self.depth) + self.credit_lag
            a = max(self._ready(avail, k), self.last + 1, free)
            self.last = a
            self.count += 1
            acc.append(a)
            out.append(a + self.latency + 1)
        return Timing(self._accepts(acc), out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows


class BroadcastPipe(RowPipe):
    """hlsgen_binary: a RowPipe whose operands of one row a sequence (``held``) are read at every row and
    taken with the last one."""

    def __init__(self, ports: list[str], rows: int, held: tuple[str, ...] = ()) -> None:
        super().__init__(ports, rows)
        self.held = set(held) if rows > 1 else set()
        for p in self.held:
            self.in_rows[p] = 1

    def _ready(self, avail: dict[str, list[int]], k: int) -> int:
        return max(avail[p][0 if p in self.held else k] for p in self.in_rows)

    def _accepts(self, acc: list[int]) -> dict[str, list[int]]:
        return {p: acc[-1:] if p in self.held else acc for p in self.in_rows}


class SliceModel(BlockModel):
    """hlsgen_slice: input rows are taken one a cycle; a kept row waits for the output register (empty or
    being emptied) and leaves the next cycle, a dropped row does not wait."""

    def __init__(self, keep: list[bool]) -> None:
        self.in_rows = {"in": len(keep)}
        self.out_rows = sum(keep)
        self.keep = keep
        self.reset()

    def reset(self) -> None:
        self.last = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc, out = [], []
        for k, kept in enumerate(self.keep):
            a = max(avail["in"][k], self.last + 1)
            if kept:
                a = max(a, _taken(taken, self.count - 1))
                self.count += 1
                out.append(a + 1)
            self.last = a
            acc.append(a)
        return Timing({"in": acc}, out)

    def cycles_per_sequence(self) -> int:
        return len(self.keep)


class ConcatRows(BlockModel):
    """hlsgen_concat along a leading axis: ``groups`` times ``ra`` rows of port a then ``rb`` rows of
    port b, one a cycle into the output register (empty or being emptied)."""

    def __init__(self, groups: int, ra: int, rb: int) -> None:
        self.in_rows = {"a": groups * ra, "b": groups * rb}
        self.out_rows = groups * (ra + rb)
        self.order = [p for _ in range(groups) for p in ["a"] * ra + ["b"] * rb]
        self.reset()

    def reset(self) -> None:
        self.last = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc: dict[str, list[int]] = {"a": [], "b": []}
        out = []
        for p in self.order:
            a = max(avail[p][len(acc[p])], self.last + 1, _taken(taken, self.count - 1))
            self.last = a
            self.count += 1
            acc[p].append(a)
            out.append(a + 1)
        return Timing(acc, out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows


class WindowModel(BlockModel):
    """hlsgen_window: one step a cycle through the ``pl + t + pr`` positions of the padded sequence, a
    real position when its input row is there; every step waits for the output register (empty or being
    emptied); from position k - 1 on, a step's window leaves the next cycle."""

    def __init__(self, t: int, k: int, pl: int, pr: int) -> None:
        self.in_rows = {"in": t}
        self.out_rows = t + pl + pr - k + 1
        self.t, self.k, self.pl, self.pr = t, k, pl, pr
        self.reset()

    def reset(self) -> None:
        self.last = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc, out = [], []
        for p in range(self.pl + self.t + self.pr):
            s = max(self.last + 1, _taken(taken, self.count - 1))
            if self.pl <= p < self.pl + self.t:
                s = max(s, avail["in"][p - self.pl])
                acc.append(s)
            if p >= self.k - 1:
                out.append(s + 1)
                self.count += 1
            self.last = s
        return Timing({"in": acc}, out)

    def cycles_per_sequence(self) -> int:
        return self.t + self.pl + self.pr


class Source(BlockModel):
    """A source without inputs (a causal mask, a constant): the next row is ready the cycle after the
    last one was taken; the first at cycle ``first`` (hlsgen_const holds its first row from reset on,
    before the first input beat: 0)."""

    def __init__(self, rows: int, first: int = 1) -> None:
        self.in_rows = {}
        self.out_rows = rows
        self.first = first
        self.reset()

    def reset(self) -> None:
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        out = []
        for _ in range(self.out_rows):
            out.append(max(self.first, _taken(taken, self.count - 1) + 1))
            self.count += 1
        return Timing({}, out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows


class MatVec(BlockModel):
    """hlsgen_linear: a row issues ``r`` operand groups on consecutive cycles from the cycle after it is
    accepted, but its last issue waits until its output FIFO (depth ``depth``) has room (row k - depth
    taken the cycle before); it leaves ``stages`` cycles after its last issue (ROM read, product, the
    SIMD sum tree, accumulate, cast, row buffer); the next row is accepted in that last issue cycle."""

    def __init__(self, rows: int, r: int, depth: int, stages: int = 4) -> None:
        self.in_rows = {"in": rows}
        self.out_rows = rows
        self.r = r
        self.depth = depth
        self.stages = stages
        self.reset()

    def reset(self) -> None:
        self.done = NEG  # last issue of the previous row
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc, out = [], []
        for k in range(self.out_rows):
            a = max(avail["in"][k], self.done)
            self.done = max(a + self.r, _taken(taken, self.count - self.depth) + 1)
            self.count += 1
            acc.append(a)
            out.append(self.done + self.stages)
        return Timing({"in": acc}, out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows * self.r

    def credit_loop(self) -> tuple[int, int] | None:
        # the credit is taken with the last issue, so a slot is held r - 1 cycles less than this loop
        # says: the depths sized from it (design.hold_rows_for_scans) have that slack
        return self.r, self.stages


class PipeModel(RowPipe):
    """A per-layer latency engine (:mod:`hlsgen.backends.rtl.render_latency`: an unrolled pipeline of
    ``latency`` cycles behind hlsgen_credit): a RowPipe whose row is accepted in any cycle in which fewer
    than ``depth`` rows are in flight or waiting in the output FIFO (registered credits: row k waits until
    row k - ``depth`` was taken the cycle before), one a cycle; it is in the FIFO ``latency`` cycles later
    and visible the cycle after."""

    credit_lag = 1

    def __init__(self, rows: int, latency: int, depth: int) -> None:
        super().__init__(["in"], rows)
        self.latency = latency
        self.depth = depth


class RowTwoStage(BlockModel):
    """hlsgen_softmax and hlsgen_layernorm: an input stage P (layer norm: its row register; softmax: the
    scan M, with ``scan``), then stages E and N of ``g`` cycles each,
    with a FIFO of ``f1_depth`` rows between them and an output FIFO of ``depth`` rows (both reserved
    when a row's first group issues).

    The pipeline: P holds a row ``rp`` cycles before E may load it (its row reduction); with
    ``f0_depth`` > 0, P is no register but a FIFO of that many rows, reserved as a row is accepted and
    freed as E loads it (the row reduction runs as a free pipeline beside it). With ``scan`` > 1 (the
    softmax's scan M, with ``f0_depth``) the row is read ``scan`` cycles on the input, a group a cycle
    from the cycle it is valid and the previous row was accepted, and accepted with its last group
    once the FIFO has room; ``rp`` then counts from that acceptance. A group issued
    in E reaches the FIFO ``re`` cycles later; N waits ``wn`` cycles after it loads a row before it
    issues; a group issued in N reaches the output FIFO ``rn`` cycles later.

    With a mask (softmax), the NQ mask rows of a sequence fill one of two banks first; a bank is free again
    once the last row of the sequence two before was accepted.
    """

    def __init__(
        self,
        rows: int,
        g: int,
        depth: int,
        mask_rows: int = 0,
        *,
        f0_depth: int = 0,
        rp: int = 0,
        re: int = 0,
        f1_depth: int = 2,
        wn: int = 0,
        rn: int = 0,
        scan: int = 1,
    ) -> None:
        if scan > 1 and not f0_depth:
            raise ValueError("RowTwoStage: a scan of the input row needs the row FIFO (f0_depth)")
        self.in_rows = {"in": rows}
        if mask_rows:
            self.in_rows["mask"] = mask_rows
        self.out_rows = rows
        self.g = g
        self.depth = depth
        self.rp, self.re, self.f1_depth, self.wn, self.rn = rp, re, f1_depth, wn, rn
        self.f0_depth = f0_depth
        self.scan = scan
        self.reset()

    def reset(self) -> None:
        self.eload = NEG
        self.elast = NEG
        self.nlast = NEG
        self.nload: list[int] = []
        self.eloads: list[int] = []
        self.last_acc: list[int] = [NEG, NEG]
        self.mask_last = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        g = self.g
        acc_t: dict[str, list[int]] = {}
        ready = NEG
        if "mask" in self.in_rows:
            macc: list[int] = []
            for j in range(self.in_rows["mask"]):
                lo = max(self.last_acc[0] + 1, self.mask_last + 1) if j == 0 else macc[-1] + 1
                macc.append(max(avail["mask"][j], lo))
            self.mask_last = macc[-1]
            acc_t["mask"] = macc
            ready = macc[-1] + 1
        acc, out = [], []
        for k in range(self.out_rows):
            if self.f0_depth:
                c = self.count - self.f0_depth
                prev = acc[-1] if acc else self.last_acc[1]  # the row before, of this or the last sequence
                s = max(avail["in"][k], ready if k == 0 else NEG, prev + 1)
                a = max(s + self.scan - 1, self.eloads[c] + 1 if c >= 0 else NEG)
            else:
                a = max(avail["in"][k], self.eload, ready if k == 0 else NEG)
                if acc:
                    a = max(a, acc[-1] + 1)
            eload = max(a + 1 + self.rp, self.elast)
            fd = self.f1_depth
            n2 = self.nload[self.count - fd] if self.count >= fd else NEG
            efirst = max(eload + 1, n2 + 1)
            elast = efirst + g - 1
            nload = max(elast + 1 + self.re, self.nlast)
            nfirst = max(nload + 1 + self.wn, _taken(taken, self.count - self.depth) + 1)
            nlast = nfirst + g - 1
            self.eload, self.elast, self.nlast = eload, elast, nlast
            self.nload.append(nload)
            self.eloads.append(eload)
            self.count += 1
            acc.append(a)
            out.append(nlast + 1 + self.rn)
        self.last_acc = [self.last_acc[1], acc[-1]]
        acc_t["in"] = acc
        return Timing(acc_t, out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows * self.g

    def credit_loop(self) -> tuple[int, int] | None:
        return self.g, 1 + self.rn  # N issues g groups; the last reaches the output FIFO rn + 1 later


class ScoresModel(BlockModel):
    """hlsgen_scores: Q and K (and, with ``rope``, QR and KR) fill one of two banks; once all are complete
    and the previous sequence is done, the H*TQ output rows issue ``r`` groups each, a row starting when
    the output FIFO has room; a row leaves ``stages`` cycles after its last issue.

    With the keys read in place (:meth:`keys_in_place`, KLINK) the k port takes one token a sequence:
    the sequence issues only once it is valid, and takes it with its last issue."""

    def __init__(
        self, tq: int, tk: int, heads: int, r: int, depth: int, rope: bool = False, stages: int = 4
    ) -> None:
        self.in_rows = {"q": tq, "k": tk, **({"qr": tq, "kr": tk} if rope else {})}
        self.out_rows = heads * tq
        self.r = r
        self.depth = depth
        self.stages = stages
        self.k_link = False
        self.reset()

    def keys_in_place(self) -> None:
        """The K rows are read from the decode cache in place (hlsgen_scores KLINK)."""
        self.k_link = True
        self.in_rows["k"] = 1

    def reset(self) -> None:
        self.done: list[int] = [NEG, NEG]  # last issue cycle, two sequences back and one back
        self.full_prev = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        free = max(self.done[0] + 1, self.full_prev + 1)
        acc: dict[str, list[int]] = {}
        for p in self.in_rows:
            if p == "k" and self.k_link:
                continue
            lst: list[int] = []
            for j in range(self.in_rows[p]):
                lst.append(max(avail[p][j], free if j == 0 else lst[-1] + 1))
            acc[p] = lst
        full = max(v[-1] for v in acc.values())
        end = max(full, self.done[1], avail["k"][0] - 1 if self.k_link else NEG)
        out = []
        for _ in range(self.out_rows):
            first = max(end + 1, _taken(taken, self.count - self.depth) + 1)
            end = first + self.r - 1
            self.count += 1
            out.append(end + self.stages)
        if self.k_link:
            acc["k"] = [end]
        self.full_prev = full
        self.done = [self.done[1], end]
        return Timing(acc, out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows * self.r

    def credit_loop(self) -> tuple[int, int] | None:
        return self.r, self.stages


class ContextModel(BlockModel):
    """hlsgen_context: V fills one of two banks; probability rows issue ``r`` groups each; the output row
    of query q leaves with its last head (whose rows need room in the output FIFO), ``stages`` cycles
    after its last issue; a sequence starts one cycle after the last row of the previous one.

    With the values read in place (:meth:`values_in_place`, VLINK) the v port takes one token a sequence:
    the first probability row is taken once it is valid, and the token with the last issue."""

    def __init__(self, tq: int, tk: int, heads: int, r: int, depth: int, stages: int = 4) -> None:
        self.in_rows = {"p": heads * tq, "v": tk}
        self.out_rows = tq
        self.tq = tq
        self.heads = heads
        self.r = r
        self.depth = depth
        self.stages = stages
        self.v_link = False
        self.reset()

    def values_in_place(self) -> None:
        """The V rows are read from the decode cache in place (hlsgen_context VLINK)."""
        self.v_link = True
        self.in_rows["v"] = 1

    def reset(self) -> None:
        self.done: list[int] = [NEG, NEG]
        self.v_last = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        vacc: list[int] = []
        if self.v_link:
            ready = avail["v"][0]
        else:
            for j in range(self.in_rows["v"]):
                lo = max(self.done[0] + 1, self.v_last + 1) if j == 0 else vacc[-1] + 1
                vacc.append(max(avail["v"][j], lo))
            self.v_last = vacc[-1]
            ready = vacc[-1] + 1
        pacc: list[int] = []
        out: list[int] = []
        end = self.done[1]  # row_done of the previous row (+1 between sequences)
        base = (self.heads - 1) * self.tq
        for i in range(self.in_rows["p"]):
            a = max(avail["p"][i], ready, end + 1 if i == 0 else end)
            first = a + 1
            if i >= base:
                first = max(first, _taken(taken, self.count - self.depth) + 1)
            end = first + self.r - 1
            pacc.append(a)
            if i >= base:
                out.append(end + self.stages)
                self.count += 1
        self.done = [self.done[1], end]
        return Timing({"p": pacc, "v": [end] if self.v_link else vacc}, out)

    def cycles_per_sequence(self) -> int:
        return self.in_rows["p"] * self.r

    def credit_loop(self) -> tuple[int, int] | None:
        return self.heads * self.r, self.stages  # an output row: a query's rows of every head


class ReshapeModel(BlockModel):
    """hlsgen_reshape: collect the input rows, then present the output rows one after the other; the next
    sequence enters once the last output row was taken."""

    def __init__(self, in_rows: int, out_rows: int) -> None:
        self.in_rows = {"in": in_rows}
        self.out_rows = out_rows
        self.reset()

    def reset(self) -> None:
        self.empty = NEG
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc: list[int] = []
        for i in range(self.in_rows["in"]):
            acc.append(max(avail["in"][i], acc[-1] + 1 if acc else self.empty))
        out: list[int] = []
        t = acc[-1] + 1
        for _ in range(self.out_rows):
            out.append(t if not out else max(out[-1] + 1, _taken(taken, self.count - 1) + 1))
            self.count += 1
        last_take = max(out[-1], _taken(taken, self.count - 1))
        self.empty = last_take + 1
        return Timing({"in": acc}, out)

    def cycles_per_sequence(self) -> int:
        return self.in_rows["in"] + self.out_rows


class PoolModel(BlockModel):
    """hlsgen_avgpool / hlsgen_maxpool (hlsgen_fold): one row a cycle while the output register is free
    or being emptied; a result passes ``pipe`` register stages after its last row, then the output
    register. The fold, the stages and the output register stand still exactly while the previous
    result waits in the output register untaken (from the cycle it is valid to the cycle it is taken),
    so a row is taken, and a stage moves, only in the other cycles: with nothing waiting, the result
    leaves ``pipe`` + 1 cycles after the last row."""

    def __init__(self, rows: int, pipe: int = 0) -> None:
        self.in_rows = {"in": rows}
        self.out_rows = 1
        self.pipe = pipe
        self.reset()

    def reset(self) -> None:
        self.last = NEG
        self.count = 0
        self.valid = NEG  # the cycle the previous result entered the output register

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        held, gone = self.valid, _taken(taken, self.count - 1)

        def moving(c: int) -> int:  # the first cycle from c in which the fold moves
            return gone if held <= c < gone else c

        acc: list[int] = []
        for i in range(self.in_rows["in"]):
            acc.append(moving(max(avail["in"][i], (acc[-1] if acc else self.last) + 1)))
        c = acc[-1]
        for _ in range(self.pipe):
            c = moving(c + 1)
        self.last = acc[-1]
        self.valid = c + 1
        self.count += 1
        return Timing({"in": acc}, [c + 1])

    def cycles_per_sequence(self) -> int:
        return self.in_rows["in"]


class CacheModel(BlockModel):
    """hlsgen_kv_cache: a step takes its row and position together once the previous step's reads have
    all issued; the L reads then issue one a cycle, each when the output FIFO (depth ``depth``) has room
    for it, and row k leaves 2 cycles after its read.

    Read in place (``link``, LINK = 1): no rows leave; a step's token is valid the cycle after its row
    was taken, and the next step is taken in the cycle the reader takes the token at the earliest."""

    def __init__(self, rows: int, depth: int, link: bool = False) -> None:
        self.in_rows = {"x": 1, "pos": 1}
        self.out_rows = 1 if link else rows
        self.depth = depth
        self.link = link
        self.reset()

    def reset(self) -> None:
        self.free = NEG  # first cycle a new step may be taken
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        a = max(avail["x"][0], avail["pos"][0], self.free)
        if self.link:
            a = max(a, _taken(taken, self.count - 1))
            self.count += 1
            return Timing({"x": [a], "pos": [a]}, [a + 1])
        issue = a
        out = []
        for _ in range(self.out_rows):
            issue = max(issue + 1, _taken(taken, self.count - self.depth) + 1)
            out.append(issue + 2)
            self.count += 1
        self.free = issue + 1
        return Timing({"x": [a], "pos": [a]}, out)

    def cycles_per_sequence(self) -> int:
        return 1 if self.link else self.out_rows + 1


class RopeModel(BlockModel):
    """hlsgen_rope: a row (with the sequence's position row in decode) is accepted once the previous row
    issued its last group; its ``g`` groups issue on consecutive cycles once the output FIFO (depth
    ``depth``) has room, and the row leaves 2 cycles after its last issue (products, then sum and cast)."""

    def __init__(self, rows: int, g: int, depth: int, decode: bool = False) -> None:
        self.in_rows = {"x": rows, **({"pos": 1} if decode else {})}
        self.out_rows = rows
        self.g = g
        self.depth = depth
        self.reset()

    def reset(self) -> None:
        self.done = NEG  # last issue of the previous row
        self.count = 0

    def run(self, avail: dict[str, list[int]], taken: list[int] | None) -> Timing:
        acc, out = [], []
        for k in range(self.out_rows):
            a = max(avail["x"][k], self.done)
            if k == 0 and "pos" in self.in_rows:
                a = max(a, avail["pos"][0])
            first = max(a + 1, _taken(taken, self.count - self.depth) + 1)
            self.done = first + self.g - 1
            self.count += 1
            acc.append(a)
            out.append(self.done + 2)
        accept = {"x": acc}
        if "pos" in self.in_rows:
            accept["pos"] = acc[:1]
        return Timing(accept, out)

    def cycles_per_sequence(self) -> int:
        return self.out_rows * self.g

    def credit_loop(self) -> tuple[int, int] | None:
        return self.g, 2


@dataclass
class Estimate:
    """The design-level cycle estimate.

    Attributes:
        latency: cycles from the first input beat to the last output beat of one sequence (idle design).
        ii: cycles between successive sequences in steady state, back to back.
        bound: the throughput bound, the largest cycles per sequence of any block.
        fifo_occupancy: the largest number of rows every fork FIFO holds with unbounded FIFOs.
        per_block: cycles per sequence of each block's busiest engine.
        passes: passes of the back-pressure fixpoint.
        converged: the fixpoint was reached; False when it still moved after its last pass, so that
            latency and II are not exact (:func:`~hlsgen.backends.rtl.design.estimate` warns).
        ends: the cycle of each sequence's last output beat, in the run the figures come from.
        held: the largest number of rows each fork branch held in that run, through the real depths.
    """

    latency: int
    ii: float
    bound: int
    fifo_occupancy: dict[str, int]
    per_block: dict[str, int]
    passes: int = 1
    converged: bool = True
    ends: list[int] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)


__all__ = [
    "BlockModel",
    "BroadcastPipe",
    "CacheModel",
    "ConcatRows",
    "ContextModel",
    "Estimate",
    "MatVec",
    "PoolModel",
    "ReshapeModel",
    "RopeModel",
    "RowPipe",
    "RowTwoStage",
    "ScoresModel",
    "SliceModel",
    "Source",
    "Timing",
    "WindowModel",
]
