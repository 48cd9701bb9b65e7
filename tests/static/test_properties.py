"""Properties over generated input: the checker never raises, JSON output always parses, and TL000 appears
exactly when CPython's `compile()` rejects the file.

The prefilter skips files that mention no trigger word before parsing them (a syntax error in a file that
cannot hold a finding is another linter's business), so the TL000 property is checked on input that carries a
trigger word in a leading comment: the comment changes no program's validity.
"""

from __future__ import annotations

import json
import warnings
from importlib.util import decode_source

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tllint.config import Config
from tllint.output import Report, renderer
from tllint.static.engine import check_source

CODES = Config(select=("ALL",)).enabled_codes()
TRIGGER = b"# requires_grad parameters( backward\n"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

# The reference `compile()` of generated programs warns about odd but valid code; that is not our output.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")


def compiles(data: bytes) -> bool:
    """`compile()` of the text as the import system decodes it (PEP 263, universal newlines). Compiling the raw
    bytes would disagree with `python FILE` twice: it lets undecodable bytes in a comment through, and accepts a
    trailing backslash before CRLF at the end of the file; tllint sides with `python FILE` on both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are warnings, not errors
        try:
            compile(decode_source(data), "<generated>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError, LookupError):
            return False
    return True


def check(data: bytes) -> list[str]:
    result = check_source(data, "generated.py", CODES)
    assert not result.problems, result.problems
    rendered = renderer("json")(Report(result.findings, checked=1))
    assert isinstance(json.loads(rendered), list)
    return [finding.code for finding in result.findings]


def assert_tl000_iff_compile_fails(data: bytes) -> None:
    data = TRIGGER + data
    assert ("TL000" in check(data)) == (not compiles(data)), data


@SETTINGS
@given(hypothesmith.from_grammar())
def test_grammar_generated_programs(source: str) -> None:
    assert_tl000_iff_compile_fails(source.encode("utf-8", "surrogatepass"))


@settings(SETTINGS, max_examples=15)  # libcst-built programs are slow to generate (about 0.7 s each)
@given(hypothesmith.from_node(cst.Module))
def test_node_generated_programs(source: str) -> None:
    assert_tl000_iff_compile_fails(source.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check(data)
    assert_tl000_iff_compile_fails(data)


PIECES = ["model", ".", "fc", "=", "(", ")", "[", "]", ":", "\n", "    ", "for", "p", "in", "parameters",
          "requires_grad", "False", "True", "torch", "optim", "SGD", ",", "lr", "0", "if", "else", "lambda", "#",
          "'", '"', "\\", "\t", "\r\n", "match", "case", "type", "async", "await", "yield", "del", "*", "**", "@"]


@SETTINGS
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_token_soup(pieces: list[str]) -> None:
    """Near-Python made of the words the rules look for: the likeliest way to reach the pass with odd trees."""
    assert_tl000_iff_compile_fails(" ".join(pieces).encode())
