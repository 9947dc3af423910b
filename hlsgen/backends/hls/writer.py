"""Render a typed IR graph into a Vitis HLS project (whole files from Jinja2 templates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
import numpy as np

from ...fixed import FixedType, from_raw
from ...ir.graph import Graph
from ...resources import resource_dir
from ..templating import cdouble, environment, render
from .ops import hls_call
from .stream import stream_files

#: values per line of a weights file
_PER_LINE = 8


@dataclass
class _TensorView:
    name: str
    shape: tuple[int, ...]
    size: int
    ctype: str
    width: int
    signed: bool
    origin: str


@dataclass
class _ParamView:
    name: str
    ctype: str
    size: int
    lines: list[str]
    raw_lines: list[str]
    rawtype: str
    width: int


def _chunks(lits: list[str]) -> list[str]:
    return [", ".join(lits[i : i + _PER_LINE]) + "," for i in range(0, len(lits), _PER_LINE)]


def _raw_ctype(t: FixedType) -> str:
    for bits, name in ((8, "char"), (16, "short"), (32, "int"), (64, "long long")):
        if t.width <= bits:
            return f"signed {name}" if t.signed else f"unsigned {name}"
    raise ValueError(f"parameters wider than 64 bits are not supported ({t})")


def _param_view(name: str, raw: np.ndarray, t: FixedType) -> _ParamView:
    flat = np.asarray(raw).reshape(-1)
    if t.width > 53:
        raise ValueError(
            f"parameter {name}: type {t} is wider than the 53 bits a decimal literal holds exactly"
        )
    lits = [cdouble(v) for v in from_raw(flat, t)]
    suffix = "LL" if t.width > 32 else ""
    raws = [f"{int(v)}{suffix}" for v in flat]
    return _ParamView(name, str(t), int(flat.size), _chunks(lits), _chunks(raws), _raw_ctype(t), t.width)


def tensor_views(graph: Graph) -> dict[str, _TensorView]:
    """What the templates read of each tensor of a typed graph, keyed by name."""
    views = {}
    for t in graph.tensors.values():
        assert t.type is not None
        views[t.name] = _TensorView(
            t.name, t.shape, t.size, str(t.type), t.type.width, t.type.signed, t.origin
        )
    return views


def op_calls(graph: Graph) -> tuple[list[dict[str, Any]], list[_ParamView], list[str]]:
    """The calls of a typed graph's ops as the templates read them, their parameters (weights, tables)
    and the primitive headers they need, each once and in order."""
    ops = []
    params: list[_ParamView] = []
    headers: list[str] = []
    for op in graph.ops:
        call = hls_call(op, graph)
        if call.header not in headers:
            headers.append(call.header)
        targs = call.template_args or [
            *(f"{t}_t" for t in op.inputs),
            *(f"{t}_t" for t in op.outputs),
            f"config_{op.name}",
        ]
        ops.append(
            {
                "name": op.name,
                "kind": op.kind,
                "origin": op.origin,
                "config": call.config,
                "function": call.function,
                "template_args": targs,
                "args": call.args,
                "inputs": list(op.inputs),
                "outputs": list(op.outputs),
            }
        )
        for p in call.params:
            params.append(_param_view(p.name, p.raw, p.type))
    return ops, params, headers


def library_files(env: jinja2.Environment, params: list[_ParamView], headers: list[str]) -> dict[str, str]:
    """The weights headers of ``params`` and the hand-written primitive headers (hlsgen_common.h and
    ``headers``), keyed by their path in the project."""
    files = {}
    for p in params:
        files[f"firmware/weights/{p.name}.h"] = render(env, "hls/project/firmware/weights.h.j2", param=p)
    lib = resource_dir("templates") / "hls" / "firmware" / "hlsgen"
    for h in ["hlsgen_common.h", *headers]:
        files[f"firmware/hlsgen/{h}"] = (lib / h).read_text()
    return files


def project_files(graph: Graph, config: Any) -> dict[str, str]:
    """Every file of the project as text, keyed by relative path (nothing written)."""
    graph.check_typed()
    env = environment()
    project = config.project_name
    views = tensor_views(graph)
    ops, params, headers = op_calls(graph)
    io = set(graph.inputs) | set(graph.outputs)
    ctx = {
        "project": project,
        "tensors": list(views.values()),
        "inputs": [views[n] for n in graph.inputs],
        "outputs": [views[n] for n in graph.outputs],
        "internal": [views[n] for n in views if n not in io],
        "ops": ops,
        "params": params,
        "headers": headers,
        "io_type": config.io_type.value,
        "part": config.part,
        "clock_period": config.clock_period,
    }
    files = {
        f"firmware/{project}.cpp": render(env, "hls/project/firmware/project.cpp.j2", **ctx),
        f"firmware/{project}.h": render(env, "hls/project/firmware/project.h.j2", **ctx),
        "firmware/defines.h": render(env, "hls/project/firmware/defines.h.j2", **ctx),
        "firmware/parameters.h": render(env, "hls/project/firmware/parameters.h.j2", **ctx),
        f"{project}_test.cpp": render(env, "hls/project/project_test.cpp.j2", **ctx),
        "csim_bridge.cpp": render(env, "hls/project/csim_bridge.cpp.j2", **ctx),
        "build_prj.tcl": render(env, "hls/project/build_prj.tcl.j2", **ctx),
    }
    if config.io_type.value == "io_stream":  # AXI4-Stream top, token streams: hlsgen.backends.hls.stream
        files.update(stream_files(env, graph, ctx))
        headers.append("hlsgen_stream.h")
    files.update(library_files(env, params, headers))
    return files


def tb_lines(raws: list[np.ndarray]) -> list[str]:
    """One line per sample: the raw integers of every array in order."""
    n = raws[0].shape[0]
    flat = [np.asarray(r).reshape(n, -1) for r in raws]
    both = np.concatenate(flat, axis=1) if len(flat) > 1 else flat[0]
    return [" ".join(str(int(v)) for v in row) for row in both]
