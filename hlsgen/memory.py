"""Block memory counts, in one place for every estimate (op costs, the resource plan, the cache report).

Xilinx block RAM comes as BRAM18 (18 Kb: 16384 data bits, 18432 with parity) in aspect ratios from
16384 x 1 to 512 x 36 (simple dual port), two to a BRAM36 tile; UltraRAM (UltraScale+) as 288 Kb blocks of
4096 x 72. Three counts, each an estimate used where it fits:

- :func:`bram18_for_bits`: a table or ROM that the tool packs freely: its bits over one block's 18432.
- :func:`bram18_wide`: a memory read one whole word per cycle at the widest shape, 512 x 36 blocks side by
  side and stacked (Vitis HLS's default for a reshaped weight ROM or a cache of one row per word).
- :func:`bram18_blocks`: one array at its cheapest aspect ratio (the decode cache report).
"""

from __future__ import annotations

import math

#: bits of one BRAM18, parity included
BRAM18_BITS = 18432
#: BRAM18 aspect ratios (width, depth) a simple dual-port array can use
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))
#: an UltraRAM block: 72 bits x 4096 words
URAM_WIDTH, URAM_DEPTH = 72, 4096


def bram18_for_bits(bits: int) -> int:
    """BRAM18 blocks that hold ``bits`` packed freely (tables, ROMs)."""
    return -(-int(bits) // BRAM18_BITS)


def bram18_wide(width: int, depth: int) -> int:
    """BRAM18 blocks of ``depth`` words of ``width`` bits at 512 x 36 each."""
    return math.ceil(width / 36) * math.ceil(depth / 512)


def bram18_blocks(bits: int, depth: int) -> int:
    """BRAM18 blocks of one array of ``depth`` words of ``bits`` (the cheapest aspect ratio)."""
    if depth == 0 or bits == 0:
        return 0
    return min(math.ceil(bits / w) * math.ceil(depth / d) for w, d in BRAM18_SHAPES)


def uram_blocks(bits: int, depth: int) -> int:
    """URAM blocks (72 bits x 4096) of one array of ``depth`` words of ``bits``."""
    if depth == 0 or bits == 0:
        return 0
    return math.ceil(bits / URAM_WIDTH) * math.ceil(depth / URAM_DEPTH)


__all__ = ["BRAM18_BITS", "BRAM18_SHAPES", "bram18_blocks", "bram18_for_bits", "bram18_wide", "uram_blocks"]
