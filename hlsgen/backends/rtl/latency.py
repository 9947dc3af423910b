"""The ``latency`` strategy of a whole graph in RTL: every op unrolled, one sample a beat, II = 1.

Each op of the graph becomes values of one :class:`~hlsgen.backends.rtl.unrolled.Net`, rendered by one
entry of :data:`LATENCY_RENDERERS` (keyed by op kind, beside the resource table of :mod:`.ops`):

- ``linear``: the constant products of :func:`~hlsgen.backends.rtl.unrolled.emit_linear` (shift-adds or
  DSPs by the layer's ``multiplier``), one copy a row: a per-particle Dense over ``(rows, features)``;
- ``activation``: ``linear`` (a cast), ``relu`` (the sign bit clears, then the cast) and the table
  functions (each element's top ``table_bits`` address a LUT ROM of the op's own table, then the cast);
- ``add``: the exact sum at the aligned LSB, then the cast (``hlsgen.fixed.add`` then ``convert``);
- ``reshape``: wires (the data stays row-major);
- ``global_avg_pool``: an adder tree over the rows, the product by the op's 1/T constant (a shift when
  T is a power of two, shift-adds otherwise) and the cast, as :meth:`GlobalAvgPool.execute`.

Every tensor is a list of values, row-major; every op ends in a cast (:func:`~.unrolled.plan_cast`:
hlsgen_fastcast, wires where range analysis proves it exact, hlsgen_cast for the rarer overflow modes), whose raw output bits are
read back as a signed value (``ext``) by the ops after it. Values are scheduled by the one delay model
and carried by registers to the stage that reads them, so parallel branches (an Add's operands) are
delay-matched. The AXI4-Stream top (:func:`top_files`) takes a whole sample a beat (the input tensor
packed as one token of ``size`` elements, :mod:`hlsgen.backends.axis`) and gives one beat a sample per
output; output back-pressure stalls the whole pipeline (one clock enable). Latency = stages + 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...config import Multiplier, Strategy
from ...fixed import FixedType
from ...fixed.arith import add_type
from ...fixed.cmm import bits_for, optimise
from ...ir.graph import c_identifier
from .latency_attention import ATTENTION_RENDERERS
from .latency_attention import check_op as check_attention_op
from .latency_ops import OP_RENDERERS, as_output, settle_constants
from .logic_depth import DELAYS, NET, rom_delay
from .packing import tdata_width
from .unrolled import (
    CAST_MODULES,
    Net,
    Unrolled,
    adder_delay,
    emit_linear,
    linear_graph,
    pack_rows,
    write_rtl,
)

if TYPE_CHECKING:
    from ...config import Config
    from ...ir.graph import Graph
    from ...ir.ops.base import Op
    from .split import Part


class _Builder:
    """The net being built and the values of every tensor so far."""

    def __init__(self, graph: Graph, config: Config) -> None:
        from ...quant.resolver import TypeResolver

        self.graph = graph
        self.config = config
        self.resolver = TypeResolver(config)
        self.net = Net(config.clock_period, f"design {graph.name}")
        self.env: dict[str, list[int]] = {}
        self._ext: dict[int, int] = {}
        self.multipliers: dict[str, str] = {}

    def type_of(self, tensor: str) -> FixedType:
        t = self.graph.tensors[tensor].type
        assert t is not None
        return t

    def arith(self, tensor: str) -> list[int]:
        """The values of ``tensor`` as signed numbers (a cast's raw bits sign- or zero-extended)."""
        t = self.type_of(tensor)
        out = []
        for v in self.env[tensor]:
            if self.net.values[v].kind != "cast":
                out.append(v)
                continue
            if v not in self._ext:
                name = f"{self.net.values[v].name}_s"
                w = t.width + (0 if t.signed else 1)
                self._ext[v] = self.net.place(name, "ext", w, (v,), 0.0, signed=int(t.signed))
            out.append(self._ext[v])
        return out


def _prefix(op: Op) -> str:
    return f"{c_identifier(op.name)}_"


def _linear(b: _Builder, op: Op) -> list[int]:
    x = b.arith(op.inputs[0])
    rows = len(x) // op.n_in
    mult, graph = linear_graph(op, op.binding or b.resolver.multiplier(op))
    b.multipliers[op.name] = mult.value
    ins = [x[r * op.n_in : (r + 1) * op.n_in] for r in range(rows)]
    return emit_linear(b.net, op, ins, mult, graph, _prefix(op))


def _table(b: _Builder, op: Op) -> list[int]:
    """A table activation: each element's top ``table_bits`` (offset binary) address one LUT ROM,
    the entry then cast to the output type (:meth:`Activation.execute`)."""
    tx, ty, tt = op.types["x"], op.types["y"], op.types["table"]
    bits = int(op.table_bits)
    name = f"{_prefix(op)}table"
    width = tt.width + (0 if tt.signed else 1)
    b.net.tables.append((name, bits, width, tuple(int(v) for v in op.table_raw)))
    out = []
    for k, v in enumerate(b.env[op.inputs[0]]):
        r = b.net.place(
            f"{_prefix(op)}t{k}",
            "rom",
            width,
            (v,),
            rom_delay(bits),
            table=name,
            bits=bits,
            xw=tx.width,
            xs=int(tx.signed),
        )
        b.net.lut += width * max(1, (1 << bits) // 64)
        out.append(b.net.cast(f"{_prefix(op)}y{k}", r, tt.frac, ty, f"activation '{op.name}'"))
    return out


def _activation(b: _Builder, op: Op) -> list[int]:
    if op.function not in ("linear", "relu"):
        return _table(b, op)
    tx, ty = op.types["x"], op.types["y"]
    x = b.arith(op.inputs[0])
    p = _prefix(op)
    out = []
    for k, v in enumerate(x):
        lo, hi = tx.raw_min, tx.raw_max
        if op.function == "relu" and tx.signed:
            v = b.net.place(f"{p}r{k}", "relu", b.net.values[v].width, (v,), NET + DELAYS["lut"])
            b.net.lut += b.net.values[v].width
            lo = 0
        out.append(
            b.net.cast(
                f"{p}y{k}",
                v,
                tx.frac,
                ty,
                f"activation '{op.name}'",
                max(lo, 0) if op.function == "relu" else lo,
                hi,
            )
        )
    return out


def _add(b: _Builder, op: Op) -> list[int]:
    ta, tb, ty = op.types["a"], op.types["b"], op.types["y"]
    ts = add_type(ta, tb)
    sha, shb = ts.frac - ta.frac, ts.frac - tb.frac
    w = bits_for((ta.raw_min << sha) + (tb.raw_min << shb), (ta.raw_max << sha) + (tb.raw_max << shb))
    p = _prefix(op)
    out = []
    lo, hi = (ta.raw_min << sha) + (tb.raw_min << shb), (ta.raw_max << sha) + (tb.raw_max << shb)
    for k, (u, v) in enumerate(zip(b.arith(op.inputs[0]), b.arith(op.inputs[1]), strict=True)):
        s = b.net.place(f"{p}s{k}", "add", w, (u, v), adder_delay(w), sha=sha, shb=shb, sub=0)
        b.net.adders += 1
        b.net.lut += w
        out.append(b.net.cast(f"{p}y{k}", s, ts.frac, ty, f"add '{op.name}'", lo, hi))
    return out


def _reshape(b: _Builder, op: Op) -> list[int]:
    return list(b.env[op.inputs[0]])


def _avgpool(b: _Builder, op: Op) -> list[int]:
    shape = b.graph.tensors[op.inputs[0]].shape
    if len(shape) != 2:
        raise NotImplementedError(
            f"global_avg_pool '{op.name}': the latency strategy pools a (rows, features) input, got {shape}"
        )
    t, d = shape
    tx, ty = op.types["x"], op.types["y"]
    c = int(op.c_raw)
    x = b.arith(op.inputs[0])
    p = _prefix(op)
    net = b.net
    if c <= 0:
        raise NotImplementedError(f"global_avg_pool '{op.name}': scale constant {c} is not positive")
    cg = None if c & (c - 1) == 0 else optimise(np.array([[c]]), [tx.raw_min * t], [tx.raw_max * t])
    out = []
    for j in range(d):
        terms = [(x[r * d + j], tx.raw_min, tx.raw_max) for r in range(t)]
        while len(terms) > 1:  # balanced tree, earliest first
            terms.sort(key=lambda q: (net.values[q[0]].stage, net.arrival[q[0]]))
            (u, ulo, uhi), (v, vlo, vhi) = terms.pop(0), terms.pop(0)
            w = bits_for(ulo + vlo, uhi + vhi)
            s = net.place(f"{p}s{j}_{len(net.values)}", "add", w, (u, v), adder_delay(w), sha=0, shb=0, sub=0)
            net.adders += 1
            net.lut += w
            terms.append((s, ulo + vlo, uhi + vhi))
        s, lo, hi = terms[0]
        plo, phi = sorted((lo * c, hi * c))
        pw = bits_for(plo, phi)
        if cg is None:  # c a power of two: a shift
            prod = net.place(f"{p}m{j}", "add0", pw, (s,), 0.0, sh=c.bit_length() - 1)
        else:
            ids = net.adder_graph(cg, [s], f"{p}n{j}_")
            term = cg.outputs[0]
            prod = net.place(
                f"{p}m{j}",
                "acc",
                pw,
                (ids[term.var],),
                adder_delay(pw) if term.sign < 0 else 0.0,
                sh=term.shift,
                neg=int(term.sign < 0),
                bias=0,
            )
        out.append(
            net.cast(f"{p}y{j}", prod, tx.frac + op.c_frac, ty, f"global_avg_pool '{op.name}'", plo, phi)
        )
    return out


#: op kind -> its latency-strategy renderer (values of the net); a kind not here has no II = 1 form
LATENCY_RENDERERS: dict[str, Callable[[_Builder, Any], list[int]]] = {
    "linear": _linear,
    "activation": _activation,
    "add": _add,
    "reshape": _reshape,
    "global_avg_pool": _avgpool,
    **OP_RENDERERS,  # layer norm and the tensor ops: latency_ops.py
    **ATTENTION_RENDERERS,  # scores, mask, softmax, context (latency_attention.py)
}


def latency_layers(config: Config) -> list[str]:
    """The config's settings that ask for the latency strategy (for messages)."""
    where = ["strategy"] if config.strategy is Strategy.LATENCY else []
    return where + [
        f"layers.{n}.strategy" for n, lc in config.layers.items() if lc.strategy is Strategy.LATENCY
    ]


def check_resource_layers(config: Config) -> None:
    """Refuse ``strategy: resource`` layers inside a latency model (before reading the model).

    A latency design takes a whole sample every cycle; a layer shared over R cycles would hold the whole
    pipeline to one sample every R cycles (hls4ml's io_parallel with a resource layer of reuse R), which
    is the row-streaming design's job. Not built: the refusal names the entries and what to do.

    Raises:
        NotImplementedError: naming each ``layers.NAME.strategy: resource`` entry.
    """
    mixed = [f"layers.{n}.strategy" for n, lc in config.layers.items() if lc.strategy is Strategy.RESOURCE]
    if config.strategy is Strategy.LATENCY and mixed:
        raise NotImplementedError(
            f"{', '.join(mixed)}: 'resource' inside a model of strategy latency is not built: the latency "
            "design takes a new sample every cycle (II = 1), and a layer shared over its reuse factor would "
            "set the II of the whole pipeline. Either drop the entry (the layer is unrolled like the rest), "
            "or set the global strategy: resource and give the layers that need II = 1 'strategy: latency' "
            "(Dense and Conv1D layers get unrolled engines inside the row-streaming design)"
        )


def check_graph(graph: Graph, config: Config) -> None:
    """Refuse, naming the op, a graph the latency strategy cannot build (cheap: no scheduling).

    Raises:
        NotImplementedError: a resource layer in it (:func:`check_resource_layers`), an op kind or setting
            with no II = 1 form, or an output that is a model input.
    """
    if config.strategy is not Strategy.LATENCY:
        raise NotImplementedError(
            f"{', '.join(latency_layers(config))}: the whole-model latency design needs the global "
            "strategy: latency (a per-layer latency layer of a resource model is an engine of the "
            "row-streaming design, hlsgen.backends.rtl.render_latency)"
        )
    check_resource_layers(config)
    kinds = ", ".join(sorted(LATENCY_RENDERERS))
    for op in graph.ops:
        if op.kind not in LATENCY_RENDERERS:
            raise NotImplementedError(
                f"{op.kind} '{op.name}'"
                + (f" (layer {op.origin})" if op.origin else "")
                + f": the latency strategy has no II = 1 form of {op.kind!r} (it has: {kinds}); "
                "use strategy 'resource'"
            )
        check_attention_op(graph, op)
        if op.kind == "linear" and int(getattr(op, "blocks", 1)) > 1:
            raise NotImplementedError(
                f"linear '{op.name}': the latency strategy has no block-diagonal linear"
            )
    for name in graph.outputs:
        if (
            name in graph.inputs
            or graph.producer(name).kind == "reshape"
            and _root(graph, name) in graph.inputs
        ):
            raise NotImplementedError(
                f"design {graph.name}: output {name} is the model input; put an op between"
            )


def _root(graph: Graph, tensor: str) -> str:
    while tensor not in graph.inputs and graph.producer(tensor).kind == "reshape":
        tensor = graph.producer(tensor).inputs[0]
    return tensor


def plan_graph(graph: Graph, config: Config, module: str | None = None) -> Unrolled:
    """The whole typed ``graph`` as one unrolled pipeline (with a clock enable) at the config's clock."""
    graph.check_typed()
    check_graph(graph, config)
    b = _Builder(graph, config)
    # every model input in one wide in_data, one after the other (the first at bit 0): the top joins
    # their beats (a mask input beside the features enters with them, in the same cycle)
    lsb = 0
    for k, name in enumerate(graph.inputs):
        t = b.type_of(name)
        w = bits_for(t.raw_min, t.raw_max)
        pre = "x" if k == 0 else f"{c_identifier(name)}_in"
        b.env[name] = [
            b.net.place(f"{pre}_{i}", "in", w, (), 0.0, lsb=lsb + i * t.width, signed=int(t.signed))
            for i in range(graph.tensors[name].size)
        ]
        lsb += graph.tensors[name].size * t.width
    xin = graph.inputs[0]
    tx = b.type_of(xin)
    n_in = graph.tensors[xin].size
    op_luts: dict[str, int] = {}
    for op in graph.ops:
        before = b.net.lut
        b.env[op.outputs[0]] = LATENCY_RENDERERS[op.kind](b, op)
        op_luts[op.name] = b.net.lut - before
    outs = [
        as_output(b.net, v, b.type_of(name), f"{c_identifier(name)}_o{k}")
        for name in graph.outputs
        for k, v in enumerate(b.env[name])
    ]
    settle_constants(b.net, outs)
    # several outputs: every one reaches the last stage (registers carry the earlier ones), so a sample's
    # outputs leave together; out_data holds them one after the other, each value at its type's width
    ty = b.type_of(graph.outputs[0])
    out_bits = sum(graph.tensors[k].size * b.type_of(k).width for k in graph.outputs)
    net = b.net
    stages = max(net.values[o].stage for o in outs)
    name = module or f"{c_identifier(graph.name)}_core"
    u = Unrolled(
        module=name,
        rows=1,
        n_in=n_in,
        n_out=len(outs),
        tx=tx,
        ty=ty,
        multiplier=Multiplier(config.multiplier),
        clock_ns=config.clock_period,
        values=tuple(net.values),
        outputs=tuple(outs),
        stages=stages,
        graph=None,
        adders=net.adders,
        multipliers=net.multipliers,
        lut_estimate=net.lut,
        registers=0,
        worst_stage_ns=net.worst,
        extra={
            "multipliers": dict(b.multipliers),
            "ops": [f"{op.kind} {op.name}" for op in graph.ops],
            "op_luts": op_luts,
        },
        enable=True,
        tables=tuple(net.tables),
        in_bits=lsb,
        out_bits=out_bits,
        header=(
            f"{name}: the whole model fully unrolled and pipelined at II = 1 (hlsgen.backends.rtl.latency).",
            ", ".join(f"{graph.tensors[k].size} inputs ({b.type_of(k)}) of {k}" for k in graph.inputs)
            + " -> "
            + ", ".join(f"{graph.tensors[k].size} outputs ({b.type_of(k)}) of {k}" for k in graph.outputs)
            + " a sample, one sample a cycle"
            + (
                " (in_data / out_data: the inputs / outputs one after the other, the first at bit 0)."
                if len(graph.inputs) > 1 or len(graph.outputs) > 1
                else "."
            ),
            "Ops: " + ", ".join(f"{op.kind} {op.name}" for op in graph.ops) + ".",
            f"Constant products: {net.adders} adders, {net.multipliers} multipliers.",
        ),
    )
    regs = sum(wd for _, _, wd in u.registers_of()) + u.in_width + u.latency
    import dataclasses

    return dataclasses.replace(u, registers=regs)


@dataclass
class LatencyDesign:
    """The AXI4-Stream top of a latency-strategy graph around its pipeline.

    Attributes:
        top: the top module (the project's name); ``core`` the pipeline it wraps.
        inputs, outputs: (port/tensor name, elements, type) of each beat.
        parts: the core cut into modules of stage ranges (:mod:`.split`), chained by a core of the
            same ports; empty: the core is one module.
    """

    top: str
    core: Unrolled
    inputs: list[tuple[str, int, FixedType]]
    outputs: list[tuple[str, int, FixedType]]
    parts: list[Part] = field(default_factory=list)

    @property
    def latency(self) -> int:
        """Cycles from an input beat to its output beat (measured by the cosim)."""
        return self.core.latency

    @property
    def ii(self) -> float:
        return 1.0

    def ports(self) -> list[dict[str, Any]]:
        """The ports as design.json lists them: one beat a sample (``rows`` 1, ``shape`` flat)."""
        return [
            {
                "name": name,
                "direction": d,
                "tensor": name,
                "type": str(t),
                "n": n,
                "rows": 1,
                "tdata_width": tdata_width(n, t.width),
                "user_width": 0,
                "shape": [n],
            }
            for d, ps in (("in", self.inputs), ("out", self.outputs))
            for name, n, t in ps
        ]

    def summary(self) -> dict[str, object]:
        return {**self.core.summary(), "top": self.top, "ii": 1}


def build_latency_design(graph: Graph, config: Config, top: str, parts: int = 1) -> LatencyDesign:
    """The latency-strategy design of ``graph`` (see :func:`plan_graph`); ``parts`` > 1 cuts its core
    into that many modules of stage ranges (:func:`.split.plan_parts`: the same registers and logic)."""
    from .split import plan_parts

    top = c_identifier(top)
    core = plan_graph(graph, config, f"{top}_core")
    ins = [(k, graph.tensors[k].size, graph.tensors[k].type) for k in graph.inputs]
    outs = [(k, graph.tensors[k].size, graph.tensors[k].type) for k in graph.outputs]
    cut = plan_parts(core, parts) if parts > 1 else []
    return LatencyDesign(top, core, ins, outs, cut)  # type: ignore[arg-type]


def top_files(design: LatencyDesign) -> dict[str, str]:
    """Every RTL file of the design (nothing written): cast module, pipeline, top, files.f, design.json."""
    from ...resources import resource_dir
    from ..templating import environment, render
    from .split import split_files

    lib = resource_dir("templates") / "rtl" / "lib"
    core = (
        split_files(design.core, design.parts)
        if design.parts
        else {f"{design.core.module}.sv": design.core.render()}
    )
    files = {
        **{m: (lib / m).read_text() for m in CAST_MODULES},
        **core,
        f"{design.top}.sv": render(
            environment(),
            "rtl/latency_top.sv.j2",
            d=design,
            ports=design.ports(),
            in_bits={name: n * t.width for name, n, t in design.inputs},
            out_bits={name: n * t.width for name, n, t in design.outputs},
        ),
    }
    files["files.f"] = "\n".join(source_order(design)) + "\n"
    files["design.json"] = (
        json.dumps(
            {
                "top": design.top,
                "strategy": "latency",
                "ports": design.ports(),
                "estimate": {"latency": design.latency, "ii": 1.0},
                "pipeline": design.core.summary(),
            },
            indent=1,
        )
        + "\n"
    )
    return files


def cosim_latency(
    graph: Graph,
    config: Any,
    top: str,
    raw_inputs: dict[str, np.ndarray],
    work_dir: str | Path,
    seed: int = 1,
    plain_only: bool = False,
    parts: int = 1,
) -> Any:
    """Co-simulate the latency-strategy top of ``graph`` (:mod:`hlsgen.backends.rtl.latency`: a sample a
    beat) with the same bench, runs and checks as :func:`hlsgen.backends.rtl.cosim.cosim_graph`; with
    ``parts`` > 1, its core split into that many modules (what :func:`synthesize_latency` synthesises)."""
    from .cosim import run

    work = Path(work_dir)
    design = build_latency_design(graph, config, top, parts)
    rdir = work / "rtl"
    rdir.mkdir(parents=True, exist_ok=True)
    for name, text in top_files(design).items():
        (rdir / name).write_text(text)
    n = int(np.asarray(raw_inputs[graph.inputs[0]]).shape[0])
    budget = 10000 + 10 * (design.latency + n)
    return run(
        graph,
        raw_inputs,
        rdir,
        source_order(design),
        design.ports(),
        work,
        design.top,
        seed,
        budget,
        plain_only,
    )


def cosim_unrolled(
    u: Unrolled, op: Op, x_raw: np.ndarray, work_dir: str | Path, valid: list[int] | None = None
) -> dict[str, object]:
    """Simulate the unrolled Linear ``u`` (:func:`~.unrolled.plan_linear`; Verilator, sim/hlsgen_unrolled_bench.py) on the raw samples ``x_raw``
    (``n x rows x n_in``), one a cycle where ``valid`` (default: every cycle) says so, against
    ``op.execute`` (the reference). Returns the bench's measurements plus ``failures``."""
    from .cosim import build, failures, run_bench

    work = Path(work_dir)
    x = np.asarray(x_raw).reshape(-1, u.rows, u.n_in)
    want = np.asarray(op.execute(x)[0]).reshape(len(x), -1)
    srcs = write_rtl(u, work / "rtl")
    bdir, _ = build(work / "rtl", srcs, u.module)
    meas = work / "measurements.json"
    meas.unlink(missing_ok=True)
    spec = work / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "inputs": [str(v) for v in pack_rows(x, u.tx.width)],
                "outputs": [str(v) for v in pack_rows(want, u.ty.width)],
                "valid": list(valid) if valid is not None else [1] * len(x),
                "measurements": str(meas.resolve()),
                "drain": u.latency + 8,
            }
        )
    )
    results = work / "results.xml"
    results.unlink(missing_ok=True)
    run_bench(bdir, "hlsgen_unrolled_bench", u.module, spec, results, work / "sim.log")
    out: dict[str, object] = json.loads(meas.read_text()) if meas.is_file() else {}
    out["failures"] = failures(results)
    return out


