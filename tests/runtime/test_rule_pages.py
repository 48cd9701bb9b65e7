"""Every runtime rule page: its Example makes the audit report the rule, its Use-instead does not.

Examples that set `example_inputs` are audited with `audit()`; the others are training scripts for the codes
only `tllint run` sees, and are run with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_tllint
from tllint.findings.pages import rule_page
from tllint.findings.registry import Half, Rule, rules
from tllint.runtime import audit

RUNTIME_RULES = rules(Half.RUNTIME)


def audited_codes(source: str, folder: Path) -> set[str]:
    if "example_inputs" not in source:
        (folder / "example.py").write_text(source, encoding="utf-8")
        result = run_tllint("run", "--format", "json", "example.py", cwd=folder)
        assert result.returncode in (0, 1), result.stderr
        return {finding["code"] for finding in json.loads(result.stdout)["findings"]}
    namespace: dict[str, object] = {"__name__": "rule_page_example"}
    exec(compile(source, "<rule page>", "exec"), namespace)
    result = audit(namespace["model"], namespace["example_inputs"], optimizer=namespace.get("optimizer"),
                   loss_fn=namespace.get("loss_fn"))
    return {finding.code for finding in result.findings}


@pytest.mark.parametrize("rule", RUNTIME_RULES, ids=lambda rule: rule.info.code)
def test_page_examples(rule: Rule, tmp_path: Path) -> None:
    page = rule_page(rule.info)
    assert rule.info.code in audited_codes(page.bad_example, tmp_path)
    assert rule.info.code not in audited_codes(page.good_example, tmp_path)
