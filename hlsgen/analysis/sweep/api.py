"""The sweep entry points: settings from a grid or axes, a prepared sweep plan, ``sweep``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compare import (
    as_inputs,
    class_labels,
    keras_outputs,
    resolve_model,
)
from .points import (
    DEFAULT_CONNECT_TIMEOUT,
    SweepPoint,
    axes_settings,
    grid_settings,
    make_points,
    weight_integer_bits,
)
from .result import SweepResult
from .run import Payload, connect, run_points


# ---------------------------------------------------------------------------------------------------
# the entry points
# ---------------------------------------------------------------------------------------------------
def sweep_settings(
    widths: list[int] | None = None,
    integer: list[int] | None = None,
    softmax_bits: list[int] | None = None,
    layernorm_bits: list[int] | None = None,
    grid: Any = None,
) -> list[dict[str, Any]]:
    """The settings of every point: the combinations of the axes given, or the points of ``grid``.

    Raises:
        ValueError: nothing to sweep, both a grid and axes, an empty grid or axis.
    """
    axes = {
        "width": widths,
        "integer": integer,
        "softmax_bits": softmax_bits,
        "layernorm_bits": layernorm_bits,
    }
    if grid is not None:
        if any(v is not None for v in axes.values()):
            raise ValueError("give either a grid or the axes (widths, integer, softmax_bits, layernorm_bits)")
        return grid_settings(grid)
    return axes_settings(**axes)


@dataclass
class SweepPlan:
    """A prepared sweep: its points and the payload they share (the float reference, computed once).

    Running the same plan locally or on Dask gives the same rows, point for point.
    """

    model: str
    points: list[SweepPoint]
    payload: Payload
    float_accuracy: float | None
    config: dict[str, Any]

    @property
    def keys(self) -> list[str]:
        keys: list[str] = []
        for p in self.points:
            keys += [k for k in p.settings if k not in keys]
        return keys

    def run(self, workers: int | None = None, client: Any = None, progress: bool = True) -> SweepResult:
        """Every point, on ``workers`` local processes or on the Dask ``client``."""
        rows = run_points(self.points, self.payload, workers=workers, client=client, progress=progress)
        return SweepResult(
            model=self.model,
            n_samples=int(self.payload.inputs[0].shape[0]),
            float_accuracy=self.float_accuracy,
            keys=self.keys,
            rows=rows,
            config=self.config,
        )


def prepare_sweep(
    model: Any, data: Any, labels: Any, config: Any, settings: list[dict[str, Any]], calibration: Any = None
) -> SweepPlan:
    """Load the model, check the data and settings, compute the float reference and calibration ranges."""
    from ...frontend.keras import load_model, read_keras

    src, cfg = resolve_model(model, config)
    keras_model = load_model(src)
    graph = read_keras(keras_model)
    points = make_points(settings, cfg, weight_integer_bits(graph))
    xs = as_inputs(graph, data, "data")
    y_float = keras_outputs(keras_model, xs, graph)[0]
    lab = class_labels(labels, y_float) if labels is not None else None
    env = graph.run_float(xs, keep=True)
    if calibration is not None:
        from ...quant.passes import calibration_ranges

        ranges = calibration_ranges(graph, as_inputs(graph, calibration, "calibration data"))
    else:
        ranges = {k: float(np.max(np.abs(v))) if np.size(v) else 0.0 for k, v in env.items()}
    return SweepPlan(
        model=str(getattr(keras_model, "name", graph.name)),
        points=points,
        payload=Payload(graph, xs, lab, y_float, env, ranges),
        float_accuracy=float(np.mean(np.argmax(y_float, axis=-1) == lab)) if lab is not None else None,
        config=cfg.to_dict(),
    )


def sweep(
    model: Any,
    data: Any,
    labels: Any = None,
    config: Any = None,
    *,
    widths: list[int] | None = None,
    integer: list[int] | None = None,
    softmax_bits: list[int] | None = None,
    layernorm_bits: list[int] | None = None,
    grid: Any = None,
    calibration: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    progress: bool = True,
) -> SweepResult:
    """Run the emulation at every point of a sweep (settings: the module docstring).

    Args:
        model: a ``tf.keras.Model``, a ``.keras`` / ``.h5`` file, or a project folder.
        data: inputs ``(batch, ...)`` (a list for several inputs).
        labels: class indices or one-hot of the first output (without them the metric is the argmax
            agreement with float).
        config: the base config (dict, Config or YAML path).
        widths, integer, softmax_bits, layernorm_bits: axes; every combination is a point.
        grid: instead of the axes, a grid (mapping, list or YAML path; see :func:`grid_settings`).
        calibration: inputs for the calibration ranges (default: ``data``).
        workers: local processes (default: one per CPU, at most one per point; 1 = in this process).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``) to run the points on.
        connect_timeout: seconds to wait for the scheduler.

    Raises:
        ValueError: no points / an empty grid, a bad setting (naming the point), data or labels that
            do not fit the model (naming both shapes or lengths).
        SweepError: the scheduler cannot be reached within ``connect_timeout``.
    """
    settings = sweep_settings(widths, integer, softmax_bits, layernorm_bits, grid)
    client = connect(scheduler, connect_timeout) if scheduler else None  # fail fast, before any work
    try:
        plan = prepare_sweep(model, data, labels, config, settings, calibration)
        return plan.run(workers=workers, client=client, progress=progress)
    finally:
        if client is not None:
            client.close()
