"""Render findings for people (text) and for tools (json, github, sarif)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tllint.findings.model import Finding
from tllint.output.github import render_github
from tllint.output.json_format import render_json
from tllint.output.sarif import render_sarif
from tllint.output.text import render_text

Renderer = Callable[[Sequence[Finding], int, bool], str]

FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}

__all__ = ["FORMATS", "Renderer"]
