"""Planning: an analytical resource and latency estimate per layer, checked against a board; reuse factors
chosen so that a design fits.

Every figure here is an *estimate* (and says so when printed). Each op states what it needs in
:meth:`~hlsgen.ir.ops.base.Op.cost` (multipliers after its reuse factor and their operand widths, the
bits and ROM depth of its parameters, its tables, adders and registers, its latency); this module maps
that onto a device's primitives:

- DSP: a multiplier whose narrower operand has more than 4 bits and whose wider operand has more than
  10 takes ``ceil(a / A) * ceil(b / 18)`` DSP slices (``A`` = 25 on 7-series DSP48E1, 27 on
  UltraScale DSP48E2); a smaller one is built from LUTs (``a * b / 2`` of them), as Vitis HLS does.
- BRAM18: the op's tables, plus its parameters when they are reshaped into a ROM of depth >= 64
  (:func:`hlsgen.memory.bram18_wide`: ``ceil(width / 36) * ceil(depth / 512)`` blocks of 512 x 36); a shallower ROM is LUT ROM (``width``
  LUTs up to 64 deep), and depth 1 means constants folded into the multipliers (no memory). A decode
  cache (``kv_cache``, ``latent_cache``) that states no BRAM itself is ``max_length`` rows of one word.
- LUT and FF: the op's adders, tables and registers; rough (within a factor of two of Vitis HLS).
- Latency: the sum of the ops' latencies (the top function runs them one after the other), plus one
  cycle per word through a board shell; the shell itself adds the resources of its DMA / memory
  adapters (:data:`SHELL_OVERHEAD`).

:func:`check` warns past :data:`WARN_FRACTION` (80 %) of any resource and refuses past 100 %;
:func:`fit` raises reuse factors, greedily, where it saves the most of the over-used resources per cycle
of latency added, until the design is within the target (80 % by default).
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .boards import Board, Family, Shell, YosysFamily
from .config import Multiplier, Strategy
from .ir.ops.basic import Linear
from .memory import bram18_wide

if TYPE_CHECKING:
    from .config import Config
    from .ir.graph import Graph
    from .ir.ops.base import Op
    from .project import Project

#: A warning past this fraction of any resource of the board.
WARN_FRACTION = 0.8
#: Resources in display order.
RESOURCES = ("lut", "ff", "dsp", "bram18", "uram")
#: What the shell adds around the accelerator (estimates from the AMD product guides: AXI DMA in simple
#: mode PG021, AXI interconnect / SmartConnect PG247, processor system reset PG164; Alveo kernel m_axi
#: adapters and s_axilite control from Vitis kernel reports). The Alveo platform's static region is not
#: counted: the board files give whole-device totals.
SHELL_OVERHEAD: dict[Shell, dict[str, int]] = {
    Shell.ZYNQ: {"lut": 3500, "ff": 5200, "dsp": 0, "bram18": 4, "uram": 0},
    Shell.ALVEO: {"lut": 4500, "ff": 7000, "dsp": 0, "bram18": 8, "uram": 0},
    Shell.BARE: {"lut": 0, "ff": 0, "dsp": 0, "bram18": 0, "uram": 0},
}
#: Parameter ROMs shallower than this are LUT ROM, deeper ones block RAM.
_LUT_ROM_MAX_DEPTH = 64


class Status(enum.StrEnum):
    """How a design sits on a board."""

    FITS = "fits"  #: every resource at most WARN_FRACTION
    TIGHT = "tight"  #: some resource past WARN_FRACTION, none past 100 %
    OVER = "over"  #: some resource past 100 %


class DoesNotFit(ValueError):
    """The design needs more of a resource than the board has (the message names them)."""


# -- mapping onto device primitives ------------------------------------------------------------------
def dsp_per_multiplier(widths: tuple[int, int], family: Family | None) -> int:
    """DSP slices one multiplier of operand widths ``widths`` takes (0: built from LUTs)."""
    a, b = max(widths), min(widths)
    if b <= 4 or a <= 10:
        return 0
    wide = 25 if family is None or family.yosys_family is YosysFamily.XC7 else 27
    return math.ceil(a / wide) * math.ceil(b / 18)


def lut_per_multiplier(widths: tuple[int, int]) -> int:
    """LUTs of one multiplier built from fabric (only for those :func:`dsp_per_multiplier` gives 0)."""
    a, b = max(widths), min(widths)
    return max(1, a * b // 2) if b > 1 else a


@dataclass(frozen=True)
class LayerEstimate:
    """Estimated resources and latency of one op (or of the shell, kind ``shell``)."""

    name: str
    kind: str
    origin: str
    reuse_factor: int
    macs: int
    multipliers: int
    lut: int
    ff: int
    dsp: int
    bram18: int
    uram: int
    latency_cycles: int
    #: the op's multipliers are shared by its reuse factor (False: no multipliers, or a fixed number)
    reusable: bool = False
    #: the strategy the op is built with (:meth:`hlsgen.quant.resolver.TypeResolver.strategy`)
    strategy: Strategy = Strategy.RESOURCE
    #: how its products are bound under the latency strategy (:meth:`hlsgen.ir.ops.base.Op.bindings`)
    bindings: tuple[Multiplier, ...] = ()

    @property
    def strategy_label(self) -> str:
        """``resource``, ``latency``, or ``latency lut`` / ``latency dsp`` / ``latency dsp/lut`` (the
        bindings of its products)."""
        if self.strategy is Strategy.RESOURCE or not self.bindings:
            return self.strategy.value
        return f"{self.strategy.value} {'/'.join(sorted({m.value for m in self.bindings}))}"

    def resources(self) -> dict[str, int]:
        return {r: getattr(self, r) for r in RESOURCES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "origin": self.origin,
            "reuse_factor": self.reuse_factor if self.reusable else None,
            "strategy": self.strategy_label,
            "macs": self.macs,
            "multipliers": self.multipliers,
            "latency_cycles": self.latency_cycles,
            **self.resources(),
        }


def estimate_op(
    op: Op, graph: Graph, family: Family | None = None, strategy: Strategy = Strategy.RESOURCE
) -> LayerEstimate:
    """The estimate of one typed op, built with ``strategy``."""
    c = op.cost(graph)
    if not c.multipliers:
        per = 0
    elif c.mult_widths == (0, 0):  # an op that does not state its operand widths: one DSP each
        per = 1
    else:
        per = dsp_per_multiplier(c.mult_widths, family)
    dsp = c.multipliers * per
    lut = c.lut + (0 if per or not c.multipliers else c.multipliers * lut_per_multiplier(c.mult_widths))
    bram = c.bram18
    if c.param_bits and c.rom_depth > 1:
        width = math.ceil(c.param_bits / c.rom_depth)
        if c.rom_depth >= _LUT_ROM_MAX_DEPTH:
            bram += bram18_wide(width, c.rom_depth)
        else:
            lut += width
    cache_bits = getattr(op, "bits", None)
    if op.kind.endswith("cache") and callable(cache_bits) and not c.bram18:  # decode caches: one row a word
        depth = int(getattr(op, "max_length", 1))
        bram += bram18_wide(math.ceil(cache_bits() / depth), depth)
    bindings = op.bindings()
    if bindings and all(m is Multiplier.LUT for m in bindings):  # products on LUTs: no DSP
        if isinstance(op, Linear):  # constant products as shift-adds: the op's adder graph
            dsp, lut = 0, int(c.lut) + op.adder_graph().cost.lut
        elif c.multipliers:  # data-dependent products as LUT multipliers
            dsp, lut = 0, int(c.lut) + c.multipliers * lut_per_multiplier(c.mult_widths)
    elif bindings and all(m is Multiplier.DSP for m in bindings) and c.multipliers and not per:
        dsp, lut = c.multipliers, int(c.lut)  # BIND_OP impl=dsp: a DSP even where fabric would do
    ff = c.ff if c.ff else lut
    return LayerEstimate(
        name=op.name,
        kind=op.kind,
        origin=op.origin,
        reuse_factor=int(op.reuse_factor),
        macs=c.macs,
        multipliers=c.multipliers,
        lut=int(lut),
        ff=int(ff),
        dsp=int(dsp),
        bram18=int(bram),
        uram=0,
        latency_cycles=int(c.latency_cycles),
        reusable=bool(reuse_candidates(op, graph)) if c.multipliers > 1 else False,
        strategy=strategy,
        bindings=bindings,
    )


# -- the plan ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Per-layer estimates of a design, with the board they are set against (if any)."""

    project: str
    layers: tuple[LayerEstimate, ...]
    clock_period_ns: float
    board: Board | None = None
    shell: LayerEstimate | None = None
    #: the latency strategy's pipeline of the whole model (its summary), when the config asks for it
    pipeline: dict[str, Any] | None = None

    @property
    def rows(self) -> tuple[LayerEstimate, ...]:
        """The layers, and the shell when there is one."""
        return self.layers + ((self.shell,) if self.shell is not None else ())

    @property
    def totals(self) -> dict[str, int]:
        return {r: sum(getattr(x, r) for x in self.rows) for r in RESOURCES}

    @property
    def latency_cycles(self) -> int:
        return sum(x.latency_cycles for x in self.rows)

    @property
    def latency_ns(self) -> float:
        return self.latency_cycles * self.clock_period_ns

    def utilisation(self) -> dict[str, float]:
        """Fraction of the board's resources used (resources the board lacks: inf when used, else 0)."""
        if self.board is None:
            return {}
        have = self.board.resources.to_dict()
        out = {}
        for r, used in self.totals.items():
            out[r] = used / have[r] if have[r] else (math.inf if used else 0.0)
        return out

    @property
    def status(self) -> Status:
        u = self.utilisation()
        if any(v > 1.0 for v in u.values()):
            return Status.OVER
        if any(v > WARN_FRACTION for v in u.values()):
            return Status.TIGHT
        return Status.FITS

    def problems(self) -> list[tuple[Status, str]]:
        """One message per resource past the warning line, with its status."""
        if self.board is None:
            return []
        have = self.board.resources.to_dict()
        out = []
        for r, u in self.utilisation().items():
            if u <= WARN_FRACTION:
                continue
            used = self.totals[r]
            top = sorted(self.rows, key=lambda x: -getattr(x, r))[:3]
            who = ", ".join(f"{x.name} {getattr(x, r)}" for x in top if getattr(x, r))
            pct = "no such resource on the part" if not have[r] else f"{100 * u:.0f}%"
            level = Status.OVER if u > 1.0 else Status.TIGHT
            out.append(
                (
                    level,
                    f"{r.upper()}: {used} of {have[r]} on {self.board.name} ({pct}; estimate); most in {who}",
                )
            )
        return out

    def format(self) -> str:
        """A plain-text table: one row per layer, totals, the board's resources and the fraction used."""
        head = ("LAYER", "KIND", "STRATEGY", "RF", "MULT", "DSP", "BRAM18", "LUT", "FF", "CYCLES")
        rows = [
            (
                x.name,
                x.kind,
                x.strategy_label,
                str(x.reuse_factor) if x.reusable else "-",
                str(x.multipliers),
                str(x.dsp),
                str(x.bram18),
                str(x.lut),
                str(x.ff),
                str(x.latency_cycles),
            )
            for x in self.rows
        ]
        t = self.totals
        rows.append(
            (
                "total (estimate)",
                "",
                "",
                "",
                str(sum(x.multipliers for x in self.rows)),
                str(t["dsp"]),
                str(t["bram18"]),
                str(t["lut"]),
                str(t["ff"]),
                str(self.latency_cycles),
            )
        )
        if self.board is not None:
            have = self.board.resources.to_dict()
            u = self.utilisation()
            rows.append(
                (
                    f"{self.board.name} has",
                    "",
                    "",
                    "",
                    "",
                    str(have["dsp"]),
                    str(have["bram18"]),
                    str(have["lut"]),
                    str(have["ff"]),
                    "",
                )
            )
            rows.append(("used", "", "", "", "", *(_pct(u[r]) for r in ("dsp", "bram18", "lut", "ff")), ""))
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )

        sep = "  ".join("-" * w for w in widths)
        body = [
            line(head),
            *(line(r) for r in rows[: len(self.rows)]),
            sep,
            *(line(r) for r in rows[len(self.rows) :]),
        ]
        clock = f"{self.clock_period_ns:g} ns"
        lat = f"latency {self.latency_cycles} cycles = {_time(self.latency_ns)} at {clock} (estimate)"
        if self.pipeline is not None:
            p = self.pipeline
            lat = "resource form (the HLS project) above: " + lat
            lat += (
                f"\nlatency strategy (the RTL, hlsgen.backends.rtl.latency): {p['stages']} stages, latency "
                f"{p['latency_cycles']} cycles = {_time(p['latency_ns'])} at {p['clock_ns']:g} ns, II 1; "
                f"{p['adders']} adders, {p['multipliers']} multipliers, LUT {p['lut_estimate']}, "
                f"FF {p['registers']}; slowest stage {p['worst_stage_ns']} ns "
                f"(~{p['fmax_mhz_estimate']} MHz) (estimate)"
            )
        return "\n".join(body) + "\n" + lat

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": "estimate",
            "project": self.project,
            "board": self.board.name if self.board else None,
            "clock_period_ns": self.clock_period_ns,
            "layers": [x.to_dict() for x in self.layers],
            "shell": self.shell.to_dict() if self.shell else None,
            "totals": self.totals,
            "latency_cycles": self.latency_cycles,
            "utilisation": {k: (v if math.isfinite(v) else None) for k, v in self.utilisation().items()},
            "status": self.status.value if self.board else None,
            "latency_strategy": self.pipeline,
        }


