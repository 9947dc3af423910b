"""Board files and the registry (``boards/*.yaml``): strict YAML reading, lookup by name or path, the
table ``hlsgen boards`` prints."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..resources import resource_dir
from .model import _NAME_RE, Board, BoardError, UnknownBoard


# -- reading files -----------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_board_file(path: str | os.PathLike[str]) -> Board:
    """Read and validate one board file.

    Raises:
        FileNotFoundError: the file does not exist.
        BoardError: the file is not YAML, not a mapping, or has invalid fields (all listed, with the path).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"board file {path} does not exist")
    if not path.is_file():
        raise BoardError([(None, "is not a file; expected a board YAML file")], path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BoardError([(None, "is not a UTF-8 text file; expected a board YAML file")], path) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as e:
        raise BoardError([(None, f"not valid YAML: {_yaml_reason(e)}")], path) from None
    return Board.from_dict(data, source=path)


def _yaml_reason(e: yaml.YAMLError) -> str:
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{e.problem or e.context}{where}"
    return str(e)


def _registry_dir() -> Path:
    return resource_dir("boards")


def board_names() -> list[str]:
    """The names of the boards in the registry, sorted."""
    return sorted(p.stem for p in _registry_dir().glob("*.yaml"))


def _read_registry_file(path: Path) -> Board:
    board = read_board_file(path)
    if board.name != path.stem:
        raise BoardError(
            [("name", f"{board.name!r} does not match the file name (expected {path.stem!r})")], path
        )
    return board


def list_boards() -> list[Board]:
    """Every board in the registry, sorted by name."""
    return [_read_registry_file(p) for p in sorted(_registry_dir().glob("*.yaml"))]


def _looks_like_path(text: str) -> bool:
    return "/" in text or os.sep in text or text.endswith((".yaml", ".yml"))


def load_board(name_or_path: str | os.PathLike[str]) -> Board:
    """A board by registry name (``zcu102``, any case) or by the path of a board YAML file.

    A string holding a path separator or ending in ``.yaml`` / ``.yml`` is a path; anything else is a name.

    Raises:
        UnknownBoard: the name is not in the registry (the message lists the known boards).
        FileNotFoundError: the path does not exist.
        BoardError: the file is invalid (every problem, each naming the file and the field).
    """
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(str(name_or_path)):
        return read_board_file(Path(name_or_path).expanduser())
    name = str(name_or_path).strip().lower()
    if _NAME_RE.match(name):
        path = _registry_dir() / f"{name}.yaml"
        if path.is_file():
            return _read_registry_file(path)
    raise UnknownBoard(str(name_or_path), board_names())


# -- presentation ------------------------------------------------------------------------------------------
_TABLE_COLUMNS = ("NAME", "PART", "FAMILY", "SHELL", "CLOCK", "LUT", "FF", "DSP", "BRAM18", "URAM")


def format_table(boards: Sequence[Board]) -> str:
    """A plain-text table of boards: name, part, family, shell, clock and resources."""
    rows = [
        (
            b.name,
            b.part,
            b.family.value,
            b.shell.value,
            f"{b.clock_mhz:g} MHz",
            *(str(v) for v in b.resources.to_dict().values()),
        )
        for b in boards
    ]
    widths = [max(len(r[i]) for r in [_TABLE_COLUMNS, *rows]) for i in range(len(_TABLE_COLUMNS))]
    text_columns = 4  # name, part, family, shell are left-aligned; numbers right-aligned

    def line(cells: Sequence[str]) -> str:
        out = [
            c.ljust(w) if i < text_columns else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join(line(r) for r in [_TABLE_COLUMNS, *rows])
