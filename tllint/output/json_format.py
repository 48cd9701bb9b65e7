"""JSON: an array with one object per finding (`Finding.to_dict`)."""

from __future__ import annotations

import json

from tllint.output import Report


def render_json(report: Report) -> str:
    return json.dumps([f.to_dict() for f in report.findings], indent=2) + "\n"
