"""Verification levels as one test parameter, the one bit-exact assertion, and shared model builders.

The NumPy reference (each op's ``execute`` on raw integers) is the oracle; csim (g++) and cosim (cocotb +
Verilator) must equal it bit for bit. A test takes ``level`` from :func:`levels` and calls
:func:`check_level`: at ``reference`` it compares the reference with an independent expectation the test
computes (exact float64 arithmetic, a hand-worked table), at ``csim`` the compiled C++ with the reference,
at ``cosim`` the RTL with the reference (the bench's checker compares every output word).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hlsgen.config import Config
from hlsgen.ir.graph import Graph, input_raw
from hlsgen.ir.ops import Activation, Add, Context, GlobalAvgPool, Linear, Reshape, Scores
from hlsgen.project import Project


class Level(enum.StrEnum):
    """Where a design runs."""

    REFERENCE = "reference"  #: the NumPy reference: the oracle
    CSIM = "csim"  #: the HLS C++ compiled by g++
    COSIM = "cosim"  #: the RTL in Verilator through the cocotb bench


#: the markers each level needs (a level skips only where its tool is absent)
_MARKS: dict[Level, tuple[pytest.MarkDecorator, ...]] = {
    Level.REFERENCE: (),
    Level.CSIM: (pytest.mark.gxx,),
    Level.COSIM: (pytest.mark.verilator,),
}


def levels(*which: Level) -> list[Any]:
    """``pytest.param`` of each level (default all three), with its tool marker and its name as the id."""
    return [pytest.param(lv, marks=_MARKS[lv], id=lv.value) for lv in which or tuple(Level)]


def assert_bit_exact(got: Sequence[Any], want: Sequence[Any], names: Sequence[str] | None = None) -> None:
    """Every array of ``got`` equals its counterpart in ``want`` bit for bit (shapes broadcast: a constant
    output, such as a causal mask, has a batch of 1)."""
    assert len(got) == len(want), f"{len(got)} outputs, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        g = np.asarray(g)
        w = np.asarray(w)
        if g.size != w.size:
            w = np.broadcast_to(w, g.shape)
        np.testing.assert_array_equal(g, w.reshape(g.shape), err_msg=names[k] if names else f"output {k}")


def check_level(
    level: Level,
    project: Project,
    x: Any,
    work: Path | None = None,
    expected: Sequence[Any] | None = None,
    options: Any = None,
) -> Any:
    """Run ``project`` on inputs ``x`` at ``level`` and assert it equals the reference bit for bit (at
    ``reference``: equals ``expected``, raw integers per output). Returns the cosim result at ``cosim``."""
    names = project.graph.outputs
    if level is Level.REFERENCE:
        assert expected is not None, "the reference level needs an expectation computed by the test"
        assert_bit_exact(project.predict_raw(x), expected, names)
        return None
    if level is Level.CSIM:
        assert_bit_exact(project.csim_raw(x), project.predict_raw(x), names)
        return None
    from hlsgen.backends.rtl.cosim import cosim_graph

    assert work is not None, "cosim needs a work folder"
    g = project.graph
    xs = g.check_inputs(x)
    raw = {k: input_raw(v, g.tensors[k].type) for k, v in zip(g.inputs, xs, strict=True)}
    res = cosim_graph(g, project.name, raw, work, options)
    assert res.passed, res.failure_message()
    return res


# -- shared model builders ---------------------------------------------------------------------------
def dense_block(rng: np.random.Generator, tokens: int = 5, feat: int = 8, act: str = "tanh") -> Graph:
    """Linear, ReLU, a table activation, a residual add, pooling, a reshape and two heads (two outputs)."""
    g = Graph("basic")
    x = g.add_tensor("x", (tokens, feat))
    g.inputs = [x]
    h = g.add_tensor("h", (tokens, 12))
    g.add_op(Linear("d1", [x], [h], kernel=rng.normal(size=(feat, 12)), bias=rng.normal(size=12)))
    r = g.add_tensor("r", (tokens, 12))
    g.add_op(Activation("a1", [h], [r], function="relu"))
    t = g.add_tensor("t", (tokens, 12))
    g.add_op(Activation("a2", [r], [t], function=act))
    s = g.add_tensor("s", (tokens, 12))
    g.add_op(Add("res", [t, h], [s]))
    p = g.add_tensor("p", (12,))
    g.add_op(GlobalAvgPool("pool", [s], [p]))
    f = g.add_tensor("f", (tokens * 12,))
    g.add_op(Reshape("flat", [s], [f], out_shape=(tokens * 12,)))
    o = g.add_tensor("o", (3,))
    g.add_op(Linear("d2", [p], [o], kernel=rng.normal(size=(12, 3))))
    o2 = g.add_tensor("o2", (2,))
    g.add_op(Linear("d3", [f], [o2], kernel=rng.normal(size=(tokens * 12, 2)) * 0.1, bias=np.zeros(2)))
    g.outputs = [o, o2]
    return g


def scores_graph(tq: int, tk: int, h: int, hkv: int, dk: int) -> Graph:
    """One Scores op: q [Tq, H*dk], k [Tk, Hkv*dk] -> s [H, Tq, Tk]."""
    g = Graph("scores")
    q = g.add_tensor("q", (tq, h * dk))
    k = g.add_tensor("k", (tk, hkv * dk))
    s = g.add_tensor("s", (h, tq, tk))
    g.inputs, g.outputs = [q, k], [s]
    g.add_op(Scores("sc", [q, k], [s], num_heads=h, num_kv_heads=hkv, key_dim=dk))
    return g


def context_graph(tq: int, tk: int, h: int, hkv: int, dv: int) -> Graph:
    """One Context op: p [H, Tq, Tk], v [Tk, Hkv*dv] -> c [Tq, H*dv]."""
    g = Graph("context")
    p = g.add_tensor("p", (h, tq, tk))
    v = g.add_tensor("v", (tk, hkv * dv))
    c = g.add_tensor("c", (tq, h * dv))
    g.inputs, g.outputs = [p, v], [c]
    g.add_op(Context("ctx", [p, v], [c], num_heads=h, num_kv_heads=hkv, value_dim=dv))
    return g


def contexts_graph(tokens: tuple[int, ...], h: int, dv: int) -> Graph:
    """Context ops side by side, one of ``t`` tokens for each ``t`` in ``tokens`` (ctxa, ctxb, ...: p [H, t,
    t], v [t, H*dv] -> c [t, H*dv]), each with its own inputs and output: every engine port is a port of
    the top."""
    g = Graph("contexts")
    for i, t in enumerate(tokens):
        name = chr(ord("a") + i)
        p, v = g.add_tensor(f"p{name}", (h, t, t)), g.add_tensor(f"v{name}", (t, h * dv))
        c = g.add_tensor(f"c{name}", (t, h * dv))
        g.inputs += [p, v]
        g.outputs.append(c)
        g.add_op(Context(f"ctx{name}", [p, v], [c], num_heads=h, num_kv_heads=h, value_dim=dv))
    return g


def project_of(graph: Graph, config: dict[str, Any], calibration: Any = None) -> Project:
    """The typed project of a float graph under ``config`` (a dict)."""
    from hlsgen.quant.passes import quantize_graph

    cfg = Config.from_dict(config)
    return Project(quantize_graph(graph, cfg, calibration=calibration), cfg)


def assert_ii1_junit(prj: Path, latency: int, samples: int) -> None:
    """The cosim JUnit XML that ``hlsgen cosim PRJ`` (or the check's cosim stage) wrote for a latency-strategy
    design: four runs (idle cycles x back-pressure), none failed; the plain run measured ``latency`` cycles,
    II = 1 and ``samples`` samples."""
    import xml.etree.ElementTree as ET

    runs = ET.parse(prj / "reports" / "junit" / "cosim.xml").getroot().findall("testcase")
    assert len(runs) == 4 and all(tc.find("failure") is None for tc in runs)
    plain = next(tc for tc in runs if tc.get("name") == "cosim[idle=0,backpressure=0]")
    props = {p.get("name"): p.get("value") for p in plain.iter("property")}
    assert int(props["latency"]) == latency and float(props["ii"]) == 1.0
    assert int(props["samples"]) == samples


def run_cli(
    capsys: pytest.CaptureFixture[str], *args: str, module: str = "hlsgen.cli"
) -> tuple[int, str, str]:
    """Run a command line of ``module`` (``hlsgen.cli`` or ``hlsgen.commands.check``) in this process:
    its ``main`` on ``args``; returns (exit code, stdout, stderr). The worker has TensorFlow loaded already,
    where a subprocess would import it again (about 6 CPU s); tests of the ``python -m`` entry itself keep
    a subprocess."""
    import importlib

    capsys.readouterr()
    code = int(importlib.import_module(module).main(list(args)) or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def side_by_side(designs: Sequence[Any], rtl: Path, top: str = "side_by_side") -> tuple[list[str], str]:
    """The RTL of several designs (:class:`hlsgen.backends.rtl.design.Design`) in one folder under one
    top of their own that instantiates each design's top (instance ``u_<its top>``, ports ``<its
    top>_<port>``), so that one Yosys run synthesises them all and ``Depth.by_instance`` reports each
    design's deepest path: a test's designs share the run's fixed cost. Returns (sources, top)."""
    from hlsgen.backends.rtl import source_order, write_rtl

    sources: list[str] = []
    ports = ["    input  logic ap_clk", "    input  logic ap_rst_n"]
    insts = []
    for d in designs:
        write_rtl(d, rtl)
        sources += [f for f in source_order(d) if f not in sources]
        conns = [".ap_clk(ap_clk)", ".ap_rst_n(ap_rst_n)"]
        for p in d.ports:
            assert not p.user_width, f"{d.top}: decode tops (TUSER) are not wrapped"
            i, o = ("input ", "output") if p.direction == "in" else ("output", "input ")
            for sig, direction, width in (
                ("TDATA", i, p.tdata_width), ("TVALID", i, 1), ("TREADY", o, 1), ("TLAST", i, 1),
            ):  # fmt: skip
                name = f"{d.top}_{p.name}_{sig}"
                ports.append(f"    {direction} logic [{width - 1}:0] {name}")
                conns.append(f".{p.name}_{sig}({name})")
        insts.append(f"    {d.top} u_{d.top} (\n        " + ",\n        ".join(conns) + "\n    );")
    text = f"module {top} (\n" + ",\n".join(ports) + "\n);\n" + "\n".join(insts) + "\nendmodule\n"
    (rtl / f"{top}.sv").write_text(text)
    return [*sources, f"{top}.sv"], top
