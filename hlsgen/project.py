"""A converted model: the typed IR graph, its config, emulation, csim and the written project."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .backends.hls import build_library, project_files, run_library, write_atomically
from .backends.hls.writer import banner, tb_lines
from .fixed import from_raw
from .ir.graph import Graph, input_raw
from .quant.config import Config, LayerConfig, TypeResolver

if TYPE_CHECKING:
    from .boards import Board


#: inputs at or beyond this magnitude are refused: float64 no longer holds fixed-point steps there
MAX_INPUT_MAGNITUDE = 2.0**53


def check_inputs(graph: Graph, data: Any, what: str = "data") -> list[np.ndarray]:
    """``data`` as one float64 array per model input, checked: count, numeric dtype, shape against the
    model's input, the same non-zero number of samples, every value finite and below 2^53 in magnitude.

    Raises:
        ValueError: one line naming ``what``, the input, and (for values) the sample and index.
    """
    xs = list(data) if isinstance(data, (list, tuple)) else [data]
    names = list(graph.inputs)
    if len(xs) != len(names):
        raise ValueError(f"{what}: the model takes {len(names)} input(s) ({', '.join(names)}), got {len(xs)}")
    out = []
    for name, x in zip(names, xs, strict=True):
        try:
            a = np.asarray(x)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"{what}: input {name} is not a rectangular array ({e})") from None
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"{what}: input {name} has dtype {a.dtype}; give real numbers (float or integer arrays)"
            )
        want = graph.tensors[name].shape
        if a.ndim != len(want) + 1 or tuple(a.shape[1:]) != tuple(want):
            raise ValueError(
                f"{what}: shape {tuple(a.shape)} does not match the model input {name!r} of shape "
                f"(batch, {', '.join(map(str, want))})"
            )
        a = a.astype(np.float64)
        bad = ~np.isfinite(a) | (np.abs(a) >= MAX_INPUT_MAGNITUDE)
        if bad.any():
            i = tuple(int(v) for v in np.argwhere(bad)[0])
            v = a[i]
            why = "cannot be quantized" if not np.isfinite(v) else "is beyond 2^53 (no fixed-point value)"
            raise ValueError(
                f"{what}: input {name} holds {v:g} at sample {i[0]}, index {i[1:]} ({int(bad.sum())} "
                f"in all); it {why}: clean, clip or rescale the data"
            )
        out.append(a)
    n = {a.shape[0] for a in out}
    if len(n) > 1:
        raise ValueError(f"{what}: the inputs hold different numbers of samples {sorted(n)}")
    if not out[0].shape[0]:
        raise ValueError(f"{what}: the batch is empty (0 samples); give at least one sample")
    return out


def ranges_of(env: dict[str, np.ndarray]) -> dict[str, float]:
    """Largest magnitude of every tensor of a float run (``Graph.run_float(..., keep=True)``)."""
    return {k: float(np.max(np.abs(v))) if np.size(v) else 0.0 for k, v in env.items()}


def calibration_ranges(graph: Graph, data: Any) -> dict[str, float]:
    """Largest magnitude of every tensor over ``data`` in the float IR."""
    return ranges_of(graph.run_float(check_inputs(graph, data, "calibration data"), keep=True))


def quantize_graph(
    graph: Graph, config: Config, calibration: Any = None, ranges: dict[str, float] | None = None
) -> Graph:
    """Pass: a typed copy of ``graph`` (every tensor and op typed, parameters quantized).

    ``ranges`` (tensor name -> largest magnitude, as :func:`calibration_ranges` returns) stands in for
    ``calibration`` when the ranges are already known (a sweep computes them once for every point).
    """
    g = graph.copy()
    if ranges is None:
        ranges = calibration_ranges(g, calibration) if calibration is not None else {}
    resolve = TypeResolver(config, ranges)
    for name in g.inputs:
        t = g.tensors[name]
        t.type = resolve.result(_InputOp(name, t.origin), t)
    for op in g.ops:
        op.assign_types(g, resolve)
    g.check_typed()
    return g


@dataclass
class _InputOp:
    """Stands for a model input in the type resolver (its config entry is the input's name)."""

    name: str
    origin: str
    role: str = "result"
    qtypes: dict = field(default_factory=dict)


class Project:
    """A quantized model ready to emulate, simulate and write.

    Attributes:
        graph: the typed IR graph.
        config: the config it was built from.
        output_dir: where :meth:`write` writes by default.
    """

    def __init__(self, graph: Graph, config: Config, output_dir: str | Path | None = None) -> None:
        self.graph = graph
        self.config = config
        self.output_dir = Path(output_dir) if output_dir else None
        self._lib: Path | None = None
        self.last_build_seconds: float | None = None

    @property
    def name(self) -> str:
        return self.config.project_name

    # -- emulation ----------------------------------------------------------------------------------
    def _shape_outputs(self, flat: list[np.ndarray], n: int) -> Any:
        outs = [f.reshape(n, *self.graph.tensors[k].shape) for f, k in zip(flat, self.graph.outputs, strict=True)]
        return outs[0] if len(outs) == 1 else outs

    def predict(self, x: Any) -> Any:
        """Bit-exact NumPy emulation; outputs shaped like the Keras model's (a list for several)."""
        xs = check_inputs(self.graph, x)
        outs = self.graph.predict(xs)
        return outs[0] if len(outs) == 1 else outs

    def predict_raw(self, x: Any) -> list[np.ndarray]:
        """Raw integers of every output."""
        raw = self.graph.run_raw(check_inputs(self.graph, x))
        return [raw[k] for k in self.graph.outputs]

    # -- C simulation -------------------------------------------------------------------------------
    @property
    def board(self) -> Board | None:
        """The board of ``config.board`` (None when the project targets a part, not a board)."""
        from .shells import resolve_board

        return resolve_board(self.config.board)

    def files(self) -> dict[str, str]:
        """Every file of the project (nothing written); with a board, its shell's files too."""
        files = project_files(self.graph, self.config)
        board = self.board
        if board is not None:
            from .shells import shell_files

            files.update(shell_files(self.graph, self.config, board))
        return files

    def build_csim(self) -> Path:
        """Compile the C++ for csim (cached); returns the shared library."""
        if self._lib is None:
            self._lib, self.last_build_seconds = build_library(self.files(), self.name)
        return self._lib

    def csim_raw(self, x: Any) -> list[np.ndarray]:
        """Raw integer outputs of the compiled C++."""
        xs = check_inputs(self.graph, x)
        raws = [input_raw(v, self.graph.tensors[k].type) for v, k in zip(xs, self.graph.inputs, strict=True)]
        for v, k in zip(xs, self.graph.inputs, strict=True):
            want = self.graph.tensors[k].shape
            if tuple(v.shape[1:]) != want:
                raise ValueError(f"input {k}: expected shape (batch, {', '.join(map(str, want))}), got {v.shape}")
        sizes = [self.graph.tensors[k].size for k in self.graph.outputs]
        n = xs[0].shape[0]
        outs = run_library(self.build_csim(), self.name, raws, sizes)
        return [o.reshape(n, *self.graph.tensors[k].shape) for o, k in zip(outs, self.graph.outputs, strict=True)]

    def csim(self, x: Any) -> Any:
        """Outputs of the compiled C++ (g++ against the ap_types headers), as float64 values."""
        raws = self.csim_raw(x)
        outs = [from_raw(r, self.graph.tensors[k].type) for r, k in zip(raws, self.graph.outputs, strict=True)]
        return outs[0] if len(outs) == 1 else outs

    # -- token-by-token decode (hlsgen.decode) ------------------------------------------------------
    def decoder(
        self, mode: str = "emulation", max_length: int | None = None, form: str | None = None, batch: int | None = None
    ) -> Any:
        """A decode session of this causal model: ``.step(token) -> outputs``, ``.reset()``, ``.position``.

        Args:
            mode: "emulation" (bit-exact NumPy reference, any batch) or "csim" (the compiled decode top,
                its caches in static arrays; batch 1).
            max_length, form: override ``config.decode.max_length`` / ``config.decode.mla_form``.
            batch: fix the emulation's batch size (default: the first step's).

        Stepping through a sequence equals :meth:`predict` on it bit for bit; see :mod:`hlsgen.decode`.
        """
        from .decode import open_decoder

        return open_decoder(self, mode, max_length=max_length, form=form, batch=batch)

    def cache_report(self, max_length: int | None = None) -> Any:
        """The KV-cache sizes of the decode design against an MHA twin (``print`` it for the table)."""
        from .decode import cache_report, decode_design

        return cache_report(decode_design(self, max_length), self.config.decode.cache_memory)

    def write_decoder(self, path: str | Path, tb_tokens: Any = None, force: bool = False) -> Path:
        """Write the decode design as its own Vitis HLS project (top ``<project_name>_decode``).

        ``tb_tokens [T, D]``: one sequence whose tokens and reference outputs become tb_data/ (the
        testbench replays it step by step, then checks the overflow flag when it fills the cache).
        """
        from .backends.hls.decode import write_decode_project
        from .decode import decode_design

        design = decode_design(self)
        tokens = outputs = None
        if tb_tokens is not None:
            seq = np.asarray(tb_tokens, dtype=np.float64)
            outputs = [o[0] for o in self.decoder().run_raw(seq[None])]
            tokens = input_raw(seq, self.graph.tensors[design.token].type)
        return write_decode_project(design, self.config, path, tokens, outputs, force=force)

    # -- writing ------------------------------------------------------------------------------------
    def resolved_config(self) -> Config:
        """The config with every op's types written out: converting the same model with it gives the
        same design, whatever calibration data chose the types."""
        cfg = Config.from_dict(self.config.to_dict())
        for name in self.graph.inputs:
            lc = cfg.layers.setdefault(name, LayerConfig())
            lc.result = str(self.graph.tensors[name].type)
        for op in self.graph.ops:
            if op.kind in ("reshape", "mask"):
                continue
            lc = cfg.layers.setdefault(op.name, LayerConfig())
            role = getattr(op, "role", "result")
            if len(op.outputs) == 1 and hasattr(lc, role):
                setattr(lc, role, str(self.graph.tensors[op.outputs[0]].type))
            for slot in ("weight", "bias"):
                if slot in op.types:
                    setattr(lc, slot, str(op.types[slot]))
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> Project:
        """Rebuild the project a ``write`` wrote (its model copy and its resolved config)."""
        from .convert import convert

        d = Path(path)
        cfg_path = d / "hlsgen_config.yml"
        if not cfg_path.is_file():
            raise FileNotFoundError(f"{d} is not an hlsgen project (no hlsgen_config.yml)")
        models = sorted((d / "model").glob("*")) if (d / "model").is_dir() else []
        if not models:
            raise FileNotFoundError(f"{d}/model/ holds no model file: convert again from the model")
        return convert(str(models[0]), Config.from_yaml(cfg_path), output_dir=d)

    def write(
        self,
        path: str | Path | None = None,
        force: bool = False,
        tb_data: Any = None,
        model_source: str | Path | None = None,
    ) -> Path:
        """Write the whole project atomically (nothing half-written on failure).

        Args:
            path: the project folder (default: ``output_dir`` of ``convert``); refused if it exists
                unless ``force``.
            tb_data: inputs whose raw values and reference outputs become tb_data/ for the testbench.
            model_source: the model file to copy into model/ (so that ``hlsgen predict PROJECT`` works).
        """
        out = Path(path) if path else self.output_dir
        if out is None:
            raise ValueError("no output directory: pass path= or convert(..., output_dir=...)")
        files: dict[str, str | bytes] = dict(self.files())
        files["hlsgen_config.yml"] = banner("#") + "\n" + self.resolved_config().to_yaml()
        if model_source is not None and Path(model_source).is_file():
            files[f"model/{Path(model_source).name}"] = Path(model_source).read_bytes()
        if tb_data is not None:
            xs = check_inputs(self.graph, tb_data, "testbench data")
            raws_in = [input_raw(v, self.graph.tensors[k].type) for v, k in zip(xs, self.graph.inputs, strict=True)]
            raws_out = self.predict_raw(xs)
            files["tb_data/tb_input_features.dat"] = "\n".join(tb_lines(raws_in)) + "\n"
            files["tb_data/tb_output_predictions.dat"] = "\n".join(tb_lines(raws_out)) + "\n"
        from .backends.ci import project_check_files  # make check / csim / cosim and CI workflows

        files.update(project_check_files(self))
        return write_atomically(files, out, force=force)
