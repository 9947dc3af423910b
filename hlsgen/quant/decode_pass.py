"""Pass: the decode graph of a typed prefill graph (one token per call, caches inside).

:func:`to_decode` takes the typed graph of a causal model over ``[T, D]`` and returns the graph that
processes one token ``[1, D]`` at a given position: token-wise ops (projections, activations, residual
adds, layer norms, RoPE) run on the one row; every attention block reads its keys and values from
caches (:class:`~hlsgen.ir.ops.decode.KVCache`) of ``max_length`` rows, its causal mask becomes the
position mask ``j <= position``. Multi-head latent attention caches only its latent and its RoPE key
(:class:`~hlsgen.ir.ops.decode.LatentCache`) and either up-projects every cached latent at each step
(recompute) or absorbs the up-projections: ``q W_UK^T`` scores against the latents directly and the
latent context ``P C`` is up-projected once (absorbed).

Bit-exactness with prefill. Every tensor the two graphs share keeps its prefill type (the decode graph
is typed with those types pinned); every accumulator is exact in both; a masked key gets probability
exactly 0 and adds exactly 0 to the context; the absorbed forms regroup exact integer sums
(``q.(c W) = (q W^T).c``, ``P (c W) = (P c) W``). So the rounding steps, and their inputs, are the same
in both graphs, and decoding a sequence token by token gives the prefill outputs bit for bit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..config import Config, MlaForm
from ..ir.graph import Graph, Tensor
from ..ir.ops.attention import Context, Mask, Scores
from ..ir.ops.base import Op
from ..ir.ops.cache import CacheContent, KVCache, LatentCache, PositionMask, position_type
from ..ir.ops.latent import BlockLinear, ExactContext, ExactLinear, LatentScores
from ..ir.ops.rope import RoPE
from ..ir.ops.softmax import Softmax
from .resolver import TypeResolver

#: op kinds that act on each token's row alone
_TOKENWISE = frozenset({"linear", "exact_linear", "block_linear", "activation", "add", "layernorm", "rope"})


class NotDecodableError(ValueError):
    """The model cannot run token by token; the message names the layer and why."""


@dataclass
class DecodeDesign:
    """A decode graph and what a session needs to drive it.

    Attributes:
        graph: the typed decode graph (inputs: ``token`` [1, D] and ``position`` [1]).
        max_length: cache rows L.
        form: the MLA form the graph uses.
        token: name of the token input.
        position: name of the position input.
        prefill_length: T of the prefill graph it comes from.
        prefill: the prefill graph itself (not copied).
    """

    graph: Graph
    max_length: int
    form: MlaForm
    token: str
    position: str
    prefill_length: int
    prefill: Graph

    @property
    def caches(self) -> list[KVCache]:
        return [op for op in self.graph.ops if isinstance(op, KVCache)]


class PinnedResolver(TypeResolver):
    """A resolver that gives every tensor and op slot the type it had in the prefill graph."""

    def __init__(
        self, config: Config, pinned: dict[str, object], slots: dict[str, dict[str, object]]
    ) -> None:
        super().__init__(config, {k: 1.0 for k in pinned})
        self.pinned = pinned
        self.slots = slots

    def result(self, op: Op, tensor: Tensor, role: str | None = None):  # type: ignore[override]
        if tensor.name in self.pinned:
            return self.pinned[tensor.name]
        return super().result(op, tensor, role)

    def table_address(self, op: Op, tensor: Tensor, tx):  # type: ignore[override]
        if tensor.name in self.pinned:
            return self.pinned[tensor.name]
        return super().table_address(op, tensor, tx)

    def slot(self, op: Op, slot: str, fallback=None):  # type: ignore[override]
        t = self.slots.get(op.name, {}).get(slot)
        return t if t is not None else super().slot(op, slot, fallback)


def _where(op: Op) -> str:
    return f"layer {op.origin or op.name} ({op.kind})"


def _key_inputs(op: Op) -> list[tuple[int, CacheContent]]:
    """Inputs of an attention op that run over the keys (index, what a cache of them holds)."""
    if isinstance(op, LatentScores):
        out = [(1, CacheContent.KEY)]
        if op.rope_dim:
            out.append((3, CacheContent.ROPE_KEY))
        return out
    if isinstance(op, Scores):
        return [(1, CacheContent.KEY)]
    if isinstance(op, Context):
        return [(1, CacheContent.VALUE)]
    return []


def _check(graph: Graph) -> tuple[str, int]:
    graph.check_typed()
    if len(graph.inputs) != 1:
        raise NotDecodableError(
            f"model {graph.name}: decode needs exactly one input, the token sequence [T, features]; "
            f"it has {len(graph.inputs)} ({', '.join(graph.inputs)})"
        )
    x = graph.inputs[0]
    shape = graph.tensors[x].shape
    if len(shape) != 2:
        raise NotDecodableError(f"model {graph.name}: decode needs an input [T, features], got {shape}")
    t = int(shape[0])
    for op in graph.ops:
        if op.kind in _TOKENWISE or isinstance(op, Scores | LatentScores | Context | Softmax):
            continue
        if isinstance(op, Mask):
            if op.inputs or not op.causal or op.causal_offset(t, t) != 0:
                raise NotDecodableError(
                    f"{_where(op)}: decode supports the causal mask only (no explicit attention_mask)"
                )
            continue
        raise NotDecodableError(
            f"{_where(op)}: mixes tokens; decode supports token-wise layers and causal self-attention"
        )
    for o in graph.outputs:
        s = graph.tensors[o].shape
        if len(s) != 2 or s[0] != t:
            raise NotDecodableError(
                f"model {graph.name}: output {o} of shape {s} is not one row per token [T, n]"
            )
    for op in graph.ops:
        if isinstance(op, Scores | LatentScores):
            tq, tk = graph.tensors[op.outputs[0]].shape[1:]
            if tq != t or tk != t:
                raise NotDecodableError(
                    f"{_where(op)}: decode needs self-attention over the {t} input tokens"
                )
            if not any(
                isinstance(c, Softmax) and len(c.inputs) > 1 for c in _consumers(graph, op.outputs[0])
            ):
                raise NotDecodableError(
                    f"{_where(op)}: attention is not causal (use_causal_mask=True is needed)"
                )
    return x, t


def _consumers(graph: Graph, tensor: str) -> list[Op]:
    return [op for op in graph.ops if tensor in op.inputs]


def to_decode(
    graph: Graph, config: Config, max_length: int | None = None, form: MlaForm | str | None = None
) -> DecodeDesign:
    """The decode design of a typed prefill ``graph`` (a new graph; ``graph`` is not changed).

    Args:
        graph: the typed prefill graph (``Project.graph``).
        config: the config it was typed with (softmax/layernorm tables, RoPE table type).
        max_length: cache rows (default ``config.decode.max_length``, whose 0 means T).
        form: MLA form (default ``config.decode.mla_form``).

    Raises:
        NotDecodableError: naming the layer that mixes tokens, uses an explicit mask, is not causal, ...
    """
    x, t = _check(graph)
    L = int(max_length or config.decode.max_length or t)
    if L < 1:
        raise ValueError(f"max_length must be >= 1, got {L}")
    form = MlaForm(form or config.decode.mla_form)
    g = Graph(f"{graph.name}_decode")
    g.tensors[x] = Tensor(x, (1, graph.tensors[x].shape[1]), None, graph.tensors[x].origin)
    pos = g._unique("hlsgen_pos", set(graph.tensors))
    g.tensors[pos] = Tensor(pos, (1,), position_type(L), "position")
    g.inputs, g.outputs = [x], list(graph.outputs)

    # up-projections that run over the keys: their input (the latent) is what gets cached
    expanding: dict[str, ExactLinear] = {}
    for op in graph.ops:
        for k, _ in _key_inputs(op):
            prod = graph.producer(op.inputs[k])
            if isinstance(prod, ExactLinear):
                expanding[prod.name] = prod
    for up in expanding.values():
        for c in _consumers(graph, up.outputs[0]):
            if not any(c.inputs[k] == up.outputs[0] for k, _ in _key_inputs(c)):
                raise NotDecodableError(
                    f"{_where(c)}: reads the up-projection {up.name} as a token-wise input"
                )

    caches: dict[str, str] = {}
    pinned_slots: dict[str, dict[str, object]] = {}

    def add(op: Op, shapes: dict[str, tuple[int, ...]]) -> None:
        for name, shape in shapes.items():
            origin = graph.tensors[name].origin if name in graph.tensors else op.origin
            g.tensors[name] = Tensor(name, tuple(int(s) for s in shape), None, origin)
        g.add_op(op)

    def cache(tensor: str, content: CacheContent, origin: str) -> str:
        if tensor not in caches:
            cls = LatentCache if content in (CacheContent.LATENT, CacheContent.ROPE_KEY) else KVCache
            name = g.unique_name(f"{tensor}_cache")
            out = g._unique(f"{tensor}_cache", set(g.tensors) | set(graph.tensors))
            op = cls(name, [tensor, pos], [out], origin=origin, max_length=L, content=content)
            add(op, {out: (L, g.tensors[tensor].shape[1])})
            caches[tensor] = out
        return caches[tensor]

    def key_side(tensor: str, content: CacheContent, origin: str) -> str:
        prod = graph.producer(tensor)
        if isinstance(prod, ExactLinear) and prod.name in expanding:
            return tensor  # recompute: the up-projection already runs over the cached latents
        return cache(tensor, content, origin)

    def rows(name: str) -> int:
        return g.tensors[name].shape[0]

    for op in graph.ops:
        new = copy.deepcopy(op)
        pinned_slots[op.name] = {k: v for k, v in op.types.items() if k in ("weight", "bias")}
        if isinstance(op, Mask):
            add(
                PositionMask(op.name, [pos], list(op.outputs), origin=op.origin, max_length=L),
                {op.outputs[0]: (1, L)},
            )
        elif isinstance(op, ExactLinear) and op.name in expanding:
            if form is MlaForm.ABSORBED:
                continue  # absorbed into the query and the context below
            c = cache(op.inputs[0], CacheContent.LATENT, op.origin)
            new.inputs = [c]
            add(new, {op.outputs[0]: (L, op.n_out)})
        elif op.kind in _TOKENWISE:
            if isinstance(new, RoPE):
                new.inputs = [*op.inputs, pos]
                new.n_positions = L
            add(new, {o: (rows(op.inputs[0]), graph.tensors[o].shape[-1]) for o in op.outputs})
        elif isinstance(op, Softmax):
            add(new, {op.outputs[0]: g.tensors[op.inputs[0]].shape})
        elif isinstance(op, LatentScores):
            up = graph.producer(op.inputs[1])
            h = op.num_heads
            if form is MlaForm.ABSORBED and isinstance(up, ExactLinear) and up.name in expanding:
                lat = cache(up.inputs[0], CacheContent.LATENT, op.origin)
                dc = up.n_in
                qabs = g._unique(f"{op.name}_q_absorbed", set(g.tensors) | set(graph.tensors))
                qop = ExactLinear(
                    g.unique_name(f"{up.name}_absorbed"),
                    [op.inputs[0]],
                    [qabs],
                    origin=op.origin,
                    kernel=up.absorbed_query_kernel(),
                    num_heads=h,
                    head_dim=dc,
                    blocks=h,
                )
                pinned_slots[qop.name] = {"weight": up.types["weight"]}
                add(qop, {qabs: (1, h * dc)})
                ins = [qabs, lat]
                if op.rope_dim:
                    ins += [op.inputs[2], key_side(op.inputs[3], CacheContent.ROPE_KEY, op.origin)]
                new = LatentScores(
                    op.name,
                    ins,
                    list(op.outputs),
                    origin=op.origin,
                    num_heads=h,
                    a_dim=dc,
                    a_kv_heads=1,
                    rope_dim=op.rope_dim,
                    scale_dim=op.scale_dim,
                    scale_bits=op.scale_bits,
                    qtypes=dict(op.qtypes),
                )
            else:
                new.inputs = list(op.inputs)
                for k, content in _key_inputs(op):
                    new.inputs[k] = key_side(op.inputs[k], content, op.origin)
            add(new, {op.outputs[0]: (h, 1, rows(new.inputs[1]))})
        elif isinstance(op, Scores):
            new.inputs = [op.inputs[0], key_side(op.inputs[1], CacheContent.KEY, op.origin)]
            add(new, {op.outputs[0]: (op.num_heads, 1, L)})
        elif isinstance(op, Context):
            up = graph.producer(op.inputs[1])
            h = op.num_heads
            if form is MlaForm.ABSORBED and isinstance(up, ExactLinear) and up.name in expanding:
                if up.num_heads != h:
                    raise NotDecodableError(
                        f"{_where(op)}: {h} heads read an up-projection of {up.num_heads}"
                    )
                lat = cache(up.inputs[0], CacheContent.LATENT, op.origin)
                dc = up.n_in
                ctx_lat = g._unique(f"{op.name}_latent", set(g.tensors) | set(graph.tensors))
                add(
                    ExactContext(
                        g.unique_name(f"{op.name}_latent"),
                        [op.inputs[0], lat],
                        [ctx_lat],
                        origin=op.origin,
                        num_heads=h,
                        num_kv_heads=1,
                        value_dim=dc,
                    ),
                    {ctx_lat: (1, h * dc)},
                )
                # W_UV per head, then prefill's context cast: a Linear typed like the context
                vop = BlockLinear(
                    g.unique_name(f"{up.name}_absorbed"),
                    [ctx_lat],
                    [op.outputs[0]],
                    origin=op.origin,
                    kernel=up.absorbed_value_kernel(),
                    role=op.role,
                    qtypes=dict(op.qtypes),
                    blocks=h,
                )
                pinned_slots[vop.name] = {"weight": up.types["weight"]}
                add(vop, {op.outputs[0]: (1, h * op.value_dim)})
            else:
                new.inputs = [op.inputs[0], key_side(op.inputs[1], CacheContent.VALUE, op.origin)]
                add(new, {op.outputs[0]: (1, graph.tensors[op.outputs[0]].shape[-1])})
        else:  # _check refused it already
            raise NotDecodableError(f"{_where(op)}: not supported in decode")

    pinned = {k: v.type for k, v in graph.tensors.items() if v.type is not None}
    resolve = PinnedResolver(config, pinned, pinned_slots)
    g.tensors[x].type = graph.tensors[x].type
    for op in g.ops:
        op.assign_types(g, resolve)
    g.check_typed()
    for name, t in g.tensors.items():
        if name in graph.tensors and graph.tensors[name].type != t.type:
            raise AssertionError(
                f"decode pass: tensor {name} typed {t.type}, prefill {graph.tensors[name].type}"
            )
    return DecodeDesign(g, L, form, x, pos, t, graph)


__all__ = ["DecodeDesign", "NotDecodableError", "PinnedResolver", "to_decode"]
