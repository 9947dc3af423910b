"""Quantized against float: output errors, and per tensor errors, overflows, ranges and a suggested type.

:func:`compare` runs the same inputs through the Keras model (float) and hlsgen's bit-exact emulation
(fixed) and reports, side by side, the task accuracy, the argmax agreement and the output errors; then,
for every tensor of the IR, what its fixed-point type does to it.

Definitions (the terminal table, the JSON and the Markdown report all use them):

- *error* of a tensor: fixed value (the emulation: ``run_raw`` then ``from_raw``) minus float value (the
  IR's float pass, ``run_float``); the maximum and the mean of its magnitude, and the relative error
  ``max |fixed - float| / max |float|``. It includes the errors propagated from earlier tensors.
- *overflow*: a float value that, rounded to the type's LSB as the type's rounding mode rounds, lies
  outside the type's range ``[min, max]`` (``[-max, max]`` for AP_SAT_SYM). It *saturates* when the
  type's overflow mode is AP_SAT, AP_SAT_ZERO or AP_SAT_SYM, and *wraps* with AP_WRAP or AP_WRAP_SM.
- *zeroed*: a non-zero float value that the type holds as 0 (below its resolution).
- *suggested type* (a local rule: the tensor's own float values, not the errors that reach it):
  integer bits ``I`` are the fewest with ``max|x| < 2^(I-1)`` (signed; ``2^I`` unsigned), the
  calibration rule, plus one if rounding would still overflow; fractional bits ``F`` are the fewest for
  which the type's largest quantization error (one LSB when truncating, half an LSB when rounding) is
  at most ``target_error * max|x|``: ``F = ceil(log2(c / (target_error * max|x|)))`` with ``c = 1``
  for AP_TRN / AP_TRN_ZERO and ``c = 1/2`` for the rounding modes. Signedness and modes are kept (an
  unsigned type that meets negative values becomes signed).

Mask tensors (``ap_uint<1>``, 1 = attend, including the batch-1 constant causal masks) carry no
quantized values and are left out of the per-tensor report.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..fixed import MAX_WIDTH, FixedType, Overflow, Rounding, from_raw, to_raw
from ..ir.graph import Graph
from ..quant.config import Config, integer_bits_for

#: Default of ``target_error``: the suggested fractional bits keep every quantization error within 1 %
#: of the tensor's largest float magnitude.
DEFAULT_TARGET_ERROR = 0.01

#: Values per tensor kept for the profiling plot (a seeded subsample beyond this).
PLOT_VALUES = 20000

_SATURATING = (Overflow.SAT, Overflow.SAT_ZERO, Overflow.SAT_SYM)
_TRUNCATING = (Rounding.TRN, Rounding.TRN_ZERO)


# ---------------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------------
@dataclass
class OutputReport:
    """Fixed against float (Keras) for one model output."""

    name: str  #: IR output tensor
    max_abs_error: float  #: max |fixed - float|
    mean_abs_error: float  #: mean |fixed - float|
    rel_error: float  #: max |fixed - float| / max |float|


@dataclass
class TensorReport:
    """What the fixed-point type of one tensor does to it on the data (see the module's definitions)."""

    name: str  #: IR tensor name
    op: str  #: producing op ("" for a model input)
    kind: str  #: producing op's kind ("input" for a model input)
    origin: str  #: Keras layer it comes from
    type: str  #: its fixed-point type
    values: int  #: number of values over the data
    float_min: float  #: smallest float value on the data
    float_max: float  #: largest float value on the data
    type_min: float  #: smallest value of the type
    type_max: float  #: largest value of the type
    lsb: float  #: resolution of the type, 2^-F
    max_abs_error: float  #: max |fixed - float|
    mean_abs_error: float  #: mean |fixed - float|
    rel_error: float  #: max |fixed - float| / max |float|
    overflow_mode: str  #: "saturate" or "wrap" (from the type's overflow mode)
    overflows: int  #: float values outside the type's range
    saturated: int  #: overflows that saturate
    wrapped: int  #: overflows that wrap
    zeroed: int  #: non-zero float values held as 0
    integer_bits: int  #: integer bits of the type
    needed_integer_bits: int  #: integer bits the data needs (the suggestion's)
    frac_bits: int  #: fractional bits of the type
    needed_frac_bits: int  #: fractional bits the target error needs (the suggestion's)
    suggested: str  #: suggested type

    @property
    def spare_integer_bits(self) -> int:
        """Integer bits beyond what the data needs (negative: missing, the tensor overflows)."""
        return self.integer_bits - self.needed_integer_bits

    @property
    def spare_frac_bits(self) -> int:
        """Fractional bits beyond what the target error needs (negative: missing)."""
        return self.frac_bits - self.needed_frac_bits


@dataclass
class CompareResult:
    """Float against fixed on one data set. ``samples`` (float values per tensor, for the plot) is not
    part of the JSON."""

    model: str
    n_samples: int
    default_precision: str
    target_error: float
    float_accuracy: float | None
    fixed_accuracy: float | None
    argmax_agreement: float
    outputs: list[OutputReport]
    tensors: list[TensorReport]
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    # -- machine-readable ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("samples")
        for t, td in zip(self.tensors, d["tensors"], strict=True):
            td["spare_integer_bits"] = t.spare_integer_bits
            td["spare_frac_bits"] = t.spare_frac_bits
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def tensor(self, name: str) -> TensorReport:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(name)

    # -- human-readable -----------------------------------------------------------------------------
    def _summary_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        if self.float_accuracy is not None:
            rows.append(("accuracy", f"{self.float_accuracy:.4f}", f"{self.fixed_accuracy:.4f}"))
        rows.append(("argmax agreement", "", f"{self.argmax_agreement:.4f}"))
        for o in self.outputs:
            rows.append((f"{o.name}: max |err|", "", f"{o.max_abs_error:.4g}"))
            rows.append((f"{o.name}: mean |err|", "", f"{o.mean_abs_error:.4g}"))
            rows.append((f"{o.name}: relative err", "", f"{o.rel_error:.2%}"))
        return rows

    def _tensor_rows(self) -> list[list[str]]:
        rows = []
        for t in self.tensors:
            over = (
                "0"
                if not t.overflows
                else f"{t.overflows} {'sat' if t.overflow_mode == 'saturate' else 'WRAP'}"
            )
            rows.append(
                [
                    t.name,
                    t.type,
                    f"[{t.float_min:.3g}, {t.float_max:.3g}]",
                    f"[{t.type_min:.4g}, {t.type_max:.4g}]",
                    over,
                    str(t.zeroed),
                    f"{t.max_abs_error:.3g}",
                    f"{t.rel_error:.2%}",
                    f"{t.spare_integer_bits:+d}/{t.spare_frac_bits:+d}",
                    t.suggested,
                ]
            )
        return rows

    _HEAD = ["tensor", "type", "float range", "type range", "overflow", "zeroed", "max|err|", "rel err",
             "spare I/F", "suggested"]  # fmt: skip

    def format_table(self) -> str:
        """The plain-text report for the terminal."""
        lines = [
            f"{self.model}: {self.n_samples} samples, float (Keras) against fixed (hlsgen emulation), "
            f"default precision {self.default_precision}",
            "",
        ]
        summ = self._summary_rows()
        w0 = max(len(r[0]) for r in summ)
        lines.append(f"{'':<{w0}}  {'float':>8}  {'fixed':>8}")
        lines += [f"{a:<{w0}}  {b:>8}  {c:>8}" for a, b, c in summ]
        lines.append("")
        rows = self._tensor_rows()
        widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(self._HEAD)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(self._HEAD, widths, strict=True)).rstrip())
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        lines.append("")
        lines.append(
            f"spare I/F: integer / fractional bits beyond what the data needs (negative: too few); suggested: "
            f"integer bits to stop overflow, fractional bits for an error within {self.target_error:g} x max|x|"
        )
        return "\n".join(lines) + "\n"

    def to_markdown(self, plot: str | None = None) -> str:
        """The Markdown report; ``plot`` is the path of the profiling PNG to embed (relative to the report)."""
        out = [f"# {self.model}: quantized against float", ""]
        out.append(
            f"{self.n_samples} samples; float = Keras `model.predict`, fixed = hlsgen's bit-exact emulation; "
            f"default precision `{self.default_precision}`."
        )
        out += ["", "| | float | fixed |", "|---|---:|---:|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in self._summary_rows()]
        out += ["", "## Tensors", ""]
        out.append("| " + " | ".join(self._HEAD) + " |")
        out.append("|" + "|".join("---" for _ in self._HEAD) + "|")
        for r in self._tensor_rows():
            r = [f"`{c}`" if k in (1, 9) else c for k, c in enumerate(r)]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        out += [
            "",
            "- *overflow*: float values outside the type's range after rounding (sat = saturated, WRAP = "
            "wrapped around);",
            "- *zeroed*: non-zero float values the type holds as 0;",
            "- *max|err|*, *rel err*: fixed against float at that tensor, errors of earlier tensors included;",
            "- *spare I/F*: integer / fractional bits beyond what the data needs (negative: too few);",
            f"- *suggested*: integer bits so that the largest float value fits; fractional bits so that the "
            f"largest quantization error is at most {self.target_error:g} x the largest float magnitude.",
        ]
        if plot:
            out += ["", "## Profile", "", f"![profile]({plot})"]
        return "\n".join(out) + "\n"

    def plot(self, path: str | Path | None = None) -> bytes:
        """The profiling plot as PNG bytes (also written to ``path`` when given)."""
        from .profile import profile_png

        png = profile_png(self)
        if path is not None:
            write_file_atomically(Path(path), png)
        return png


# ---------------------------------------------------------------------------------------------------
# per-value rules
# ---------------------------------------------------------------------------------------------------
def overflow_mask(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Bool array: True where the float value ``x``, rounded to ``t``'s LSB by its rounding mode, lies
    outside ``t``'s range (``[-max, max]`` for AP_SAT_SYM)."""
    x = np.asarray(x, dtype=np.float64)
    lo = -t.raw_max if (t.overflow is Overflow.SAT_SYM and t.signed) else t.raw_min
    if x.size == 0:
        return np.zeros(x.shape, dtype=bool)
    m = float(np.max(np.abs(x)))
    wide_i = max(t.integer, integer_bits_for(m, True)) + 2
    if not 1 <= wide_i + t.frac <= MAX_WIDTH:  # a type too odd to round in: compare the float values
        return (x > t.max) | (x < lo * t.lsb)
    wide = FixedType(wide_i + t.frac, wide_i, True, t.rounding, Overflow.WRAP)
    r = to_raw(x, wide)
    return np.asarray((r > t.raw_max) | (r < lo), dtype=bool)


def suggest_type(x: np.ndarray, t: FixedType, target_error: float = DEFAULT_TARGET_ERROR) -> FixedType:
    """The suggested type for float values ``x`` now typed ``t`` (rule in the module docstring)."""
    if not target_error > 0:
        raise ValueError(f"target_error must be positive, got {target_error!r}")
    x = np.asarray(x, dtype=np.float64)
    m = float(np.max(np.abs(x))) if x.size else 0.0
    signed = t.signed or bool(np.any(x < 0))
    i = integer_bits_for(m, signed)
    if m > 0:
        c = 1.0 if t.rounding in _TRUNCATING else 0.5
        f = math.ceil(math.log2(c / (target_error * m)) - 1e-12)
    else:
        f = 0
    if i + f < 1:
        f = 1 - i
    s = FixedType(i + f, i, signed, t.rounding, t.overflow)
    while s.width < MAX_WIDTH and np.any(overflow_mask(x, s)):  # rounding up past the top
        s = FixedType(s.width + 1, s.integer + 1, signed, s.rounding, s.overflow)
    return s


# ---------------------------------------------------------------------------------------------------
# data checks
# ---------------------------------------------------------------------------------------------------
def as_inputs(graph: Graph, data: Any, what: str = "data") -> list[np.ndarray]:
    """``data`` as one float64 array per model input, checked (:func:`hlsgen.project.check_inputs`).

    Raises:
        ValueError: naming the input, the shape the model expects and the shape given.
    """
    from ..project import check_inputs

    return check_inputs(graph, data, what)


def class_labels(labels: Any, y: np.ndarray, what: str = "labels") -> np.ndarray:
    """Class indices from ``labels`` (indices, or one-hot / scores like the output ``y``), checked.

    Raises:
        ValueError: another number of samples than ``y``, or a shape that fits neither form.
    """
    lab = np.asarray(labels)
    if lab.ndim == 0 or lab.shape[0] != y.shape[0]:
        got = "a scalar" if lab.ndim == 0 else f"{lab.shape[0]} samples"
        raise ValueError(f"{what}: {got}, but the data holds {y.shape[0]} samples")
    if lab.shape == y.shape and y.ndim >= 2:
        return np.argmax(lab, axis=-1)
    if lab.shape == y.shape[:-1]:
        if not np.all(np.equal(np.mod(lab, 1), 0)):
            raise ValueError(f"{what}: class indices must be integers")
        return lab.astype(np.int64)
    raise ValueError(
        f"{what}: shape {lab.shape} fits neither class indices {y.shape[:-1]} nor one-hot {y.shape} "
        "of the model's first output"
    )


def output_errors(name: str, fixed: np.ndarray, ref: np.ndarray) -> OutputReport:
    e = np.abs(fixed - ref)
    top = float(np.max(np.abs(ref))) if ref.size else 0.0
    mx = float(e.max()) if e.size else 0.0
    return OutputReport(
        name, mx, float(e.mean()) if e.size else 0.0, mx / top if top > 0 else (0.0 if mx == 0 else math.inf)
    )


def is_mask(t: FixedType) -> bool:
    """Mask tensors are ``ap_uint<1>``."""
    return t.width == 1 and not t.signed and t.frac == 0


# ---------------------------------------------------------------------------------------------------
# the comparison
# ---------------------------------------------------------------------------------------------------
#: Parameters reported beside the tensors: config slot -> the op attributes holding its float values.
_PARAMS = {"weight": ("kernel", "gamma"), "bias": ("bias", "beta")}


def _report(
    name: str,
    op: Any,
    kind: str,
    origin: str,
    t: FixedType,
    x: np.ndarray,
    q: np.ndarray,
    target_error: float,
) -> TensorReport:
    x = np.asarray(x, dtype=np.float64)
    err = np.abs(q - x)
    top = float(np.max(np.abs(x))) if x.size else 0.0
    n_over = int(overflow_mask(x, t).sum())
    saturating = t.overflow in _SATURATING
    local = from_raw(to_raw(x, t), t)
    sug = suggest_type(x, t, target_error)
    mx = float(err.max()) if err.size else 0.0
    return TensorReport(
        name=name,
        op=op.name if op is not None else "",
        kind=kind,
        origin=origin,
        type=str(t),
        values=int(x.size),
        float_min=float(x.min()) if x.size else 0.0,
        float_max=float(x.max()) if x.size else 0.0,
        type_min=t.min,
        type_max=t.max,
        lsb=t.lsb,
        max_abs_error=mx,
        mean_abs_error=float(err.mean()) if err.size else 0.0,
        rel_error=mx / top if top > 0 else (0.0 if mx == 0 else math.inf),
        overflow_mode="saturate" if saturating else "wrap",
        overflows=n_over,
        saturated=n_over if saturating else 0,
        wrapped=0 if saturating else n_over,
        zeroed=int(np.sum((x != 0) & (local == 0))),
        integer_bits=t.integer,
        needed_integer_bits=sug.integer,
        frac_bits=t.frac,
        needed_frac_bits=sug.frac,
        suggested=str(sug),
    )


def param_values(op: Any) -> list[tuple[str, np.ndarray, FixedType]]:
    """The float parameters of ``op`` with their types: ``[(slot, values, type)]`` (weights, biases)."""
    out = []
    for slot, attrs in _PARAMS.items():
        t = op.types.get(slot)
        for a in attrs:
            v = getattr(op, a, None)
            if t is not None and isinstance(v, np.ndarray) and v.size:
                out.append((slot, np.asarray(v, dtype=np.float64), t))
                break
    return out


def tensor_reports(
    graph: Graph,
    env_float: dict[str, np.ndarray],
    env_raw: dict[str, np.ndarray],
    target_error: float = DEFAULT_TARGET_ERROR,
    params: bool = True,
) -> list[TensorReport]:
    """Per-tensor reports of a typed graph from its float and raw environments (``keep=True`` runs), in
    graph order; with ``params``, each op's weights and biases too (named ``op:weight``, ``op:bias``;
    their error is their own quantization)."""
    out = []
    for name in graph.inputs:
        t = graph.tensors[name].type
        assert t is not None
        if not is_mask(t):
            q = from_raw(env_raw[name], t)
            out.append(
                _report(name, None, "input", graph.tensors[name].origin, t, env_float[name], q, target_error)
            )
    for op in graph.ops:
        if params:
            for slot, v, t in param_values(op):
                q = from_raw(to_raw(v, t), t)
                out.append(_report(f"{op.name}:{slot}", op, slot, op.origin, t, v, q, target_error))
        for name in op.outputs:
            t = graph.tensors[name].type
            assert t is not None
            if is_mask(t):
                continue
            q = from_raw(env_raw[name], t)
            origin = graph.tensors[name].origin or op.origin
            out.append(_report(name, op, op.kind, origin, t, env_float[name], q, target_error))
    return out


def _values(graph: Graph, env: dict[str, np.ndarray], t: TensorReport) -> np.ndarray:
    if t.kind in _PARAMS:
        return dict((k, v) for k, v, _ in param_values(graph.op(t.op)))[t.kind]
    return env[t.name]


def _subsample(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    if flat.size <= n:
        return flat.copy()
    return flat[np.sort(np.random.default_rng(seed).choice(flat.size, n, replace=False))]


def resolve_model(model: Any, config: Any) -> tuple[Any, Config]:
    """(Keras model, config) from a model object or file, or a project folder ``hlsgen convert`` wrote
    (its model copy, and its resolved config unless ``config`` is given)."""
    from ..convert import _config

    if (
        isinstance(model, (str, Path))
        and Path(model).is_dir()
        and (Path(model) / "hlsgen_config.yml").is_file()
    ):
        d = Path(model)
        files = sorted((d / "model").glob("*")) if (d / "model").is_dir() else []
        if not files:
            raise FileNotFoundError(f"{d}/model/ holds no model file: compare against the model itself")
        return str(files[0]), (
            _config(config) if config is not None else Config.from_yaml(d / "hlsgen_config.yml")
        )
    return model, _config(config)


def keras_outputs(keras_model: Any, xs: list[np.ndarray], graph: Graph) -> list[np.ndarray]:
    """Float outputs of the Keras model, shaped (batch, *IR shape), in the IR's output order."""
    y = keras_model.predict(xs if len(xs) > 1 else xs[0], verbose=0, batch_size=256)
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    n = xs[0].shape[0]
    return [
        np.asarray(v, dtype=np.float64).reshape(n, *graph.tensors[k].shape)
        for v, k in zip(ys, graph.outputs, strict=True)
    ]


def compare(
    model: Any,
    data: Any,
    labels: Any = None,
    config: Any = None,
    *,
    calibration: Any = None,
    target_error: float = DEFAULT_TARGET_ERROR,
) -> CompareResult:
    """Float (Keras) against fixed (hlsgen's bit-exact emulation) on ``data``.

    Args:
        model: a ``tf.keras.Model``, a ``.keras`` / ``.h5`` file, or a project folder written by
            ``hlsgen convert`` (its model copy and resolved config).
        data: inputs, an array (or a list of arrays for several inputs) shaped ``(batch, ...)``.
        labels: class indices ``(batch,)`` or one-hot ``(batch, classes)`` of the first output; gives the
            task accuracy of both.
        config: a dict, :class:`~hlsgen.quant.config.Config` or YAML path (as for ``convert``).
        calibration: inputs whose float ranges set the integer bits of float layers (as for ``convert``).
        target_error: the suggested types' fractional bits keep quantization errors within
            ``target_error * max|x|`` of each tensor.

    Returns:
        A :class:`CompareResult`: ``format_table()``, ``to_json()``, ``to_markdown()``, ``plot()``.

    Raises:
        ValueError: data whose shape does not match the model's (both shapes named), labels of another
            length, a non-positive ``target_error``.
    """
    from ..frontend.keras import load_model, read_keras
    from ..project import quantize_graph

    if not target_error > 0:
        raise ValueError(f"target_error must be positive, got {target_error!r}")
    src, cfg = resolve_model(model, config)
    keras_model = load_model(src)
    graph = read_keras(keras_model)
    xs = as_inputs(graph, data, "data")
    calib = as_inputs(graph, calibration, "calibration data") if calibration is not None else None
    typed = quantize_graph(graph, cfg, calibration=calib)
    y_float = keras_outputs(keras_model, xs, typed)
    lab = class_labels(labels, y_float[0]) if labels is not None else None
    env_f = typed.run_float(xs, keep=True)
    env_r = typed.run_raw(xs, keep=True)
    y_fixed = [from_raw(env_r[k], typed.tensors[k].type) for k in typed.outputs]
    am_f, am_q = np.argmax(y_float[0], axis=-1), np.argmax(y_fixed[0], axis=-1)
    tensors = tensor_reports(typed, env_f, env_r, target_error)
    return CompareResult(
        model=str(getattr(keras_model, "name", typed.name)),
        n_samples=int(xs[0].shape[0]),
        default_precision=cfg.default_precision,
        target_error=float(target_error),
        float_accuracy=float(np.mean(am_f == lab)) if lab is not None else None,
        fixed_accuracy=float(np.mean(am_q == lab)) if lab is not None else None,
        argmax_agreement=float(np.mean(am_f == am_q)),
        outputs=[output_errors(k, q, f) for k, q, f in zip(typed.outputs, y_fixed, y_float, strict=True)],
        tensors=tensors,
        samples={t.name: _subsample(_values(typed, env_f, t), PLOT_VALUES) for t in tensors},
    )


def write_file_atomically(path: str | Path, content: str | bytes) -> Path:
    """Write one file through a temporary file beside it and a rename (never half-written)."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content.encode() if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
