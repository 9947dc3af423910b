"""Rotary position embeddings recovered from ``x * cos + rotate_half(x) * sin`` (half-split pairs,
GPT-NeoX / Llama) as a :class:`~hlsgen.ir.ops.rope.RoPE` op."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...ir.ops.rope import RoPE, rope_tables
from .common import f64
from .values import ConstMul, Sym

if TYPE_CHECKING:
    from .reader import TorchReader


def rope(r: TorchReader, a: ConstMul, b: ConstMul) -> Sym | None:
    """``x * cos + rotate_half(x) * sin`` (half-split pairs, GPT-NeoX / Llama) as a RoPE op, or None
    when ``a``, ``b`` are not that. Positions are the token rows (prefill)."""
    ids = a.x.ids.numpy()
    rot = b.x.ids.numpy()
    d = ids.shape[-1]
    if a.x.scale != 1.0 or b.x.scale != 1.0 or rot.shape != ids.shape or d % 2 or ids.ndim < 2:
        return None
    h = d // 2
    want = np.concatenate([~ids[..., h:], ids[..., :h]], axis=-1)
    if not np.array_equal(rot, want):
        return None
    try:
        cos = np.broadcast_to(f64(a.c), ids.shape)
        sin = np.broadcast_to(f64(b.c), ids.shape)
    except ValueError:
        return None
    q = r.heads(Sym(a.x.ids), d, "rotary input")
    t = ids.shape[-2]
    c2 = cos.reshape(-1, t, d)
    s2 = sin.reshape(-1, t, d)
    if np.any(c2 != c2[:1]) or np.any(s2 != s2[:1]) or not np.allclose(c2[0, :, :h], c2[0, :, h:]):
        return None
    ang = np.arctan2(s2[0, 1, :h], c2[0, 1, :h]) if t > 1 else None
    if ang is None or ang[0] <= 0:
        return None
    base = float(np.exp(-np.log(ang[1]) * d / 2.0)) if h > 1 else 10000.0
    ref_c, ref_s = rope_tables(t, d, base)
    if not (np.allclose(c2[0, :, :h], ref_c, atol=1e-5) and np.allclose(s2[0, :, :h], ref_s, atol=1e-5)):
        raise r.fail("a rotary embedding whose angles are not position * base**(-2i/d)")
    base = float(round(base)) if abs(base - round(base)) < 1e-3 * base else base
    y, tix = r._tensor(r.base("rope"), r.shape(q.tensor), r.origin())
    r.graph.add_op(
        RoPE(r.graph.unique_name(r.base("rope")), [q.tensor], [y], origin=r.origin(), head_dim=d, rope_dim=d,
             base=base)
    )  # fmt: skip
    flat = np.arange(t)[:, None] * (q.n_heads * d) + q.h[..., None, None] * d + np.arange(d)
    return Sym(r.enc(tix, q.b[..., None, None], flat))
