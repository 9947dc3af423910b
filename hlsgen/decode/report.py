"""The KV-cache report: each attention layer's cache as built, beside the multi-head attention twin's
(values and bits per token, BRAM18 and URAM blocks from :mod:`hlsgen.memory`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import CacheMemory
from ..ir.ops.attention import Context, Scores
from ..ir.ops.cache import CacheContent, KVCache
from ..ir.ops.latent import LatentScores
from ..memory import bram18_blocks, uram_blocks
from ..quant.decode_pass import DecodeDesign


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


__all__ = ["CacheReport", "CacheRow", "cache_report"]
