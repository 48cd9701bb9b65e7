"""SARIF 2.1.0, for code-scanning dashboards."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tllint import __version__
from tllint.findings.model import Finding, Severity
from tllint.findings.registry import rule_info

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(findings: Sequence[Finding], files_checked: int, colour: bool) -> str:
    codes = sorted({f.code for f in findings})
    rules = [
        {"id": info.code, "name": info.name, "shortDescription": {"text": info.summary},
         "defaultConfiguration": {"level": _LEVEL[info.severity]}}
        for info in map(rule_info, codes)
    ]
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path.replace("\\", "/")},
                "region": {"startLine": f.span.line, "startColumn": f.span.column,
                           "endLine": f.span.end_line, "endColumn": f.span.end_column + 1},
            }}],
        }
        for f in findings
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "tllint", "version": __version__, "rules": rules}},
                  "results": results}],
    }
    return json.dumps(log, indent=2) + "\n"
