"""Token-by-token decode: sessions over the bit-exact emulation and over csim, and the cache report.

A session runs the decode design of a converted causal model (:func:`hlsgen.quant.decode_pass.to_decode`)
one token per call, with the key/value (or latent) caches kept between calls::

    proj = hlsgen.convert("lm.keras", {"decode": {"max_length": 64}})
    dec = proj.decoder()            # bit-exact NumPy emulation; proj.decoder("csim") runs the C++
    for x in tokens:                # x: one token's features [D] (or [B, D] in emulation)
        y = dec.step(x)             # the outputs of this token; dec.position counts the tokens
    dec.reset()                     # a new sequence

Decoding a sequence token by token equals ``proj.predict`` on the whole sequence bit for bit (row ``t``
of prefill is step ``t``). Past ``max_length`` tokens, ``step`` raises :class:`DecodeOverflowError` in
both modes. The hardware itself never overwrites its cache: its top function sets the ``overflow`` output,
leaves the cache and the position as they are and outputs zeros (the csim session reads that flag and
raises). ``reset`` sets the position to 0; cache rows are not cleared, because a row past the position
is never read with a nonzero weight (the decode mask gives it probability exactly 0).

Multi-head latent attention decodes in one of two forms (``config.decode.mla_form``, or ``form=``):
``recompute`` up-projects every cached latent to keys and values at every step; ``absorbed`` applies
W_UK^T to the query (``q_h W_UK,h^T``, one block-diagonal product per token) and scores it against the
cached latents directly, sums the latents weighted by the probabilities (``P_h C``) and applies W_UV,h
to that once. No product of weight matrices is formed: both forms multiply by the same quantized
matrices, every intermediate keeps its exact type (e.g. ap_fixed<28,8> for the absorbed query and
ap_fixed<37,13> for the latent context in examples/charlm), so no rounding enters besides prefill's own
casts (scores, context), and both forms equal prefill bit for bit. The price is wider multipliers.
"""

from __future__ import annotations

import ctypes
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import CacheMemory, MlaForm
from .ir.graph import input_raw
from .ir.ops.attention import Context, Scores
from .ir.ops.cache import CacheContent, DecodeOverflowError, KVCache
from .ir.ops.latent import LatentScores
from .memory import bram18_blocks, uram_blocks
from .quant.decode_pass import DecodeDesign, to_decode
from .quant.decode_session import Decoder, EmulationDecoder, decode_session

if TYPE_CHECKING:
    from .project import Project

__all__ = [
    "CacheReport",
    "CacheRow",
    "CsimDecoder",
    "DecodeOverflowError",
    "Decoder",
    "decode_session",
    "EmulationDecoder",
    "cache_report",
    "decode_design",
    "open_decoder",
]


def decode_design(
    project: Project, max_length: int | None = None, form: MlaForm | str | None = None
) -> DecodeDesign:
    """The decode design of a project (``max_length``/``form`` override the config's ``decode`` section)."""
    return to_decode(project.graph, project.config, max_length=max_length, form=form)


