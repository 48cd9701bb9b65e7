"""The contract every registered rule keeps, static and runtime alike: it is declared once, in its own module, with
a summary, trigger words (static), a page with every section and a fixtures folder; and everything derived from
the registry (index, pages in `rules/`, README tables) is current. The page examples of static rules run here;
those of runtime rules need torch and run in `tests/runtime/test_rule_pages.py`.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from tests.helpers import REPO, RUNTIME_FIXTURES, STATIC_FIXTURES, run_tllint
from tllint.config import Config
from tllint.findings.model import Applicability
from tllint.findings.pages import SECTIONS, rule_page
from tllint.findings.registry import Half, Rule, catalog, rules
from tllint.static.engine import check_source

ALL_RULES = rules()
STATIC_RULES = [r for r in ALL_RULES if r.info.half is Half.STATIC]
CODES = Config().enabled_codes()
MAX_MODULE_LINES = 500


def rule_id(rule: Rule) -> str:
    return rule.info.code


def static_codes(source: str, also: str | None = None) -> set[str]:
    """The codes reported on a page example by the default codes, and `also` (an opt-in rule's own code)."""
    outcome = check_source(source.encode("utf-8"), "<rule page>", CODES | ({also} if also else set()))
    assert not outcome.problems, outcome.problems
    return {finding.code for finding in outcome.findings}


@pytest.mark.parametrize("rule", ALL_RULES, ids=rule_id)
def test_rule_declares_what_selection_and_the_prefilter_need(rule: Rule) -> None:
    info = rule.info
    assert re.fullmatch(r"TL\d{3}", info.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", info.name)
    assert info.summary.strip() and len(info.summary) <= 110, info.summary
    assert info.module.rsplit(".", 1)[-1].replace("_", "-") == info.name or rule.check is None
    if info.half is Half.STATIC and rule.check is not None:
        assert info.triggers, f"{info.code} declares no trigger words: the byte pre-filter would skip every file"


@pytest.mark.parametrize("rule", ALL_RULES, ids=rule_id)
def test_page_has_every_section(rule: Rule) -> None:
    page = rule_page(rule.info)
    assert page.text.startswith(f"# {rule.info.code} {rule.info.name}\n")
    for title in SECTIONS:
        assert page.section(title).strip(), f"{rule.info.code}: empty '## {title}'"
    compile(page.good_example, f"<{rule.info.code} Use instead>", "exec")


@pytest.mark.parametrize("rule", [r for r in STATIC_RULES if r.check is not None], ids=rule_id)
def test_static_page_example_fires_and_use_instead_is_quiet(rule: Rule) -> None:
    page = rule_page(rule.info)
    code = rule.info.code
    assert code in static_codes(page.bad_example, code), f"{code}: the Example does not fire"
    assert code not in static_codes(page.good_example, code), f"{code}: 'Use instead' fires"


def test_parse_error_example_is_a_syntax_error() -> None:
    (parse_error,) = [r for r in STATIC_RULES if r.check is None]
    assert parse_error.info.code in static_codes(rule_page(parse_error.info).bad_example)


@pytest.mark.parametrize("rule", ALL_RULES, ids=rule_id)
def test_rule_has_three_bad_and_three_good_fixtures(rule: Rule) -> None:
    root = STATIC_FIXTURES if rule.info.half is Half.STATIC else RUNTIME_FIXTURES
    folder = root / rule.info.code
    bad, good = sorted(folder.glob("bad_*.py")), sorted(folder.glob("good_*.py"))
    assert len(bad) >= 3 and len(good) >= 3, f"{folder}: {len(bad)} bad and {len(good)} good fixtures"


def test_derived_files_are_current() -> None:
    """The index, `rules/*.md` and the README tables are what `tools/generate.py` makes of the registry."""
    result = subprocess.run([sys.executable, str(REPO / "tools" / "generate.py"), "--check"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_index_matches_the_registered_rules() -> None:
    assert {r.info.code: r.info for r in ALL_RULES} == catalog()


def test_each_code_is_written_in_its_own_module_only() -> None:
    """A rule's code appears in the code of one module: the one that declares it. (Docstrings may refer to
    other rules: pages cross-reference each other.)"""
    owners = {r.info.code: r.info.module for r in ALL_RULES}
    for path in sorted((REPO / "tllint").rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for code in _codes_in_code(path.read_text(encoding="utf-8")):
            assert owners.get(code) == module, f"{code} is written in {module}; only {owners.get(code)} may"


def _codes_in_code(source: str) -> set[str]:
    """Codes in string literals (docstrings excepted) and comments."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    texts = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and id(node) not in docstrings]
    texts += [token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
              if token.type == tokenize.COMMENT]
    return {code for text in texts for code in re.findall(r"\bTL\d{3}\b", text)}


def test_no_module_is_large() -> None:
    for path in sorted((REPO / "tllint").rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_MODULE_LINES, f"{path.relative_to(REPO)} has {lines} lines"


def test_cli_rule_prints_the_page() -> None:
    result = run_tllint("rule", "TL001")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == rule_page(catalog()["TL001"]).text.strip()


def test_cli_rule_accepts_a_rule_name() -> None:
    result = run_tllint("rule", "freeze-after-head-replacement")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# TL001 freeze-after-head-replacement")


def test_cli_rule_all_lists_every_code() -> None:
    result = run_tllint("rule", "--all")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(catalog()) <= listed, sorted(set(catalog()) - listed)


def test_cli_rule_unknown_code_exits_2() -> None:
    result = run_tllint("rule", "TL999")
    assert result.returncode == 2
    assert "TL999" in result.stderr


def test_a_new_rule_module_is_discovered(tmp_path: Path) -> None:
    """Adding a rule is writing a module: no list to extend. A module dropped into the package registers."""
    package = REPO / "tllint" / "static" / "rules"
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import tllint.static.rules as package\n"
        f"package.__path__.append({str(tmp_path / 'extra')!r})\n"
        "from tllint.findings.registry import rules\n"
        "print(sorted(r.info.code for r in rules()))\n")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "always_wrong.py").write_text(
        '"""## What it does\nNothing.\n"""\n'
        "from tllint.static.rules import ERROR, rule\n\n"
        '@rule("TL099", ERROR, triggers=("x",), summary="test")\n'
        "def always_wrong(facts, ctx):\n    yield from ()\n")
    result = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "TL099" in result.stdout and package.is_dir()


@pytest.mark.parametrize("rule", ALL_RULES, ids=rule_id)
def test_page_says_whether_and_how_the_rule_is_fixed(rule: Rule) -> None:
    """`## Fix` opens with the kind the rule declares (`@rule(..., fix=...)`), which is what its fixes carry."""
    section = rule_page(rule.info).section("Fix").strip()
    expected = {None: "No fix", Applicability.SAFE: "Safe (", Applicability.UNSAFE: "Unsafe ("}[rule.info.fix]
    assert section.startswith(expected), f"{rule.info.code}: '## Fix' should start with {expected!r}"
