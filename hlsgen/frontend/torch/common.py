"""Helpers the PyTorch reader's modules share: where a node comes from (:class:`Where`), ATen overloads by
name, constant tensors as float64 arrays, scalar constants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .values import Sym


@dataclass(frozen=True)
class Where:
    """Where a node comes from: its module's path and class (what error messages name)."""

    path: str
    cls: str

    def __str__(self) -> str:
        return f"{self.path or '<model>'} ({self.cls})"


def locate(node: Any, model: str) -> Where:
    """The module a node comes from: the innermost one, or the outermost Brevitas ``Quant*`` module (its
    quantizers' internals are one layer)."""
    stack = [(str(p), c if isinstance(c, str) else getattr(c, "__name__", str(c))) for p, c in
             (node.meta.get("nn_module_stack") or {}).values()]  # fmt: skip
    if not stack:
        return Where("", model)
    path, cls = next(((p, c) for p, c in stack if c.rsplit(".", 1)[-1].startswith("Quant")), stack[-1])
    return Where(path, cls.rsplit(".", 1)[-1])


def aten(name: str) -> Any:
    import torch

    pkt, _, overload = name.partition(".")
    return getattr(getattr(torch.ops.aten, pkt), overload or "default")


def f64(t: Any) -> np.ndarray:
    return t.detach().to("cpu").double().numpy()


def is_scalar(v: Any) -> bool:
    import torch

    return isinstance(v, (int, float)) or (
        isinstance(v, torch.Tensor) and v.numel() == 1 and not isinstance(v, Sym)
    )


def scalar(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else float(v.item())
