"""The IR graph: named tensors with shapes and fixed-point types, and the ops between them.

Shapes are per sample (no batch axis). Every op is executed on a batch: arrays carry a leading batch
axis. A pass is any callable ``Graph -> Graph`` that returns a new graph (the passes live in :mod:`hlsgen.quant.passes`).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..fixed import FixedType, from_raw, to_raw
from ..io import check_inputs
from .ops.base import Op

#: Elements of the largest per-sample tensor times samples that one pass of :meth:`Graph.run_raw` aims
#: at: a larger batch runs in chunks, so that each op's temporaries stay in the L2 cache (1 MiB as
#: float64). On the 2-core development machine the MHA block of benchmarks/bench_emulation.py runs about
#: 1.3x faster at batch 1000 than in one pass.
RUN_CHUNK_ELEMENTS = 1 << 17


@dataclass
class Tensor:
    """A tensor of the graph.

    Attributes:
        name: unique C identifier.
        shape: per-sample shape.
        type: fixed-point type (None until the quantize pass types it).
        origin: the Keras layer (or model input) it comes from, for messages and reports.
    """

    name: str
    shape: tuple[int, ...]
    type: FixedType | None = None
    origin: str = ""

    @property
    def size(self) -> int:
        return int(math.prod(self.shape))


@dataclass
class Graph:
    """Tensors, ops in topological order, model inputs and outputs."""

    name: str
    tensors: dict[str, Tensor] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    #: types a front end fixes for inputs (token ids of an Embedding: ap_uint of the vocabulary width);
    #: the config's entry for the input still takes precedence
    input_types: dict[str, FixedType] = field(default_factory=dict)

    # -- building -----------------------------------------------------------------------------------
    def unique_name(self, base: str) -> str:
        """An op name: a C identifier derived from ``base``, unique among ops (deterministic)."""
        return self._unique(base, {op.name for op in self.ops})

    def _unique(self, base: str, taken: set[str]) -> str:
        name = c_identifier(base)
        if name not in taken:
            return name
        k = 1
        while f"{name}_{k}" in taken:
            k += 1
        return f"{name}_{k}"

    def add_tensor(self, base: str, shape: tuple[int, ...], origin: str = "") -> str:
        """Add a tensor named after ``base`` (made a unique C identifier); returns its name."""
        name = self._unique(base, set(self.tensors))
        self.tensors[name] = Tensor(name, tuple(int(s) for s in shape), None, origin)
        return name

    def add_op(self, op: Op) -> Op:
        for t in (*op.inputs, *op.outputs):
            if t not in self.tensors:
                raise ValueError(f"op {op.name}: unknown tensor {t}")
        self.ops.append(op)
        return op

    def copy(self) -> Graph:
        return copy.deepcopy(self)

    def op(self, name: str) -> Op:
        for op in self.ops:
            if op.name == name:
                return op
        raise KeyError(name)

    def producer(self, tensor: str) -> Op | None:
        for op in self.ops:
            if tensor in op.outputs:
                return op
        return None

    # -- execution ----------------------------------------------------------------------------------
    def check_typed(self) -> None:
        untyped = [t.name for t in self.tensors.values() if t.type is None]
        if untyped:
            raise ValueError(f"graph {self.name} is not quantized: untyped tensors {untyped}")

    def run_float(self, inputs: list[np.ndarray], keep: bool = False) -> dict[str, np.ndarray]:
        """Float64 forward pass through the IR (for calibration and float comparison)."""
        env = self._bind(inputs, lambda x, t: np.asarray(x, dtype=np.float64))
        for op in self.ops:
            outs = op.forward_float(*(env[t] for t in op.inputs))
            env.update(zip(op.outputs, outs, strict=True))
        return env if keep else {k: env[k] for k in self.outputs}

    def run_raw(self, inputs: list[np.ndarray], keep: bool = False) -> dict[str, np.ndarray]:
        """Bit-exact forward pass on raw integers; inputs are floats, quantized to the input types.

        Without ``keep``, a large batch runs in chunks of samples (:data:`RUN_CHUNK_ELEMENTS`): samples
        are independent, so the outputs are the same, only faster.
        """
        self.check_typed()
        xs = self._bind(inputs, lambda x, t: x)
        return self._run_raw(xs, True) if keep else self._run_chunked(xs, lambda k, raw: raw)

    def predict(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Bit-exact outputs as float64 values."""
        self.check_typed()
        xs = self._bind(inputs, lambda x, t: x)
        outs = self._run_chunked(xs, lambda k, raw: from_raw(raw, self.tensors[k].type))
        return [outs[k] for k in self.outputs]

    def _run_raw(self, xs: dict[str, np.ndarray], keep: bool) -> dict[str, np.ndarray]:
        env = {k: input_raw(x, self.tensors[k].type) for k, x in xs.items()}
        for op in self.ops:
            outs = op.execute(*(env[t] for t in op.inputs))
            env.update(zip(op.outputs, outs, strict=True))
        return env if keep else {k: env[k] for k in self.outputs}

    def _run_chunked(self, xs: dict[str, np.ndarray], finish) -> dict[str, np.ndarray]:
        """The outputs ``finish(name, raw)`` of the inputs ``xs``, run in chunks of samples written into
        one array per output (no concatenation). Inputs with different batch sizes (one broadcast) and
        outputs that do not carry the batch (constants) run in one pass."""
        sizes = {len(x) for x in xs.values()}
        step = max(1, RUN_CHUNK_ELEMENTS // max((t.size for t in self.tensors.values()), default=1))
        n = sizes.pop() if len(sizes) == 1 else 0
        out: dict[str, np.ndarray] = {}
        for i in range(0, n, step) if n > step else ():
            raw = self._run_raw({k: x[i : i + step] for k, x in xs.items()}, False)
            ys = {k: finish(k, raw[k]) for k in self.outputs}
            if any(np.shape(y)[:1] != (min(step, n - i),) for y in ys.values()):  # a constant output
                out = {}
                break
            for k, y in ys.items():
                if k not in out:
                    out[k] = np.empty((n, *y.shape[1:]), dtype=y.dtype)
                out[k][i : i + len(y)] = y
        if out:
            return out
        raw = self._run_raw(xs, False)
        return {k: finish(k, raw[k]) for k in self.outputs}

    def check_inputs(
        self, data: Any, what: str = "data", dtype: Any = np.float64, need_samples: bool = True
    ) -> list[np.ndarray]:
        """``data`` as one array per model input, checked against the input shapes
        (:func:`hlsgen.io.check_inputs`)."""
        shapes = [self.tensors[k].shape for k in self.inputs]
        return check_inputs(data, self.inputs, shapes, what, dtype, need_samples)

    def _bind(self, inputs: list[np.ndarray], conv) -> dict[str, np.ndarray]:
        xs = self.check_inputs(inputs, f"inputs of model {self.name}", dtype=None)
        return {name: conv(x, self.tensors[name]) for name, x in zip(self.inputs, xs, strict=True)}


def input_raw(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Raw integers of a model input: quantized to its type; a mask input (ap_uint<1>) is ``x != 0``."""
    x = np.asarray(x, dtype=np.float64)
    if t.width == 1 and not t.signed and t.frac == 0:
        return (x != 0).astype(np.int64)
    return to_raw(x, t)


_IDENT_RE = re.compile(r"[^0-9A-Za-z_]")
_CXX_KEYWORDS = frozenset(
    "alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t char32_t class "
    "compl const constexpr const_cast continue decltype default delete do double dynamic_cast else enum "
    "explicit export extern false float for friend goto if inline int long mutable namespace new noexcept "
    "not not_eq nullptr operator or or_eq private protected public register reinterpret_cast return short "
    "signed sizeof static static_assert static_cast struct switch template this thread_local throw true try "
    "typedef typeid typename union unsigned using virtual void volatile wchar_t while xor xor_eq main".split()
)


def c_identifier(text: str) -> str:
    """A deterministic C identifier for ``text`` (Keras names may hold '/', '-', '.', or start with a digit)."""
    s = _IDENT_RE.sub("_", str(text)).strip("_") or "t"
    s = re.sub(r"_+", "_", s)
    if s[0].isdigit():
        s = "l_" + s
    if s in _CXX_KEYWORDS or s.startswith("__"):
        s = "l_" + s
    return s
