"""Parameters of ``hlsgen_cast`` (templates/rtl/lib/hlsgen_cast.sv): one fixed-point cast in SystemVerilog.

The SystemVerilog module implements :func:`hlsgen.fixed.convert` for every rounding and overflow mode,
saturation bits of AP_WRAP / AP_WRAP_SM included; :func:`check_cast` refuses the one cast it lacks (into an
ap_int from a signed source with no integer bits) with a :class:`NotImplementedError` that names the op.
"""

from __future__ import annotations

from ...fixed import FixedType, Overflow, Rounding

#: ``RND`` codes of hlsgen_cast.
RND_CODE = {
    Rounding.TRN: 0,
    Rounding.TRN_ZERO: 1,
    Rounding.RND: 2,
    Rounding.RND_ZERO: 3,
    Rounding.RND_MIN_INF: 4,
    Rounding.RND_INF: 5,
    Rounding.RND_CONV: 6,
}

#: ``OVF`` mode codes of hlsgen_cast (its parameter OVF is the code + 16 * the saturation bits).
OVF_CODE = {Overflow.WRAP: 0, Overflow.SAT: 1, Overflow.SAT_ZERO: 2, Overflow.SAT_SYM: 3, Overflow.WRAP_SM: 4}


def ovf_code(dst: FixedType) -> int:
    """hlsgen_cast's ``OVF`` parameter for ``dst``: the mode's code, saturation bits N in the bits above 4."""
    return OVF_CODE[dst.overflow] + 16 * dst.sat_bits


def check_cast(src: FixedType, dst: FixedType, where: str) -> None:
    """Raise :class:`NotImplementedError` (naming ``where``) when hlsgen_cast cannot do ``src -> dst``."""
    if dst.is_int and src.signed and src.integer == 0:
        raise NotImplementedError(
            f"{where}: the RTL backend has no cast from {src} to {dst} (the headers' carry of negative "
            "values into an ap_int with no integer bits in the source is not implemented)"
        )


def rounding(dst: FixedType) -> Rounding:
    """The rounding that ``convert`` applies for ``dst`` (ap_int / ap_uint round toward zero)."""
    return Rounding.TRN_ZERO if dst.is_int else dst.rounding


def cast_params(prefix: str, dst: FixedType, src: FixedType | None = None, where: str = "") -> dict[str, int]:
    """The output-side parameters of a cast to ``dst``: ``{prefix}W``, ``{prefix}F``, ``{prefix}S``,
    ``{prefix}_RND``, ``{prefix}_OVF`` (e.g. ``YW, YF, YS, Y_RND, Y_OVF`` for ``prefix='Y'``).

    ``src`` (when given) is checked with :func:`check_cast`.
    """
    if src is not None:
        check_cast(src, dst, where)
    return {
        f"{prefix}W": dst.width,
        f"{prefix}F": dst.frac,
        f"{prefix}S": int(dst.signed),
        f"{prefix}_RND": RND_CODE[rounding(dst)],
        f"{prefix}_OVF": ovf_code(dst),
    }


#: hlsgen_fastcast's MODE code of each overflow mode it builds (AP_WRAP only without saturation bits)
FAST_MODE_CODE = {Overflow.WRAP: 0, Overflow.SAT: 1, Overflow.SAT_ZERO: 2}


def cast_check_top(
    pairs: list[tuple[FixedType, FixedType]],
    top: str = "hlsgen_cast_check",
    fast: bool = False,
    registered: bool = False,
) -> str:
    """A SystemVerilog top holding one hlsgen_cast per (src, dst) pair: input k at ``vin`` bits of its
    source width, output k at ``vout`` bits of its destination width, in order (for the cast bench).
    ``fast``: hlsgen_fastcast instead (the latency strategy's: signed sources and the modes of
    :data:`FAST_MODE_CODE`, overflow logic on). ``registered``: hlsgen_castreg instead, and a ``clk`` input
    (vout follows vin one edge later)."""
    from ..templating import banner

    wi = sum(s.width for s, _ in pairs)
    wo = sum(d.width for _, d in pairs)
    module = "hlsgen_castreg" if registered else "hlsgen_cast"
    ports = ".clk(clk), .sh(1'b0), " if registered else ""
    lines = [
        banner("//"),
        f"module {top} (",
        *(["    input  logic clk,"] if registered else []),
        f"    input  logic [{wi - 1}:0] vin,",
        f"    output logic [{wo - 1}:0] vout",
        ");",
    ]
    oi = oo = 0
    for k, (s, d) in enumerate(pairs):
        check_cast(s, d, f"cast {k} ({s} -> {d})")
        if fast:
            if not s.signed or d.overflow not in FAST_MODE_CODE or d.sat_bits:
                raise ValueError(
                    f"cast {k} ({s} -> {d}): hlsgen_fastcast takes a signed source, AP_WRAP/SAT/SAT_ZERO"
                )
            lines.append(
                f"    hlsgen_fastcast #(.IW({s.width}), .IF({s.frac}), .OW({d.width}), .OF({d.frac}), "
                f".OS({int(d.signed)}), .RND({RND_CODE[rounding(d)]}), .MODE({FAST_MODE_CODE[d.overflow]}), "
                f".CHK(1)) u_{k} (.x(vin[{oi + s.width - 1}:{oi}]), .y(vout[{oo + d.width - 1}:{oo}]));"
            )
            oi += s.width
            oo += d.width
            continue
        lines.append(
            f"    {module} #(.IW({s.width}), .IF({s.frac}), .IS({int(s.signed)}), .OW({d.width}), .OF({d.frac}), "
            f".OS({int(d.signed)}), .RND({RND_CODE[rounding(d)]}), .OVF({ovf_code(d)})) "
            f"u_{k} ({ports}"
            f".x(vin[{oi + s.width - 1}:{oi}]), .y(vout[{oo + d.width - 1}:{oo}]));"
        )
        oi += s.width
        oo += d.width
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


__all__ = [
    "FAST_MODE_CODE",
    "OVF_CODE",
    "ovf_code",
    "RND_CODE",
    "cast_check_top",
    "cast_params",
    "check_cast",
    "rounding",
]
