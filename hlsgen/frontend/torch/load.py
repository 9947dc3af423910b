"""Loading a PyTorch model: a module traced with ``torch.export``, a saved program (``.pt2``) or a whole
pickled module (``.pt``); telling PyTorch and ONNX models apart without importing either framework."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UnsupportedModelError


def load_program(source: Any, example_input: Any = None) -> Any:
    """A ``torch.export.ExportedProgram`` from a module (traced on ``example_input``), a program, or a
    ``.pt2`` (``torch.export.save``) / ``.pt`` (a whole pickled module) file."""
    import torch

    if isinstance(source, torch.export.ExportedProgram):
        return source
    name = type(source).__name__
    if isinstance(source, (str, Path)):
        p = Path(source)
        if not p.is_file():
            raise FileNotFoundError(f"model file {p} does not exist")
        if p.suffix == ".pt2":
            try:
                return torch.export.load(str(p))
            except Exception as e:
                raise ValueError(f"cannot read torch.export program {p}: {type(e).__name__}: {e}") from None
        try:
            source = torch.load(str(p), weights_only=False)
        except Exception as e:
            raise ValueError(f"cannot read PyTorch file {p}: {type(e).__name__}: {e}") from None
        if not isinstance(source, torch.nn.Module):
            raise ValueError(
                f"{p} holds a {type(source).__name__}, not a whole nn.Module: save the module "
                "(torch.save(model, path)) or a torch.export program (torch.export.save(ep, 'model.pt2'))"
            )
        name = f"{p.name} ({type(source).__name__})"
    if not isinstance(source, torch.nn.Module):
        raise ValueError(f"expected a torch.nn.Module, an ExportedProgram or a .pt2 / .pt file, not {name}")
    if example_input is None:
        raise ValueError(
            f"{name}: a PyTorch module converts from a trace: pass example_input= (a batch shaped like the "
            "model's input), or convert a torch.export program (.pt2)"
        )
    xs = example_input if isinstance(example_input, (list, tuple)) else [example_input]
    args = tuple(_as_tensor(x) for x in xs)
    was_training = source.training
    source.eval()
    try:
        return torch.export.export(source, args)
    except Exception as e:
        qmha = [
            p or "<model>" for p, m in source.named_modules() if type(m).__name__ == "QuantMultiheadAttention"
        ]
        if qmha:
            raise UnsupportedModelError(
                f"{qmha[0]} (QuantMultiheadAttention): torch.export cannot trace Brevitas's quantized attention "
                f"({type(e).__name__}: {str(e).splitlines()[0]}); export the model to QONNX and convert the "
                "file: brevitas.export.export_qonnx(model, x, export_path='model.onnx', dynamo=False, "
                "opset_version=17), then hlsgen.convert('model.onnx')"
            ) from None
        raise UnsupportedModelError(f"torch.export cannot trace {name}: {type(e).__name__}: {e}") from None
    finally:
        source.train(was_training)


def save_program(source: Any, example_input: Any, path: Path) -> Path:
    """Trace ``source`` (a module or ``.pt`` file) on ``example_input`` and save the program as ``path``."""
    import torch

    torch.export.save(load_program(source, example_input), str(path))
    return path


def _as_tensor(x: Any) -> Any:
    import torch

    if isinstance(x, torch.Tensor):
        return x
    a = np.asarray(x)
    return torch.as_tensor(a, dtype=torch.float32 if a.dtype.kind == "f" else None)


def is_torch_model(model: Any) -> bool:
    """True for a torch module or export program, or a ``.pt2`` / ``.pt`` / ``.pth`` path (torch not imported
    unless the caller already did)."""
    import sys

    if isinstance(model, (str, Path)):
        return Path(model).suffix in (".pt2", ".pt", ".pth")
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    return isinstance(model, (torch.nn.Module, torch.export.ExportedProgram))


def is_onnx_model(model: Any) -> bool:
    """True for a ``.onnx`` path or an ``onnx.ModelProto`` (onnx not imported unless the caller did)."""
    import sys

    if isinstance(model, (str, Path)):
        return Path(model).suffix == ".onnx"
    onnx = sys.modules.get("onnx")
    return onnx is not None and isinstance(model, onnx.ModelProto)
