"""Typed conversion config (the schema: dataclasses and str enums, no IR): precision defaults, per-layer overrides, table settings; YAML in and out.

Precedence for a value's type: the layer's entry in ``layers`` (by IR op name, then by the Keras layer
name the op comes from) > the type a QKeras quantizer fixes > calibration (integer bits from observed
ranges) > ``default_precision``.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .fixed import FixedType


class IOType(enum.StrEnum):
    """How the top function moves data."""

    PARALLEL = "io_parallel"  #: whole arrays, fully partitioned
    STREAM = "io_stream"  #: hls::stream between primitives, AXI4-Stream at the top


class SoftmaxVariant(enum.StrEnum):
    """Softmax implementations."""

    STABLE = "stable"  #: subtract the row maximum, exp of non-positive differences (two split tables)
    LATENCY = "latency"  #: exp of the raw logits from one table, no max search


@dataclass
class SoftmaxConfig:
    """Softmax tables and types (the tables themselves: hlsgen.ir.ops.softmax.softmax_tables).

    Defaults, measured by benchmarks/bench_softmax.py on 16-way rows of ap_fixed<16,6> logits ~ N(0, s),
    s = 1 / 3 / 8: the two 7-bit exp tables (2 x 128 entries of 18 bits, small LUT ROMs) address the
    whole difference range that matters (exp(-16) underflows exp_type) at the input's full resolution for
    up to 10 fractional bits, and no argmax flipped in 3 x 100k rows (hls4ml: 3.0 / 0.97 / 0.63 %);
    6 + 6 bits (4x coarser differences) flip 0.18 / 0.06 / 0.02 %. With the 10-bit reciprocal table (one
    BRAM18) every row sums to 1 within 0.12 % (ap_fixed<16,2> output; 1.3 % with ap_fixed<16,6>, whose
    truncation to 10 fractional bits dominates).
    """

    variant: SoftmaxVariant = SoftmaxVariant.STABLE  #: stable or latency
    exp_hi_bits: int = 7  #: address bits of the coarse exp table (upper part of the difference)
    exp_lo_bits: int = 7  #: address bits of the fine exp table (lower part: the input LSBs)
    exp_type: str = "ap_ufixed<18,1,AP_RND,AP_SAT>"  #: type of exp table entries and their products
    sum_type: str = "ap_ufixed<24,8,AP_RND,AP_SAT>"  #: type of the row sum of exponentials
    inv_bits: int = 10  #: address bits of the reciprocal table (mantissa bits after the sum's leading one)
    inv_type: str = "ap_ufixed<18,1,AP_RND,AP_SAT>"  #: type of reciprocal table entries
    latency_table_bits: int = 10  #: address bits of the single exp table of the latency variant
    latency_exp_type: str = "ap_ufixed<18,8,AP_RND,AP_SAT>"  #: exp entries of the latency variant

    def __post_init__(self) -> None:
        self.variant = SoftmaxVariant(self.variant)


@dataclass
class LayerNormConfig:
    """Layer normalisation tables and types (the table itself: hlsgen.ir.ops.layernorm.inv_sqrt_table).

    Defaults, measured against float on ap_fixed<16,6> rows of D = 64 (outputs before the final cast):
    max |error| 0.0035 and rms 0.0004 for input standard deviations 0.1 to 10 (eps 1e-3 or 1e-5), with a
    1/sqrt table of 19 x 256 entries of 18 bits (5 BRAM18). 7 mantissa bits halve the table and double
    the error; the 18 fractional bits of var_type keep small variances (sd 0.03) within 0.01.
    """

    #: mantissa address bits of the 1/sqrt table (the bits below the variance's leading one): the table
    #: holds (W_v - table_bits + 1) * 2^table_bits entries, one segment per octave of the variance plus
    #: a subnormal one, eps folded into each, with relative resolution 2^-table_bits everywhere.
    table_bits: int = 8
    inv_sqrt_type: str = "ap_ufixed<18,1,AP_RND,AP_SAT>"  #: table entries 2^k/sqrt(var+eps), in (0, 1.42]
    var_type: str = "ap_ufixed<26,8,AP_RND,AP_SAT>"  #: type of the variance (saturates at 256)
    mean_type: str = ""  #: type of the mean ("" = the input type with ceil(log2 D) more fractional bits)
    norm_type: str = "ap_fixed<20,6,AP_RND,AP_SAT>"  #: (x - mean) / sqrt(var + eps), before gamma and beta


@dataclass
class ActivationConfig:
    """Tables of element-wise activations (gelu, tanh, sigmoid, swish, ...).

    The input is first cast (AP_TRN, AP_SAT) to an address type of ``table_bits`` bits covering
    [-2^(I-1), 2^(I-1)) (I = ``range_bits``; [0, 2^I) for unsigned inputs), whose every code is one table
    entry, the function's value at the centre of the input codes it holds. I comes from ``range_bits``
    when set, else from calibration (the observed maximum of the input), else from the input type: so
    a wider ``default_precision`` no longer spreads the same entries over a larger range. Outside the
    range the input saturates to the range's edge. An entry named after the cast op itself
    (``<layer>_<function>_in``, ``result``), as a written project's config holds, fixes the address type.
    """

    table_bits: int = 10  #: address bits: the table holds 2^table_bits entries
    range_bits: int = 0  #: integer bits of the range the table covers (0 = calibration, else input type)
    table_type: str = ""  #: type of the entries ("" = the activation's output type)


class CacheMemory(enum.StrEnum):
    """Where a decode design keeps its key/value or latent cache (``BIND_STORAGE ... impl=``)."""

    BRAM = "bram"  #: block RAM (BRAM18/36)
    URAM = "uram"  #: UltraRAM (288 Kb blocks, 72 bits x 4096; UltraScale+ parts)


class MlaForm(enum.StrEnum):
    """How decode computes multi-head latent attention (both are exact to the prefill reference)."""

    ABSORBED = "absorbed"  #: W_UK applied to the query and W_UV to the latent context: no latent expansion
    RECOMPUTE = "recompute"  #: every cached latent up-projected to keys and values at every step


@dataclass
class DecodeConfig:
    """Token-by-token decode designs (hlsgen.decode): cache size, memory and MLA form."""

    #: rows of every cache: the longest sequence one decode session holds (0 = the model's sequence
    #: length, the T of its Input shape). Decoding past it sets the hardware's overflow flag.
    max_length: int = 0
    cache_memory: CacheMemory = CacheMemory.BRAM  #: bram or uram: the caches' BIND_STORAGE impl
    mla_form: MlaForm = MlaForm.ABSORBED  #: absorbed or recompute (multi-head latent attention only)
    #: type of the RoPE cos/sin table entries of layers whose rope_table_quantizer is None
    rope_table_type: str = "ap_fixed<18,2,AP_RND_CONV,AP_SAT>"

    def __post_init__(self) -> None:
        for name, enum_type in (("cache_memory", CacheMemory), ("mla_form", MlaForm)):
            try:
                setattr(self, name, enum_type(getattr(self, name)))
            except ValueError:
                valid = ", ".join(repr(v.value) for v in enum_type)
                raise ValueError(f"decode.{name}: {getattr(self, name)!r} is not one of {valid}") from None
        if isinstance(self.max_length, bool) or not isinstance(self.max_length, int) or self.max_length < 0:
            raise ValueError(f"decode.max_length must be a non-negative integer, got {self.max_length!r}")


class Strategy(enum.StrEnum):
    """How a backend builds a layer."""

    RESOURCE = "resource"  #: engines shared over the rows at the reuse factor (today's designs)
    #: fully unrolled and pipelined at II = 1, a whole sample a beat (trigger latency): the RTL of
    #: hlsgen.backends.rtl.latency (its LATENCY_RENDERERS table says which ops), the HLS C++ at reuse 1.
    #: Per layer inside a resource model: a Dense / Conv1D becomes an unrolled engine over a row a cycle
    #: (hlsgen.backends.rtl.render_latency) at reuse 1
    LATENCY = "latency"


class Multiplier(enum.StrEnum):
    """How a latency-strategy layer builds its constant products (x times a weight) and its
    data-dependent ones (attention scores and context, the layer norm's), in the RTL and as the HLS
    C++'s BIND_OP. ``auto`` is resolved once when the graph is typed (each op's ``binding``), by one rule
    for every product and backend (hlsgen.fixed.cmm.luts_win: LUTs while their estimate is at most
    LUT_PER_DSP per DSP they save) over the operand ranges the RTL builds."""

    LUT = "lut"  #: shifts and adds, common subexpressions shared (hlsgen.fixed.cmm): no DSP
    DSP = "dsp"  #: one multiplier per non-zero weight that is not a power of two
    #: the cheaper by the cost model (hlsgen.fixed.cmm.prefers_luts), resolved once when the graph is typed
    AUTO = "auto"


@dataclass
class LayerConfig:
    """Overrides for one layer (a Keras layer name or an IR op name). Empty means not set."""

    weight: str = ""  #: kernel type
    bias: str = ""  #: bias type
    result: str = ""  #: output type of the layer (or of the op)
    query: str = ""  #: attention: query projection output
    key: str = ""  #: attention: key projection output
    value: str = ""  #: attention: value projection output
    score: str = ""  #: attention: scaled scores entering softmax
    probability: str = ""  #: attention: softmax output
    context: str = ""  #: attention: P.V before the output projection
    latent: str = ""  #: latent attention: the shared KV latent (what the decode cache holds)
    q_latent: str = ""  #: latent attention: the query latent
    query_rope: str = ""  #: latent attention: the decoupled RoPE query
    key_rope: str = ""  #: latent attention: the decoupled RoPE key shared by the heads (cached)
    reuse_factor: int = 0  #: multipliers are shared this many times (0 = the global value)
    #: resource or latency (None = the global value); latency in a resource model: its Dense / Conv1D
    #: products become engines (an attention layer's other ops stay resource, with a warning; a layer with
    #: none is refused); resource in a latency model: refused
    strategy: Strategy | None = None
    multiplier: Multiplier | None = None  #: lut, dsp or auto for the latency strategy (None = global)
    softmax: SoftmaxConfig | None = None  #: softmax tables of this layer
    layernorm: LayerNormConfig | None = None  #: layer norm tables of this layer
    activation: ActivationConfig | None = None  #: activation table of this layer

    def __post_init__(self) -> None:
        _enum_fields(self, "", optional=True)


@dataclass
class Config:
    """Everything that decides the generated design besides the model itself."""

    project_name: str = "myproject"  #: name of the top function and of the project
    default_precision: str = "ap_fixed<16,6>"  #: type of every value that nothing else types
    default_weight_precision: str = ""  #: weights and biases of float layers ("" = default_precision)
    io_type: IOType = IOType.PARALLEL  #: io_parallel or io_stream
    reuse_factor: int = 1  #: default reuse factor (multipliers = MACs / reuse factor)
    strategy: Strategy = Strategy.RESOURCE  #: resource (shared engines) or latency (II = 1, unrolled)
    multiplier: Multiplier = Multiplier.AUTO  #: constant products of latency layers: lut, dsp or auto
    part: str = "xcvu13p-flga2577-2-e"  #: FPGA part
    clock_period: float = 5.0  #: ns
    board: str = ""  #: board name or path (sets part and clock)
    calibration_margin_bits: int = 0  #: extra integer bits added by calibration
    #: overflow mode of calibrated types: values past the calibration range saturate by default
    #: ("" keeps the default precision's mode, e.g. AP_WRAP)
    calibration_overflow: str = "AP_SAT"
    softmax: SoftmaxConfig = field(default_factory=SoftmaxConfig)  #: default softmax settings
    layernorm: LayerNormConfig = field(default_factory=LayerNormConfig)  #: default layer norm settings
    activation: ActivationConfig = field(default_factory=ActivationConfig)  #: default activation tables
    decode: DecodeConfig = field(default_factory=DecodeConfig)  #: token-by-token decode designs
    layers: dict[str, LayerConfig] = field(default_factory=dict)  #: per-layer overrides

    def __post_init__(self) -> None:
        self.io_type = IOType(self.io_type)
        _enum_fields(self, "")
        if self.calibration_overflow:
            from .fixed import Overflow

            try:
                Overflow(self.calibration_overflow)
            except ValueError:
                valid = ", ".join(o.value for o in Overflow)
                raise ValueError(
                    f"calibration_overflow: {self.calibration_overflow!r} is not one of {valid} (or '')"
                ) from None
        for t in (self.default_precision, self.default_weight_precision):
            if t:
                FixedType.parse(t)
        if self.reuse_factor < 1:
            raise ValueError(f"reuse_factor must be >= 1, got {self.reuse_factor}")

    # -- dict / YAML --------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any] | Config | None) -> Config:
        if d is None:
            return cls()
        if isinstance(d, Config):
            return dataclasses.replace(d)
        return _build(cls, d, "config")

    @classmethod
    def from_yaml(cls, path: str | Path) -> Config:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"config file {p} does not exist")
        try:
            d = yaml.safe_load(p.read_text()) or {}
        except UnicodeDecodeError:
            raise ValueError(f"config file {p} is not a UTF-8 text file; expected a YAML config") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            why = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise ValueError(f"config file {p} is not valid YAML: {why}{where}") from None
        if not isinstance(d, dict):
            raise ValueError(f"config file {p}: expected a mapping at the top level")
        try:
            return cls.from_dict(d)
        except ValueError as e:
            raise ValueError(f"config file {p}: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def layer(self, *names: str) -> list[LayerConfig]:
        """The entries that apply to an op, most specific first."""
        return [self.layers[n] for n in names if n and n in self.layers]


_ENUM_FIELDS = {"strategy": Strategy, "multiplier": Multiplier}


def _enum_fields(obj: Any, where: str, optional: bool = False) -> None:
    """Turn the str Enum fields of ``obj`` into their enums; an unknown value is named with the choices."""
    for name, enum_type in _ENUM_FIELDS.items():
        v = getattr(obj, name, None)
        if v is None and optional:
            continue
        try:
            setattr(obj, name, enum_type(v))
        except ValueError:
            valid = ", ".join(repr(e.value) for e in enum_type)
            raise ValueError(f"{where}{name}: {v!r} is not one of {valid}") from None


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in fields(obj):
            v = getattr(obj, f.name)
            if v is None or v == "" or (f.name == "reuse_factor" and v == 0):
                continue
            out[f.name] = _to_plain(v)
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    return obj


_NESTED = {
    "softmax": SoftmaxConfig,
    "layernorm": LayerNormConfig,
    "decode": DecodeConfig,
    "activation": ActivationConfig,
}


def _build(cls: type, d: dict[str, Any], where: str) -> Any:
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(d).__name__}")
    names = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for k, v in d.items():
        if k not in names:
            near = difflib.get_close_matches(str(k), list(names), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else f" (valid keys: {', '.join(names)})"
            raise ValueError(f"{where}: unknown key {k!r}{hint}")
        if k in _NESTED and v is not None:
            v = _build(_NESTED[k], v, f"{where}.{k}")
        elif cls is Config and k == "layers":
            if not isinstance(v, dict):
                raise ValueError(f"{where}.layers: expected a mapping of layer name to settings")
            v = {str(n): _build(LayerConfig, lv or {}, f"{where}.layers.{n}") for n, lv in v.items()}
        _check_field(cls, k, v, where)
        kwargs[k] = v
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None


_TYPE_FIELDS = {
    "default_precision",
    "default_weight_precision",
    "weight",
    "bias",
    "result",
    "query",
    "key",
    "value",
    "score",
    "probability",
    "context",
    "exp_type",
    "sum_type",
    "inv_type",
    "latency_exp_type",
    "inv_sqrt_type",
    "var_type",
    "mean_type",
    "norm_type",
    "latent",
    "q_latent",
    "query_rope",
    "key_rope",
    "rope_table_type",
    "table_type",
}


def _check_field(cls: type, k: str, v: Any, where: str) -> None:
    if k in _TYPE_FIELDS and v:
        if not isinstance(v, str):
            raise ValueError(f"{where}.{k}: expected a type string such as 'ap_fixed<16,6>', got {v!r}")
        try:
            FixedType.parse(v)
        except ValueError as e:
            raise ValueError(f"{where}.{k}: {e}") from None
    if k.endswith("_bits") or k == "reuse_factor":
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{where}.{k}: expected a non-negative integer, got {v!r}")
