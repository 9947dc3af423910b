"""The error every front end raises for a model it cannot convert."""

from __future__ import annotations


class UnsupportedModelError(ValueError):
    """The model holds layers or options hlsgen cannot convert; the message lists every one."""


__all__ = ["UnsupportedModelError"]
