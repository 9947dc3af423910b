"""Board integration: the files that put a converted design on a board, around the HLS project.

The board's shell (:class:`hlsgen.boards.Shell`) decides what is written next to the Vitis HLS project
(whose ``build_prj.tcl`` already targets the board's part and clock, through ``Config.part`` and
``Config.clock_period``):

- ``zynq``: an AXI4-Stream wrapper of the top function (``firmware/<p>_axi.cpp``), a Vitis HLS script
  that exports it as IP (``build_ip.tcl``), a Vivado script that builds the block design (processing
  system, AXI DMA, interconnect, clocks) and runs to a bitstream (``vivado/build_bd.tcl``), and, when
  the board has a PYNQ image, a Python overlay driver (``driver/``);
- ``alveo``: a Vitis kernel (``kernel/<p>_kernel.cpp``, m_axi data and s_axilite control), the ``v++``
  link configuration (``link.cfg``), a build script (``build_xclbin.sh``) and XRT host code (``host/``);
- ``bare``: nothing more than the HLS project set to the part.

Data crosses the shell as 32-bit words, one value per word: the low ``W`` bits of a word hold the raw
two's complement bits of an ``ap_fixed<W, I>`` value (upper bits zero), inputs one after the other in
the order of the model's inputs, each row-major; outputs likewise. The Python side quantizes with a
verbatim copy of :mod:`hlsgen.fixed` (``hlsgen_fixed/``), so the host's inputs are the bits that the
NumPy reference and csim see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .boards import Board, Shell, load_board
from .fixed import FixedType
from .ir.graph import Graph

#: Bits of one word on the DMA stream / in device memory.
WORD_BITS = 32

#: The modules of hlsgen.fixed that the drivers carry (pure NumPy, no other hlsgen import).
_FIXED_MODULES = ("types.py", "arith.py")


@dataclass(frozen=True)
class IoPort:
    """One model input or output as it crosses the shell.

    Attributes:
        name: the tensor's C identifier (also the top function's argument).
        shape: per-sample shape.
        type: its fixed-point type.
        offset: first word of this port within one sample's words.
    """

    name: str
    shape: tuple[int, ...]
    type: FixedType
    offset: int

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def width(self) -> int:
        return self.type.width

    @property
    def ctype(self) -> str:
        return str(self.type)

    @property
    def is_mask(self) -> bool:
        """A mask input (``ap_uint<1>``): the host sends ``x != 0``, as the reference reads it."""
        t = self.type
        return t.width == 1 and not t.signed and t.frac == 0


def io_ports(graph: Graph) -> tuple[list[IoPort], list[IoPort]]:
    """The inputs and outputs of ``graph`` with their word offsets.

    Raises:
        ValueError: a port is wider than a word (naming the tensor and its type).
    """
    graph.check_typed()

    def ports(names: Sequence[str], what: str) -> list[IoPort]:
        out, offset = [], 0
        for n in names:
            t = graph.tensors[n]
            assert t.type is not None
            if t.type.width > WORD_BITS:
                raise ValueError(
                    f"{what} {n}: type {t.type} is wider than the {WORD_BITS}-bit words of the board "
                    f"interface; give it at most {WORD_BITS} bits in the config"
                )
            out.append(IoPort(n, t.shape, t.type, offset))
            offset += t.size
        return out

    return ports(graph.inputs, "input"), ports(graph.outputs, "output")


def resolve_board(board: Board | str | Path | None) -> Board | None:
    """A :class:`Board` from a Board, a registry name or a board file path (None stays None)."""
    if board is None or board == "":
        return None
    return board if isinstance(board, Board) else load_board(board)


def apply_board(config: Any, board: Board | str | Path | None) -> Any:
    """The config set to a board: ``board`` (or else ``config.board``) fixes part, clock and board.

    Returns a copy when anything changes; the board is validated here, so that a bad name or file fails
    before the (slow) model conversion.

    Raises:
        UnknownBoard: a name not in the registry (the message lists the known boards).
        BoardError / FileNotFoundError: a bad or missing board file.
    """
    b = resolve_board(board if board not in (None, "") else config.board)
    if b is None:
        return config
    cfg = dataclasses.replace(config)
    cfg.board = board_reference(b)
    cfg.part = b.part
    cfg.clock_period = b.clock_period_ns
    return cfg


def board_reference(board: Board) -> str:
    """What ``Config.board`` records: the registry name, or the absolute path of a user's board file."""
    from .resources import resource_dir

    if board.source is None or board.source.resolve().parent == resource_dir("boards").resolve():
        return board.name
    return str(board.source.resolve())


def _pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.replace("-", "_").split("_") if p)


def _fixed_package() -> dict[str, str]:
    """hlsgen.fixed's pure-NumPy modules, verbatim after a banner, as the package ``hlsgen_fixed``."""
    from .backends.templating import banner
    from .fixed import arith

    src = Path(arith.__file__).resolve().parent
    files = {}
    for mod in _FIXED_MODULES:
        text = (src / mod).read_text(encoding="utf-8")
        files[f"hlsgen_fixed/{mod}"] = f"{banner('#')}\n# A verbatim copy of hlsgen/fixed/{mod}.\n{text}"
    return files


