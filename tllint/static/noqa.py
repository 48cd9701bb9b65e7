"""`# noqa` comments: a bare one silences every code on its line, `# noqa: TL001,TL010` the codes it names."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

from tllint.findings.model import Finding

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)


def noqa_comments(text: str) -> dict[int, frozenset[str] | None]:
    """`# noqa` comments by line: None for a bare one (all codes), else the codes it names. Only real comments
    count (the tokenizer's), not `# noqa` inside a string."""
    comments: dict[int, frozenset[str] | None] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return comments
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = NOQA.search(token.string)
        if match is None:
            continue
        codes = match.group("codes")
        comments[token.start[0]] = (
            None if codes is None else frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c)
        )
    return comments


def suppressed(finding: Finding, lines: Iterable[int], comments: dict[int, frozenset[str] | None]) -> bool:
    """A comment on one of `lines` names the finding's code (or a prefix of it), or is bare."""
    for line in lines:
        if line not in comments:
            continue
        codes = comments[line]
        if codes is None or any(finding.code.startswith(code) for code in codes):
            return True
    return False
