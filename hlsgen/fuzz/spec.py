"""Random model specs: what a fuzzed model is, drawn from a seed, and the smaller specs a shrinker tries.

A :class:`ModelSpec` is a plain value (frozen dataclasses, JSON in and out) that names everything about a
model and its conversion: blocks, sizes, masks, layer names, precisions, reuse factors, io type. The Keras
model is built from it (:mod:`hlsgen.fuzz.model`), so a failure is shrunk by shrinking the spec.

Only what hlsgen claims to convert is drawn (README "What converts", ``hlsgen.layers``): Dense / QDense,
activations, LayerNormalization, Add, GlobalAveragePooling1D, Flatten, MultiHeadAttention (self, cross,
key != value, value_dim, no bias, output_shape, causal, padding mask input), GroupedQueryAttention,
MultiHeadLatentAttention and RotaryEmbedding.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


class BlockKind(enum.StrEnum):
    """One step of the random model's trunk."""

    MHA = "mha"  #: Keras MultiHeadAttention (self or cross)
    GQA = "gqa"  #: hlsgen.layers.GroupedQueryAttention (causal)
    MLA = "mla"  #: hlsgen.layers.MultiHeadLatentAttention (causal)
    FFN = "ffn"  #: Dense (activation) -> Dense


class Pool(enum.StrEnum):
    """How the first head sees the sequence."""

    NONE = "none"  #: per token
    AVERAGE = "average"  #: GlobalAveragePooling1D
    FLATTEN = "flatten"  #: Flatten


ROUNDING = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV")
OVERFLOW = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM")
ACTIVATIONS = ("relu", "linear", "gelu", "tanh", "sigmoid", "swish", "elu", "softplus")
#: C++ and SystemVerilog keywords, names that start with digits, dashes, dots: all valid Keras names
#: (Keras allows ``^[A-Za-z0-9.][A-Za-z0-9_.\\-]*$`` and nothing outside ASCII)
ODD_NAMES = (
    "class", "int", "void", "return", "static", "template", "default", "union", "register", "inline",
    "module", "logic", "wire", "reg", "input", "output", "always_ff", "begin", "end", "assign", "function",
    "task", "bit", "byte", "int8_t", "ap_uint", "myproject", "main", "1st", "2-nd", "3.rd", "a-b", "a_b",
    "x--y", "0", "9lives", "q.k.v", "Layer", "layer", "LAYER", "string", "signed", "unsigned", "new", "this",
)  # fmt: skip


@dataclass(frozen=True)
class BlockSpec:
    """One trunk block: an attention layer or a feed-forward pair, then an optional residual and norm."""

    kind: BlockKind
    heads: int = 2  #: query heads
    kv_heads: int = 2  #: GQA: key/value heads (divides heads)
    key_dim: int = 4  #: per-head query/key size
    value_dim: int = 0  #: per-head value size (0 = key_dim)
    latent: int = 4  #: MLA: KV latent size
    q_latent: int = 0  #: MLA: query latent size (0 = none)
    rope_dim: int = 0  #: GQA / MLA: rotary dimensions (even, <= key_dim)
    out_dim: int = 0  #: attention output size (0 = d_model); FFN: hidden size
    causal: bool = False  #: MHA: use_causal_mask
    cross: bool = False  #: MHA: attend to the memory input
    key_proj: bool = False  #: MHA cross: key = Dense(memory) (key != value)
    padding_mask: bool = False  #: MHA: the mask model input as attention_mask
    use_bias: bool = True
    activation: str = "relu"  #: FFN: hidden activation
    quantized: bool = False  #: QKeras quantizers (GQA/MLA kernels; FFN as QDense)
    dropout: bool = False  #: a Dropout after the block's layer (dropped by the converter)
    residual: bool = True  #: add the block's input (when the sizes agree)
    norm: bool = False  #: LayerNormalization after
    name: str = "blk"  #: the layer's name (odd names included)


