"""Render findings for people (text) and for tools (json, github, sarif).

Each format is a function of a `Report`, in its own module, imported only when chosen: the pre-commit path loads
the text format alone.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tllint.findings.model import Finding


@dataclass(frozen=True)
class Report:
    """What a run found, and what the formats say about the run: how many files were checked, how many were
    skipped and why (`{"no training code": 40}`), which codes ran (SARIF lists their rules) and the folder
    relative paths start from."""

    findings: Sequence[Finding]
    checked: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    codes: frozenset[str] = frozenset()
    root: str = field(default_factory=os.getcwd)
    colour: bool = False
    summary: bool = True  # the text format's closing line (off with --quiet)
    fixed: int = 0  # fixes applied by this run
    fixable: int = 0  # findings reported whose fix `--fix` would apply
    unsafe_fixable: int = 0  # findings reported whose fix only `--unsafe-fixes` would apply


Renderer = Callable[[Report], str]

FORMATS: dict[str, str] = {  # name -> "module:function" under tllint.output
    "text": "text:render_text",
    "json": "json_format:render_json",
    "github": "github:render_github",
    "sarif": "sarif:render_sarif",
}


def renderer(name: str) -> Renderer:
    module, function = FORMATS[name].split(":")
    return getattr(importlib.import_module(f"tllint.output.{module}"), function)  # type: ignore[no-any-return]


__all__ = ["FORMATS", "Renderer", "Report", "renderer"]
