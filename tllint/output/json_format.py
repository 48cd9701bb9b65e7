"""JSON: an array with one object per finding (`Finding.to_dict`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tllint.findings.model import Finding


def render_json(findings: Sequence[Finding], files_checked: int, colour: bool) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2) + "\n"