@dataclass(frozen=True)
class ModelSpec:
    """A random model and how it is converted."""

    seed: int
    seq: int = 4  #: tokens of the main input
    d_in: int = 8  #: features of the main input
    d_model: int = 8  #: width of the trunk
    mem_seq: int = 0  #: tokens of the memory input (0 = no memory input)
    rope_in: bool = False  #: RotaryEmbedding on the input
    blocks: tuple[BlockSpec, ...] = ()
    pool: Pool = Pool.NONE
    head_dim: int = 4  #: units of the first output's Dense
    head_activation: str = "linear"
    second_output: bool = False  #: a second output: the trunk itself (before the head)
    names: tuple[str, ...] = ("tokens", "memory", "pad_mask", "embed", "head", "pool")
    # conversion
    precision: str = "ap_fixed<16,6>"
    weight_precision: str = ""
    io_type: str = "io_parallel"
    reuse_factor: int = 1
    softmax_latency: bool = False
    calibrate: bool = False
    layer_types: tuple[tuple[str, str, str], ...] = ()  #: (layer name, slot, type) overrides
    layer_reuse: tuple[tuple[str, int], ...] = ()  #: (layer name, reuse factor)
    softmax_bits: tuple[int, int, int] = (7, 7, 10)  #: exp_hi_bits, exp_lo_bits, inv_bits
    layernorm_bits: int = 8  #: layer norm 1/sqrt table_bits
    batch: int = 3
    input_scale: float = 1.0
    weight_scale: float = 1.0

    # -- derived ---------------------------------------------------------------------------------------
    @property
    def has_mask(self) -> bool:
        return any(b.padding_mask for b in self.blocks)

    @property
    def mask_keys(self) -> int:
        b = next(b for b in self.blocks if b.padding_mask)
        return self.mem_seq if b.cross else self.seq

    @property
    def causal(self) -> bool:
        """Every attention block is causal self-attention and nothing mixes tokens otherwise: the model
        decodes token by token."""
        att = [b for b in self.blocks if b.kind != BlockKind.FFN]
        return (
            bool(att)
            and all(b.kind != BlockKind.MHA or (b.causal and not b.cross and not b.padding_mask) for b in att)
            and self.pool == Pool.NONE
            and self.mem_seq == 0
        )

    def config(self) -> dict[str, Any]:
        """The hlsgen conversion config of this spec."""
        layers: dict[str, dict[str, Any]] = {}
        for name, slot, t in self.layer_types:
            layers.setdefault(name, {})[slot] = t
        for name, rf in self.layer_reuse:
            layers.setdefault(name, {})["reuse_factor"] = rf
        if self.softmax_latency:
            for b in self.blocks:
                if b.kind != BlockKind.FFN:
                    layers.setdefault(b.name, {})["softmax"] = {"variant": "latency", "latency_table_bits": 8}
        cfg: dict[str, Any] = {
            "project_name": f"fuzz{self.seed}",
            "default_precision": self.precision,
            "io_type": self.io_type,
            "reuse_factor": self.reuse_factor,
            "layers": layers,
        }
        hi, lo, inv = self.softmax_bits
        if (hi, lo, inv) != (7, 7, 10):
            cfg["softmax"] = {"exp_hi_bits": hi, "exp_lo_bits": lo, "inv_bits": inv}
        if self.layernorm_bits != 8:
            cfg["layernorm"] = {"table_bits": self.layernorm_bits}
        if self.weight_precision:
            cfg["default_weight_precision"] = self.weight_precision
        if self.causal:
            cfg["decode"] = {"max_length": self.seq + 1}
        return cfg

    def describe(self) -> str:
        """One line: the blocks and settings that matter."""
        bl = []
        for b in self.blocks:
            tags = [t for t, on in (
                ("cross", b.cross), ("keyproj", b.key_proj), ("mask", b.padding_mask), ("causal", b.causal),
                (f"kv{b.kv_heads}", b.kind == BlockKind.GQA), (f"rope{b.rope_dim}", b.rope_dim),
                (f"qlat{b.q_latent}", b.q_latent), ("q", b.quantized), ("res", b.residual), ("norm", b.norm),
                ("nobias", not b.use_bias), (b.activation, b.kind == BlockKind.FFN), ("drop", b.dropout),
            ) if on]  # fmt: skip
            bl.append(f"{b.kind}[{b.name}:h{b.heads}d{b.key_dim}{',' if tags else ''}{','.join(tags)}]")
        return (
            f"T{self.seq} D{self.d_in}->{self.d_model} {' '.join(bl)} pool={self.pool}"
            f"{' 2out' if self.second_output else ''}{' mem' + str(self.mem_seq) if self.mem_seq else ''}"
            f"{' rope_in' if self.rope_in else ''} {self.io_type} rf{self.reuse_factor} {self.precision}"
            f"{' calib' if self.calibrate else ''}{' causal' if self.causal else ''}"
        )

    def size(self) -> int:
        """A measure the shrinker makes smaller."""
        return (
            10 * len(self.blocks) + self.seq + self.d_model + self.d_in + self.mem_seq + sum(
                b.heads + b.key_dim + b.value_dim + b.latent + b.q_latent + b.rope_dim + b.out_dim
                + b.residual + b.norm + b.quantized + b.padding_mask + b.key_proj for b in self.blocks
            ) + len(self.layer_types) + len(self.layer_reuse) + self.second_output + self.rope_in
            + (self.pool != Pool.NONE) + (self.reuse_factor > 1) + (self.io_type != "io_parallel")
        )  # fmt: skip

    # -- JSON ------------------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        d = json.loads(text)
        d["blocks"] = tuple(BlockSpec(**{**b, "kind": BlockKind(b["kind"])}) for b in d["blocks"])
        d["pool"] = Pool(d["pool"])
        d["names"] = tuple(d["names"])
        d["softmax_bits"] = tuple(d.get("softmax_bits", (7, 7, 10)))
        d["layer_types"] = tuple(tuple(t) for t in d["layer_types"])
        d["layer_reuse"] = tuple(tuple(t) for t in d["layer_reuse"])
        return cls(**d)


