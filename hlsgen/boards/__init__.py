"""The board registry: one YAML file per board in ``boards/``, read into a typed, validated :class:`Board`.

A board file says what hlsgen needs to build firmware for a board: the Vivado part, its family (and the
``synth_xilinx -family`` that Yosys resource counts use), the default clock, the device's resources (the
denominators of utilisation figures) and the shell, i.e. how the accelerator meets the rest of the system::

    name: zcu104                      # registry name; a registry file is boards/<name>.yaml
    description: AMD ZCU104 evaluation kit, Zynq UltraScale+ MPSoC XCZU7EV
    part: xczu7ev-ffvc1156-2-e        # the Vivado part number
    family: zynquplus                 # see Family
    yosys_family: xcup                # see YosysFamily; must agree with family
    clock_period_ns: 5.0              # or clock_mhz: 200 (both may be given if they agree)
    resources: {lut: 230400, ff: 460800, dsp: 1728, bram18: 624, uram: 96}
    shell: zynq                       # zynq | alveo | bare
    ps: zynq_ultra_ps_e               # zynq only: zynq7 | zynq_ultra_ps_e
    pynq: true                        # zynq only, optional (default false): a PYNQ image exists
    # alveo only: platform: xilinx_u50_gen3x16_xdma_5_202210_1, memory: hbm | ddr

:func:`load_board` takes a registry name (``hlsgen boards`` lists them) or the path of a user's own file in
the same schema. The problems of a file are reported together, each naming the file and the field (checks
between fields, such as family against yosys_family, follow once every field is valid on its own).

The package: :mod:`.model` (the Board, its fields' enums, validation) and :mod:`.registry` (files, the
registry, the table).
"""

from __future__ import annotations

from .model import (
    Board,
    BoardError,
    Family,
    Memory,
    ProcessingSystem,
    Resources,
    Shell,
    UnknownBoard,
    YosysFamily,
)
from .registry import board_names, format_table, list_boards, load_board, read_board_file

__all__ = [
    "Board",
    "BoardError",
    "Family",
    "Memory",
    "ProcessingSystem",
    "Resources",
    "Shell",
    "UnknownBoard",
    "YosysFamily",
    "board_names",
    "format_table",
    "list_boards",
    "load_board",
    "read_board_file",
]