def source_order(design: LatencyDesign) -> list[str]:
    """The RTL files of ``design`` in compile order."""
    parts = [f"{p.module}.sv" for p in design.parts]
    return [*CAST_MODULES, *parts, f"{design.core.module}.sv", f"{design.top}.sv"]


def synthesize_latency(
    design: LatencyDesign,
    rtl_dir: str | Path,
    family: str = "xcup",
    depth: bool = True,
    log: Callable[[str], None] | None = None,
) -> Any:
    """Yosys ``synth_xilinx`` of ``design`` written to ``rtl_dir`` (:func:`top_files`): in one piece, or
    part by part when it is split (:func:`.split.synthesize_split`, ``log`` a line a part); a
    :class:`.yosys.YosysCounts`."""
    from .split import synthesize_split
    from .yosys import synthesize

    if not design.parts:
        return synthesize(rtl_dir, source_order(design), design.top, family, depth=depth)
    return synthesize_split(
        rtl_dir,
        list(CAST_MODULES),
        design.parts,
        [f"{design.core.module}.sv", f"{design.top}.sv"],
        design.top,
        family,
        depth=depth,
        log=log,
    )


__all__ = [
    "LATENCY_RENDERERS",
    "LatencyDesign",
    "build_latency_design",
    "check_graph",
    "check_resource_layers",
    "cosim_latency",
    "cosim_unrolled",
    "latency_layers",
    "plan_graph",
    "source_order",
    "synthesize_latency",
    "top_files",
]
