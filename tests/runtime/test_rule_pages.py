"""Every runtime rule page: its Example triggers the rule, its Use-instead does not."""

from __future__ import annotations

import pytest

from tllint.findings.catalog import CATALOG, Half
from tllint.findings.pages import load_page
from tllint.runtime import audit

RUNTIME_CODES = [info.code for info in CATALOG.values() if info.half is Half.RUNTIME]


def _codes(source: str) -> set[str]:
    namespace: dict[str, object] = {"__name__": "rule_page_example"}
    exec(compile(source, "<rule page>", "exec"), namespace)
    result = audit(namespace["model"], namespace["example_inputs"], optimizer=namespace.get("optimizer"),
                   loss_fn=namespace.get("loss_fn"))
    return {finding.code for finding in result.findings}


@pytest.mark.parametrize("code", RUNTIME_CODES)
def test_page_examples(code: str) -> None:
    page = load_page(code)
    header = page.text.splitlines()
    assert header[0] == f"# {code} {CATALOG[code].name}" and header[1] == ""
    assert header[2].startswith(f"Severity: {CATALOG[code].severity.value} · Checked by: runtime audit")
    for title in ("What it does", "Why is this bad?"):
        assert page.section(title).strip()
    assert code in _codes(page.bad_example)
    assert code not in _codes(page.good_example)