# ---------------------------------------------------------------------------------------------------
def _precision(rng: np.random.Generator, lo: int = 8, hi: int = 20) -> str:
    w = int(rng.integers(lo, hi + 1))
    i = int(rng.integers(2, min(w, 9)))
    if rng.random() < 0.3:
        return f"ap_fixed<{w},{i}>"
    q, o = ROUNDING[rng.integers(len(ROUNDING))], OVERFLOW[rng.integers(len(OVERFLOW))]
    return f"ap_fixed<{w},{i},{q},{o}>"


@dataclass
class _Names:
    """Unique random layer names, odd ones half the time (unique as Keras names, not as C identifiers:
    'a-b' and 'a_b' both appear)."""

    rng: np.random.Generator
    used: set[str] = field(default_factory=set)

    def __call__(self, base: str) -> str:
        for _ in range(20):
            name = str(self.rng.choice(ODD_NAMES)) if self.rng.random() < 0.5 else base
            if name in self.used:
                name = f"{name}{len(self.used)}" if self.rng.random() < 0.5 else f"{name}-{len(self.used)}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise AssertionError("no unique name")


def random_spec(seed: int) -> ModelSpec:
    """The random model of ``seed`` (the same spec for the same seed, on every machine)."""
    rng = np.random.default_rng(seed)
    names = _Names(rng)
    seq = int(rng.integers(2, 7))
    d_model = int(rng.choice([4, 6, 8, 12, 16]))
    mem_seq = int(rng.integers(2, 7)) if rng.random() < 0.3 else 0
    blocks: list[BlockSpec] = []
    masked = False
    for _ in range(int(rng.integers(1, 4))):
        kind = BlockKind(rng.choice([k.value for k in BlockKind], p=[0.4, 0.2, 0.2, 0.2]))
        heads = int(rng.choice([1, 2, 4]))
        key_dim = int(rng.integers(1, 9))
        common = {
            "kind": kind,
            "heads": heads,
            "key_dim": key_dim,
            "use_bias": bool(rng.random() < 0.7),
            "residual": bool(rng.random() < 0.6),
            "norm": bool(rng.random() < 0.4),
            "quantized": bool(rng.random() < 0.25),
            "out_dim": int(rng.choice([0, 0, 0, 3, 5])),
            "name": names(kind.value),
        }
        if kind == BlockKind.MHA:
            cross = mem_seq > 0 and rng.random() < 0.6
            pad = not masked and rng.random() < 0.3
            masked |= pad
            blocks.append(BlockSpec(
                **{**common, "quantized": False}, value_dim=int(rng.choice([0, 0, 3, 6])), cross=bool(cross),
                key_proj=bool(cross and rng.random() < 0.4), causal=bool(not cross and rng.random() < 0.5),
                padding_mask=bool(pad),
            ))  # fmt: skip
        elif kind == BlockKind.GQA:
            kv = int(rng.choice([h for h in (1, 2, 4) if heads % h == 0]))
            hd = int(rng.choice([2, 4, 6, 8]))
            rope = int(rng.choice([0, 0, 2, hd]))
            blocks.append(BlockSpec(
                **{**common, "key_dim": hd}, kv_heads=kv, rope_dim=rope, value_dim=int(rng.choice([0, 0, 3])),
            ))  # fmt: skip
        elif kind == BlockKind.MLA:
            hd = int(rng.choice([2, 4, 6]))
            blocks.append(BlockSpec(
                **{**common, "key_dim": hd, "use_bias": False}, latent=int(rng.integers(2, 9)),
                q_latent=int(rng.choice([0, 0, 4, 6])), rope_dim=int(rng.choice([0, 0, 2])),
                value_dim=int(rng.choice([0, 0, 3])),
            ))  # fmt: skip
        else:
            blocks.append(BlockSpec(
                **{**common, "out_dim": int(rng.choice([4, 8, 12, 16]))},
                activation=str(rng.choice(ACTIVATIONS)),
            ))  # fmt: skip
    # features added later draw from a second stream, so that the specs of earlier seeds stay the same
    rng2 = np.random.default_rng([seed, 2])
    blocks = [
        replace(
            b,
            # QMultiHeadAttention (QKeras quantizers on projections, scores, probabilities) for MHA
            quantized=bool(rng2.random() < 0.25) if b.kind == BlockKind.MHA else b.quantized,
            dropout=bool(rng2.random() < 0.2),
        )
        for b in blocks
    ]
    softmax_bits = (
        (int(rng2.integers(3, 9)), int(rng2.integers(3, 9)), int(rng2.integers(6, 12)))
        if rng2.random() < 0.3
        else (7, 7, 10)
    )
    layernorm_bits = int(rng2.integers(5, 10)) if rng2.random() < 0.3 else 8
    # a third stream: the corners of ap_fixed (narrow widths, AP_WRAP_SM, saturation bits)
    rng3 = np.random.default_rng([seed, 3])
    corner = ""
    if rng3.random() < 0.2:
        w = int(rng3.integers(4, 9))
        i = int(rng3.integers(1, w))
        o = str(rng3.choice(["AP_WRAP_SM", "AP_WRAP", "AP_SAT"]))
        n = f",{int(rng3.integers(1, 3))}" if o.startswith("AP_WRAP") and rng3.random() < 0.5 else ""
        corner = f"ap_fixed<{w},{i},{ROUNDING[rng3.integers(len(ROUNDING))]},{o}{n}>"
    pool = Pool(rng.choice([p.value for p in Pool], p=[0.5, 0.3, 0.2]))
    layer_types: list[tuple[str, str, str]] = []
    for b in blocks:
        if rng.random() < 0.3:
            slots = ["result"] if b.kind == BlockKind.FFN else ["score", "probability", "context", "result"]
            layer_types.append((b.name, str(rng.choice(slots)), _precision(rng, 10, 22)))
    layer_reuse = [(b.name, int(rng.choice([2, 3, 4]))) for b in blocks if rng.random() < 0.2]
    io_type = "io_stream" if rng.random() < 0.4 else "io_parallel"
    return ModelSpec(
        seed=seed,
        seq=seq,
        d_in=int(rng.choice([3, 4, 8, 12])),
        d_model=d_model,
        mem_seq=mem_seq if any(b.cross for b in blocks) else 0,
        rope_in=bool(rng.random() < 0.15) and d_model % 2 == 0,
        blocks=tuple(blocks),
        pool=pool,
        head_dim=int(rng.integers(1, 7)),
        head_activation=str(rng.choice(["linear", "linear", "relu", "sigmoid"])),
        second_output=bool(rng.random() < 0.35),
        names=tuple(names(b) for b in ("tokens", "memory", "pad_mask", "embed", "head", "pool")),
        precision=corner or _precision(rng),
        weight_precision=_precision(rng, 6, 16) if rng.random() < 0.3 else "",
        io_type=io_type,
        reuse_factor=int(rng.choice([1, 1, 2, 4])),
        softmax_latency=bool(rng.random() < 0.2),
        calibrate=bool(rng.random() < 0.4),
        layer_types=tuple(layer_types),
        layer_reuse=tuple(layer_reuse),
        softmax_bits=softmax_bits,
        layernorm_bits=layernorm_bits,
        batch=int(rng.integers(1, 5)),
        input_scale=float(rng.choice([0.5, 1.0, 4.0, 30.0])),
        weight_scale=float(rng.choice([0.3, 1.0, 3.0])),
    )


