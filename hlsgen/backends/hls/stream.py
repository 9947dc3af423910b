"""io_stream: the streaming project files. The AXI4-Stream packing of tokens is defined once in
:mod:`hlsgen.backends.axis` (shared with the RTL top; the hand-written header hlsgen_stream.h implements
the same in C++):

- A tensor of shape ``(..., D)`` moves as its rows, the *tokens*, in row-major order: ``size / D``
  beats of ``D`` elements each. A 1-D tensor (a classifier's scores) is one token, one beat.
- Element ``d`` of a token occupies TDATA bits ``[o_d + w_d - 1 : o_d]`` with ``o_d = w_0 + ... + w_{d-1}``
  (element 0 in the least significant bits), ``w_d`` its type's width. The bits are the type's raw
  integer (value * 2^F) in two's complement, truncated to ``w_d`` bits.
- TDATA is the sum of the widths rounded up to whole bytes; the bits above the elements are 0.
- TKEEP and TSTRB are all ones; TLAST is 1 on the last token of a sample (sequence) and 0 elsewhere.
  The streaming HLS top reads a fixed number of tokens per sample and does not check the input TLAST.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...fixed import MAX_WIDTH
from ..axis import pack_tokens, token_layout, unpack_tokens, word_width

if TYPE_CHECKING:
    import jinja2

    from ...ir.graph import Graph


# ---------------------------------------------------------------------------------------------------
@dataclass
class _StreamTensor:
    name: str
    macro: str
    ctype: str
    tokens: int
    per_token: int
    copies: int  #: streams read from it: 0 (drained), 1, or K >= 2 (a duplicator feeds K copies)
    signed: bool
    width: int
    word: int = 0  #: TDATA bits (model inputs and outputs only)

    @property
    def token_type(self) -> str:
        return f"hlsgen::token<{self.name}_t, PER_TOKEN_{self.macro}>"

    @property
    def axis_type(self) -> str:
        return f"hlsgen::axis_word<WORD_{self.macro}>"


def stream_context(graph: Graph, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """What the io_stream templates need beyond the io_parallel context: tensors as token streams, the
    ports, and the top's statements in dataflow order (adapters, duplicators, drains).

    ``ops`` are the op views of the writer (with ``inputs`` and ``outputs``); the returned ``ops`` are
    copies with ``run_params`` and ``run_args`` added: the signature and call of each op's whole-tensor
    ``run`` function.
    """
    ops = [dict(v) for v in ops]
    readers = {t: 0 for t in graph.tensors}  # ops (and output ports) reading each tensor
    for op in graph.ops:
        if len(op.outputs) != 1:
            raise NotImplementedError(
                f"io_stream: op {op.name} ({op.kind}) has {len(op.outputs)} outputs; "
                "the stream adapters handle ops with one"
            )
        if len(op.inputs) > 4:
            raise NotImplementedError(
                f"io_stream: op {op.name} ({op.kind}) has {len(op.inputs)} inputs; the stream adapters handle 0 to 4"
            )
        for t in op.inputs:
            readers[t] += 1
    for t in graph.outputs:
        readers[t] += 1

    tensors: dict[str, _StreamTensor] = {}
    for t in graph.tensors.values():
        assert t.type is not None
        n, d = token_layout(t.shape)
        tensors[t.name] = _StreamTensor(
            t.name, t.name.upper(), str(t.type), n, d, readers[t.name], t.type.signed, t.type.width
        )
    for name in (*graph.inputs, *graph.outputs):
        st = tensors[name]
        st.word = word_width(graph.tensors[name].type, st.per_token)
        if st.word > MAX_WIDTH:
            raise ValueError(
                f"io_stream: a token of {name} ({st.per_token} x {st.ctype}) needs {st.word} TDATA bits, more "
                f"than the {MAX_WIDTH} of ap_uint; use io_parallel or narrower types for this tensor"
            )

    # the stream each reader reads: the tensor's own, or its copy k after a duplicator
    taken = {t: 0 for t in tensors}

    def source(t: str) -> str:
        st = tensors[t]
        if st.copies <= 1:
            return f"{t}_s"
        k = taken[t]
        taken[t] += 1
        return f"{t}_s_c[{k}]"

    def fanout(t: str) -> list[dict[str, Any]]:
        st = tensors[t]
        if st.copies == 0:
            return [{"kind": "drain", "tensor": st}]
        if st.copies > 1:
            return [{"kind": "dup", "tensor": st}]
        return []

    body: list[dict[str, Any]] = []
    for name in graph.inputs:
        body.append({"kind": "axis_in", "tensor": tensors[name]})
        body += fanout(name)
    for op, view in zip(graph.ops, ops, strict=True):
        out = tensors[op.outputs[0]]
        ins = [tensors[t] for t in op.inputs]
        body.append(
            {
                "kind": "op",
                "op": view,
                "sizes": [f"N_{t.macro}" for t in (*ins, out)],
                "streams": [*(source(t.name) for t in ins), f"{out.name}_s"],
            }
        )
        names = {t: f"x{k}" for k, t in reversed(list(enumerate(op.inputs)))}
        names[op.outputs[0]] = "y"
        view["run_params"] = [
            *(f"const {t.name}_t x{k}[N_{t.macro}]" for k, t in enumerate(ins)),
            f"{out.name}_t y[N_{out.macro}]",
        ]
        view["run_args"] = [names.get(a, a) for a in view["args"]]
        body += fanout(out.name)
    for name in graph.outputs:
        body.append({"kind": "axis_out", "tensor": tensors[name], "stream": source(name)})
    return {
        "stream_tensors": list(tensors.values()),
        "in_ports": [tensors[n] for n in graph.inputs],
        "out_ports": [tensors[n] for n in graph.outputs],
        "body": body,
        "ops": ops,
    }


def stream_files(env: jinja2.Environment, graph: Graph, ctx: dict[str, Any]) -> dict[str, str]:
    """The files of an io_stream project that differ from io_parallel's (top, header, csim bridge,
    testbench, and the testbench's raw-integer <-> AXI4-Stream helper)."""
    from ..templating import render

    sctx = {**ctx, **stream_context(graph, ctx["ops"])}
    project = ctx["project"]
    return {
        f"firmware/{project}.cpp": render(env, "hls/project/firmware/project_stream.cpp.j2", **sctx),
        f"firmware/{project}.h": render(env, "hls/project/firmware/project_stream.h.j2", **sctx),
        f"firmware/{project}_axis_io.h": render(env, "hls/project/firmware/axis_io.h.j2", **sctx),
        "csim_bridge.cpp": render(env, "hls/project/csim_bridge_stream.cpp.j2", **sctx),
        f"{project}_test.cpp": render(env, "hls/project/project_test_stream.cpp.j2", **sctx),
    }


__all__ = ["pack_tokens", "stream_context", "stream_files", "token_layout", "unpack_tokens", "word_width"]
