"""What can be decided from a file's bytes alone, before the parser and the pass are imported: `# tllint:
skip-file`, whether the file mentions any word an enabled rule needs (a file that does not cannot hold a finding),
and decoding. A pre-commit run on files with no PyTorch training code never pays for more.
"""

from __future__ import annotations

import io
import re
import tokenize
from functools import cache

from tllint.findings.model import Finding, Span
from tllint.findings.registry import rule_info
from tllint.static.outcome import Skipped
from tllint.static.rules.parse_error import PARSE_ERROR

SKIP_FILE = re.compile(rb"#\s*tllint\s*:\s*skip-file\b", re.IGNORECASE)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_BETWEEN_TOKENS = rb"(?:\s|\\)*"  # Python allows whitespace, newlines in brackets and continuations there
# In a notebook's JSON, the code's line breaks are escaped (`\n`) and a cell's lines are separate strings.
_BETWEEN_TOKENS_IN_JSON = rb'(?:\s|\\[nrt]?|"\s*,\s*")*'


@cache
def _trigger_search(codes: frozenset[str], notebook: bool) -> tuple[tuple[bytes, ...], tuple[bytes, ...],
                                                                    re.Pattern[bytes] | None]:
    """The enabled rules' words as written (a fast substring test); for the words of several tokens
    (`parameters(`), their first tokens (a substring test that rules them out) and one expression that also
    matches them with whitespace between the tokens (`parameters ()`), or in a notebook's JSON with what stands for
    it there."""
    words = sorted({word for code in codes for word in rule_info(code).triggers})
    between = _BETWEEN_TOKENS_IN_JSON if notebook else _BETWEEN_TOKENS
    split = [_TOKEN.findall(word) for word in words if len(_TOKEN.findall(word)) > 1]
    spaced = [between.join(re.escape(token.encode()) for token in tokens) for tokens in split]
    return (tuple(word.encode() for word in words), tuple({tokens[0].encode() for tokens in split}),
            re.compile(b"|".join(spaced)) if spaced else None)


def triggered(data: bytes, codes: frozenset[str], notebook: bool = False) -> bool:
    """Whether the file mentions a word some enabled rule needs (each rule declares its words)."""
    words, firsts, spaced = _trigger_search(codes, notebook)
    if any(word in data for word in words):
        return True
    return spaced is not None and any(first in data for first in firsts) and spaced.search(data) is not None


def skip_reason(data: bytes, codes: frozenset[str], notebook: bool = False) -> Skipped | None:
    """Why the file can be decided from its bytes (nothing to report), or None when it must be analysed.

    A notebook's code lies in JSON strings: its words are searched there (with the escaped line breaks between
    tokens that Python allows). Its `# tllint: skip-file` counts only in a code cell, so it is read from the cells
    (`notebook.check_notebook`)."""
    if notebook:
        return None if triggered(data, codes, notebook=True) else Skipped.NO_TRAINING_CODE
    if SKIP_FILE.search(data):
        return Skipped.SKIP_FILE
    if not triggered(data, codes):
        return Skipped.NO_TRAINING_CODE
    return None


def decode(data: bytes, path: str) -> str | Finding:
    """Source text per PEP 263 (BOM, coding cookie, UTF-8 default), or a TL000 finding."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return input_finding(path, 1, 1, f"cannot determine the file's encoding: {error}")
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return input_finding(path, line, column, f"the file is not valid {encoding}: {error}")
    except Exception as error:  # a codec named by the cookie that cannot decode source (punycode, undefined, hex)
        return input_finding(path, 1, 1, f"the coding cookie names {encoding!r}, which cannot decode Python source: "
                             f"{error}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def input_finding(path: str, line: int, column: int, message: str) -> Finding:
    """TL000 at a position: the file could not be read or parsed."""
    info = PARSE_ERROR
    return Finding(info.code, info.name, info.severity, message, path, Span(line, column, line, column))


def too_large(path: str, size: int, limit: int) -> Finding:
    """TL000 for a file over `max-file-size`: it was not read."""
    return input_finding(path, 1, 1, f"the file is {_megabytes(size)}, over the {_megabytes(limit)} limit "
                         "(`max-file-size`), and was not read; raise `max-file-size` in the configuration to check it")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
