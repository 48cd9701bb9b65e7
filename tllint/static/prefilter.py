"""What can be decided from a file's bytes alone, before the parser and the pass are imported: decoding,
`# tllint: skip-file`, and whether the file mentions any word an enabled rule needs (a file that does not cannot
hold a finding). A pre-commit run on files with no PyTorch training code never pays for more.
"""

from __future__ import annotations

import io
import re
import tokenize

from tllint.findings.catalog import rule_info
from tllint.findings.model import Finding, Span

SKIP_FILE = re.compile(rb"#\s*tllint\s*:\s*skip-file\b", re.IGNORECASE)

REQUIRES_GRAD_WORDS = ("requires_grad", "require_grad", "requiresgrad", "required_grad", "requries_grad",
                       "reqires_grad", "requires_gard", "requiers_grad")
OPTIMIZER_WORDS = ("parameters(", "create_optimizer")
CONSTRUCTOR_WORDS = ("torchvision", "timm")  # a torchvision or timm model is imported by one of these names

# For each static rule, the words one of which a file must contain for the rule to fire there.
TRIGGERS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("TL001", "TL002", "TL003", "TL004", "TL005", "TL014", "TL016", "TL041"), REQUIRES_GRAD_WORDS),
    **dict.fromkeys(("TL009", "TL010", "TL011", "TL012", "TL013", "TL015"), OPTIMIZER_WORDS),
    **dict.fromkeys(("TL006", "TL007"), CONSTRUCTOR_WORDS),
    "TL008": REQUIRES_GRAD_WORDS + OPTIMIZER_WORDS,
    "TL040": ("pretrained",),
}


def triggered(data: bytes, codes: frozenset[str]) -> bool:
    """Whether the file mentions a word some enabled rule needs."""
    words = {word for code in codes for word in TRIGGERS.get(code, ())}
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
    info = rule_info("TL000")
    return Finding(info.code, info.name, info.severity, message, path, Span(line, column, line, column))


def cannot_hold_findings(data: bytes, codes: frozenset[str]) -> bool:
    """True when checking the file is sure to report nothing: skipped, or decodable without a trigger word."""
    if SKIP_FILE.search(data):
        return True
    return not triggered(data, codes) and not isinstance(decode(data, "<prefilter>"), Finding)
