"""Every runtime rule page: its Example makes the audit report the rule, its Use-instead does not."""

from __future__ import annotations

import pytest

from tllint.findings.pages import rule_page
from tllint.findings.registry import Half, Rule, rules
from tllint.runtime import audit

RUNTIME_RULES = rules(Half.RUNTIME)


def audited_codes(source: str) -> set[str]:
    namespace: dict[str, object] = {"__name__": "rule_page_example"}
    exec(compile(source, "<rule page>", "exec"), namespace)
    result = audit(namespace["model"], namespace["example_inputs"], optimizer=namespace.get("optimizer"),
                   loss_fn=namespace.get("loss_fn"))
    return {finding.code for finding in result.findings}


@pytest.mark.parametrize("rule", RUNTIME_RULES, ids=lambda rule: rule.info.code)
def test_page_examples(rule: Rule) -> None:
    page = rule_page(rule.info)
    assert rule.info.code in audited_codes(page.bad_example)
    assert rule.info.code not in audited_codes(page.good_example)
