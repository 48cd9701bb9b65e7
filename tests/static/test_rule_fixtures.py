"""Every static fixture: the findings are exactly the `# expect:` annotations.

A fixture is a short training-script excerpt under `fixtures/static/<CODE>/` (or `correct/`, real patterns that
must stay quiet). Each line where a finding is expected ends with `# expect: TL001` (several codes:
`# expect: TL010, TL011`). `good_*` files and everything in `correct/` carry no annotation and must produce no
finding at all. Every enabled static code runs on every fixture, so a fixture also fails when another rule fires.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import (
    REPO,
    SEED_RIGHT,
    SEED_WRONG,
    SEED_WRONG_LINE,
    STATIC_FIXTURES,
    expectations,
    run_tllint,
)
from tllint.config import Config
from tllint.findings.model import Finding, Severity
from tllint.findings.registry import catalog, rule_info
from tllint.static.engine import check_source
from tllint.static.outcome import FileOutcome

CODES = Config().enabled_codes()
ALL_FIXTURES = sorted(STATIC_FIXTURES.rglob("*.py"))


def codes_for(path: Path) -> frozenset[str]:
    """Every default code, and the folder's own rule when it is opt-in (it would not run otherwise)."""
    own = catalog().get(path.parent.name)
    return CODES | {own.code} if own is not None and own.opt_in else CODES


def check(path: Path) -> FileOutcome:
    return check_source(path.read_bytes(), str(path.relative_to(REPO)), codes_for(path))


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.span.line}:{f.span.column} {f.code} {f.message}" for f in findings) or "  (none)"


def fixture_id(path: Path) -> str:
    return str(path.relative_to(STATIC_FIXTURES))


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=fixture_id)
def test_fixture_findings_match_expectations(path: Path) -> None:
    data = path.read_bytes()
    expected = expectations(data)
    kind = path.name.split("_", 1)[0]
    if kind == "good" or path.parent.name == "correct":
        assert not expected, f"{fixture_id(path)}: a quiet fixture must carry no `# expect:` comment"
    if kind == "bad":
        assert path.parent.name in {code for _, code in expected}, (
            f"{fixture_id(path)}: a bad fixture of {path.parent.name} must expect {path.parent.name}")
    outcome = check(path)
    assert not outcome.problems, f"internal errors: {outcome.problems}"
    actual = {(f.span.line, f.code) for f in outcome.findings}
    assert actual == expected, (
        f"{fixture_id(path)}\n missing: {sorted(expected - actual)}\n"
        f" unexpected: {sorted(actual - expected)}\n findings:\n{describe(outcome.findings)}")


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=fixture_id)
def test_findings_are_well_formed(path: Path) -> None:
    outcome = check(path)
    lines = path.read_bytes().split(b"\n")
    for finding in outcome.findings:
        info = rule_info(finding.code)
        assert finding.name == info.name
        order = list(Severity)  # worst first: a finding may be milder than its rule, never worse
        assert order.index(finding.severity) >= order.index(info.severity)
        assert finding.message.strip(), f"{finding.code} at line {finding.span.line} has an empty message"
        span = finding.span
        assert span.line >= 1 and span.column >= 1 and span.end_line >= span.line and span.end_column >= 1
        assert span.line <= max(len(lines), 1)
        assert finding.path == str(path.relative_to(REPO))


def test_a_misspelling_on_a_new_tensor_is_only_a_warning() -> None:
    outcome = check(STATIC_FIXTURES / "TL004" / "bad_positional_table_tensor.py")
    assert [(f.code, f.severity) for f in outcome.findings] == [("TL004", Severity.WARNING)]
    module = check(STATIC_FIXTURES / "TL004" / "bad_linear_subclass_weight.py")
    assert [(f.code, f.severity) for f in module.findings] == [("TL004", Severity.ERROR)]


def test_correct_scripts_cover_the_precision_traps() -> None:
    assert len(list((STATIC_FIXTURES / "correct").glob("*.py"))) >= 12


def test_conditional_freeze_message_names_the_condition() -> None:
    outcome = check(STATIC_FIXTURES / "TL001" / "bad_trainer_conditional.py")
    messages = [f.message for f in outcome.findings if f.code == "TL001"]
    assert messages, "the conditional freeze must still report TL001"
    assert all("args.freeze_backbone" in m for m in messages), messages


def test_tl001_message_names_the_replacement_line() -> None:
    outcome = check(STATIC_FIXTURES / "TL001" / "bad_wrong_order_with_optimizer.py")
    (finding,) = [f for f in outcome.findings if f.code == "TL001"]
    assert "line 7" in finding.message and "model.fc" in finding.message


def test_tl001_advice_after_add_module_names_the_module_path() -> None:
    """`add_module` returns None: the advice must call `requires_grad_` on the module's path."""
    outcome = check(STATIC_FIXTURES / "TL001" / "bad_sequential_add_module.py")
    (finding,) = [f for f in outcome.findings if f.code == "TL001"]
    assert "`model.head.requires_grad_(True)`" in finding.message, finding.message
    assert "add_module(" not in finding.message, finding.message


def test_files_with_odd_encodings_are_decoded_and_analysed() -> None:
    for name in ("good_latin1_cookie.py", "good_utf8_bom.py", "good_crlf_line_endings.py"):
        outcome = check(STATIC_FIXTURES / "TL000" / name)
        assert outcome.analysed, f"{name} must decode, parse and be analysed"


def test_seed_wrong_order_reports_tl001_at_the_loop(tmp_path: Path) -> None:
    script = tmp_path / "train_wrong.py"
    script.write_text(SEED_WRONG)
    text = run_tllint("check", str(script))
    assert text.returncode == 1, text.stdout + text.stderr
    assert f"{script}:{SEED_WRONG_LINE}:" in text.stdout and "TL001" in text.stdout, text.stdout
    as_json = run_tllint("check", "--format", "json", str(script))
    assert as_json.returncode == 1, as_json.stderr
    findings = json.loads(as_json.stdout)
    assert [(f["code"], f["line"]) for f in findings] == [("TL001", SEED_WRONG_LINE)], findings
    assert findings[0]["path"] == str(script) and findings[0]["severity"] == "error"


def test_seed_right_order_is_quiet(tmp_path: Path) -> None:
    script = tmp_path / "train_right.py"
    script.write_text(SEED_RIGHT)
    text = run_tllint("check", str(script))
    assert text.returncode == 0, text.stdout + text.stderr
    as_json = run_tllint("check", "--format", "json", str(script))
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == [], as_json.stdout
