"""Bad input never crashes the checker: it becomes a TL000 finding or a clear error, and the run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, permission_bits_apply, run_tllint
from tllint.config import Config
from tllint.static.engine import check_source
from tllint.static.outcome import Skipped

CODES = Config().enabled_codes()
FREEZE_AFTER = (
    "from torchvision.models import resnet18\nimport torch.nn as nn\nmodel = resnet18(weights='DEFAULT')\n"
    "model.fc = nn.Linear(512, 2)\nfor p in model.parameters():\n    p.requires_grad = False\n"
)


def codes(data: bytes) -> list[tuple[str, int]]:
    result = check_source(data, "x.py", CODES)
    assert not result.problems
    return [(f.code, f.span.line) for f in result.findings]


def test_syntax_error_is_tl000_at_the_error_and_other_files_still_checked(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import torch\nx = (1,\nmodel.requires_grad = False\n")
    (tmp_path / "train.py").write_text(FREEZE_AFTER)
    result = run_tllint("check", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert [(f["path"], f["code"]) for f in found] == [("broken.py", "TL000"), ("train.py", "TL001")]
    assert found[0]["line"] >= 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", []),
        (b"# only a comment\n", []),
        (b"\xef\xbb\xbf" + FREEZE_AFTER.encode(), [("TL001", 5)]),
        (FREEZE_AFTER.replace("\n", "\r\n").encode(), [("TL001", 5)]),
        (FREEZE_AFTER.replace("    ", "\t").encode(), [("TL001", 5)]),
        (b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + FREEZE_AFTER.encode(), [("TL001", 7)]),
    ],
    ids=["empty", "comments", "bom", "crlf", "tabs", "latin1-cookie"],
)
def test_odd_but_valid_files(data: bytes, expected: list[tuple[str, int]]) -> None:
    assert codes(data) == expected


def test_undecodable_bytes_are_tl000_with_their_position() -> None:
    data = b"import torch\nname = 'caf\xff'\nmodel.requires_grad = False\n"
    [finding] = check_source(data, "x.py", CODES).findings
    assert (finding.code, finding.span.line, finding.span.column) == ("TL000", 2, 12)
    assert "utf-8" in finding.message


@pytest.mark.parametrize("cookie", ["klingon", "punycode", "undefined", "hex", "rot13"])
def test_a_coding_cookie_that_cannot_decode_source_is_tl000(cookie: str) -> None:
    """Unknown codecs, and known ones that are no text encoding or fail on any source, are the file's problem."""
    outcome = check_source(f"# coding: {cookie}\nmodel.requires_grad = False\n".encode(), "x.py", CODES)
    assert not outcome.problems
    [finding] = outcome.findings
    assert (finding.code, finding.span.line) == ("TL000", 1)
    assert cookie in finding.message


def test_a_file_without_training_words_is_skipped_from_its_bytes_even_when_broken() -> None:
    """TL000 is reported for the files tllint analyses; one that never mentions the training words is left to
    the general linter, whatever its encoding or syntax."""
    for data in (b"# coding: klingon\nimport torch\n", b"def broken(:\n", b"x = '\xff'\n"):
        outcome = check_source(data, "x.py", CODES)
        assert (outcome.findings, outcome.skipped) == ([], Skipped.NO_TRAINING_CODE), data


def test_deep_nesting_does_not_crash() -> None:
    data = b"import torch\nx = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\nmodel.requires_grad = False\n"
    result = check_source(data, "x.py", CODES)
    assert [f.code for f in result.findings] in (["TL000"], [])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10's Python calls use C stack: the limit stays")
@pytest.mark.parametrize("deep", [
    "".join(f"elif x == {i}:\n    y = {i}\n" for i in range(1, 2000)),  # nests 2,000 deep in the tree
    "z = " + " + ".join(["a"] * 2500) + "\n",
], ids=["elif-chain", "long-sum"])
def test_long_valid_chains_are_analysed(deep: str) -> None:
    """Deeper than Python's default recursion limit for the pass, but CPython compiles them: so does tllint."""
    data = (FREEZE_AFTER + "if x == 0:\n    y = 0\n" + deep).encode()
    compile(data, "x.py", "exec")
    assert codes(data) == [("TL001", 5)]


@pytest.mark.skipif(sys.platform == "win32", reason="permission bits are POSIX")
def test_unreadable_file_is_an_error_and_the_rest_runs(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text(FREEZE_AFTER)
    secret.chmod(0)
    (tmp_path / "train.py").write_text(FREEZE_AFTER)
    result = subprocess.run([*permission_bits_apply(), sys.executable, "-m", "tllint", "check", "--format", "json",
                             "--no-cache", "."], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    assert result.stderr == "tllint: error: secret.py: cannot read: Permission denied\n"
    assert [f["path"] for f in json.loads(result.stdout)] == ["train.py"]


def test_directory_named_like_a_python_file_and_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / "train.py").write_text(FREEZE_AFTER)
    (tmp_path / "pkg.py" / "loop").symlink_to(tmp_path)
    result = run_tllint("check", "--format", "json", "pkg.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == ["pkg.py/train.py"]


def test_python_312_syntax_is_judged_by_the_python_running_tllint() -> None:
    """PEP 695 `type` statements and generics: checked under 3.12+, TL000 naming the version under 3.11 (where
    `python FILE` fails too), never a crash."""
    data = b"type Point = tuple[float, float]\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n" + (
        FREEZE_AFTER.encode())
    findings = check_source(data, "x.py", CODES).findings
    if sys.version_info >= (3, 12):
        assert [(f.code, f.span.line) for f in findings] == [("TL001", 8)]
    else:
        [finding] = findings
        assert (finding.code, finding.span.line, finding.span.column) == ("TL000", 1, 6)
        assert f"Python 3.{sys.version_info.minor}" in finding.message
