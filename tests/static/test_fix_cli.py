"""`tllint check --fix / --unsafe-fixes / --diff / --show-fixes` through the real CLI, and the parts of fixing that
keep files safe: mode, line endings, a file changed on disk, a fix whose result is broken."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import FIXTURES, REPO, SEED_WRONG, run_tllint
from tllint.findings.model import Edit, Finding, Fix, Severity, Span
from tllint.static.fixing.apply import FixResult, _Comments, _round, write_atomically
from tllint.static.outcome import FileOutcome

ONE_OF_EACH = FIXTURES / "fix" / "one_of_each.py"
ONE_OF_EACH_FIXED = ONE_OF_EACH.with_name(ONE_OF_EACH.name + ".fixed")
FIVE = {"TL002", "TL003", "TL004", "TL005", "TL040"}


def copy(tmp_path: Path, source: Path = ONE_OF_EACH, name: str = "train.py") -> Path:
    target = tmp_path / name
    shutil.copyfile(source, target)
    return target


def codes(output: str) -> list[str]:
    return [finding["code"] for finding in json.loads(output)]


def test_the_five_safe_fixes_keep_every_comment_and_recheck_clean(tmp_path: Path) -> None:
    script = copy(tmp_path)
    assert sorted(codes(run_tllint("check", "--output-format", "json", str(script), cwd=tmp_path).stdout)) == \
        sorted(FIVE)
    fixed = run_tllint("check", "--fix", "--show-fixes", "train.py", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "5 fixed" in fixed.stdout and "Applied 5 fixes:" in fixed.stdout
    assert script.read_bytes() == ONE_OF_EACH_FIXED.read_bytes()
    original_comments = [line.partition("#")[2] for line in ONE_OF_EACH.read_text().splitlines() if "#" in line]
    assert all(comment in script.read_text() for comment in original_comments)
    again = run_tllint("check", "train.py", cwd=tmp_path)
    assert again.returncode == 0 and "No findings" in again.stdout, again.stdout


def test_diff_shows_the_same_change_and_writes_nothing(tmp_path: Path) -> None:
    script = copy(tmp_path)
    before = script.read_bytes()
    diff = run_tllint("check", "--diff", "train.py", cwd=tmp_path)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert script.read_bytes() == before
    assert diff.stdout.startswith("--- a/train.py\n+++ b/train.py\n")
    assert "Would apply 5 fixes." in diff.stderr
    if shutil.which("patch") is None:
        pytest.skip("patch is needed to apply the diff")
    subprocess.run(["patch", "-p1", "-s"], input=diff.stdout, text=True, cwd=tmp_path, check=True)
    assert script.read_bytes() == ONE_OF_EACH_FIXED.read_bytes()
    clean = run_tllint("check", "--diff", "train.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr


def test_the_seed_has_one_unsafe_fix_that_only_unsafe_fixes_applies(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SEED_WRONG)
    kept = run_tllint("check", "--fix", "train.py", cwd=tmp_path)
    assert kept.returncode == 1
    assert script.read_text() == SEED_WRONG
    assert "1 unsafe fix available with --unsafe-fixes" in kept.stdout.splitlines()[-1]
    rewritten = run_tllint("check", "--fix", "--unsafe-fixes", "train.py", cwd=tmp_path)
    assert rewritten.returncode == 0, rewritten.stdout + rewritten.stderr
    text = script.read_text()
    compile(text, "train.py", "exec")
    assert text.index("requires_grad = False") < text.index("model.fc = nn.Linear")
    assert "No findings" in run_tllint("check", "train.py", cwd=tmp_path).stdout


def test_mode_and_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_bytes(ONE_OF_EACH.read_bytes().replace(b"\n", b"\r\n"))
    script.chmod(0o751)
    assert run_tllint("check", "--fix", "train.py", cwd=tmp_path).returncode == 0
    assert script.read_bytes() == ONE_OF_EACH_FIXED.read_bytes().replace(b"\n", b"\r\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir() if p.name != ".tllint_cache"] == ["train.py"]  # no temporary left


def test_a_file_without_fixable_findings_is_never_written(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""\
        import torch
        from torchvision.models import ResNet18_Weights, resnet18

        model = resnet18(weights=ResNet18_Weights.DEFAULT)
        for p in model.parameters():
            p.requires_grad = False
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """))
    before = script.stat()
    result = run_tllint("check", "--fix", "--unsafe-fixes", "train.py", cwd=tmp_path)
    assert result.returncode == 1 and "train.py:7:" in result.stdout, result.stdout
    after = script.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_unfixable_wins_over_fixable_and_fix_can_be_configured(tmp_path: Path) -> None:
    script = copy(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.tllint]\nfix = true\nunfixable = ["TL002"]\n')
    result = run_tllint("check", "--output-format", "json", "train.py", cwd=tmp_path)
    assert codes(result.stdout) == ["TL002"]
    assert "model.layer1.requires_grad = False" in script.read_text()
    assert "weights=ResNet18_Weights.IMAGENET1K_V1" in script.read_text()
    copy(tmp_path, name="other.py")
    run_tllint("check", "--fixable", "TL04", "--unfixable", "TL001", "other.py", cwd=tmp_path)
    assert sorted(codes(run_tllint("check", "--no-fix", "--output-format", "json", "other.py",
                                   cwd=tmp_path).stdout)) == sorted(FIVE - {"TL040"})


