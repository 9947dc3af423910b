"""``verilator --lint-only -Wall`` on the RTL, with the waivers of templates/rtl/hlsgen_lint.vlt (each one
listed and explained there)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ... import tools
from .writer import LINT_WAIVERS


@dataclass
class LintResult:
    """Outcome of a lint run: ``messages`` are Verilator's %Warning / %Error lines."""

    returncode: int
    messages: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and not self.messages


def lint(rtl_dir: str | Path, sources: list[str], top: str) -> LintResult:
    """Lint ``sources`` (in compile order, relative to ``rtl_dir``) with every warning on."""
    d = Path(rtl_dir)
    waivers = [LINT_WAIVERS] if (d / LINT_WAIVERS).is_file() else []
    cmd = ["verilator", "--lint-only", "-Wall", *waivers, *sources, "--top-module", top]
    r = subprocess.run(cmd, cwd=d, env=tools.verilator_env(), capture_output=True, text=True)
    out = r.stdout + r.stderr
    msgs = [line for line in out.splitlines() if line.startswith(("%Warning", "%Error"))]
    return LintResult(r.returncode, msgs, out)


__all__ = ["LintResult", "lint"]
