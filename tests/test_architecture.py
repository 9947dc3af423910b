"""The layer contract, checked from the code's own imports (docs/ARCHITECTURE.md draws the picture).

Imports run downward only, lazily or not: a module may import its own layer or any layer below, never
one above; the two backends are peers that never import each other; and no import circle exists anywhere
in hlsgen. Imports under ``if TYPE_CHECKING:`` are annotations, never run, and are left out (as
import-linter's ``exclude_type_checking_imports`` does). A plain ``ast`` walk, no import is executed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hlsgen"

#: lowest first; a module belongs to the layer of its longest matching prefix. Modules in one entry may
#: import each other (without circles); entries joined by " | " are independent peers.
LAYERS: tuple[str, ...] = (
    "hlsgen._version hlsgen.tools hlsgen.resources hlsgen.io hlsgen.memory",
    "hlsgen.fixed",
    "hlsgen.config hlsgen.boards",
    "hlsgen.ir",
    "hlsgen.quant",
    "hlsgen.layers",
    "hlsgen.frontend",
    "hlsgen.backends hlsgen.backends.templating hlsgen.backends.axis",
    "hlsgen.backends.hls | hlsgen.backends.rtl",
    "hlsgen.project hlsgen.convert hlsgen.decode hlsgen.shells hlsgen.plan",
    "hlsgen hlsgen.commands hlsgen.cli hlsgen.analysis hlsgen.report hlsgen.build hlsgen.demo hlsgen.fuzz",
)

#: circles that are known and owned elsewhere (each with its reason); empty once they are gone
ALLOWED_CIRCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` imports ``target`` at ``line``."""

    source: str
    target: str
    line: int


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package ``__init__``) of every .py file under ``root``."""
    out = {}
    for p in sorted(root.rglob("*.py")):
        parts = list(p.relative_to(root.parent).with_suffix("").parts)
        pkg = parts[-1] == "__init__"
        if pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (p, pkg)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _walk(other)
            continue
        yield child
        yield from _walk(child)


def imports(root: Path) -> list[Import]:
    """The package-internal imports of every module under ``root`` (top-level and lazy alike)."""
    top = root.name
    mods = _modules(root)
    edges = []
    for name, (path, pkg) in mods.items():
        base = name.split(".") if pkg else name.split(".")[:-1]
        for node in _walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    pre = base[: len(base) - (node.level - 1)]
                    mod = ".".join(pre + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names]
            for t in targets:
                if t == top or t.startswith(top + "."):
                    while t not in mods and "." in t:  # ``import pkg.mod.attr`` -> the module
                        t = t.rsplit(".", 1)[0]
                    if t != name:
                        edges.append(Import(name, t, node.lineno))
    return edges


def layer_of(module: str, layers: tuple[str, ...] = LAYERS) -> tuple[int, int]:
    """(layer index, peer index) of ``module``: its longest matching prefix in ``layers``."""
    best: tuple[int, int, int] | None = None
    for i, entry in enumerate(layers):
        for j, peer in enumerate(entry.split("|")):
            for prefix in peer.split():
                if module == prefix or module.startswith(prefix + "."):
                    if best is None or len(prefix) > best[0]:
                        best = (len(prefix), i, j)
    if best is None:
        raise LookupError(f"module {module} is in no layer: add it to LAYERS (tests/test_architecture.py)")
    return best[1], best[2]


def upward(edges: list[Import], layers: tuple[str, ...] = LAYERS) -> list[str]:
    """The imports that run up a layer or across peers, as readable lines."""
    bad = []
    for e in edges:
        (ls, ps), (lt, pt) = layer_of(e.source, layers), layer_of(e.target, layers)
        if lt > ls:
            bad.append(f"{e.source}:{e.line} imports {e.target} (layer {lt} above its layer {ls})")
        elif lt == ls and ps != pt:
            bad.append(f"{e.source}:{e.line} imports its peer {e.target}")
    return bad


def circles(edges: list[Import]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# -- the contract on hlsgen --------------------------------------------------------------------------
def test_every_module_has_a_layer() -> None:
    for m in _modules(ROOT):
        layer_of(m)


def test_no_import_runs_up_a_layer() -> None:
    bad = upward(imports(ROOT))
    assert not bad, "imports against the layers (docs/ARCHITECTURE.md):\n" + "\n".join(bad)


def test_no_import_circle() -> None:
    found = [c for c in circles(imports(ROOT)) if c not in ALLOWED_CIRCLES]
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(sorted(c)) for c in found)


def test_backends_know_no_cli_error() -> None:
    """Backends raise their own errors (NotImplementedError, ToolMissing, ValueError); cli.py maps them."""
    for e in imports(ROOT):
        if e.source.startswith("hlsgen.backends"):
            assert e.target != "hlsgen.cli", f"{e.source}:{e.line} imports hlsgen.cli"


def test_ir_ops_render_nothing() -> None:
    """An IR op holds semantics only: each backend's table renders it."""
    from hlsgen.backends.hls.ops import RENDERERS as HLS
    from hlsgen.ir import ops

    for cls in vars(ops).values():
        if isinstance(cls, type) and issubclass(cls, ops.Op) and cls is not ops.Op:
            assert "hls" not in vars(cls), (
                f"{cls.__name__}.hls(): its rendering belongs in backends/hls/ops.py"
            )
            assert cls.kind in HLS, f"the HLS backend has no entry for op kind {cls.kind!r}"


# -- the checker itself fails where it must (a synthetic package) -------------------------------------
def _package(tmp: Path, files: dict[str, str]) -> Path:
    root = tmp / "pkg"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


_SYNTH_LAYERS = ("pkg.low", "pkg.mid", "pkg.a | pkg.b", "pkg pkg.top")


@pytest.mark.parametrize(
    ("files", "expect"),
    [
        ({"mid.py": "from . import low\n", "top.py": "from .mid import x\n"}, []),
        ({"mid.py": "def f():\n    from .top import y\n"}, ["pkg.mid:2 imports pkg.top"]),
        (
            {"low.py": "import pkg.mid.sub\n", "mid/__init__.py": "", "mid/sub.py": ""},
            ["pkg.low:1 imports pkg.mid.sub"],
        ),
        ({"a.py": "from .b import z\n"}, ["pkg.a:1 imports its peer pkg.b"]),
        (
            {"mid.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .top import T\n"},
            [],
        ),
    ],
    ids=["downward", "lazy-upward", "absolute-upward", "peers", "type-checking"],
)
def test_checker_flags_upward_imports(tmp_path: Path, files: dict[str, str], expect: list[str]) -> None:
    base = {"__init__.py": "", "low.py": "", "mid.py": "", "a.py": "", "b.py": "", "top.py": ""}
    root = _package(tmp_path, {**base, **files})
    if "mid/__init__.py" in files:
        (root / "mid.py").unlink()
    bad = upward(imports(root), _SYNTH_LAYERS)
    assert [b.split(" (")[0] for b in bad] == expect


def test_checker_finds_circles(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "low.py": "def f():\n    from . import mid\n",
            "mid.py": "from .low import f\n",
            "top.py": "from . import low\n",
        },
    )
    assert circles(imports(root)) == [frozenset({"pkg.low", "pkg.mid"})]
