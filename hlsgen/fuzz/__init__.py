"""Differential fuzzing of the whole pipeline: random valid models (:mod:`.spec`, :mod:`.model`), every
level compared with the emulation (:mod:`.check`), failures shrunk to a small reproducer and campaigns run
on local processes or a Dask cluster (:mod:`.run`), and bad inputs to the CLI (:mod:`.bad_input`)."""

from __future__ import annotations

from .check import Levels, Outcome, Stage, check_spec
from .spec import BlockKind, BlockSpec, ModelSpec, Pool, random_spec, smaller

__all__ = [
    "BlockKind", "BlockSpec", "Levels", "ModelSpec", "Outcome", "Pool", "Stage", "check_spec", "random_spec",
    "smaller",
]  # fmt: skip
