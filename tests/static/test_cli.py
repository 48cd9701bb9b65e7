"""The `tllint check` command end to end, as a user runs it: exit codes, formats, config, suppression."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.helpers import run_tllint

WRONG_ORDER = textwrap.dedent("""\
    import torch.nn as nn
    from torchvision.models import resnet18

    model = resnet18(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(512, 10)
    for name, param in model.named_parameters():
        param.requires_grad = False
""")
RIGHT_ORDER = textwrap.dedent("""\
    import torch.nn as nn
    from torchvision.models import resnet18

    model = resnet18(weights="IMAGENET1K_V1")
    for name, param in model.named_parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, 10)
""")


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_seed_wrong_order_reports_tl001_at_the_loop_and_exits_1(tmp_path: Path) -> None:
    write(tmp_path, "train.py", WRONG_ORDER)
    result = run_tllint("check", "train.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("train.py:6:1: TL001 [error] ")
    assert "    6 | for name, param in model.named_parameters():" in result.stdout
    assert "1 finding in 1 file (1 error); 1 file checked; 1 unsafe fix available with --unsafe-fixes." in \
        result.stdout


def test_seed_right_order_is_clean_and_exits_0(tmp_path: Path) -> None:
    write(tmp_path, "train.py", RIGHT_ORDER)
    result = run_tllint("check", "train.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings in 1 file checked." in result.stdout


def test_json_output_has_the_documented_keys(tmp_path: Path) -> None:
    write(tmp_path, "src/train.py", WRONG_ORDER)
    result = run_tllint("check", "--format", "json", "src", cwd=tmp_path)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)
    assert finding == {
        "code": "TL001", "name": "freeze-after-head-replacement", "severity": "error",
        "path": "src/train.py", "line": 6, "column": 1, "end_line": 6, "end_column": 43,
        "message": finding["message"], "fix": {
            "description": "Freeze first, then replace `model.fc`", "applicability": "unsafe",
            "edits": [{"line": 5, "column": 1, "end_line": 5, "end_column": 1,
                       "replacement": WRONG_ORDER.split("\n", 5)[5]},
                      {"line": 6, "column": 1, "end_line": 8, "end_column": 1, "replacement": ""}]},
    }
    assert "line 5" in finding["message"]


def test_github_and_sarif_formats(tmp_path: Path) -> None:
    write(tmp_path, "train.py", WRONG_ORDER)
    github = run_tllint("check", "--format", "github", "train.py", cwd=tmp_path)
    assert github.stdout.startswith("::error file=train.py,line=6,col=1,")
    sarif = json.loads(run_tllint("check", "--format", "sarif", "train.py", cwd=tmp_path).stdout)
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "TL001"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 6


def test_directories_are_walked_and_virtualenvs_skipped(tmp_path: Path) -> None:
    write(tmp_path, "a/train.py", WRONG_ORDER)
    write(tmp_path, ".venv/lib/bad.py", WRONG_ORDER)
    write(tmp_path, "build/bad.py", WRONG_ORDER)
    write(tmp_path, "a/notes.txt", WRONG_ORDER)
    result = run_tllint("check", "--format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)] == ["a/train.py"]


def test_noqa_suppresses_named_codes_and_bare_noqa_all(tmp_path: Path) -> None:
    named = WRONG_ORDER.replace("named_parameters():", "named_parameters():  # noqa: TL001")
    other = WRONG_ORDER.replace("named_parameters():", "named_parameters():  # noqa: TL002")
    bare = WRONG_ORDER.replace("named_parameters():", "named_parameters():  # noqa")
    write(tmp_path, "named.py", named)
    write(tmp_path, "other.py", other)
    write(tmp_path, "bare.py", bare)
    result = run_tllint("check", "--format", "json", ".", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)] == ["other.py"]


def test_noqa_on_the_last_line_of_a_multiline_statement(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        import torch
        from torchvision.models import resnet18
        model = resnet18()
        model.layer4.requires_grad = (
            False
        )  # noqa: TL002
    """)
    write(tmp_path, "train.py", text)
    assert run_tllint("check", "train.py", cwd=tmp_path).returncode == 0
    write(tmp_path, "train.py", text.replace("  # noqa: TL002", ""))
    assert run_tllint("check", "train.py", cwd=tmp_path).returncode == 1


def test_skip_file_comment(tmp_path: Path) -> None:
    write(tmp_path, "train.py", "# tllint: skip-file\n" + WRONG_ORDER)
    assert run_tllint("check", "train.py", cwd=tmp_path).returncode == 0


def test_select_and_ignore_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "train.py", WRONG_ORDER)
    assert run_tllint("check", "--ignore", "TL001", "train.py", cwd=tmp_path).returncode == 0
    assert run_tllint("check", "--select", "TL002", "train.py", cwd=tmp_path).returncode == 0
    assert run_tllint("check", "--select", "TL00", "train.py", cwd=tmp_path).returncode == 1


def test_pyproject_config_is_found_by_walking_up(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.tllint]\nignore = ["TL001"]\n')
    write(tmp_path, "pkg/sub/train.py", WRONG_ORDER)
    assert run_tllint("check", "pkg/sub/train.py", cwd=tmp_path).returncode == 0
    # the command line is a layer on top of the file, as in ruff: its --ignore adds to the file's, its --select
    # starts the selection afresh
    assert run_tllint("check", "--ignore", "TL002", "pkg/sub/train.py", cwd=tmp_path).returncode == 0
    assert run_tllint("check", "--select", "TL0", "pkg/sub/train.py", cwd=tmp_path).returncode == 1


def test_per_file_ignores_and_exclude(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", textwrap.dedent("""\
        [tool.tllint]
        exclude = ["legacy"]
        [tool.tllint.per-file-ignores]
        "scripts/*.py" = ["TL001"]
    """))
    write(tmp_path, "scripts/a.py", WRONG_ORDER)
    write(tmp_path, "legacy/b.py", WRONG_ORDER)
    write(tmp_path, "train.py", WRONG_ORDER)
    result = run_tllint("check", "--format", "json", ".", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)] == ["train.py"]
    # explicit paths are checked unless --force-exclude
    assert run_tllint("check", "legacy/b.py", cwd=tmp_path).returncode == 1
    assert run_tllint("check", "--force-exclude", "legacy/b.py", cwd=tmp_path).returncode == 0


def test_unknown_config_key_exits_2_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.tllint]\nselekt = ["TL001"]\n')
    write(tmp_path, "train.py", RIGHT_ORDER)
    result = run_tllint("check", "train.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "selekt" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_code_exits_2_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "train.py", RIGHT_ORDER)
    result = run_tllint("check", "--select", "TL999", "train.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "TL999" in result.stderr
    config = write(tmp_path, "other.toml", 'ignore = ["XX1"]\n')
    result = run_tllint("check", "--config", str(config), "train.py", cwd=tmp_path)
    assert result.returncode == 2 and "XX1" in result.stderr


def test_missing_path_is_reported_and_the_rest_still_checked(tmp_path: Path) -> None:
    write(tmp_path, "train.py", WRONG_ORDER)
    result = run_tllint("check", "--format", "json", "nope.py", "train.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.py" in result.stderr
    assert [f["code"] for f in json.loads(result.stdout)] == ["TL001"]


def test_version() -> None:
    result = run_tllint("--version")
    assert result.returncode == 0 and result.stdout.startswith("tllint, version ")
