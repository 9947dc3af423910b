"""The reference decode session: the decode design (:func:`hlsgen.quant.decode_pass.to_decode`) stepped
one token per call in the bit-exact NumPy reference, its caches kept between calls.

:class:`Decoder` is the session interface (``step``, ``reset``, ``position``, ``run``);
:class:`EmulationDecoder` runs it on the ops' ``execute``; :func:`decode_session` is the reference of a
session on the hardware's terms (resets and refused tokens), which the RTL decode cosim checks against.
The csim session (:class:`hlsgen.decode.CsimDecoder`) implements the same interface over the compiled C++.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fixed import from_raw
from ..io import check_token
from ..ir.graph import input_raw
from ..ir.ops.cache import DecodeOverflowError, KVCache
from .decode_pass import DecodeDesign


class Decoder:
    """A decode session: ``step(x) -> y`` one token at a time, ``reset()``, ``position``.

    Attributes:
        design: the decode design (graph, max_length, MLA form).
    """

    mode = "?"

    def __init__(self, design: DecodeDesign, name: str) -> None:
        self.design = design
        self.name = name
        self._pos = 0

    @property
    def max_length(self) -> int:
        """Tokens one sequence may hold (the caches' rows)."""
        return self.design.max_length

    @property
    def position(self) -> int:
        """Position the next token takes: the number of tokens stepped since the last reset."""
        return self._pos

    @property
    def n_features(self) -> int:
        return int(self.design.graph.tensors[self.design.token].shape[-1])

    def _overflow(self) -> DecodeOverflowError:
        return DecodeOverflowError(
            f"decoder of {self.name} ({self.mode}): the sequence is full ({self.max_length} tokens, "
            f"max_length = {self.max_length}); call reset() to start a new one or raise decode.max_length"
        )

    def _token(self, x: Any) -> tuple[np.ndarray, bool]:
        return check_token(x, self.n_features, f"decoder of {self.name}")

    def _outputs(self, raws: list[np.ndarray], single: bool) -> Any:
        g = self.design.graph
        outs = []
        for r, k in zip(raws, g.outputs, strict=True):
            v = from_raw(np.asarray(r).reshape(r.shape[0], -1), g.tensors[k].type)
            outs.append(v[0] if single else v)
        return outs[0] if len(outs) == 1 else outs

    def step_raw(self, x: Any) -> list[np.ndarray]:
        """Raw integer outputs ``[B, n]`` of one token."""
        raise NotImplementedError

    def step(self, x: Any) -> Any:
        """Process one token (``[D]`` or ``[B, D]``): its outputs as float64 (a list for several outputs)."""
        _, single = self._token(x)
        return self._outputs(self.step_raw(x), single)

    def reset(self) -> None:
        """Start a new sequence: the position returns to 0."""
        self._pos = 0

    def run(self, xs: Any) -> Any:
        """Reset, then step through ``xs [B, T, D]`` (or ``[T, D]``); outputs stacked ``[B, T, n]``."""
        a = np.asarray(xs, dtype=np.float64)
        single = a.ndim == 2
        if single:
            a = a[None]
        self.reset()
        steps = [self.step_raw(a[:, t]) for t in range(a.shape[1])]
        g = self.design.graph
        outs = []
        for k, name in enumerate(g.outputs):
            raw = np.stack([np.asarray(s[k]).reshape(a.shape[0], -1) for s in steps], axis=1)
            v = from_raw(raw, g.tensors[name].type)
            outs.append(v[0] if single else v)
        return outs[0] if len(outs) == 1 else outs

    def run_raw(self, xs: Any) -> list[np.ndarray]:
        """Reset, then step through ``xs [B, T, D]``: raw outputs ``[B, T, n]`` (like ``predict_raw``)."""
        a = np.asarray(xs, dtype=np.float64)
        self.reset()
        steps = [self.step_raw(a[:, t]) for t in range(a.shape[1])]
        return [
            np.stack([np.asarray(s[k]).reshape(a.shape[0], -1) for s in steps], axis=1)
            for k in range(len(steps[0]))
        ]


class EmulationDecoder(Decoder):
    """Decode in the bit-exact NumPy reference; a batch of sequences steps in lockstep.

    The batch size is fixed by the first step after a reset (``batch`` pre-sets it).
    """

    mode = "emulation"

    def __init__(self, design: DecodeDesign, name: str, batch: int | None = None) -> None:
        super().__init__(design, name)
        self._batch = batch
        self._b = 0
        self._state: dict[str, np.ndarray] = {}

    def reset(self) -> None:
        super().reset()
        self._state = {}

    def step_raw(self, x: Any) -> list[np.ndarray]:
        a, _ = self._token(x)
        b = a.shape[0]
        if self._pos >= self.max_length:
            raise self._overflow()
        if self._batch is not None and b != self._batch:
            raise ValueError(f"decoder of {self.name}: batch {b}, the session was opened for {self._batch}")
        if self._pos == 0:
            self._state = {op.name: op.init_state(b) for op in self.design.caches}
            self._b = b
        elif b != self._b:
            raise ValueError(f"decoder of {self.name}: this sequence has batch {self._b}, got {b}")
        g = self.design.graph
        env = {
            self.design.token: input_raw(a[:, None, :], g.tensors[self.design.token].type),
            self.design.position: np.full((b, 1), self._pos, dtype=np.int64),
        }
        for op in g.ops:
            ins = [env[t] for t in op.inputs]
            outs = op.step(self._state[op.name], *ins) if isinstance(op, KVCache) else op.execute(*ins)
            env.update(zip(op.outputs, outs, strict=True))
        self._pos += 1
        return [np.asarray(env[k]).reshape(b, -1) for k in g.outputs]

    def cache(self, name: str | None = None) -> np.ndarray:
        """Raw contents ``[B, L, w]`` of one cache (by op name; the first when None)."""
        if not self._state:
            raise ValueError(f"decoder of {self.name}: no token stepped since the last reset")
        return self._state[name or next(iter(self._state))].copy()


def decode_session(
    design: DecodeDesign, tokens_raw: np.ndarray, resets: list[int] | np.ndarray
) -> dict[str, Any]:
    """The reference of a decode session on the hardware's terms: token ``s`` (raw ``[S, 1, D]``) starts a
    new sequence when ``resets[s]`` is 1; a token past ``max_length`` is refused (overflow 1, outputs zero,
    nothing changes). Returns ``{"reset", "overflow", "expected"}`` (expected raw outputs ``[S, 1, n]``
    by output tensor), as :func:`run` takes them."""
    g = design.graph
    tok_t = g.tensors[design.token].type
    dec = EmulationDecoder(design, g.name, batch=1)
    outs: dict[str, list[np.ndarray]] = {k: [] for k in g.outputs}
    overflow = []
    for s, tok in enumerate(np.asarray(tokens_raw)):
        if s == 0 or resets[s]:
            dec.reset()
        if dec.position >= design.max_length:
            overflow.append(1)
            for k in g.outputs:
                outs[k].append(np.zeros((1, int(np.prod(g.tensors[k].shape))), dtype=np.int64))
            continue
        overflow.append(0)
        for k, r in zip(
            g.outputs, dec.step_raw(from_raw(np.asarray(tok).reshape(1, -1), tok_t)), strict=True
        ):
            outs[k].append(np.asarray(r).reshape(1, -1))
    return {
        "reset": [int(bool(r)) for r in resets],
        "overflow": overflow,
        "expected": {k: np.stack(v).reshape(len(overflow), *g.tensors[k].shape) for k, v in outs.items()},
    }


__all__ = ["DecodeOverflowError", "Decoder", "EmulationDecoder", "decode_session"]
