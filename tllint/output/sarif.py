"""SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning, Azure DevOps, IDE viewers).

Paths are URI references relative to `%SRCROOT%` (the folder tllint ran in, in `originalUriBaseIds`),
percent-encoded, so that `sub dir/my train.py` is a valid `uri`. Every rule that ran is described with its
summary, the first section of its page, the page itself (Markdown) and a link to it in the repository. Each result
carries a fingerprint of its code, file and source line (not its line number), so that code scanning follows an
alert across commits that move it, and its fix where the rule can make one. In a notebook, a region's lines and
columns count within the cell that its location names: a logical location `cell N` and the property `cell` (N
counts every cell of the notebook, from 1).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tllint import REPOSITORY_URL, __version__
from tllint.findings.model import Finding, Severity
from tllint.findings.pages import rule_page
from tllint.findings.registry import rule_info
from tllint.output import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT = "%SRCROOT%"
FINGERPRINT = "tllint/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_url(code: str) -> str:
    """The rule's page in the repository (`rules/<CODE>-<name>.md`)."""
    return f"{REPOSITORY_URL}/blob/main/rules/{rule_page(rule_info(code)).file_name}"


def render_sarif(report: Report) -> str:
    codes = sorted(report.codes | {f.code for f in report.findings})
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tllint", "version": __version__, "informationUri": REPOSITORY_URL,
                                "rules": [_rule(code) for code in codes]}},
            "originalUriBaseIds": {ROOT: {"uri": Path(report.root).absolute().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": _results(report, codes),
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _rule(code: str) -> dict[str, Any]:
    info = rule_info(code)
    page = rule_page(info)
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": " ".join(page.section("What it does").split())},
        "help": {"text": page.text, "markdown": page.text},
        "helpUri": rule_url(code),
        "defaultConfiguration": {"level": _LEVEL[info.severity]},
    }


def _results(report: Report, codes: list[str]) -> list[dict[str, Any]]:
    seen: Counter[str] = Counter()
    results = []
    for finding in report.findings:
        identity = _identity(finding)
        seen[identity] += 1
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": codes.index(finding.code),
            "level": _LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [_location(finding, report.root)],
            "partialFingerprints": {FINGERPRINT: _digest(f"{identity}\0{seen[identity]}")},
        }
        if finding.fix is not None:
            result["fixes"] = [_fix(finding, report.root)]
        results.append(result)
    return results


def _fix(finding: Finding, root: str) -> dict[str, Any]:
    """The finding's fix as a SARIF fix: its edits as replacements (their ends are exclusive, like SARIF's; in a
    notebook, the cell each counts within in its property bag), and whether it is safe in the fix's."""
    fix = finding.fix
    assert fix is not None
    return {
        "description": {"text": fix.description},
        "artifactChanges": [{
            "artifactLocation": artifact_location(finding.path, root),
            "replacements": [{
                "deletedRegion": {"startLine": e.span.line, "startColumn": e.span.column,
                                  "endLine": e.span.end_line, "endColumn": e.span.end_column},
                "insertedContent": {"text": e.replacement},
                **({"properties": {"cell": e.cell}} if e.cell is not None else {}),
            } for e in fix.edits],
        }],
        "properties": {"applicability": fix.applicability.value},
    }


def _location(finding: Finding, root: str) -> dict[str, Any]:
    span = finding.span
    location: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": artifact_location(finding.path, root),
        "region": {"startLine": span.line, "startColumn": span.column,
                   "endLine": span.end_line, "endColumn": span.end_column + 1},
    }}
    if finding.cell is not None:
        location["logicalLocations"] = [{"name": f"cell {finding.cell}"}]
        location["properties"] = {"cell": finding.cell}
    return location


def artifact_location(path: str, root: str) -> dict[str, str]:
    """A relative, percent-encoded reference under `%SRCROOT%`; a file outside it by its absolute `file:` URI."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.path.abspath(root))
    if relative == ".." or relative.startswith(".." + os.sep) or os.path.isabs(relative):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": quote(relative.replace(os.sep, "/"), safe="/"), "uriBaseId": ROOT}


def _identity(finding: Finding) -> str:
    """What stays when lines move: the code, the file and the reported line's text (whitespace collapsed)."""
    text = " ".join(str(finding.extra.get("source_line", "")).split())
    return f"{finding.code}\0{finding.path}\0{text}"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
