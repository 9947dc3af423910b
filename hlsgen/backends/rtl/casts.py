"""Parameters of ``hlsgen_cast`` (templates/rtl/lib/hlsgen_cast.sv): one fixed-point cast in SystemVerilog.

The SystemVerilog module implements :func:`hlsgen.fixed.convert` for every rounding mode and for AP_WRAP
(without saturation bits), AP_SAT, AP_SAT_ZERO and AP_SAT_SYM; :func:`cast_params` refuses the rest
with a :class:`NotImplementedError` that names the op.
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

#: ``OVF`` codes of hlsgen_cast.
OVF_CODE = {Overflow.WRAP: 0, Overflow.SAT: 1, Overflow.SAT_ZERO: 2, Overflow.SAT_SYM: 3}


def check_cast(src: FixedType, dst: FixedType, where: str) -> None:
    """Raise :class:`NotImplementedError` (naming ``where``) when hlsgen_cast cannot do ``src -> dst``."""
    if dst.overflow is Overflow.WRAP_SM or dst.sat_bits:
        raise NotImplementedError(
            f"{where}: the RTL backend has no cast to {dst} (AP_WRAP_SM and AP_WRAP with saturation bits "
            "are not implemented in hlsgen_cast); use AP_WRAP, AP_SAT, AP_SAT_ZERO or AP_SAT_SYM"
        )
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
    elif dst.overflow is Overflow.WRAP_SM or dst.sat_bits:
        check_cast(dst, dst, where)
    return {
        f"{prefix}W": dst.width,
        f"{prefix}F": dst.frac,
        f"{prefix}S": int(dst.signed),
        f"{prefix}_RND": RND_CODE[rounding(dst)],
        f"{prefix}_OVF": OVF_CODE[dst.overflow],
    }


def cast_check_top(pairs: list[tuple[FixedType, FixedType]], top: str = "hlsgen_cast_check") -> str:
    """A SystemVerilog top holding one hlsgen_cast per (src, dst) pair: input k at ``vin`` bits of its
    source width, output k at ``vout`` bits of its destination width, in order (for the cast bench)."""
    from ..templating import banner

    wi = sum(s.width for s, _ in pairs)
    wo = sum(d.width for _, d in pairs)
    lines = [
        banner("//"),
        f"module {top} (",
        f"    input  logic [{wi - 1}:0] vin,",
        f"    output logic [{wo - 1}:0] vout",
        ");",
    ]
    oi = oo = 0
    for k, (s, d) in enumerate(pairs):
        check_cast(s, d, f"cast {k} ({s} -> {d})")
        lines.append(
            f"    hlsgen_cast #(.IW({s.width}), .IF({s.frac}), .IS({int(s.signed)}), .OW({d.width}), .OF({d.frac}), "
            f".OS({int(d.signed)}), .RND({RND_CODE[rounding(d)]}), .OVF({OVF_CODE[d.overflow]})) "
            f"u_{k} (.x(vin[{oi + s.width - 1}:{oi}]), .y(vout[{oo + d.width - 1}:{oo}]));"
        )
        oi += s.width
        oo += d.width
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


__all__ = [
    "OVF_CODE",
    "RND_CODE",
    "cast_check_top",
    "cast_params",
    "check_cast",
    "rounding",
]
