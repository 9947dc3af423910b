"""The conversion entry points: ``convert`` and ``calibrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .project import Project, check_inputs, quantize_graph, ranges_of
from .quant.config import Config


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
) -> Project:
    """Convert a trained Keras 2 / QKeras model into a quantized hlsgen project.

    Args:
        model: a ``tf.keras.Model``, or the path of a ``.keras`` / ``.h5`` file or SavedModel folder.
        config: a dict, a :class:`~hlsgen.quant.config.Config`, or a YAML file path. The key
            ``default_precision`` (a C++ type such as ``"ap_fixed<16,6>"``) types every value that
            neither a QKeras quantizer nor a per-layer entry types.
        output_dir: where :meth:`Project.write` writes by default.
        calibration_data: inputs (array, or list of arrays for several inputs); when given, float
            values take the integer bits their observed ranges need (the width stays the default's).
        board: a board (registry name such as ``"pynq-z2"``, board YAML path, or
            :class:`~hlsgen.boards.Board`): sets ``part``, ``clock_period`` and ``board`` of the config,
            and the written project gets the board's integration (see :mod:`hlsgen.shells`). Without
            it, a ``board`` in the config does the same.

    Returns:
        A :class:`~hlsgen.project.Project`: ``predict`` (bit-exact emulation), ``csim``, ``write``.
    """
    from .frontend.keras import read_keras
    from .shells import apply_board

    cfg = apply_board(_config(config), board)
    graph = read_keras(model)
    typed = quantize_graph(graph, cfg, calibration=calibration_data)
    return Project(typed, cfg, output_dir=output_dir)


def calibrate(model: Any, data: Any, config: Any = None) -> tuple[Config, dict[str, dict[str, Any]]]:
    """Types from calibration data: a config whose per-op result types keep ``data`` from saturating.

    Returns:
        (config, report): the resolved config (every op's types written out, see
        :meth:`Project.resolved_config`), and per tensor the observed maximum magnitude, the chosen type,
        and how many values saturate or wrap on ``data`` with that type.
    """
    from .frontend.keras import read_keras

    cfg = _config(config)
    graph = read_keras(model)
    env = graph.run_float(check_inputs(graph, data, "calibration data"), keep=True)
    ranges = ranges_of(env)
    typed = quantize_graph(graph, cfg, ranges=ranges)
    report: dict[str, dict[str, Any]] = {}
    for op in typed.ops:
        for t in op.outputs:
            tt = typed.tensors[t].type
            x = env[t]
            over = int(np.sum((x > tt.max) | (x < tt.min)))
            report[t] = {"max_abs": ranges.get(t, 0.0), "type": str(tt), "saturated": over, "values": int(x.size)}
    return Project(typed, cfg).resolved_config(), report
