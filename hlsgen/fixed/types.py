"""Fixed-point types with the semantics of Xilinx ``ap_fixed`` / ``ap_ufixed`` / ``ap_int`` / ``ap_uint``."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

#: Widest type hlsgen accepts (the default AP_INT_MAX_W of the Vitis headers).
MAX_WIDTH = 1024


class Rounding(enum.StrEnum):
    """Quantization (rounding) modes, applied when fractional bits are dropped."""

    RND = "AP_RND"  #: round half toward +infinity
    RND_ZERO = "AP_RND_ZERO"  #: round half toward zero
    RND_MIN_INF = "AP_RND_MIN_INF"  #: round half toward -infinity
    RND_INF = "AP_RND_INF"  #: round half away from zero
    RND_CONV = "AP_RND_CONV"  #: round half to even (convergent)
    TRN = "AP_TRN"  #: truncate toward -infinity (the default)
    TRN_ZERO = "AP_TRN_ZERO"  #: truncate toward zero


class Overflow(enum.StrEnum):
    """Overflow modes, applied when integer bits are dropped."""

    SAT = "AP_SAT"  #: saturate to the largest / smallest value
    SAT_ZERO = "AP_SAT_ZERO"  #: set to zero on overflow
    SAT_SYM = "AP_SAT_SYM"  #: saturate symmetrically: the most negative value is -max
    WRAP = "AP_WRAP"  #: two's complement wrap-around (the default); N bits may saturate
    WRAP_SM = "AP_WRAP_SM"  #: sign-magnitude wrap


_TYPE_RE = re.compile(
    r"^\s*(?P<kind>ap_fixed|ap_ufixed|ap_int|ap_uint)\s*<\s*(?P<args>[^<>]*)\s*>\s*$",
)


@dataclass(frozen=True)
class FixedType:
    """An ``ap_fixed<W, I, Q, O, N>``-style type.

    Attributes:
        width: total number of bits W (1..1024).
        integer: integer bits I, sign bit included for signed types; may be negative or larger than W.
        signed: two's complement when True, unsigned otherwise.
        rounding: what happens to dropped fractional bits.
        overflow: what happens to dropped integer bits.
        sat_bits: N, the number of saturation bits of AP_WRAP / AP_WRAP_SM.
        is_int: spelled as ``ap_int`` / ``ap_uint`` (integer == width, default modes).
    """

    width: int
    integer: int
    signed: bool = True
    rounding: Rounding = Rounding.TRN
    overflow: Overflow = Overflow.WRAP
    sat_bits: int = 0
    is_int: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "overflow", Overflow(self.overflow))
        if not isinstance(self.width, int) or not isinstance(self.integer, int):
            raise ValueError(f"{self._spelling()}: width and integer bits must be integers")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ValueError(f"{self._spelling()}: width {self.width} is outside 1..{MAX_WIDTH}")
        if self.signed and self.width < 1:
            raise ValueError(f"{self._spelling()}: a signed type needs at least one bit")
        if not 0 <= self.sat_bits <= self.width:
            raise ValueError(f"{self._spelling()}: saturation bits N={self.sat_bits} must be within 0..W")
        if self.sat_bits and self.overflow not in (Overflow.WRAP, Overflow.WRAP_SM):
            raise ValueError(f"{self._spelling()}: saturation bits N apply only to AP_WRAP and AP_WRAP_SM")
        if not self.signed and self.overflow is Overflow.WRAP_SM:
            raise ValueError(f"{self._spelling()}: AP_WRAP_SM (sign-magnitude wrap) needs a signed type")
        if self.is_int and (
            self.integer != self.width
            or self.rounding is not Rounding.TRN
            or self.overflow is not Overflow.WRAP
        ):
            raise ValueError(f"{self._spelling()}: ap_int/ap_uint have I == W and default modes")

    # -- derived quantities -------------------------------------------------------------------------
    @property
    def frac(self) -> int:
        """Fractional bits F = W - I (negative when I > W)."""
        return self.width - self.integer

    @property
    def raw_min(self) -> int:
        """Smallest raw integer (value * 2^F)."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        """Largest raw integer."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min(self) -> float:
        """Smallest representable value."""
        return float(self.raw_min) * 2.0**-self.frac

    @property
    def max(self) -> float:
        """Largest representable value."""
        return float(self.raw_max) * 2.0**-self.frac

    @property
    def lsb(self) -> float:
        """Value of the least significant bit, 2^-F."""
        return 2.0**-self.frac

    # -- spelling -----------------------------------------------------------------------------------
    def _spelling(self) -> str:
        base = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{base}<{self.width},{self.integer}>"

    def __str__(self) -> str:
        if self.is_int:
            return f"{'ap_int' if self.signed else 'ap_uint'}<{self.width}>"
        base = "ap_fixed" if self.signed else "ap_ufixed"
        args = [str(self.width), str(self.integer)]
        if self.sat_bits:
            args += [self.rounding.value, self.overflow.value, str(self.sat_bits)]
        elif self.overflow is not Overflow.WRAP:
            args += [self.rounding.value, self.overflow.value]
        elif self.rounding is not Rounding.TRN:
            args += [self.rounding.value]
        return f"{base}<{','.join(args)}>"

    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Read the C++ spelling, e.g. ``ap_fixed<16,6,AP_RND,AP_SAT>`` or ``ap_uint<8>``.

        Raises:
            ValueError: naming what is wrong with ``text``.
        """
        if isinstance(text, FixedType):
            return text
        if not isinstance(text, str):
            raise ValueError(f"a fixed-point type must be a string such as 'ap_fixed<16,6>', not {text!r}")
        m = _TYPE_RE.match(text)
        if not m:
            raise ValueError(
                f"cannot read fixed-point type {text!r}: expected ap_fixed<W,I[,Q[,O[,N]]]>, "
                "ap_ufixed<...>, ap_int<W> or ap_uint<W>"
            )
        kind = m.group("kind")
        args = [a.strip() for a in m.group("args").split(",")] if m.group("args").strip() else []
        signed = kind in ("ap_fixed", "ap_int")

        def integer(a: str, what: str) -> int:
            try:
                return int(a, 0)
            except ValueError:
                raise ValueError(f"{text!r}: {what} must be an integer, not {a!r}") from None

        if kind in ("ap_int", "ap_uint"):
            if len(args) != 1:
                raise ValueError(f"{text!r}: {kind} takes exactly one argument, the width")
            w = integer(args[0], "the width")
            if not 1 <= w <= MAX_WIDTH:
                raise ValueError(f"{text!r}: width {w} is outside 1..{MAX_WIDTH}")
            return cls(w, w, signed, is_int=True)
        if not 2 <= len(args) <= 5:
            raise ValueError(f"{text!r}: {kind} takes 2 to 5 arguments <W,I[,Q[,O[,N]]]>")
        w = integer(args[0], "the width W")
        i = integer(args[1], "the integer bits I")
        if not 1 <= w <= MAX_WIDTH:
            raise ValueError(f"{text!r}: width {w} is outside 1..{MAX_WIDTH}")
        q = Rounding.TRN
        o = Overflow.WRAP
        n = 0
        if len(args) > 2:
            try:
                q = Rounding(args[2])
            except ValueError:
                valid = ", ".join(r.value for r in Rounding)
                raise ValueError(f"{text!r}: unknown rounding mode {args[2]!r} (valid: {valid})") from None
        if len(args) > 3:
            try:
                o = Overflow(args[3])
            except ValueError:
                valid = ", ".join(v.value for v in Overflow)
                raise ValueError(f"{text!r}: unknown overflow mode {args[3]!r} (valid: {valid})") from None
        if len(args) > 4:
            n = integer(args[4], "the saturation bits N")
        try:
            return cls(w, i, signed, q, o, n)
        except ValueError as e:
            raise ValueError(f"{text!r}: {e}") from None

    # -- convenience constructors -------------------------------------------------------------------
    def with_modes(
        self, rounding: Rounding | str | None = None, overflow: Overflow | str | None = None
    ) -> FixedType:
        """The same bits with other modes."""
        return FixedType(
            self.width,
            self.integer,
            self.signed,
            Rounding(rounding) if rounding is not None else self.rounding,
            Overflow(overflow) if overflow is not None else self.overflow,
            self.sat_bits if overflow is None else 0,
        )

    @classmethod
    def from_frac(
        cls,
        integer: int,
        frac: int,
        signed: bool = True,
        rounding: Rounding | str = Rounding.TRN,
        overflow: Overflow | str = Overflow.WRAP,
    ) -> FixedType:
        """Build a type from integer and fractional bit counts."""
        return cls(integer + frac, integer, signed, Rounding(rounding), Overflow(overflow))
