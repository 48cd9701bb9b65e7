"""Merging the import a fix adds into the file's own import of its module (libcst), and the guard around it: the
merged file compiles, keeps every comment and re-checks the same, or the fix's own import line stays."""

from __future__ import annotations

import io
import tokenize
from collections import Counter
from pathlib import Path

import libcst
import pytest

from tests.helpers import STATIC_FIXTURES, run_tllint
from tllint.static.engine import check_source
from tllint.static.fixing.apply import _Encoded, _FileText, _sound_merge
from tllint.static.fixing.imports import merge_added_imports

ENUM = "from torchvision.models import ResNet50_Weights\n"
COMMENTED_TAIL = STATIC_FIXTURES / "TL040" / "bad_commented_out_tail.py"


def comments(text: str) -> Counter[str]:
    return Counter(token.string for token in tokenize.generate_tokens(io.StringIO(text).readline)
                   if token.type == tokenize.COMMENT)


MERGED = [
    ("from torchvision.models import resnet50\nimport torch\n" + ENUM + "model = resnet50()\n",
     "from torchvision.models import resnet50, ResNet50_Weights\nimport torch\nmodel = resnet50()\n"),
    ("from torchvision.models import (\n    resnet50,  # backbone\n    vgg16,\n)  # models\n" + ENUM,
     "from torchvision.models import (\n    resnet50,  # backbone\n    vgg16,\n    ResNet50_Weights,\n)  # models\n"),
    ("from torchvision.models import (\n    resnet50,\n    vgg16,  # head\n    # more later\n)\n" + ENUM,
     "from torchvision.models import (\n    resnet50,\n    vgg16,  # head\n    ResNet50_Weights,\n"
     "    # more later\n)\n"),
    ("from torchvision.models import (\n    resnet50,\n)\n" + ENUM,
     "from torchvision.models import (\n    resnet50,\n    ResNet50_Weights,\n)\n"),
    ("from torchvision.models import (\n    resnet50,\n    vgg16\n)\n" + ENUM,
     "from torchvision.models import (\n    resnet50,\n    vgg16,\n    ResNet50_Weights\n)\n"),
    ("from torchvision.models import (resnet50,\n                                vgg16)\n" + ENUM,
     "from torchvision.models import (resnet50,\n                                vgg16,\n"
     "                                ResNet50_Weights)\n"),
    ("from torchvision.models import resnet50 as backbone  # noqa: F401\r\n" + ENUM.replace("\n", "\r\n"),
     "from torchvision.models import resnet50 as backbone, ResNet50_Weights  # noqa: F401\r\n"),
]


@pytest.mark.parametrize(("text", "expected"), MERGED)
def test_the_added_import_joins_the_module_import_in_its_layout(text: str, expected: str) -> None:
    assert merge_added_imports(text, [ENUM]) == expected


LEFT_ALONE = {
    "in a try": "try:\n    from torchvision.models import resnet50\nexcept ImportError:\n    resnet50 = None\n",
    "under TYPE_CHECKING": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from torchvision.models import ResNet\n",
    "a star import": "from torchvision.models import *\n",
    "a relative import": "from .models import resnet50\n",
    "another module": "from torchvision import models\n",
    "a statement sharing its line": "import os; from torchvision.models import resnet50\n",
    "a comment after the last name, no trailing comma": "from torchvision.models import (\n    resnet50  # x\n)\n",
}


@pytest.mark.parametrize("above", LEFT_ALONE.values(), ids=list(LEFT_ALONE))
def test_the_added_import_stays_where_there_is_no_sound_statement_to_join(above: str) -> None:
    text = above + ENUM + "model = None\n"
    assert merge_added_imports(text, [ENUM]) == text


