"""Rule pages: a generated header (code, name, severity, which half checks it, which kind of fix it has) over the
docstring of the rule's module, which has the sections `## What it does`, `## Why is this bad?`, `## Example`,
`## Use instead`, `## Fix` (whether `--fix` or `--unsafe-fixes` repairs it and how, or why not) and
`## Known limits`. The first ```python block under `## Example` must trigger the rule and the one under
`## Use instead` must not; the contract test runs both. `tools/generate.py` writes every page to `rules/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tllint.findings.model import Applicability
from tllint.findings.registry import Half, RuleInfo, page_body

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix", "Known limits")
CHECKED_BY = {
    Half.STATIC: "static (`tllint check`)",
    Half.RUNTIME: "runtime audit (`tllint audit`, `tllint run`, `assert_*`)",
}
FIX_KIND = {
    None: "none",
    Applicability.SAFE: "safe (`tllint check --fix`)",
    Applicability.UNSAFE: "unsafe (`tllint check --fix --unsafe-fixes`)",
}
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_SECTION = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class RulePage:
    info: RuleInfo
    text: str

    @property
    def file_name(self) -> str:
        return f"{self.info.code}-{self.info.name}.md"

    def section(self, title: str) -> str:
        """The text under `## title`, up to the next section."""
        matches = list(_SECTION.finditer(self.text))
        for i, match in enumerate(matches):
            if match.group(1).lower() == title.lower():
                end = matches[i + 1].start() if i + 1 < len(matches) else len(self.text)
                return self.text[match.end() : end]
        raise KeyError(f"{self.file_name} has no '## {title}' section")

    def example(self, title: str) -> str:
        """The first python code block of a section."""
        block = _CODE_BLOCK.search(self.section(title))
        if block is None:
            raise KeyError(f"{self.file_name}: '## {title}' has no ```python block")
        return block.group(1)

    @property
    def bad_example(self) -> str:
        return self.example("Example")

    @property
    def good_example(self) -> str:
        return self.example("Use instead")


def rule_page(info: RuleInfo) -> RulePage:
    """The whole page of a rule, as `tllint rule CODE` prints it and `rules/` holds it."""
    header = (f"# {info.code} {info.name}\n\nSeverity: {info.severity.value} · Checked by: {CHECKED_BY[info.half]} · "
              f"Fix: {FIX_KIND[info.fix]}")
    return RulePage(info, f"{header}\n\n{page_body(info)}\n")
