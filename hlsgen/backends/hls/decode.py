"""Render a decode design into a Vitis HLS project: a top function that takes one token per call and
keeps its caches in static arrays bound to BRAM or URAM (templates/hls/decode/).

The project is its own Vitis HLS project (top ``<project_name>_decode``): firmware/, the testbench that
replays a decode session from tb_data/, build_prj.tcl and the csim bridge. Config structs, weights and
the hand-written primitive headers are the prefill project's (templates/hls/project/firmware/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...io import atomic_write
from ...ir.ops.cache import KVCache
from ...quant.decode_pass import DecodeDesign
from ..templating import environment, render
from .writer import library_files, op_calls, tb_lines, tensor_views

#: prefill primitive -> its variant that reads the cache inputs in place, keyed by which arguments are
#: caches (indices into the call's args); a cache read by any other call is an error
_IN_PLACE: dict[str, dict[frozenset[int], str]] = {
    "hlsgen::scores": {frozenset({1}): "hlsgen::cached_scores"},
    "hlsgen::context": {frozenset({1}): "hlsgen::cached_context"},
    "hlsgen::linear_nobias": {frozenset({0}): "hlsgen::cached_linear_nobias"},
    "hlsgen::latent_scores": {
        frozenset({1, 3}): "hlsgen::cached_latent_scores",
        frozenset({3}): "hlsgen::cached_rope_latent_scores",
    },
}


def read_caches_in_place(ops: list[dict[str, Any]], caches: dict[str, str]) -> list[dict[str, Any]]:
    """The op calls with every read of a cache output (``caches``: tensor -> static array) turned into a
    read of the static array in place: the call's variant from :data:`_IN_PLACE` (a loop over the
    positions that reads one row per iteration), the array as argument. The cache output tensor is then
    never declared."""
    out = []
    for op in ops:
        cached = frozenset(k for k, a in enumerate(op["args"]) if a in caches)
        if cached:
            fn = _IN_PLACE.get(op["function"], {}).get(cached)
            if fn is None:
                raise NotImplementedError(
                    f"decode: {op['kind']} {op['name']} ({op['function']}) reads the cache "
                    f"{', '.join(op['args'][k] for k in sorted(cached))}; no in-place variant"
                )
            args = [caches.get(a, a) for a in op["args"]]
            op = {**op, "function": fn, "args": args}
        out.append(op)
    return out


def decode_project_name(config: Any) -> str:
    """Name of the decode top function and project: ``<project_name>_decode``."""
    return f"{config.project_name}_decode"


def decode_files(design: DecodeDesign, config: Any) -> dict[str, str]:
    """Every file of the decode project as text, keyed by relative path (nothing written)."""
    g = design.graph
    g.check_typed()
    env = environment()
    project = decode_project_name(config)
    views = tensor_views(g)
    ops, params, headers = op_calls(g)
    cache_ops = [op for op in g.ops if isinstance(op, KVCache)]
    ops = read_caches_in_place(ops, {op.outputs[0]: op.cache_var for op in cache_ops})
    caches = [
        {
            "name": op.cache_var,
            "ctype": str(op.types["x"]),
            "rows": op.max_length,
            "width": op.width,
            "content": op.content.value,
            "origin": op.origin,
        }
        for op in cache_ops
    ]
    io = {*g.inputs, *g.outputs, design.position}  # the position is a local of the top, set from its counter
    io |= {op.outputs[0] for op in cache_ops}  # the static arrays themselves, read in place
    ctx = {
        "project": project,
        "model": g.name.removesuffix("_decode"),
        "tensors": list(views.values()),
        "inputs": [views[design.token]],
        "outputs": [views[n] for n in g.outputs],
        "pos": views[design.position],
        "internal": [views[n] for n in views if n not in io],
        "ops": ops,
        "params": params,
        "headers": headers,
        "caches": caches,
        "max_length": design.max_length,
        "impl": config.decode.cache_memory.value,
        "io_type": config.io_type.value,
        "part": config.part,
        "clock_period": config.clock_period,
    }
    files = {
        f"firmware/{project}.cpp": render(env, "hls/decode/firmware/decode.cpp.j2", **ctx),
        f"firmware/{project}.h": render(env, "hls/decode/firmware/decode.h.j2", **ctx),
        "firmware/defines.h": render(env, "hls/project/firmware/defines.h.j2", **ctx),
        "firmware/parameters.h": render(env, "hls/project/firmware/parameters.h.j2", **ctx),
        f"{project}_test.cpp": render(env, "hls/decode/project_test.cpp.j2", **ctx),
        "csim_bridge.cpp": render(env, "hls/decode/csim_bridge.cpp.j2", **ctx),
        "build_prj.tcl": render(env, "hls/project/build_prj.tcl.j2", **ctx),
    }
    files.update(library_files(env, params, headers))
    return files


def write_decode_project(
    design: DecodeDesign,
    config: Any,
    path: str | Path,
    tokens_raw: np.ndarray | None = None,
    outputs_raw: list[np.ndarray] | None = None,
    force: bool = False,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write the decode project atomically; ``tokens_raw [T, D]`` and ``outputs_raw`` (each ``[T, n]``)
    of one session become tb_data/ for the testbench."""
    files: dict[str, str | bytes] = dict(decode_files(design, config))
    files.update(extra or {})
    if tokens_raw is not None and outputs_raw is not None:
        files["tb_data/tb_input_features.dat"] = "\n".join(tb_lines([np.asarray(tokens_raw)])) + "\n"
        files["tb_data/tb_output_predictions.dat"] = (
            "\n".join(tb_lines([np.asarray(o) for o in outputs_raw])) + "\n"
        )
    return atomic_write(files, Path(path), force=force)


__all__ = ["decode_files", "decode_project_name", "read_caches_in_place", "write_decode_project"]
