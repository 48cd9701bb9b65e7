"""Every static fixture: the findings are exactly the `# expect:` annotations, and the seed acceptance case.

A fixture is a short training-script excerpt under `fixtures/static/`. Each line where a finding is expected
ends with `# expect: TL001` (several codes: `# expect: TL010, TL011`). `good_*` files and everything in
`correct/` carry no annotation and must produce no finding at all. All enabled static codes run on every
fixture, so a fixture also fails when some other rule fires on it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tllint.config import Config
from tllint.findings.catalog import CATALOG, Half
from tllint.findings.model import Finding
from tllint.static.engine import FileResult, check_source
from tllint.static.rules import STATIC_RULES

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "static"
EXPECT = re.compile(rb"#\s*expect:\s*(TL\d{3}(?:\s*,\s*TL\d{3})*)")
CODES = Config().enabled_codes()

ALL_FIXTURES = sorted(FIXTURES.rglob("*.py"))
RULE_CODES = [code for code, info in CATALOG.items()
              if info.half is Half.STATIC and "TL001" <= code <= "TL016"]

SEED_WRONG = """\
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(weights="IMAGENET1K_V1")
model.fc = nn.Linear(512, 10)
for name, param in model.named_parameters():
    param.requires_grad = False
"""
SEED_WRONG_LOOP_LINE = 6

SEED_RIGHT = """\
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(weights="IMAGENET1K_V1")
for name, param in model.named_parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)
"""


def expectations(data: bytes) -> set[tuple[int, str]]:
    """The (line, code) pairs a fixture's `# expect:` comments announce (read on bytes: any encoding)."""
    expected: set[tuple[int, str]] = set()
    for number, line in enumerate(data.split(b"\n"), start=1):
        match = EXPECT.search(line)
        if match:
            expected |= {(number, code.strip().decode()) for code in match.group(1).split(b",")}
    return expected


def check(path: Path) -> FileResult:
    return check_source(path.read_bytes(), str(path.relative_to(REPO)), CODES)


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.span.line}:{f.span.column} {f.code} {f.message}" for f in findings) or "  (none)"


def fixture_id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


def test_fixtures_exist() -> None:
    assert ALL_FIXTURES, f"no fixtures under {FIXTURES}"


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=fixture_id)
def test_fixture_findings_match_expectations(path: Path) -> None:
    data = path.read_bytes()
    expected = expectations(data)
    kind = path.name.split("_", 1)[0]
    if kind == "good" or path.parent.name == "correct":
        assert not expected, f"{fixture_id(path)}: a quiet fixture must carry no `# expect:` comment"
    if kind == "bad":
        assert expected, f"{fixture_id(path)}: a bad fixture must expect at least one finding"
        assert path.parent.name in {code for _, code in expected}, (
            f"{fixture_id(path)}: a bad fixture of {path.parent.name} must expect {path.parent.name}")
    result = check(path)
    assert not result.errors, f"internal errors: {result.errors}"
    actual = {(f.span.line, f.code) for f in result.findings}
    assert actual == expected, (
        f"{fixture_id(path)}\n missing: {sorted(expected - actual)}\n"
        f" unexpected: {sorted(actual - expected)}\n findings:\n{describe(result.findings)}")


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=fixture_id)
def test_findings_are_well_formed(path: Path) -> None:
    result = check(path)
    lines = path.read_bytes().split(b"\n")
    for finding in result.findings:
        info = CATALOG[finding.code]
        assert finding.name == info.name
        assert finding.severity is info.severity
        assert finding.message.strip(), f"{finding.code} at line {finding.span.line} has an empty message"
        span = finding.span
        assert span.line >= 1 and span.column >= 1 and span.end_line >= span.line and span.end_column >= 1
        assert span.line <= max(len(lines), 1)
        assert finding.path == str(path.relative_to(REPO))


@pytest.mark.parametrize("code", RULE_CODES)
def test_every_rule_has_three_bad_and_three_good_fixtures(code: str) -> None:
    if code not in STATIC_RULES:
        pytest.skip(f"{code} has no registered static rule yet (architecture rules, issue 4)")
    folder = FIXTURES / code
    bad = sorted(folder.glob("bad_*.py"))
    good = sorted(folder.glob("good_*.py"))
    assert len(bad) >= 3, f"{code}: {len(bad)} bad fixtures"
    assert len(good) >= 3, f"{code}: {len(good)} good fixtures"


def test_correct_scripts_cover_the_precision_traps() -> None:
    assert len(list((FIXTURES / "correct").glob("*.py"))) >= 12


def test_conditional_freeze_message_names_the_condition() -> None:
    result = check(FIXTURES / "TL001" / "bad_trainer_conditional.py")
    messages = [f.message for f in result.findings if f.code == "TL001"]
    assert messages, "the conditional freeze must still report TL001"
    assert all("args.freeze_backbone" in m for m in messages), messages


def test_tl001_message_names_the_replacement_line() -> None:
    result = check(FIXTURES / "TL001" / "bad_seed_wrong_order.py")
    (finding,) = [f for f in result.findings if f.code == "TL001"]
    assert "line 7" in finding.message and "model.fc" in finding.message


def test_bad_input_fixtures_give_tl000_only_where_expected() -> None:
    misc = FIXTURES / "misc"
    for name in ("syntax_error.py", "undecodable_bytes.py"):
        result = check(misc / name)
        assert [f.code for f in result.findings] == ["TL000"], (name, describe(result.findings))
    for name in ("latin1_cookie.py", "utf8_bom.py", "crlf_line_endings.py"):
        result = check(misc / name)
        assert result.parsed, f"{name} must decode and parse"
        assert "TL000" not in {f.code for f in result.findings}


# --- the acceptance case of issue 3, through the real CLI -------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "tllint", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_seed_wrong_order_reports_tl001_at_the_loop(tmp_path: Path) -> None:
    script = tmp_path / "train_wrong.py"
    script.write_text(SEED_WRONG)
    text = run_cli("check", str(script))
    assert text.returncode == 1, text.stdout + text.stderr
    assert f"{script}:{SEED_WRONG_LOOP_LINE}:" in text.stdout and "TL001" in text.stdout, text.stdout
    as_json = run_cli("check", "--format", "json", str(script))
    assert as_json.returncode == 1, as_json.stderr
    findings = json.loads(as_json.stdout)
    assert [(f["code"], f["line"]) for f in findings] == [("TL001", SEED_WRONG_LOOP_LINE)], findings
    assert findings[0]["path"] == str(script) and findings[0]["severity"] == "error"


def test_seed_right_order_is_quiet(tmp_path: Path) -> None:
    script = tmp_path / "train_right.py"
    script.write_text(SEED_RIGHT)
    text = run_cli("check", str(script))
    assert text.returncode == 0, text.stdout + text.stderr
    as_json = run_cli("check", "--format", "json", str(script))
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == [], as_json.stdout
