"""Properties of `--fix` over generated input: on the bad fixtures of every rule, reformatted at random (line
endings, comment and blank lines between statements, trailing comments, no final newline), fixing with every fix
unsafe ones included never gives a file that does not compile, never loses a comment, never reports a broken fix,
and a second pass changes nothing, and `patch` applying the `--diff` output gives the same bytes; on generated
programs, a file with no fixable finding is never changed."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import tokenize
import warnings
from collections import Counter
from importlib.util import decode_source
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers import STATIC_FIXTURES
from tllint.config import Config
from tllint.static.engine import check_source
from tllint.static.fixing.apply import FixPolicy, fix_bytes, unified_diff

CODES = Config(select=("ALL",)).enabled_codes()
EVERY_FIX = FixPolicy(CODES, unsafe=True)
BAD = sorted(STATIC_FIXTURES.glob("TL*/bad_*.py"))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")


def compiles(data: bytes) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(decode_source(data), "<fixed>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            return False
    return True


def comments(data: bytes) -> Counter[str]:
    tokens = tokenize.generate_tokens(io.StringIO(decode_source(data)).readline)
    return Counter(token.string.rstrip() for token in tokens if token.type == tokenize.COMMENT)


@st.composite
def reformatted_fixture(draw: st.DrawFn) -> bytes:
    """A bad fixture with comment lines, blank lines and trailing comments added at random, in LF or CRLF."""
    data = draw(st.sampled_from(BAD)).read_bytes()
    lines = data.split(b"\n")
    out = []
    for number, line in enumerate(lines):
        if number > 1 and draw(st.integers(0, 5)) == 0:  # below a coding cookie, which must stay in the first two
            out.append(draw(st.sampled_from([b"", b"# a note", b"    # an indented note"])))
        if line.strip() and not line.rstrip().endswith(b"\\") and draw(st.integers(0, 6)) == 0:
            line += b"  # trailing"
        out.append(line)
    data = b"\n".join(out)
    if draw(st.booleans()):
        data = data.rstrip(b"\n")
    return data.replace(b"\n", b"\r\n") if draw(st.booleans()) else data


LONE_CR_COMMENTS = (  # found by hypothesis: with a lone `\r` the comment inventory once merged comment lines
    b"from torch import nn\r  # trailing\nfrom torchvision.models import ResNet18_Weights, resnet18\r  # trailing\n"
    b"model = resnet18(weights=ResNet18_Weights.DEFAULT)\r  # trailing\nmodel.fc = nn.Linear(512, 10)\r  # trailing\n"
    b"for p in model.parameters():  # expect: TL001\r  # trailing\n    p.requires_grad = False\r  # trailing\n"
)


@SETTINGS
@given(reformatted_fixture())
@example(LONE_CR_COMMENTS)
def test_fixing_reformatted_fixtures_keeps_them_valid(data: bytes) -> None:
    if not compiles(data):  # a trailing comment can land inside a string continued by a backslash
        return
    result = fix_bytes(data, "train.py", CODES, EVERY_FIX)
    assert not result.problems, result.problems
    assert compiles(result.data)
    assert not comments(data) - comments(result.data)
    assert fix_bytes(result.data, "train.py", CODES, EVERY_FIX).data == result.data


@settings(SETTINGS, max_examples=100)
@given(hypothesmith.from_grammar())
def test_a_file_with_no_fixable_finding_is_never_changed(source: str) -> None:
    data = b"# requires_grad pretrained parameters(\n" + source.encode("utf-8", "surrogatepass")
    fixable = any(finding.fix is not None for finding in check_source(data, "generated.py", CODES).findings)
    result = fix_bytes(data, "generated.py", CODES, EVERY_FIX)
    assert result.data == data or (fixable and compiles(result.data))


@settings(SETTINGS, max_examples=25)
@given(reformatted_fixture())
def test_the_diff_applied_by_patch_gives_what_fix_writes(data: bytes) -> None:
    if shutil.which("patch") is None or not compiles(data):
        return
    result = fix_bytes(data, "train.py", CODES, EVERY_FIX)
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "train.py"
        target.write_bytes(data)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)  # the diff in the file's own encoding
        diff = unified_diff(result, "train.py").encode(encoding.removesuffix("-sig"))
        subprocess.run(["patch", "-p1", "-s", "--binary"], input=diff, cwd=scratch, check=True,
                       capture_output=True)
        assert target.read_bytes() == result.data