def test_every_output_carries_the_fixes(tmp_path: Path) -> None:
    copy(tmp_path)
    [finding] = json.loads(run_tllint("check", "--output-format", "json", "--select", "TL002", "train.py",
                                      cwd=tmp_path).stdout)
    assert finding["fix"] == {"description": "Call `model.layer1.requires_grad_(False)`", "applicability": "safe",
                              "edits": [{"line": 9, "column": 1, "end_line": 9, "end_column": 35,
                                         "replacement": "model.layer1.requires_grad_(False)"}]}
    sarif = json.loads(run_tllint("check", "--output-format", "sarif", "train.py", cwd=tmp_path).stdout)
    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    fixes = [result["fixes"][0] for result in sarif["runs"][0]["results"]]
    assert len(fixes) == 5
    change = fixes[0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "train.py"
    assert {"deletedRegion", "insertedContent"} <= change["replacements"][0].keys()
    text = run_tllint("check", "train.py", cwd=tmp_path).stdout
    assert text.count("= fix (safe fix): ") == 5
    assert text.splitlines()[-1].endswith("; 5 fixable with --fix.")


def test_stdin_is_reported_with_its_fixes_and_not_fixed(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tllint", "check", "--fix", "--output-format", "json", "-"],
                            input=ONE_OF_EACH.read_text(), capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert all(finding["fix"] is not None for finding in json.loads(result.stdout))
    assert "checked, not fixed" in result.stderr


def test_a_file_changed_on_disk_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_bytes(b"edited meanwhile\n")
    reason = write_atomically(script, b"what tllint read\n", b"the fixed text\n")
    assert reason is not None and "changed on disk" in reason
    assert script.read_bytes() == b"edited meanwhile\n"
    assert write_atomically(script, b"edited meanwhile\n", b"fixed\n") is None
    assert script.read_bytes() == b"fixed\n"


def broken_finding(line: int, replacement: str) -> Finding:
    fix = Fix("a fix that breaks the file", (Edit(Span(line, 1, line, 1), replacement),))
    return Finding("TL002", "module-requires-grad-attribute", Severity.ERROR, "m", "train.py",
                   Span(line, 1, line, 1), fix=fix)


@pytest.mark.parametrize("replacement", ["def (:\n", "# a comment replaced\n"])
def test_a_fix_whose_result_is_broken_is_dropped_and_reported(replacement: str) -> None:
    text = "# a comment\nx = 1\n"
    if replacement.startswith("#"):  # an edit that deletes the first line's comment
        finding = broken_finding(1, "")
        finding = Finding(**{**finding.__dict__, "fix": Fix("drops a comment", (Edit(Span(1, 1, 2, 1), ""),))})
    else:
        finding = broken_finding(2, replacement)
    result = FixResult(b"", b"", [], FileOutcome())
    rejected: set[tuple[str, str]] = set()
    assert _round(text, [finding], _Comments(text), result, rejected) is None
    [problem] = result.problems
    assert "internal error" in problem and "not applied" in problem
    assert rejected


def test_a_fix_that_reveals_another_finding_is_followed_by_its_fix_in_the_next_round(tmp_path: Path) -> None:
    """The misspelled freeze hides TL001 (it freezes nothing); once TL004's fix makes it a freeze, TL001 fires
    and its unsafe fix moves the freeze before the replacement, in the same run."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""\
        import torch.nn as nn
        from torchvision.models import ResNet18_Weights, resnet18

        model = resnet18(weights=ResNet18_Weights.DEFAULT)
        model.fc = nn.Linear(512, 10)
        for param in model.parameters():
            param.require_grad = False
    """))
    assert codes(run_tllint("check", "--output-format", "json", "train.py", cwd=tmp_path).stdout) == ["TL004"]
    result = run_tllint("check", "--fix", "--unsafe-fixes", "--show-fixes", "train.py", cwd=tmp_path)
    assert result.returncode == 0 and "2 fixed" in result.stdout, result.stdout + result.stderr
    assert script.read_text().endswith("for param in model.parameters():\n    param.requires_grad = False\n"
                                       "model.fc = nn.Linear(512, 10)\n")
