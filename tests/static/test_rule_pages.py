"""Static rule pages: each exists, parses, and its examples behave: Example fires, Use instead stays quiet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tllint.config import Config
from tllint.findings.catalog import CATALOG, Half
from tllint.findings.pages import load_page, pages_dir
from tllint.static.engine import check_source
from tllint.static.rules import STATIC_RULES

REPO = Path(__file__).resolve().parents[2]
STATIC_CODES = [code for code, info in CATALOG.items() if info.half is Half.STATIC]
SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Known limits")
CODES = Config().enabled_codes()


def implemented(code: str) -> bool:
    return code == "TL000" or code in STATIC_RULES


def require_implemented(code: str) -> None:
    if not implemented(code):
        pytest.skip(f"{code} has no registered static rule yet (architecture rules, issue 4)")


def codes_in(source: str) -> set[str]:
    result = check_source(source.encode("utf-8"), "<rule page>", CODES)
    assert not result.errors, result.errors
    return {finding.code for finding in result.findings}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "tllint", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("code", STATIC_CODES)
def test_page_exists_with_catalog_name(code: str) -> None:
    require_implemented(code)
    info = CATALOG[code]
    path = pages_dir() / f"{code}-{info.name}.md"
    assert path.is_file(), f"missing rule page {path}"
    page = load_page(code)
    lines = page.text.splitlines()
    assert lines[0] == f"# {code} {info.name}"
    assert lines[1] == ""
    assert lines[2] == f"Severity: {info.severity.value} · Checked by: static (`tllint check`)"
    for title in SECTIONS:
        assert page.section(title).strip(), f"{path.name}: empty '## {title}'"


@pytest.mark.parametrize("code", STATIC_CODES)
def test_example_triggers_the_code(code: str) -> None:
    require_implemented(code)
    found = codes_in(load_page(code).bad_example)
    assert code in found, f"{code} page Example gives {sorted(found)}"


@pytest.mark.parametrize("code", STATIC_CODES)
def test_use_instead_does_not_trigger_the_code(code: str) -> None:
    require_implemented(code)
    found = codes_in(load_page(code).good_example)
    assert code not in found, f"{code} page 'Use instead' gives {sorted(found)}"


@pytest.mark.parametrize("code", STATIC_CODES)
def test_use_instead_is_valid_python(code: str) -> None:
    require_implemented(code)
    compile(load_page(code).good_example, f"<{code} Use instead>", "exec")
    if code != "TL000":
        compile(load_page(code).bad_example, f"<{code} Example>", "exec")


def test_tl000_example_is_a_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        compile(load_page("TL000").bad_example, "<TL000 Example>", "exec")


def test_cli_rule_prints_the_page() -> None:
    result = run_cli("rule", "TL001")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == load_page("TL001").text.strip()
    assert result.stdout.startswith("# TL001 freeze-after-head-replacement")


def test_cli_rule_accepts_a_rule_name() -> None:
    result = run_cli("rule", "freeze-after-head-replacement")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# TL001 freeze-after-head-replacement")


def test_cli_rule_all_lists_every_code() -> None:
    result = run_cli("rule", "--all")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(CATALOG) <= listed, sorted(set(CATALOG) - listed)


def test_cli_rule_unknown_code_exits_2() -> None:
    result = run_cli("rule", "TL999")
    assert result.returncode == 2
    assert "TL999" in result.stderr