class CsimDecoder(Decoder):
    """Decode in the compiled C++ (g++ csim): the caches are the static arrays of the decode top function.

    One sequence at a time (batch 1). Each session loads its own copy of the shared library, so two
    sessions never share a cache.
    """

    mode = "csim"

    def __init__(self, design: DecodeDesign, name: str, config: Any) -> None:
        super().__init__(design, name)
        from .backends.hls.csim import build_library
        from .backends.hls.decode import decode_files, decode_project_name

        self.project = decode_project_name(config)
        self.files = decode_files(design, config)
        lib, self.build_seconds = build_library(self.files, self.project)
        self._dir = Path(tempfile.mkdtemp(prefix="hlsgen-decode-"))
        self._lib_path = self._dir / lib.name
        shutil.copyfile(lib, self._lib_path)
        self._dll = ctypes.CDLL(str(self._lib_path))
        p = ctypes.POINTER(ctypes.c_longlong)
        self._step = getattr(self._dll, f"hlsgen_decode_step_{self.project}")
        self._step.argtypes = [p, p, p]
        self._step.restype = ctypes.c_int
        self._reset = getattr(self._dll, f"hlsgen_decode_reset_{self.project}")
        self._reset.argtypes = [p]
        self._reset.restype = ctypes.c_int
        self.last_status = (0, 0)
        self.reset()

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)

    def reset(self) -> None:
        super().reset()
        st = np.zeros(2, dtype=np.int64)
        self._reset(st.ctypes.data_as(ctypes.POINTER(ctypes.c_longlong)))
        self.last_status = (int(st[0]), int(st[1]))

    def step_raw(self, x: Any) -> list[np.ndarray]:
        a, _ = self._token(x)
        if a.shape[0] != 1:
            raise ValueError(
                f"decoder of {self.name} (csim): one sequence at a time (batch 1), got batch {a.shape[0]}"
            )
        g = self.design.graph
        raw_in = np.ascontiguousarray(
            input_raw(a, g.tensors[self.design.token].type).reshape(-1), dtype=np.int64
        )
        sizes = [g.tensors[k].size for k in g.outputs]
        out = np.zeros(sum(sizes), dtype=np.int64)
        st = np.zeros(2, dtype=np.int64)
        ptr = ctypes.POINTER(ctypes.c_longlong)
        rc = self._step(raw_in.ctypes.data_as(ptr), out.ctypes.data_as(ptr), st.ctypes.data_as(ptr))
        if rc != 0:
            raise RuntimeError(f"csim decode step of {self.project} returned {rc}")
        self.last_status = (int(st[0]), int(st[1]))
        if st[1]:
            raise self._overflow()
        if st[0] != self._pos:
            raise RuntimeError(
                f"csim of {self.project}: the design is at position {st[0]}, the session at {self._pos}"
            )
        self._pos += 1
        res, k = [], 0
        for s in sizes:
            res.append(out[None, k : k + s])
            k += s
        return res


def open_decoder(
    project: Project,
    mode: str = "emulation",
    max_length: int | None = None,
    form: MlaForm | str | None = None,
    batch: int | None = None,
) -> Decoder:
    """A decode session of ``project``: ``mode`` is "emulation" (NumPy reference) or "csim" (g++)."""
    design = decode_design(project, max_length, form)
    if mode == "emulation":
        return EmulationDecoder(design, project.graph.name, batch)
    if mode == "csim":
        cfg = project.config
        if max_length or form:
            import dataclasses

            cfg = dataclasses.replace(
                cfg,
                decode=dataclasses.replace(cfg.decode, max_length=design.max_length, mla_form=design.form),
            )
        return CsimDecoder(design, project.graph.name, cfg)
    raise ValueError(f"decoder mode must be 'emulation' or 'csim', not {mode!r}")


# ---------------------------------------------------------------------------------------------------
# cache report
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CacheRow:
    """One attention layer's cache, as built and as the equivalent multi-head attention would hold it.

    Attributes:
        layer: the Keras layer.
        kind: MHA, GQA, MQA or MLA.
        contents: what the caches hold (e.g. ``latent 16 x ap_fixed<16,6> + rope_key 4 x ...``).
        values_per_token, bits_per_token: as built.
        mha_values_per_token, mha_bits_per_token: keys and values of every head (head_dim each).
        bram18, uram: blocks for the caches as built (one array per cache: ``max_length`` words, each a
            whole row of ``width`` values, as the decode top reads them).
        mha_bram18, mha_uram: the same for the MHA twin.
    """

    layer: str
    kind: str
    contents: str
    values_per_token: int
    bits_per_token: int
    mha_values_per_token: int
    mha_bits_per_token: int
    bram18: int
    uram: int
    mha_bram18: int
    mha_uram: int


