"""Attention: the reader's builders of the attention primitives (scores, mask, softmax, context), which
:class:`~.reader.TorchReader` inherits, and the handlers of the ATen ops that reach them: ``q @ k^T`` and
``probabilities @ v`` (matmul, mm, bmm, baddbmm), softmax, ``scaled_dot_product_attention``."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...fixed import FixedType
from ...ir.ops import Binary, BinaryKind, Constant, Context, Mask, Scores
from ...ir.ops.softmax import Softmax
from .common import f64
from .compute import add
from .masks import attend_and, bool_or_additive
from .values import Heads, MaskSym, PendingScores, Sym

if TYPE_CHECKING:
    from .reader import TorchReader


class AttentionBuilder:
    """The :class:`~.reader.TorchReader`'s builders of the attention primitives: the mask (constant
    causal, or read from a model input), scores and softmax of query and key heads, the context of
    probabilities and value heads. They use the reader's id and layout helpers."""

    def attend_mask(self, attend: np.ndarray | None, lead: tuple[int, ...], tq: int, tk: int) -> str | None:
        """The IR mask of a constant ``attend`` pattern (None = no mask): causal only."""
        if attend is None:
            return None
        try:
            full = np.broadcast_to(attend, (*lead, tq, tk)).reshape(-1, tq, tk)
        except ValueError:
            raise self.fail(
                f"attention mask of shape {attend.shape} does not broadcast to {(*lead, tq, tk)}"
            ) from None
        m = full[0]
        if np.any(full != m):
            raise self.fail("an attention mask that differs between samples or heads is not supported")
        if m.all():
            return None
        for off in sorted({0, tk - tq}):
            if np.array_equal(m, np.arange(tk)[None, :] <= np.arange(tq)[:, None] + off):
                y, _ = self._tensor(self.base("mask"), (tq, tk), self.origin())
                self.graph.add_op(
                    Mask(
                        self.graph.unique_name(self.base("mask")),
                        [],
                        [y],
                        origin=self.origin(),
                        causal=True,
                        offset=off,
                        shape=(tq, tk),
                    )
                )
                return y
        raise self.fail("a constant attention mask other than the causal one is not supported")

    def input_mask(self, m: MaskSym, attend: np.ndarray | None, q_b: np.ndarray, tq: int, tk: int) -> str:
        """The IR mask of a mask read from a model input: per sample ``[Tk]`` (a key padding mask, the same
        for every query) or ``[Tq, Tk]``; ANDed with a constant causal pattern."""
        lead = tuple(q_b.shape)
        try:
            ids = m.ids.broadcast_to((*lead, tq, tk)).numpy()
        except RuntimeError:
            raise self.fail(
                f"attention mask {tuple(m.ids.shape)} does not broadcast to {(*lead, tq, tk)}"
            ) from None
        t, b, f = self.dec(ids)
        src = self._single(t)
        if src not in self.graph.inputs:
            raise self.fail("an attention mask computed from the model's values (only a model input)")
        pat = f.reshape(-1, tq, tk)
        if not (np.all(b == q_b[..., None, None]) and np.all(pat == pat[:1])):
            raise self.fail("an attention mask that pairs samples or heads differently from the scores")
        shp = self.shape(src)
        padding = shp == (tk,) and np.array_equal(pat[0], np.broadcast_to(np.arange(tk), (tq, tk)))
        full = shp == (tq, tk) and np.array_equal(pat[0], np.arange(tq * tk).reshape(tq, tk))
        if not (padding or full):
            raise self.fail(
                f"an attention mask input {src} {shp} read in an order other than [Tk] or [Tq, Tk]"
            )
        self.graph.input_types[src] = FixedType(1, 1, False, is_int=True)
        m2 = src
        if padding or m.blocked:  # 1 - mask (torch: True hides a key) or 0 + mask, broadcast to [Tq, Tk]
            c, _ = self._tensor(self.base("mask_const"), (tq, tk), self.origin())
            value = np.ones((tq, tk)) if m.blocked else np.zeros((tq, tk))
            self.graph.add_op(
                Constant(
                    self.graph.unique_name(self.base("mask_const")),
                    [],
                    [c],
                    origin=self.origin(),
                    value=value,
                )
            )
            m2, _ = self._tensor(self.base("attend"), (tq, tk), self.origin())
            kind = BinaryKind.SUB if m.blocked else BinaryKind.ADD
            self.graph.add_op(
                Binary(
                    self.graph.unique_name(self.base("attend")),
                    [c, src],
                    [m2],
                    origin=self.origin(),
                    operation=kind,
                )
            )
        causal, off = False, 0
        if attend is not None:
            a = np.broadcast_to(attend, (*lead, tq, tk)).reshape(-1, tq, tk)
            if np.any(a != a[:1]):
                raise self.fail("an attention mask that differs between samples or heads is not supported")
            if not a[0].all():
                causal = np.array_equal(a[0], np.arange(tk)[None, :] <= np.arange(tq)[:, None])
                if not causal:
                    raise self.fail("a constant attention mask other than the causal one is not supported")
        y, _ = self._tensor(self.base("mask"), (tq, tk), self.origin())
        self.graph.add_op(
            Mask(self.graph.unique_name(self.base("mask")), [m2], [y], origin=self.origin(), causal=causal,
                 offset=off, shape=(tq, tk))
        )  # fmt: skip
        return y

    def probabilities(
        self,
        q: Heads,
        k: Heads,
        scale: float,
        attend: np.ndarray | None,
        mask_in: MaskSym | None = None,
        score_type: FixedType | None = None,
    ) -> str:
        """Scores, mask and softmax of ``q`` and ``k``: the IR probability tensor ``[H, Tq, Tk]``."""
        if q.d != k.d:
            raise self.fail(f"query and key heads differ in width ({q.d} and {k.d})")
        if q.n_heads % k.n_heads:
            raise self.fail(f"{q.n_heads} query heads cannot share {k.n_heads} key heads")
        group = q.n_heads // k.n_heads
        if not (np.array_equal(q.b, k.b) and np.array_equal(q.h // group, k.h)):
            raise self.fail("the attention pairs queries and keys of different heads or samples")
        if not math.isclose(scale, 1.0 / math.sqrt(q.d), rel_tol=1e-6):
            raise self.fail(f"scores scaled by {scale:g}, not 1/sqrt({q.d}) (the only scale supported)")
        tq, tk = q.rows, k.rows
        s, _ = self._tensor(self.base("scores"), (q.n_heads, tq, tk), self.origin())
        self.graph.add_op(
            Scores(
                self.graph.unique_name(self.base("scores")),
                [q.tensor, k.tensor],
                [s],
                origin=self.origin(),
                num_heads=q.n_heads,
                num_kv_heads=k.n_heads,
                key_dim=q.d,
                qtypes={} if score_type is None else {"score": score_type},
            )
        )
        lead = tuple(q.b.shape)
        if mask_in is None:
            mask = self.attend_mask(attend, lead, tq, tk)
        else:
            mask = self.input_mask(mask_in, attend, q.b, tq, tk)
        p, _ = self._tensor(self.base("probs"), (q.n_heads, tq, tk), self.origin())
        self.graph.add_op(
            Softmax(
                self.graph.unique_name(self.base("softmax")),
                [s] if mask is None else [s, mask],
                [p],
                origin=self.origin(),
            )
        )
        self._probs.add(p)
        return p

    def context(self, p: str, q_b: np.ndarray, q_h: np.ndarray, v: Heads) -> Sym:
        """The context ``[Tq, H*dv]`` of probabilities ``p`` and values ``v``, read back per leading
        position (sample ``q_b``, head ``q_h``)."""
        h, tq, tk = self.shape(p)
        if v.rows != tk:
            raise self.fail(f"{tk} keys but {v.rows} values")
        if h % v.n_heads or not (np.array_equal(v.b, q_b) and np.array_equal(q_h // (h // v.n_heads), v.h)):
            raise self.fail("the attention pairs probabilities and values of different heads or samples")
        c, tix = self._tensor(self.base("context"), (tq, h * v.d), self.origin())
        self.graph.add_op(
            Context(
                self.graph.unique_name(self.base("context")),
                [p, v.tensor],
                [c],
                origin=self.origin(),
                num_heads=h,
                num_kv_heads=v.n_heads,
                value_dim=v.d,
            )
        )
        i = np.arange(tq)[:, None]
        j = np.arange(v.d)[None, :]
        flat = i * (h * v.d) + q_h[..., None, None] * v.d + j
        return Sym(self.enc(tix, q_b[..., None, None], flat))


def matmul(r: TorchReader, a: Any, b: Any) -> Any:
    if isinstance(a, Sym) and not isinstance(b, Sym):
        if b.dim() != 2:
            raise r.fail(f"multiplying by a constant of shape {tuple(b.shape)} (only a 2-D weight)")
        return r.linear(a, f64(b), None)
    if not (isinstance(a, Sym) and isinstance(b, Sym)):
        raise r.fail("a matrix product of a constant and the model's values")
    ta, _, _ = r.dec(a.ids)
    src = r._single(ta)
    if src in r._probs:  # probabilities @ values
        if a.scale != 1.0 or b.scale != 1.0:
            raise r.fail("attention probabilities or values scaled by a constant")
        p, pb, pf = src, *r.dec(a.ids)[1:]
        h, tq, tk = r.shape(p)
        first = pf[..., 0]
        ok = (
            a.ids.shape[-1] == tk
            and a.ids.shape[-2] == tq
            and np.all(pf - pf[..., :1] == np.arange(tk))
            and np.all((first % (tq * tk)) // tk == np.arange(tq))
            and np.all(pb == pb[..., :1, :1])
        )
        heads = first // (tq * tk)
        if not ok or np.any(heads != heads[..., :1]):
            raise r.fail("the probabilities reach the product with the values reordered")
        v = r.heads(b, int(b.ids.shape[-1]), "values")
        return r.context(p, pb[..., 0, 0], heads[..., 0], v)
    d = int(a.ids.shape[-1])
    q = r.heads(Sym(a.ids), d, "queries")
    k = r.heads(Sym(b.ids.transpose(-2, -1)), d, "keys")
    return PendingScores(q, k, a.scale * b.scale, None, tuple(q.b.shape))


def baddbmm(r: TorchReader, c: Any, a: Any, b: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    s = matmul(r, a, b)
    if not isinstance(s, PendingScores) or beta != 1:
        raise r.fail("baddbmm other than attention scores plus a mask")
    return add(r, replace(s, scale=s.scale * float(alpha)), c)


def softmax(r: TorchReader, x: Any, dim: int, *_: Any) -> Sym:
    nd = len(x.lead) + 2 if isinstance(x, PendingScores) else x.ids.dim()
    if dim % nd != nd - 1:
        raise r.fail(f"softmax over axis {dim} (only the last)")
    if isinstance(x, PendingScores):
        p = r.probabilities(x.q, x.k, x.scale, x.attend, score_type=x.qtype)
        _, tq, tk = r.shape(p)
        flat = x.q.h[..., None, None] * (tq * tk) + np.arange(tq)[:, None] * tk + np.arange(tk)[None, :]
        return Sym(r.enc(r._index(p), x.q.b[..., None, None], flat))
    src, _, _ = r.rows(x)

    def make(name: str, s: str, y: str) -> Any:
        op = Softmax(name, [s], [y], origin=r.origin())
        op.role = "result"
        return op

    return r.unary(x, make, "softmax")


def sdpa(
    r: TorchReader,
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Sym:
    if dropout_p:
        raise r.fail(f"scaled_dot_product_attention with dropout_p={dropout_p} (convert in eval mode)")
    if not all(isinstance(t, Sym) for t in (q, k, v)):
        raise r.fail("scaled_dot_product_attention of constants")
    d = int(q.ids.shape[-1])
    qh, kh = r.heads(Sym(q.ids), d, "queries"), r.heads(Sym(k.ids), d, "keys")
    vh = r.heads(Sym(v.ids), int(v.ids.shape[-1]), "values")
    sc = (1.0 / math.sqrt(d) if scale is None else float(scale)) * q.scale * k.scale
    if v.scale != 1.0:
        raise r.fail("values scaled by a constant")
    attend, mask_in = None, None
    if is_causal:  # torch: the top-left causal mask, j <= i
        attend = np.tril(np.ones((qh.rows, kh.rows), dtype=bool))
    if isinstance(attn_mask, Sym):  # from a model input; a bool input itself attends where True
        mask_in = attn_mask if isinstance(attn_mask, MaskSym) else MaskSym(attn_mask.ids, blocked=False)
    elif attn_mask is not None:
        attend = attend_and(attend, bool_or_additive(r, attn_mask))
    p = r.probabilities(qh, kh, sc, attend, mask_in)
    return r.context(p, qh.b, qh.h, vh)
