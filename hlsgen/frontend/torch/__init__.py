"""PyTorch modules and ``torch.export`` programs to the IR.

The reader traces a module with :func:`torch.export.export` (or loads a saved ``.pt2`` program) and
walks its ATen graph once. Parameters, buffers and everything computed from them alone (a causal mask
built with ``torch.tril``) are evaluated as real tensors. A value that depends on a model input is
followed *symbolically*: it is an int64 tensor of element ids, each id naming (IR tensor, sample,
element). Shape ops (view, transpose, permute, select, split, expand, repeat_interleave, ...) run on the
id tensors as they are, so that however a model lays out its heads and batch (``nn.MultiheadAttention``
folds the batch into the heads; nanoGPT code splits a packed projection), the ids tell which IR tensor,
rows and columns an op reads. Compute ops (linear, layer_norm, activations, add, mean, softmax,
scaled_dot_product_attention, the ``q @ k.transpose`` of hand-written attention) read the layout off
the ids and append the same IR primitives the Keras reader builds: projections, scores, mask, softmax,
context.

Conventions: the batch is axis ``batch_dim`` of every model input and output (0 by default; 1 for
sequence-first models such as ``nn.TransformerEncoderLayer(batch_first=False)``); IR tensors and
``Project.predict`` put the batch first.

Modules: ``load`` (modules, programs and files), ``reader`` (:class:`TorchReader`: the graph walk, ids and
layouts), ``values`` (the symbolic values it follows), ``shapes`` (shape ops on ids), ``compute`` (linear,
layer norm, activations, element-wise arithmetic, mean), ``attention`` (scores, mask, softmax, context,
sdpa), ``masks`` (attention masks), ``quant`` (Brevitas quantizers, :func:`exact_type`), ``rope`` (rotary
embeddings), ``handlers`` (the ATen op table), ``common`` (shared helpers). :mod:`hlsgen.frontend.onnx`
reads ONNX nodes with the same reader and handlers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ir.graph import Graph, c_identifier
from .common import Where
from .handlers import tables
from .load import is_onnx_model, is_torch_model, load_program, save_program
from .quant import exact_type
from .reader import TorchReader
from .values import Compared, ConstMul, Heads, MaskSym, PendingScores, Rounded, Sym


def read_torch(model: Any, example_input: Any = None, batch_dim: int = 0) -> Graph:
    """The float IR graph of a PyTorch module (traced on ``example_input``), a ``torch.export`` program,
    or a ``.pt2`` / ``.pt`` file. ``batch_dim``: the batch axis of the model's inputs and outputs."""
    tables()
    ep = load_program(model, example_input)
    if isinstance(model, (str, Path)):
        name = Path(model).stem
    else:
        name = type(model).__name__ if not hasattr(model, "graph_signature") else "model"
    return TorchReader(ep, c_identifier(name), batch_dim).read()


__all__ = [
    "Compared",
    "ConstMul",
    "Heads",
    "MaskSym",
    "PendingScores",
    "Rounded",
    "Sym",
    "TorchReader",
    "Where",
    "exact_type",
    "is_onnx_model",
    "is_torch_model",
    "load_program",
    "read_torch",
    "save_program",
]