@dataclass(frozen=True)
class CacheReport:
    """Cache sizes of a decode design (figures are estimates from the types, not from synthesis)."""

    model: str
    max_length: int
    memory: CacheMemory
    rows: tuple[CacheRow, ...]

    def total(self, what: str) -> int:
        return sum(getattr(r, what) for r in self.rows)

    def table(self) -> str:
        """A plain-text table: per layer and in total, as built against the MHA twin."""
        L = self.max_length
        head = (
            f"{'layer':<16} {'kind':<4} {'values/tok':>10} {'bytes/tok':>9} {f'KiB @{L}':>9} {'BRAM18':>6} "
            f"{'URAM':>4} | {'MHA vals':>8} {'MHA B/tok':>9} {'MHA KiB':>8} {'BRAM18':>6} {'URAM':>4}"
        )
        lines = [
            f"KV cache of {self.model}: max_length {L}, {self.memory.value} (estimates from the types)",
            head,
        ]
        lines.append("-" * len(head))

        def fmt(
            name: str, kind: str, v: int, b: int, br: int, ur: int, mv: int, mb: int, mbr: int, mur: int
        ) -> str:
            return (
                f"{name:<16} {kind:<4} {v:>10} {b / 8:>9.1f} {b * L / 8192:>9.2f} {br:>6} {ur:>4} | "
                f"{mv:>8} {mb / 8:>9.1f} {mb * L / 8192:>8.2f} {mbr:>6} {mur:>4}"
            )

        for r in self.rows:
            lines.append(
                fmt(
                    r.layer[:16],
                    r.kind,
                    r.values_per_token,
                    r.bits_per_token,
                    r.bram18,
                    r.uram,
                    r.mha_values_per_token,
                    r.mha_bits_per_token,
                    r.mha_bram18,
                    r.mha_uram,
                )
            )
        t = {
            k: self.total(k) for k in CacheRow.__dataclass_fields__ if k not in ("layer", "kind", "contents")
        }
        lines.append("-" * len(head))
        lines.append(
            fmt(
                "total",
                "",
                t["values_per_token"],
                t["bits_per_token"],
                t["bram18"],
                t["uram"],
                t["mha_values_per_token"],
                t["mha_bits_per_token"],
                t["mha_bram18"],
                t["mha_uram"],
            )
        )
        if t["mha_bits_per_token"]:
            lines.append(f"cache / MHA cache: {t['bits_per_token'] / t['mha_bits_per_token']:.3f}")
        for r in self.rows:
            lines.append(f"  {r.layer}: {r.contents}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def cache_report(design: DecodeDesign, memory: CacheMemory | str = CacheMemory.BRAM) -> CacheReport:
    """Bytes per token, total for ``max_length`` and BRAM18/URAM blocks of every attention layer's cache,
    as built and for the equivalent multi-head attention (keys and values of every head)."""
    g = design.graph
    L = design.max_length
    by_layer: dict[str, list[KVCache]] = {}
    for op in design.caches:
        by_layer.setdefault(op.origin, []).append(op)
    rows = []
    for layer, caches in by_layer.items():
        attn = [op for op in design.prefill.ops if op.origin == layer]
        scores = next(op for op in attn if isinstance(op, Scores | LatentScores))
        ctx = next(op for op in attn if isinstance(op, Context))
        h, val_dim = scores.num_heads, ctx.value_dim
        if isinstance(scores, LatentScores):
            kind, key_dim = "MLA", scores.a_dim
        else:
            key_dim, kv = scores.key_dim, scores.num_kv_heads
            kind = "MHA" if kv == h else ("MQA" if kv == 1 else "GQA")
        values = sum(op.width for op in caches)
        bits = sum(op.width * op.types["x"].width for op in caches)
        by_content = {op.content: op for op in caches}
        kt = (by_content.get(CacheContent.KEY) or by_content.get(CacheContent.LATENT) or caches[0]).types["x"]
        vt = (by_content.get(CacheContent.VALUE) or by_content.get(CacheContent.LATENT) or caches[0]).types[
            "x"
        ]
        mv = h * (key_dim + val_dim)
        mb = h * (key_dim * kt.width + val_dim * vt.width)
        contents = " + ".join(f"{op.content.value} {op.width} x {op.types['x']}" for op in caches)
        rows.append(
            CacheRow(
                layer,
                kind,
                contents,
                values,
                bits,
                mv,
                mb,
                # one memory word per cached row (the decode top reads a whole row per cycle)
                sum(bram18_blocks(op.types["x"].width * op.width, L) for op in caches),
                sum(uram_blocks(op.types["x"].width * op.width, L) for op in caches),
                bram18_blocks(kt.width * h * key_dim, L) + bram18_blocks(vt.width * h * val_dim, L),
                uram_blocks(kt.width * h * key_dim, L) + uram_blocks(vt.width * h * val_dim, L),
            )
        )
    return CacheReport(g.name.removesuffix("_decode"), L, CacheMemory(memory), tuple(rows))
