"""A converted model: the typed IR graph, its config, emulation, csim and the written project."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .backends.hls import build_library, project_files, run_library
from .backends.hls.writer import tb_lines
from .backends.templating import banner
from .config import Config, LayerConfig, Strategy
from .fixed import from_raw
from .io import as_inputs, atomic_write
from .ir.graph import Graph, input_raw
from .quant.passes import WrapWarning, calibration_ranges, quantize_graph, ranges_of, wrapping_tensors

if TYPE_CHECKING:
    from .boards import Board
    from .ir.ops.base import Op

#: the quantize pass and the calibration ranges moved to hlsgen.quant.passes; still importable from here
__all__ = [
    "LatencyLayerWarning",
    "Project",
    "as_inputs",
    "build_project",
    "calibration_ranges",
    "quantize_graph",
    "ranges_of",
]


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
        outs = [
            f.reshape(n, *self.graph.tensors[k].shape) for f, k in zip(flat, self.graph.outputs, strict=True)
        ]
        return outs[0] if len(outs) == 1 else outs

    def predict(self, x: Any) -> Any:
        """Bit-exact NumPy emulation; outputs shaped like the Keras model's (a list for several)."""
        outs = self.graph.predict(self.graph.check_inputs(x))
        return outs[0] if len(outs) == 1 else outs

    def predict_raw(self, x: Any) -> list[np.ndarray]:
        """Raw integers of every output."""
        raw = self.graph.run_raw(self.graph.check_inputs(x))
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
        xs = self.graph.check_inputs(x)
        raws = [input_raw(v, self.graph.tensors[k].type) for v, k in zip(xs, self.graph.inputs, strict=True)]
        sizes = [self.graph.tensors[k].size for k in self.graph.outputs]
        n = xs[0].shape[0]
        outs = run_library(self.build_csim(), self.name, raws, sizes)
        return [
            o.reshape(n, *self.graph.tensors[k].shape) for o, k in zip(outs, self.graph.outputs, strict=True)
        ]

    def csim(self, x: Any) -> Any:
        """Outputs of the compiled C++ (g++ against the ap_types headers), as float64 values."""
        raws = self.csim_raw(x)
        outs = [
            from_raw(r, self.graph.tensors[k].type) for r, k in zip(raws, self.graph.outputs, strict=True)
        ]
        return outs[0] if len(outs) == 1 else outs

    # -- token-by-token decode (hlsgen.decode) ------------------------------------------------------
    def decoder(
        self,
        mode: str = "emulation",
        max_length: int | None = None,
        form: str | None = None,
        batch: int | None = None,
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
        d = Path(path)
        cfg_path = d / "hlsgen_config.yml"
        if not cfg_path.is_file():
            raise FileNotFoundError(f"{d} is not an hlsgen project (no hlsgen_config.yml)")
        models = sorted((d / "model").glob("*")) if (d / "model").is_dir() else []
        if not models:
            raise FileNotFoundError(f"{d}/model/ holds no model file: convert again from the model")
        return build_project(str(models[0]), Config.from_yaml(cfg_path), output_dir=d)

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
            xs = self.graph.check_inputs(tb_data, "tb_data")
            raws_in = [
                input_raw(v, self.graph.tensors[k].type) for v, k in zip(xs, self.graph.inputs, strict=True)
            ]
            raws_out = self.predict_raw(xs)
            files["tb_data/tb_input_features.dat"] = "\n".join(tb_lines(raws_in)) + "\n"
            files["tb_data/tb_output_predictions.dat"] = "\n".join(tb_lines(raws_out)) + "\n"
        from .backends.templating import project_check_files  # make check / csim / cosim and CI workflows

        files.update(project_check_files(self))
        return atomic_write(files, out, force=force)


def _check_latency_strategy(cfg: Config, graph: Graph | None = None) -> None:
    """``strategy: latency``, for the whole model or per layer, refused by name where it is not built.

    The global ``strategy: latency`` builds the whole model at II = 1 in RTL (hlsgen.backends.rtl.latency)
    and in HLS (reuse factor 1, products bound as each layer's ``multiplier`` says): a resource layer in it
    (before the model is read), an op with no II = 1 form or a reuse factor above 1 is refused. Per layer
    inside a resource model, a Dense / Conv1D layer (its linear or conv1d op) becomes an unrolled engine of
    the row-streaming RTL (hlsgen.backends.rtl.render_latency) at reuse factor 1; an entry that selects no
    such op, or a layer's own reuse factor above 1, is refused.
    """
    from .backends.rtl.latency import check_graph, check_resource_layers, latency_layers

    if not latency_layers(cfg):
        return
    check_resource_layers(cfg)
    if graph is None:
        return
    if cfg.strategy is Strategy.LATENCY:
        check_graph(graph, cfg)
        latency_ops = list(graph.ops)
    else:
        latency_ops = _per_layer_latency_ops(cfg, graph)
    for op in latency_ops:
        if op.reuse_factor > 1:
            raise ValueError(
                f"{op.kind} '{op.name}'"
                + (f" (layer {op.origin})" if op.origin else "")
                + f": reuse_factor {op.reuse_factor} with strategy latency; a latency layer takes a new sample "
                "every cycle (reuse_factor 1): drop the reuse_factor or use strategy 'resource'"
            )


class LatencyLayerWarning(UserWarning):
    """A ``strategy: latency`` layer of a resource model with ops that have no engine: they stay shared."""


def _per_layer_latency_ops(cfg: Config, graph: Graph) -> list[Op]:
    """The engine ops of the ``layers.NAME.strategy: latency`` entries of a resource model.

    Only Dense / Conv1D products become engines (:data:`hlsgen.quant.resolver.ENGINE_KINDS`): in a layer
    that also has other ops (an attention layer: its projections are engines; scores, mask, softmax and
    context are not) the others stay shared engines at the layer's reuse factor, with their products left to
    the backend, and a :class:`LatencyLayerWarning` names those with multipliers.

    Raises:
        NotImplementedError: an entry that selects no op with an engine (names the entry and its ops), or a
            block-diagonal Linear.
    """
    from .quant.resolver import ENGINE_KINDS, TypeResolver

    resolver = TypeResolver(cfg)
    out = []
    for name, lc in cfg.layers.items():
        if lc.strategy is not Strategy.LATENCY:
            continue
        ops = [op for op in graph.ops if name in (op.name, op.origin)]
        engines = [op for op in ops if resolver.engine(op)]
        if not engines:
            found = ", ".join(f"{op.kind} '{op.name}'" for op in ops) or "no op of that name"
            raise NotImplementedError(
                f"layers.{name}.strategy: 'latency' per layer inside a resource model is built for "
                f"{' and '.join(ENGINE_KINDS)} ops (Dense, Conv1D, the FFN's and attention's projections); "
                f"layer {name} has {found}. Drop the entry, or set the global strategy: latency for a "
                "whole-model II = 1 design"
            )
        for op in engines:
            if int(getattr(op, "blocks", 1)) > 1:
                raise NotImplementedError(
                    f"layers.{name}.strategy: {op.kind} '{op.name}' is block diagonal; strategy latency has no "
                    "block-diagonal engine: use 'resource' for it"
                )
        shared = [op for op in ops if not resolver.engine(op) and op.cost(graph).multipliers]
        if shared:
            warnings.warn(
                f"layers.{name}.strategy: 'latency': {', '.join(f'{op.kind} {op.name!r}' for op in engines)} "
                f"become unrolled engines (a row a cycle, reuse factor 1); "
                f"{', '.join(f'{op.kind} {op.name!r}' for op in shared)} have no per-layer latency form and stay "
                "resource (shared over the rows at the layer's reuse factor; the plan's STRATEGY column says "
                "so). Set the global strategy: latency to unroll them too",
                LatencyLayerWarning,
                stacklevel=3,
            )
        out.extend(engines)
    return out


def build_project(
    model: Any,
    config: Config,
    output_dir: str | Path | None = None,
    calibration: Any = None,
    board: Any = None,
    example_input: Any = None,
    batch_dim: int = 0,
) -> Project:
    """Read ``model`` with its front end, apply the board, run the quantize pass: the project that
    :func:`hlsgen.convert.convert` returns and :meth:`Project.load` rebuilds."""
    from .frontend import read_model
    from .shells import apply_board

    cfg = apply_board(config, board)
    _check_latency_strategy(cfg)
    graph = read_model(model, example_input, batch_dim)
    ranges = calibration_ranges(graph, calibration) if calibration is not None else {}
    typed = quantize_graph(graph, cfg, ranges=ranges)
    _check_latency_strategy(cfg, typed)
    wraps = wrapping_tensors(typed, ranges)
    if wraps:
        warnings.warn(
            f"{len(wraps)} tensor(s) wrap on the calibration data (give them a wider or saturating type):\n  "
            + "\n  ".join(wraps),
            WrapWarning,
            stacklevel=3,
        )
    return Project(typed, cfg, output_dir=output_dir)
