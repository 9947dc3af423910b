"""Decode sessions of a project: the bit-exact NumPy reference (:class:`EmulationDecoder`, from
:mod:`hlsgen.quant.decode_session`) and the compiled C++ (:class:`CsimDecoder`, over
:class:`hlsgen.backends.hls.csim.DecodeLibrary`); :func:`open_decoder` opens either."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..backends.hls.csim import DecodeLibrary
from ..backends.hls.decode import decode_files, decode_project_name
from ..config import MlaForm
from ..ir.graph import input_raw
from ..quant.decode_pass import DecodeDesign
from ..quant.decode_session import Decoder, EmulationDecoder
from .design import decode_design

if TYPE_CHECKING:
    from ..project import Project


class CsimDecoder(Decoder):
    """Decode in the compiled C++ (g++ csim): the caches are the static arrays of the decode top function.

    One sequence at a time (batch 1). Each session loads its own copy of the shared library, so two
    sessions never share a cache.
    """

    mode = "csim"

    def __init__(self, design: DecodeDesign, name: str, config: Any) -> None:
        super().__init__(design, name)
        self.project = decode_project_name(config)
        self.files = decode_files(design, config)
        self._lib = DecodeLibrary(self.files, self.project)
        self.build_seconds = self._lib.build_seconds
        self.last_status = (0, 0)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.last_status = self._lib.reset()

    def step_raw(self, x: Any) -> list[np.ndarray]:
        a, _ = self._token(x)
        if a.shape[0] != 1:
            raise ValueError(
                f"decoder of {self.name} (csim): one sequence at a time (batch 1), got batch {a.shape[0]}"
            )
        g = self.design.graph
        raw_in = input_raw(a, g.tensors[self.design.token].type)
        sizes = [g.tensors[k].size for k in g.outputs]
        out, st = self._lib.step(raw_in, sum(sizes))
        self.last_status = st
        if st[1]:
            raise self._overflow()
        if st[0] != self._pos:
            raise RuntimeError(
                f"csim of {self.project}: the design is at position {st[0]}, the session at {self._pos}"
            )
        self._pos += 1
        res, k = [], 0
        for s in sizes:
            res.append(out[None, k : k + s])
            k += s
        return res


def open_decoder(
    project: Project,
    mode: str = "emulation",
    max_length: int | None = None,
    form: MlaForm | str | None = None,
    batch: int | None = None,
) -> Decoder:
    """A decode session of ``project``: ``mode`` is "emulation" (NumPy reference) or "csim" (g++)."""
    design = decode_design(project, max_length, form)
    if mode == "emulation":
        return EmulationDecoder(design, project.graph.name, batch)
    if mode == "csim":
        cfg = project.config
        if max_length or form:
            import dataclasses

            cfg = dataclasses.replace(
                cfg,
                decode=dataclasses.replace(cfg.decode, max_length=design.max_length, mla_form=design.form),
            )
        return CsimDecoder(design, project.graph.name, cfg)
    raise ValueError(f"decoder mode must be 'emulation' or 'csim', not {mode!r}")


__all__ = ["CsimDecoder", "Decoder", "EmulationDecoder", "open_decoder"]
