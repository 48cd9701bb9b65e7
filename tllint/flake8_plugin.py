"""tllint as a flake8 plugin: `flake8 --select TL` reports the static findings with flake8's own formatting, `# noqa`
handling and configuration.

flake8 finds the checker through the `TL` entry point of the `flake8.extension` group (see pyproject.toml) and
hands it each file's lines; the engine checks them as `tllint check` would (the same rules and byte pre-filter),
leaving `# noqa`, `--select`/`--ignore` and per-file-ignores to flake8. Not reported here: TL000 (flake8 runs tree
plugins on files that parse only, and reports the others as E999), the unused-noqa rule (flake8 owns the
comments) and other opt-in rules.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from collections.abc import Iterator
from functools import cache

from tllint import __version__


class TllintChecker:
    """flake8's tree-plugin protocol: `name`, `version`, and `run()` yielding `(line, column, message, type)` with a
    0-based column and a message that starts with the code."""

    name = "tllint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from tllint.static.engine import check_source

        outcome = check_source(_encoded(self.lines), self.filename, _codes(), noqa=False)
        for problem in outcome.problems:  # an internal error costs this file's findings, never flake8's run
            print(f"tllint: error: {problem}", file=sys.stderr)
        for finding in outcome.findings:
            yield finding.span.line, finding.span.column - 1, f"{finding.code} {finding.message}", type(self)


def _encoded(lines: list[str]) -> bytes:
    """The bytes of the lines flake8 decoded, in the file's own encoding (so that its coding cookie still holds)."""
    text = "".join(lines)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8")).readline)
        return text.encode("utf-8" if encoding == "utf-8-sig" else encoding)
    except (SyntaxError, LookupError, UnicodeError):
        return text.encode("utf-8")


@cache
def _codes() -> frozenset[str]:
    """The default static codes, without those flake8 covers itself."""
    from tllint.config import Config
    from tllint.static.engine import static_rules
    from tllint.static.rules.parse_error import PARSE_ERROR

    rules = static_rules()
    return frozenset(code for code in Config().enabled_codes()
                     if code != PARSE_ERROR.code and not rules[code].reads_noqa)
