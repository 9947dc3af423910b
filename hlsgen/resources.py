"""Where hlsgen finds the data folders it ships: ``templates/``, ``boards/`` and ``sim/``.

In a source checkout (or an editable install) they are the top-level folders of the repository. An installed
wheel carries them inside the package as ``hlsgen/_data/<kind>`` (pyproject.toml force-includes them there).
"""

from __future__ import annotations

from pathlib import Path

#: The folder of the ``hlsgen`` package.
PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root of a source checkout (meaningless for an installed wheel, where it is site-packages).
REPO_ROOT = PACKAGE_DIR.parent


def resource_dir(kind: str) -> Path:
    """The folder holding one kind of shipped data.

    Args:
        kind: a top-level data folder, e.g. ``"templates"``, ``"boards"`` or ``"sim"``.

    Returns:
        ``<package>/_data/<kind>`` when it exists (installed wheel), otherwise ``<repo root>/<kind>``
        (source checkout or editable install).

    Raises:
        ValueError: ``kind`` is not a single folder name.
        FileNotFoundError: neither folder exists; the message names both places looked.
    """
    if not kind or kind in (".", "..") or "/" in kind or "\\" in kind:
        raise ValueError(f"resource kind must be a single folder name such as 'boards', not {kind!r}")
    packaged = PACKAGE_DIR / "_data" / kind
    if packaged.is_dir():
        return packaged
    checkout = REPO_ROOT / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"hlsgen's {kind}/ folder is missing: looked in {packaged} (installed wheel) and {checkout} "
        "(source checkout); reinstall hlsgen"
    )