def _pct(u: float) -> str:
    return "n/a" if not math.isfinite(u) else f"{100 * u:.0f}%"


def _time(ns: float) -> str:
    return f"{ns / 1000:.3g} us" if ns >= 1000 else f"{ns:.3g} ns"


def estimate(
    graph: Graph,
    board: Board | None = None,
    clock_period_ns: float = 5.0,
    project: str = "",
    config: Config | None = None,
) -> Plan:
    """The plan of a typed graph, against ``board`` when given (its clock then replaces ``clock_period_ns``);
    each layer's strategy from ``config`` (None: resource)."""
    from .quant.resolver import TypeResolver

    family = board.family if board is not None else None
    resolver = TypeResolver(config) if config is not None else None
    layers = tuple(
        estimate_op(op, graph, family, resolver.strategy(op) if resolver else Strategy.RESOURCE)
        for op in graph.ops
    )
    shell = None
    if board is not None and board.shell is not Shell.BARE:
        words = sum(graph.tensors[t].size for t in (*graph.inputs, *graph.outputs))
        o = SHELL_OVERHEAD[board.shell]
        shell = LayerEstimate(
            f"{board.shell.value} shell",
            "shell",
            "",
            1,
            0,
            0,
            o["lut"],
            o["ff"],
            o["dsp"],
            o["bram18"],
            o["uram"],
            words,
        )
    period = board.clock_period_ns if board is not None else clock_period_ns
    return Plan(project or graph.name, layers, period, board, shell)


