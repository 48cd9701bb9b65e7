"""Rule pages: one Markdown file per code under `rules/`, shipped inside the wheel as `_rule_pages`.

A page has the sections `## What it does`, `## Why is this bad?`, `## Example` and `## Use instead`;
the first ```python block under `## Example` must trigger the rule and the one under `## Use instead`
must not. The tests run both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tllint.findings.catalog import CATALOG

_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_SECTION = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class RulePage:
    code: str
    path: Path
    text: str

    def section(self, title: str) -> str:
        """The text under `## title`, up to the next section."""
        matches = list(_SECTION.finditer(self.text))
        for i, match in enumerate(matches):
            if match.group(1).lower() == title.lower():
                end = matches[i + 1].start() if i + 1 < len(matches) else len(self.text)
                return self.text[match.end() : end]
        raise KeyError(f"{self.path.name} has no '## {title}' section")

    def example(self, title: str) -> str:
        """The first python code block of a section."""
        block = _CODE_BLOCK.search(self.section(title))
        if block is None:
            raise KeyError(f"{self.path.name}: '## {title}' has no ```python block")
        return block.group(1)

    @property
    def bad_example(self) -> str:
        return self.example("Example")

    @property
    def good_example(self) -> str:
        return self.example("Use instead")


def pages_dir() -> Path:
    """Where the pages are: inside the installed wheel, else the `rules/` of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    shipped = package / "_rule_pages"
    return shipped if shipped.is_dir() else package.parent / "rules"


@cache
def load_page(code: str) -> RulePage:
    """The page of `code` (`TL001-freeze-after-head-replacement.md`)."""
    info = CATALOG[code]
    path = pages_dir() / f"{info.code}-{info.name}.md"
    return RulePage(code=code, path=path, text=path.read_text(encoding="utf-8"))
