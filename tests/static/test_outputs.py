"""The formats for tools: SARIF validated against the official 2.1.0 schema (with URI formats checked to RFC 3986),
rule metadata and fingerprints; GitHub workflow commands escaped as the format requires."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker

from tests.helpers import REPO, SEED_WRONG, SEED_WRONG_LINE, run_tllint
from tllint import REPOSITORY_URL
from tllint.findings.model import Finding, Severity, Span
from tllint.findings.pages import rule_page
from tllint.findings.registry import catalog
from tllint.output import Report, renderer

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

# RFC 3986: the characters a URI may hold (unreserved, reserved, `%` of a percent-encoding).
_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]%]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def is_uri_reference(text: object) -> bool:
    if not isinstance(text, str) or not _ALLOWED.fullmatch(text):
        return False
    if re.search(r"%(?![0-9A-Fa-f]{2})", text) or text.count("#") > 1:
        return False
    if _SCHEME.match(text):
        return True
    return ":" not in text.split("/", 1)[0]  # a relative path's first segment with `:` would read as a scheme


def is_uri(text: object) -> bool:
    return is_uri_reference(text) and _SCHEME.match(str(text)) is not None


def validator() -> Draft4Validator:
    checker = FormatChecker()
    checker.checks("uri")(is_uri)
    checker.checks("uri-reference")(is_uri_reference)
    return Draft4Validator(SCHEMA, format_checker=checker)


def test_the_uri_checks_reject_what_the_issue_reported() -> None:
    """The format checks above must be able to fail: a space is no valid URI character."""
    assert not is_uri_reference("sub dir/my train.py")
    assert is_uri_reference("sub%20dir/my%20train.py")
    errors = list(validator().iter_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "sub dir/my train.py"}}}]}]}]}))
    assert errors and "uri-reference" in str(errors[0])


def sarif(tmp_path: Path, *files: tuple[str, str], args: tuple[str, ...] = ()) -> dict[str, Any]:
    for name, text in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result = run_tllint("check", "--output-format", "sarif", *args, *(name for name, _ in files), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_sarif_for_a_path_with_spaces_validates_against_the_official_schema(tmp_path: Path) -> None:
    log = sarif(tmp_path, ("sub dir/my train.py", SEED_WRONG))
    errors = sorted(validator().iter_errors(log), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:3])
    [run] = log["runs"]
    [result] = run["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "sub%20dir/my%20train.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == SEED_WRONG_LINE
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_sarif_describes_every_rule_that_ran(tmp_path: Path) -> None:
    log = sarif(tmp_path, ("train.py", SEED_WRONG))
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {"TL000", "TL001", "TL002"} <= rules.keys() and "TL900" not in rules  # what ran, not the opt-in rule
    info = catalog()["TL001"]
    rule = rules["TL001"]
    page = rule_page(info)
    assert rule["shortDescription"] == {"text": info.summary}
    assert rule["fullDescription"]["text"] == " ".join(page.section("What it does").split())
    assert rule["helpUri"] == f"{REPOSITORY_URL}/blob/main/rules/TL001-freeze-after-head-replacement.md"
    assert (REPO / "rules" / "TL001-freeze-after-head-replacement.md").is_file()  # the page the link names
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["help"]["markdown"] == page.text
    [result] = log["runs"][0]["results"]
    assert log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "TL001"


def test_sarif_of_a_file_outside_the_folder_is_an_absolute_file_uri(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    script = tmp_path / "outside" / "train #1.py"
    script.write_text(SEED_WRONG)
    (tmp_path / "here").mkdir()
    result = run_tllint("check", "--output-format", "sarif", str(script), cwd=tmp_path / "here")
    log = json.loads(result.stdout)
    assert not list(validator().iter_errors(log))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": script.as_uri()} and "%23" in location["uri"]


def test_fingerprints_follow_a_finding_across_commits_that_move_it(tmp_path: Path) -> None:
    """Code scanning matches alerts by partialFingerprints: lines added above a finding must not change it, a
    finding on another line must have another."""
    before = sarif(tmp_path, ("train.py", SEED_WRONG))["runs"][0]["results"]
    moved = sarif(tmp_path, ("train.py", "# a new comment\n\n" + SEED_WRONG))["runs"][0]["results"]
    assert moved[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == SEED_WRONG_LINE + 2
    assert moved[0]["partialFingerprints"] == before[0]["partialFingerprints"]
    twice = SEED_WRONG + SEED_WRONG.split("\n", 3)[3]  # the same freeze loop again: a second, distinct alert
    results = sarif(tmp_path, ("train.py", twice))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["tllint/v1"] for r in results if r["ruleId"] == "TL001"]
    assert len(prints) == 2 and len(set(prints)) == 2


def finding(path: str, message: str) -> Finding:
    return Finding("TL001", "freeze-after-head-replacement", Severity.ERROR, message, path, Span(3, 1, 3, 9))


@pytest.mark.parametrize(("path", "message", "expected"), [
    ("a,b:c.py", "50% done\r\nnext", "::error file=a%2Cb%3Ac.py,line=3,col=1,endLine=3,endColumn=9,"
     "title=TL001 freeze-after-head-replacement::50%25 done%0D%0Anext"),
    ("100%.py", "keys: a, b", "::error file=100%25.py,line=3,col=1,endLine=3,endColumn=9,"
     "title=TL001 freeze-after-head-replacement::keys: a, b"),
])
def test_github_annotations_escape_as_workflow_commands_require(path: str, message: str, expected: str) -> None:
    """`%`, CR and LF in the message; also `:` and `,` in property values (the message keeps them)."""
    assert renderer("github")(Report([finding(path, message)])) == expected + "\n"


def test_github_format_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "my, train.py").write_text(SEED_WRONG)
    result = run_tllint("check", "--output-format", "github", "my, train.py", cwd=tmp_path)
    assert result.stdout.startswith(f"::error file=my%2C train.py,line={SEED_WRONG_LINE},col=1,"), result.stdout
    assert result.stdout.count("\n") == 1
