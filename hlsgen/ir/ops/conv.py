"""One-dimensional convolution over tokens (Conv1D with kernel 3, 5, ...; kernel 1 is a Linear).

A Conv1D is a Linear over windows: output token t reads input tokens t - pad_left ... t - pad_left + K - 1
(zeros outside), flattened kernel-position-major, so the kernel [K, C_in, C_out] is the Linear's
[K * C_in, C_out] and the exact accumulator, types and quantization are the Linear's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .base import Cost
from .basic import Linear

if TYPE_CHECKING:
    from ..graph import Graph


class Padding(enum.StrEnum):
    """Keras padding modes of Conv1D."""

    VALID = "valid"  #: no padding: T - K + 1 output tokens
    SAME = "same"  #: (K - 1) // 2 zeros before, the rest after: T output tokens


@dataclass
class Conv1D(Linear):
    """y[t] = sum_k x[t + k - pad_left] W[k] + b over [T, C_in] (stride 1, dilation 1).

    ``kernel`` holds the Keras kernel [K, C_in, C_out] reshaped to [K * C_in, C_out].
    """

    kind: ClassVar[str] = "conv1d"
    kernel_size: int = 1
    padding: Padding = Padding.VALID

    def __post_init__(self) -> None:
        self.padding = Padding(self.padding)

    @property
    def channels_in(self) -> int:
        return self.n_in // self.kernel_size

    def pads(self) -> tuple[int, int]:
        """Zeros before and after the tokens."""
        if self.padding is Padding.VALID:
            return 0, 0
        left = (self.kernel_size - 1) // 2
        return left, self.kernel_size - 1 - left

    def out_tokens(self, t_in: int) -> int:
        left, right = self.pads()
        return t_in + left + right - self.kernel_size + 1

    def windows(self, x: np.ndarray) -> np.ndarray:
        """[batch, T_out, K * C_in]: each output token's window (zeros outside the sequence)."""
        left, right = self.pads()
        xp = np.pad(x, ((0, 0), (left, right), (0, 0)))
        t_out = xp.shape[1] - self.kernel_size + 1
        return np.concatenate([xp[:, k : k + t_out, :] for k in range(self.kernel_size)], axis=-1)

    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        return super().forward_float(self.windows(np.asarray(x, np.float64)))

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        return super().execute(self.windows(x))

    def tokens(self, graph: Graph) -> tuple[int, int]:
        t_in = graph.tensors[self.inputs[0]].shape[0]
        return t_in, self.out_tokens(t_in)

    def cost(self, graph: Graph) -> Cost:
        c = super().cost(graph)
        t_in, t_out = self.tokens(graph)
        c.macs = t_out * self.n_in * self.n_out
        c.latency_cycles = t_out * self.reuse_factor + 2
        return c


__all__ = ["Conv1D", "Padding"]
