"""What can be decided from a file's bytes alone, before the parser and the pass are imported: decoding,
`# tllint: skip-file`, and whether the file mentions any word an enabled rule needs (a file that does not cannot
hold a finding). A pre-commit run on files with no PyTorch training code never pays for more.
"""

from __future__ import annotations

import io
import re
import tokenize

from tllint.findings.model import Finding, Span
from tllint.findings.registry import rule_info
from tllint.static.rules.parse_error import PARSE_ERROR

SKIP_FILE = re.compile(rb"#\s*tllint\s*:\s*skip-file\b", re.IGNORECASE)


def triggered(data: bytes, codes: frozenset[str]) -> bool:
    """Whether the file mentions a word some enabled rule needs (each rule declares its words)."""
    words = {word for code in codes for word in rule_info(code).triggers}
    return any(word.encode() in data for word in words)


def decode(data: bytes, path: str) -> str | Finding:
    """Source text per PEP 263 (BOM, coding cookie, UTF-8 default), or a TL000 finding."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return input_finding(path, 1, 1, f"cannot determine the file's encoding: {error}")
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except (UnicodeDecodeError, LookupError) as error:
        start = getattr(error, "start", 0)
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        return input_finding(path, line, column, f"the file is not valid {encoding}: {error}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def input_finding(path: str, line: int, column: int, message: str) -> Finding:
    """TL000 at a position: the file could not be read or parsed."""
    info = PARSE_ERROR
    return Finding(info.code, info.name, info.severity, message, path, Span(line, column, line, column))


def cannot_hold_findings(data: bytes, codes: frozenset[str]) -> bool:
    """True when checking the file is sure to report nothing: skipped, or decodable without a trigger word."""
    if SKIP_FILE.search(data):
        return True
    return not triggered(data, codes) and not isinstance(decode(data, "<prefilter>"), Finding)