def project_plan(project: Project, board: Board | None = None) -> Plan:
    """The plan of a :class:`~hlsgen.project.Project`, against its own board unless ``board`` is given."""
    import dataclasses

    b = board if board is not None else project.board
    plan = estimate(project.graph, b, project.config.clock_period, project.name, project.config)
    if project.config.strategy is Strategy.LATENCY:
        from .backends.rtl.latency import plan_graph

        plan = dataclasses.replace(plan, pipeline=plan_graph(project.graph, project.config).summary())
    return plan


def check(plan: Plan, force: bool = False) -> list[str]:
    """Warnings for resources past 80 %; :class:`DoesNotFit` past 100 % unless ``force``.

    Returns:
        The warning lines (also the forced over-use lines), for printing.
    """
    lines = [f"warning: {msg}" for level, msg in plan.problems() if level is Status.TIGHT]
    over = [msg for level, msg in plan.problems() if level is Status.OVER]
    if over and not force:
        assert plan.board is not None
        raise DoesNotFit(
            f"{plan.project} does not fit the {plan.board.name}:\n  "
            + "\n  ".join(over)
            + "\n  use --fit to choose reuse factors that fit, or --force to write it anyway"
        )
    lines += [f"warning (forced): {msg}" for msg in over]
    return lines


# -- fitting -------------------------------------------------------------------------------------------
@dataclass
class FitResult:
    """Reuse factors that make a design fit, the plan with them, and why each was chosen."""

    reuse: dict[str, int]
    plan: Plan
    before: Plan
    steps: list[str] = field(default_factory=list)

    def format(self) -> str:
        changed = {k: v for k, v in self.reuse.items() if v != 1}
        out = [
            f"fit for {self.plan.board.name if self.plan.board else '?'}: "
            f"{len(changed)} of {len(self.reuse)} layers share multipliers"
        ]
        out += [f"  {s}" for s in self.steps]
        u = self.plan.utilisation()
        worst = max(u, key=lambda r: u[r]) if u else None
        if worst:
            out.append(
                f"result: {worst.upper()} at {_pct(u[worst])} (the fullest resource), latency "
                f"{self.before.latency_cycles} -> {self.plan.latency_cycles} cycles "
                f"({_time(self.plan.latency_ns)}, estimate)"
            )
        return "\n".join(out)