# ---------------------------------------------------------------------------------------------------
def smaller(spec: ModelSpec) -> Iterator[ModelSpec]:
    """Specs one step smaller than ``spec`` (fewer layers, smaller sizes, plainer settings), most
    aggressive first; each is still a valid model."""
    bl = spec.blocks
    for k in range(len(bl)):
        if len(bl) > 1:
            yield _valid(replace(spec, blocks=bl[:k] + bl[k + 1 :]))
    for f, v in (
        ("second_output", False), ("pool", Pool.NONE), ("rope_in", False), ("layer_types", ()),
        ("layer_reuse", ()), ("reuse_factor", 1), ("io_type", "io_parallel"), ("calibrate", False),
        ("softmax_latency", False), ("weight_precision", ""), ("batch", 1), ("head_activation", "linear"),
        ("softmax_bits", (7, 7, 10)), ("layernorm_bits", 8),
    ):  # fmt: skip
        if getattr(spec, f) != v:
            yield _valid(replace(spec, **{f: v}))
    for f, lo in (("seq", 1), ("d_model", 2), ("d_in", 1), ("mem_seq", 1), ("head_dim", 1)):
        v = getattr(spec, f)
        if v > lo and not (f == "mem_seq" and v == 0):
            yield _valid(replace(spec, **{f: max(lo, v // 2)}))
            yield _valid(replace(spec, **{f: v - 1}))
    for k, b in enumerate(bl):
        for f, v in (
            ("norm", False), ("residual", False), ("quantized", False), ("key_proj", False), ("dropout", False),
            ("padding_mask", False), ("q_latent", 0), ("rope_dim", 0), ("value_dim", 0), ("use_bias", True),
        ):  # fmt: skip
            if getattr(b, f) != v:
                yield _valid(replace(spec, blocks=bl[:k] + (replace(b, **{f: v}),) + bl[k + 1 :]))
        for f, lo in (("heads", 1), ("key_dim", 1), ("latent", 1), ("out_dim", 0)):
            if getattr(b, f) > lo:
                nb = replace(b, **{f: getattr(b, f) // 2 if f != "key_dim" else getattr(b, f) - 1})
                yield _valid(replace(spec, blocks=bl[:k] + (nb,) + bl[k + 1 :]))
    plain = {b.name: f"b{k}" for k, b in enumerate(bl)}
    if any(k != v for k, v in plain.items()) or spec.names != ModelSpec.names:
        yield _valid(replace(
            spec, blocks=tuple(replace(b, name=plain[b.name]) for b in bl), names=ModelSpec(0).names,
            layer_types=tuple((plain.get(n, n), s, t) for n, s, t in spec.layer_types),
            layer_reuse=tuple((plain.get(n, n), r) for n, r in spec.layer_reuse),
        ))  # fmt: skip


def _valid(spec: ModelSpec) -> ModelSpec:
    """Repair the constraints a shrinking step can break (head counts, RoPE sizes, the memory input)."""
    blocks = []
    for b in spec.blocks:
        kv = b.kv_heads if b.heads % max(b.kv_heads, 1) == 0 and b.kv_heads <= b.heads else 1
        rope = b.rope_dim if b.rope_dim <= b.key_dim and b.rope_dim % 2 == 0 else 0
        cross = b.cross and spec.mem_seq > 0
        blocks.append(replace(b, kv_heads=kv, rope_dim=rope, cross=cross, key_proj=b.key_proj and cross))
    if not any(b.cross for b in blocks):
        spec = replace(spec, mem_seq=0)
    rope_in = spec.rope_in and spec.d_model % 2 == 0
    names = {b.name for b in blocks}
    return replace(
        spec,
        blocks=tuple(blocks),
        rope_in=rope_in,
        layer_types=tuple(t for t in spec.layer_types if t[0] in names),
        layer_reuse=tuple(t for t in spec.layer_reuse if t[0] in names),
    )
