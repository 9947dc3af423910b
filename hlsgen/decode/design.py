"""The decode design of a project: its typed graph through the decode pass
(:func:`hlsgen.quant.decode_pass.to_decode`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import MlaForm
from ..quant.decode_pass import DecodeDesign, NotDecodableError, to_decode

if TYPE_CHECKING:
    from ..project import Project


def decode_design(
    project: Project, max_length: int | None = None, form: MlaForm | str | None = None
) -> DecodeDesign:
    """The decode design of a project (``max_length``/``form`` override the config's ``decode`` section)."""
    return to_decode(project.graph, project.config, max_length=max_length, form=form)


__all__ = ["DecodeDesign", "NotDecodableError", "decode_design"]