def test_added_imports_of_one_module_merge_into_the_first_and_an_import_below_is_not_joined() -> None:
    text = ("import torch\nfrom torchvision.models import EfficientNet_B0_Weights\n"
            "from torchvision.models import MobileNet_V2_Weights\nx = 1\nfrom torchvision.models import vgg16\n")
    assert merge_added_imports(text, ["from torchvision.models import EfficientNet_B0_Weights\n",
                                      "from torchvision.models import MobileNet_V2_Weights\n"]) == (
        "import torch\nfrom torchvision.models import EfficientNet_B0_Weights, MobileNet_V2_Weights\nx = 1\n"
        "from torchvision.models import vgg16\n")


def test_libcst_loses_a_comment_of_the_fixture_but_the_merge_never_shows_it_the_module(tmp_path: Path) -> None:
    """libcst 1.9 drops indented comment lines after a module's last statement; the fixture ends so. The merge
    hands libcst only the import statement's lines, so `--fix` merges and every comment stays."""
    source = COMMENTED_TAIL.read_text()
    assert comments(source) - comments(libcst.parse_module(source).code), \
        "this libcst no longer drops the comment: the fixture no longer shows the guard's reason"
    script = tmp_path / "train.py"
    script.write_text(source)
    result = run_tllint("check", "--no-cache", "--fix", "--select", "TL040", str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    fixed = script.read_text()
    assert "from torchvision.models import efficientnet_b0, EfficientNet_B0_Weights\n" in fixed
    assert comments(fixed) == comments(source)


def test_a_merge_that_loses_a_comment_breaks_the_code_or_changes_the_findings_is_refused() -> None:
    """The guard `--fix` runs on every merge, given what a whole-module libcst rewrite gives (a comment lost), a
    text that does not compile, one that says something else (a finding more), and the merge itself (kept)."""
    added = "from torchvision.models import EfficientNet_B0_Weights\n"
    weights = "(weights=EfficientNet_B0_Weights.IMAGENET1K_V1)"
    text = COMMENTED_TAIL.read_text().replace("(pretrained=True)", weights)
    text = text.replace("import efficientnet_b0\n", "import efficientnet_b0\n" + added)
    data = text.encode()
    encoded = _Encoded.of(data)
    assert encoded is not None
    codes = frozenset({"TL040"})
    findings = check_source(data, "train.py", codes).findings
    merged = merge_added_imports(text, [added])
    assert merged != text
    refused = (libcst.parse_module(text).code, merged + "(\n",
               merged.replace(weights, "(pretrained=True)"))
    file_text = _FileText(text, encoded)
    for candidate in refused:
        assert _sound_merge(file_text, candidate, "train.py", codes, findings) is None, candidate
    assert _sound_merge(file_text, merged, "train.py", codes, findings) is not None


def test_diff_shows_the_merged_import_and_fix_writes_it(tmp_path: Path) -> None:
    source = (STATIC_FIXTURES / "TL040" / "bad_parenthesised_import_with_comments.py").read_text()
    script = tmp_path / "train.py"
    script.write_text(source)
    diff = run_tllint("check", "--no-cache", "--diff", "--select", "TL040", str(script), cwd=tmp_path)
    assert diff.returncode == 1, diff.stderr
    assert "+    ResNet50_Weights,\n" in diff.stdout and "+from torchvision.models import" not in diff.stdout
    assert script.read_text() == source
    fix = run_tllint("check", "--no-cache", "--fix", "--select", "TL040", str(script), cwd=tmp_path)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert script.read_text() == (STATIC_FIXTURES / "TL040" / "bad_parenthesised_import_with_comments.py.fixed"
                                  ).read_text()


def test_a_crlf_file_keeps_its_line_endings_through_the_merge(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_bytes(b"import torch\r\nfrom torchvision.models import (\r\n    resnet50,  # backbone\r\n)\r\n\r\n"
                       b"model = resnet50(pretrained=True)\r\n")
    result = run_tllint("check", "--no-cache", "--fix", "--select", "TL040", str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert script.read_bytes() == (b"import torch\r\nfrom torchvision.models import (\r\n    resnet50,  # backbone\r\n"
                                   b"    ResNet50_Weights,\r\n)\r\n\r\n"
                                   b"model = resnet50(weights=ResNet50_Weights.IMAGENET1K_V1)\r\n")
