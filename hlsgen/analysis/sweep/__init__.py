"""Sweeps: the emulation's accuracy and error, and the analytical resource estimate, over a grid of settings.

A *point* is an ordered set of settings. A setting is a dotted config key (``softmax.inv_bits``,
``layers.classifier.result``, ``default_precision``, ...: any field of
:class:`~hlsgen.config.Config`) or one of these shorthands:

- ``width``: total width W of every value that nothing else types (``default_precision`` becomes
  ``ap_fixed<W, I>`` with the base precision's sign and modes; the integer bits come from calibration),
  and of the weights and biases of float layers (``ap_fixed<W, I_w>``, ``I_w`` the integer bits of the
  model's largest float weight or bias, or those of the config's ``default_weight_precision``);
- ``integer``: integer bits I of ``default_precision`` (the width is the base precision's unless
  ``width`` is set); turns calibration off for the point, so that I applies;
- ``softmax_bits``: address bits of both exp tables of the stable softmax (``exp_hi_bits`` and
  ``exp_lo_bits``);
- ``layernorm_bits``: address bits of the layer norm 1/sqrt table (``table_bits``);
- ``calibrate``: whether calibration types the values (default: yes unless ``integer`` is set).

Types fixed by QKeras quantizers stay as they are (config precedence). Calibration ranges are computed
once, on the calibration data (default: the sweep's data), and shared by every point.

Each point gives the accuracy against the labels (or the argmax agreement with float when there are no
labels), the output error against Keras, the number of float values that overflow their type, and
the analytical resource estimate (:func:`hlsgen.plan.estimate`: multipliers, DSP, BRAM18, LUT, FF,
latency; sums of ``op.cost()`` where hlsgen.plan is absent) plus the bits of every constant (weights,
biases, tables). A point that cannot be built (e.g. a width too small for
the softmax tables) records the error and the sweep goes on.

Points run on local processes (``workers``) or on an existing Dask cluster (``scheduler``); each point
is a pure function of the shared payload, so the results are the same whichever way they ran, and
they are sorted by point. Local workers are spawned (not forked: the parent holds TensorFlow), so a
script that calls :func:`sweep` needs the usual ``if __name__ == "__main__":`` guard. Dask workers need
hlsgen installed.

The package: :mod:`.points` (settings and points), :mod:`.run` (one point and many, local or Dask),
:mod:`.result` (table, CSV, JSON, plot) and :mod:`.api` (the entry points).
"""

from __future__ import annotations

from .api import SweepPlan, prepare_sweep, sweep, sweep_settings
from .points import (
    DEFAULT_CONNECT_TIMEOUT,
    METRICS,
    RESOURCES,
    SHORTHANDS,
    SweepError,
    SweepPoint,
    axes_settings,
    grid_settings,
    make_points,
    weight_integer_bits,
)
from .result import SweepResult, sweep_png
from .run import Payload, connect, estimate_resources, resources_source, run_point, run_points

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "METRICS",
    "RESOURCES",
    "SHORTHANDS",
    "Payload",
    "SweepError",
    "SweepPlan",
    "SweepPoint",
    "SweepResult",
    "axes_settings",
    "connect",
    "estimate_resources",
    "grid_settings",
    "make_points",
    "prepare_sweep",
    "resources_source",
    "run_point",
    "run_points",
    "sweep",
    "sweep_png",
    "sweep_settings",
    "weight_integer_bits",
]