def reuse_candidates(op: Op, graph: Graph) -> list[int]:
    """Reuse factors worth trying for ``op``: the divisors of its multiplier count at reuse factor 1
    (every multiplier then busy on each of the RF cycles), ascending; [] for an op whose multipliers a
    reuse factor does not share (or that has none), or of ``strategy: latency`` (a row every cycle)."""
    if op.bindings():
        return []
    m = _with_reuse(op, 1).cost(graph).multipliers
    if m <= 1 or _with_reuse(op, m).cost(graph).multipliers >= m:  # the op does not share multipliers
        return []
    small = [d for d in range(1, math.isqrt(m) + 1) if m % d == 0]
    return sorted(set(small + [m // d for d in small]))


def _with_reuse(op: Op, rf: int) -> Op:
    o = copy.copy(op)
    o.reuse_factor = rf
    return o


def fit(graph: Graph, board: Board, target: float = WARN_FRACTION, project: str = "") -> FitResult:
    """Reuse factors per op for the lowest latency the greedy search finds within ``target`` of every
    resource of ``board``.

    Starting from reuse factor 1 everywhere (the lowest latency), it repeatedly raises the reuse factor
    of the op whose next candidate (:func:`reuse_candidates`) frees the most of the over-used resources
    (as fractions of the board) per cycle of latency added, until every resource is within ``target``.

    Raises:
        DoesNotFit: no choice of reuse factors fits (e.g. tables or the shell alone take too much).
    """
    if not 0 < target <= 1:
        raise ValueError(f"fit target must be in (0, 1], got {target}")
    family = board.family
    have = board.resources.to_dict()
    ops = [op for op in graph.ops]
    cands = {op.name: reuse_candidates(op, graph) for op in ops}
    rf = {op.name: 1 for op in ops if cands[op.name]}
    est = {op.name: estimate_op(_with_reuse(op, rf.get(op.name, 1)), graph, family) for op in ops}
    before = estimate(_graph_with(graph, rf), board, project=project)
    steps: list[str] = []
    by_name = {op.name: op for op in ops}
    fixed = before.totals
    for op in ops:
        for r in RESOURCES:
            fixed[r] -= getattr(est[op.name], r)  # what no reuse factor changes: the shell

    def totals() -> dict[str, int]:
        return {r: fixed[r] + sum(getattr(e, r) for e in est.values()) for r in RESOURCES}

    def over(t: Mapping[str, int]) -> dict[str, float]:
        return {
            r: t[r] / have[r] - target for r in RESOURCES if (t[r] > target * have[r]) and (have[r] or t[r])
        }

    while True:
        t = totals()
        excess = over(t)
        if not excess:
            break
        best = None
        for name, cur in rf.items():
            nxt = [c for c in cands[name] if c > cur]
            if not nxt:
                continue
            new = estimate_op(_with_reuse(by_name[name], nxt[0]), graph, family)
            old = est[name]
            saved = sum((getattr(old, r) - getattr(new, r)) / (have[r] or 1) for r in excess)
            if saved <= 0:
                continue
            added = max(new.latency_cycles - old.latency_cycles, 0)
            score = saved / (added + 0.5)
            if best is None or score > best[0]:
                best = (score, name, nxt[0], new, old)
        if best is None:
            floors = _floors(ops, cands, graph, family, fixed)
            short = [r for r in excess if floors[r] > target * have[r]] or list(excess)
            msgs = ", ".join(
                f"{r.upper()} needs at least {floors[r]} (now {t[r]}), more than {target:.0%} of {have[r]}"
                for r in short
            )
            raise DoesNotFit(
                f"{project or graph.name} cannot fit the {board.name} by reuse factors alone: {msgs} "
                "(estimate; tables, registers and the shell do not shrink with reuse); use narrower types, "
                "a smaller model or a larger board"
            )
        _, name, new_rf, new, old = best
        rf[name] = new_rf
        est[name] = new
    # one line per op whose reuse factor changed
    for name, r in rf.items():
        if r == 1:
            continue
        o = estimate_op(_with_reuse(by_name[name], 1), graph, family)
        n = est[name]
        steps.append(
            f"{name}: reuse factor {r}: multipliers {o.multipliers} -> {n.multipliers}, DSP {o.dsp} -> {n.dsp}, "
            f"BRAM18 {o.bram18} -> {n.bram18}, LUT {o.lut} -> {n.lut}; latency +{n.latency_cycles - o.latency_cycles} cycles"
        )
    if not steps:
        steps.append("every layer fits at reuse factor 1: nothing to share")
    plan = estimate(_graph_with(graph, rf), board, project=project)
    return FitResult(rf, plan, before, steps)


def _floors(
    ops: list[Op], cands: Mapping[str, list[int]], graph: Graph, family: Family, fixed: Mapping[str, int]
) -> dict[str, int]:
    """The least of each resource that any choice of reuse factors leaves (each op at its own best)."""
    out = dict(fixed)
    for op in ops:
        ests = [
            estimate_op(_with_reuse(op, rf), graph, family) for rf in (cands[op.name] or [op.reuse_factor])
        ]
        for r in RESOURCES:
            out[r] += min(getattr(e, r) for e in ests)
    return out


def _graph_with(graph: Graph, reuse: Mapping[str, int]) -> Graph:
    """A shallow copy of ``graph`` whose ops carry the reuse factors ``reuse`` (others left as they are)."""
    g = copy.copy(graph)
    g.ops = [_with_reuse(op, reuse[op.name]) if op.name in reuse else op for op in graph.ops]
    return g


def apply_reuse(project: Project, reuse: Mapping[str, int]) -> Project:
    """A project whose ops use ``reuse`` (op name -> reuse factor), recorded in its config's ``layers``
    so that the written ``hlsgen_config.yml`` gives the same design."""
    from .config import Config, LayerConfig
    from .project import Project

    cfg = Config.from_dict(project.config.to_dict())
    graph = project.graph.copy()
    for op in graph.ops:
        if op.name in reuse:
            op.reuse_factor = int(reuse[op.name])
            cfg.layers.setdefault(op.name, LayerConfig()).reuse_factor = int(reuse[op.name])
    return Project(graph, cfg, output_dir=project.output_dir)


__all__ = [
    "RESOURCES",
    "SHELL_OVERHEAD",
    "WARN_FRACTION",
    "DoesNotFit",
    "FitResult",
    "LayerEstimate",
    "Plan",
    "Status",
    "apply_reuse",
    "check",
    "dsp_per_multiplier",
    "estimate",
    "estimate_op",
    "fit",
    "project_plan",
    "reuse_candidates",
]