def shell_files(graph: Graph, config: Any, board: Board) -> dict[str, str]:
    """The integration files of ``board``'s shell for the typed ``graph`` (nothing written).

    Args:
        graph: the typed IR graph.
        config: the project's :class:`~hlsgen.config.Config` (project name, clock, part).
        board: the board.

    Returns:
        Relative path -> text, to be written with the rest of the project.
    """
    from .backends.templating import banner, environment, render

    io_type = getattr(config.io_type, "value", config.io_type)
    if board.shell is not Shell.BARE and io_type != "io_parallel":
        raise ValueError(
            f"board {board.name}: the {board.shell.value} integration wraps an io_parallel top function; "
            f"this project is {io_type} (use io_type: io_parallel, or a bare board)"
        )
    env = environment()
    env.filters["pascal"] = _pascal
    env.filters["py"] = repr
    inputs, outputs = io_ports(graph)
    project = config.project_name
    ctx = {
        "project": project,
        "board": board,
        "board_dict": board.to_dict(),
        "inputs": inputs,
        "outputs": outputs,
        "in_words": sum(p.size for p in inputs),
        "out_words": sum(p.size for p in outputs),
        "word_bits": WORD_BITS,
        "part": config.part,
        "clock_period": config.clock_period,
        "clock_mhz": f"{1000.0 / config.clock_period:.6g}",
        "clock_hz": int(round(1e9 / config.clock_period)),
    }
    files: dict[str, str] = {}
    if board.source is not None and board.source.is_file():
        text = board.source.read_text(encoding="utf-8")
        origin = f"a copy of {board.source.name}"
    else:
        import yaml

        data = board.to_dict()
        data.pop("clock_mhz", None)
        text, origin = yaml.safe_dump(data, sort_keys=False), "written from the Board object"
    files["hlsgen_board.yml"] = f"{banner('#')}\n# The board this project was made for ({origin}).\n{text}"
    files["BOARD.md"] = render(env, "boards/BOARD.md.j2", **ctx)
    if board.shell is Shell.ZYNQ:
        files[f"firmware/{project}_axi.h"] = render(env, "boards/zynq/axi.h.j2", **ctx)
        files[f"firmware/{project}_axi.cpp"] = render(env, "boards/zynq/axi.cpp.j2", **ctx)
        files["build_ip.tcl"] = render(env, "boards/zynq/build_ip.tcl.j2", **ctx)
        files["vivado/build_bd.tcl"] = render(env, "boards/zynq/build_bd.tcl.j2", **ctx)
        if board.pynq:
            files[f"driver/{project}_io.py"] = render(env, "boards/io.py.j2", **ctx)
            files[f"driver/{project}_overlay.py"] = render(env, "boards/zynq/overlay.py.j2", **ctx)
            files["driver/hlsgen_fixed/__init__.py"] = render(env, "boards/hlsgen_fixed_init.py.j2", **ctx)
            files.update({f"driver/{k}": v for k, v in _fixed_package().items()})
    elif board.shell is Shell.ALVEO:
        files[f"kernel/{project}_kernel.cpp"] = render(env, "boards/alveo/kernel.cpp.j2", **ctx)
        files["link.cfg"] = render(env, "boards/alveo/link.cfg.j2", **ctx)
        files["build_xclbin.sh"] = render(env, "boards/alveo/build_xclbin.sh.j2", **ctx)
        files[f"host/{project}_io.py"] = render(env, "boards/io.py.j2", **ctx)
        files[f"host/{project}_host.py"] = render(env, "boards/alveo/host.py.j2", **ctx)
        files["host/hlsgen_fixed/__init__.py"] = render(env, "boards/hlsgen_fixed_init.py.j2", **ctx)
        files.update({f"host/{k}": v for k, v in _fixed_package().items()})
    return files


#: The files each shell adds (``{p}`` is the project name), for documentation and tests.
SHELL_FILES: dict[Shell, tuple[str, ...]] = {
    Shell.ZYNQ: (
        "hlsgen_board.yml",
        "BOARD.md",
        "firmware/{p}_axi.h",
        "firmware/{p}_axi.cpp",
        "build_ip.tcl",
        "vivado/build_bd.tcl",
    ),
    Shell.ALVEO: (
        "hlsgen_board.yml",
        "BOARD.md",
        "kernel/{p}_kernel.cpp",
        "link.cfg",
        "build_xclbin.sh",
        "host/{p}_io.py",
        "host/{p}_host.py",
        "host/hlsgen_fixed/__init__.py",
        "host/hlsgen_fixed/types.py",
        "host/hlsgen_fixed/arith.py",
    ),
    Shell.BARE: ("hlsgen_board.yml", "BOARD.md"),
}
#: Added to a Zynq board's files when it has a PYNQ image.
PYNQ_FILES = (
    "driver/{p}_io.py",
    "driver/{p}_overlay.py",
    "driver/hlsgen_fixed/__init__.py",
    "driver/hlsgen_fixed/types.py",
    "driver/hlsgen_fixed/arith.py",
)


def expected_files(board: Board, project: str) -> list[str]:
    """The relative paths :func:`shell_files` writes for ``board``."""
    names = list(SHELL_FILES[board.shell])
    if board.shell is Shell.ZYNQ and board.pynq:
        names += PYNQ_FILES
    return [n.format(p=project) for n in names]


__all__ = [
    "PYNQ_FILES",
    "apply_board",
    "SHELL_FILES",
    "WORD_BITS",
    "IoPort",
    "board_reference",
    "expected_files",
    "io_ports",
    "resolve_board",
    "shell_files",
]
