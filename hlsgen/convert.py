"""The conversion entry points: ``convert`` and ``calibrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .project import Project, build_project
from .quant.passes import WrapWarning, quantize_graph, ranges_of, wrapping_tensors


def _config(config: Any) -> Config:
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    if isinstance(config, (str, Path)):
        return Config.from_yaml(config)
    if isinstance(config, dict):
        return Config.from_dict(config)
    raise ValueError(f"config must be a dict, a Config or a YAML path, not {type(config).__name__}")


def convert(
    model: Any,
    config: Any = None,
    output_dir: str | Path | None = None,
    calibration_data: Any = None,
    board: Any = None,
    example_input: Any = None,
    batch_dim: int = 0,
) -> Project:
    """Convert a trained Keras 2 / QKeras or PyTorch model into a quantized hlsgen project.

    Args:
        model: a ``tf.keras.Model``, or the path of a ``.keras`` / ``.h5`` file or SavedModel folder; or a
            ``torch.nn.Module`` (with ``example_input``), a ``torch.export`` program, a ``.pt2`` file
            (``torch.export.save``) or a ``.pt`` file of a whole pickled module (see
            :mod:`hlsgen.frontend.torch`); or an ONNX model (``.onnx`` path or ``ModelProto``, opset 17+).
        config: a dict, a :class:`~hlsgen.config.Config`, or a YAML file path. The key
            ``default_precision`` (a C++ type such as ``"ap_fixed<16,6>"``) types every value that
            neither a QKeras quantizer nor a per-layer entry types.
        output_dir: where :meth:`Project.write` writes by default.
        calibration_data: inputs (array, or list of arrays for several inputs); when given, float
            values take the integer bits their observed ranges need (the width stays the default's)
            and saturate past them (``calibration_overflow``); tables of activations cover the observed
            range of their inputs; tensors whose (configured) type wraps on this data are named in a
            :class:`WrapWarning`.
        board: a board (registry name such as ``"pynq-z2"``, board YAML path, or
            :class:`~hlsgen.boards.Board`): sets ``part``, ``clock_period`` and ``board`` of the config,
            and the written project gets the board's integration (see :mod:`hlsgen.shells`). Without
            it, a ``board`` in the config does the same.
        example_input: a PyTorch module's trace input (a batch, or a list for several inputs).
        batch_dim: the batch axis of a PyTorch model's inputs and outputs (1 for sequence-first models);
            the project's inputs and outputs put the batch first.

    Returns:
        A :class:`~hlsgen.project.Project`: ``predict`` (bit-exact emulation), ``csim``, ``write``.
    """
    return build_project(
        model, _config(config), output_dir, calibration_data, board, example_input, batch_dim
    )


def calibrate(
    model: Any, data: Any, config: Any = None, example_input: Any = None, batch_dim: int = 0
) -> tuple[Config, dict[str, dict[str, Any]]]:
    """Types from calibration data: a config whose per-op result types keep ``data`` from saturating.

    Returns:
        (config, report): the resolved config (every op's types written out, see
        :meth:`Project.resolved_config`), and per tensor the observed maximum magnitude, the chosen type,
        and how many values saturate or wrap on ``data`` with that type.
    """
    from .frontend import read_model

    cfg = _config(config)
    graph = read_model(model, example_input, batch_dim)
    env = graph.run_float(graph.check_inputs(data, "calibration data"), keep=True)
    ranges = ranges_of(env)
    typed = quantize_graph(graph, cfg, ranges=ranges)
    report: dict[str, dict[str, Any]] = {}
    for op in typed.ops:
        for t in op.outputs:
            tt = typed.tensors[t].type
            x = env[t]
            over = int(np.sum((x > tt.max) | (x < tt.min)))
            report[t] = {
                "max_abs": ranges.get(t, 0.0),
                "type": str(tt),
                "saturated": over,
                "values": int(x.size),
            }
    return Project(typed, cfg).resolved_config(), report


__all__ = ["WrapWarning", "calibrate", "convert", "wrapping_tensors"]
