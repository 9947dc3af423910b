"""Render an RTL design into files: the generated top and parameter package (Jinja2, templates/rtl/*.j2),
the hand-written library modules it instantiates (templates/rtl/lib), the lint waivers, a file list in
compile order and ``design.json`` (ports, packing, the cycle estimate) for the co-simulation bench.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...resources import resource_dir
from ..templating import environment, render
from .design import Design, Port, Stream
from .ops import Const

#: stream ports of each library module, in port-list order; unconnected ones are tied off
MODULE_PORTS = {
    "hlsgen_linear": ["in"],
    "hlsgen_act": ["in"],
    "hlsgen_reshape": ["in"],
    "hlsgen_avgpool": ["in"],
    "hlsgen_mask": ["in"],
    "hlsgen_const": [],
    "hlsgen_embedding": ["in"],
    "hlsgen_transpose": ["in"],
    "hlsgen_softmax": ["in", "mask"],
    "hlsgen_layernorm": ["in"],
    "hlsgen_scores": ["q", "k", "qr", "kr"],
    "hlsgen_context": ["p", "v"],
    "hlsgen_rope": ["x", "pos"],
    "hlsgen_kv_cache": ["x", "pos"],
    "hlsgen_position_mask": ["pos"],
    "hlsgen_binary": ["a", "b"],
    "hlsgen_slice": ["in"],
    "hlsgen_concat": ["a", "b"],
    "hlsgen_maxpool": ["in"],
    "hlsgen_affine": ["in"],
    "hlsgen_window": ["in"],
    "hlsgen_rowperm": ["in"],
}

#: the Verilator lint waivers (listed and explained in the file itself)
LINT_WAIVERS = "hlsgen_lint.vlt"


@dataclass
class BlockView:
    """A block as the templates see it (parameters as SystemVerilog literals, streams by signal)."""

    op: str
    kind: str
    origin: str
    module: str
    instance: str
    params: list[tuple[str, str]]
    ports: list[tuple[str, str]]
    out: str
    info: str
    links: list[tuple[str, str]]
    wires: list[tuple[str, int]]


@dataclass
class _PortView:
    name: str
    direction: str
    stream: Any
    tdata_width: int
    row_bits: int


def _literal(v: int | str, consts: dict[str, Const], package: str) -> str:
    if isinstance(v, str):
        c = consts.get(v)
        if c is None:
            return v
        return f'"{c.file_name}"' if c.is_file else f"{package}::{v}"
    return str(int(v))


def _port_view(p: Port) -> _PortView:
    return _PortView(
        p.name, p.direction, p.stream, p.tdata_width, max(1, math.ceil(math.log2(max(p.stream.rows, 2))))
    )


def block_views(design: Design, origins: dict[str, str] | None = None) -> list[BlockView]:
    """Every block of ``design`` as the templates see it (its instance's parameters, streams, links)."""
    origins = origins or {}
    blocks = []
    for b in design.blocks:
        consts = {c.name: c for c in b.consts}
        ports = [
            (p, design.connections.get((b.op, p), "") if p in b.inputs else "")
            for p in (list(b.inputs) if b.sources else MODULE_PORTS[b.module])
        ]
        info = ", ".join(f"{k} {v}" for k, v in b.info.items() if k != "macs")
        blocks.append(
            BlockView(
                b.op,
                b.kind,
                origins.get(b.op, ""),
                b.module,
                b.instance,
                [(k, _literal(v, consts, design.package)) for k, v in b.params.items()],
                ports,
                design.streams[b.output].signal,
                info,
                list(b.links.items()),
                list(b.wires),
            )
        )
    return blocks


def all_streams(design: Design) -> list[Stream]:
    """The streams the top declares: every tensor's, then every fork branch."""
    return list(design.streams.values()) + [s for f in design.forks for s, _ in f.branches]


def render_top(design: Design, origins: dict[str, str] | None = None, rest: Any = None) -> str:
    """The generated top (templates/rtl/top.sv.j2). With ``rest`` (a
    :class:`hlsgen.backends.rtl.parts.RestView`), the top without its engines instead: module
    ``rest.module``, the ports ``rest.ports`` added, only the streams of ``rest.signals`` declared, no
    side channel, and in each engine's place the assignments ``rest.assigns[instance]``."""
    streams = all_streams(design)
    if rest is not None:
        streams = [s for s in streams if s.signal in rest.signals]
    d = _DesignView(design, [_port_view(p) for p in design.ports])
    blocks = block_views(design, origins)
    return render(environment(), "rtl/top.sv.j2", d=d, blocks=blocks, streams=streams, rest=rest)


def rtl_files(design: Design, origins: dict[str, str] | None = None) -> dict[str, str]:
    """Every file of the RTL folder, keyed by file name (nothing written)."""
    env = environment()
    d = _DesignView(design, [_port_view(p) for p in design.ports])
    files = {
        f"{design.top}.sv": render_top(design, origins),
        f"{design.package}.sv": render(env, "rtl/package.sv.j2", d=d),
    }
    lib = resource_dir("templates") / "rtl" / "lib"
    for m in design.modules:
        files[f"{m}.sv"] = (lib / f"{m}.sv").read_text()
    files.update(design.generated)
    for c in design.consts:
        if c.is_file:
            files[c.file_name] = c.mem_text()
    files[LINT_WAIVERS] = (resource_dir("templates") / "rtl" / LINT_WAIVERS).read_text()
    files["files.f"] = "\n".join(source_order(design)) + "\n"
    files["design.json"] = json.dumps(design_spec(design), indent=1) + "\n"
    return files


class _DesignView:
    """The design as the templates see it (ports with their TDATA widths and row counters)."""

    def __init__(self, design: Design, ports: list[_PortView]) -> None:
        self._d = design
        self.ports = ports
        self.inputs = [p for p in ports if p.direction == "in"]
        self.outputs = [p for p in ports if p.direction == "out"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._d, name)


def source_order(design: Design) -> list[str]:
    """SystemVerilog sources in compile order: package, library modules, generated engines, top."""
    return [
        f"{design.package}.sv",
        *(f"{m}.sv" for m in design.modules),
        *design.generated,
        f"{design.top}.sv",
    ]


def design_spec(design: Design) -> dict[str, Any]:
    """What the co-simulation bench needs: the top, its ports and packing, the estimate."""
    est = design.estimate
    return {
        "top": design.top,
        "ports": [
            {
                "name": p.name,
                "direction": p.direction,
                "tensor": p.tensor,
                "type": str(p.stream.type),
                "n": p.stream.n,
                "rows": p.stream.rows,
                "tdata_width": p.tdata_width,
                "user_width": p.user_width,
            }
            for p in design.ports
        ],
        "decode": None
        if design.decode is None
        else {"max_length": design.decode.max_length, "position": design.decode.position.tensor},
        "estimate": None
        if est is None
        else {"latency": est.latency, "ii": est.ii, "per_block": est.per_block},
        "blocks": [
            {"op": b.op, "module": b.module, "multipliers": b.multipliers, **b.info} for b in design.blocks
        ],
    }


def write_rtl(design: Design, out_dir: str | Path, origins: dict[str, str] | None = None) -> Path:
    """Write the RTL folder (replacing the files hlsgen writes there); returns it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rtl_files(design, origins).items():
        (out / name).write_text(text)
    return out


__all__ = [
    "MODULE_PORTS",
    "BlockView",
    "all_streams",
    "block_views",
    "design_spec",
    "render_top",
    "rtl_files",
    "source_order",
    "write_rtl",
]
