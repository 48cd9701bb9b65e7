"""`tllint check` with ruff's conventions, end to end as a user runs it: stdin, exit codes, statistics, quiet and
silent, output files, formats, settings and files shown, excludes and per-file-ignores on the command line,
colour, and honest counts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import REPO, SEED_RIGHT, SEED_WRONG, SEED_WRONG_LINE, run_tllint

UTILS = "def add(a, b):\n    return a + b\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def stdin_check(*args: str, data: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tllint", "check", *args], input=data, cwd=cwd, text=True,
                          capture_output=True, timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


# --- stdin ----------------------------------------------------------------------------------------------------

def test_stdin_with_a_file_name_reports_the_seed_at_its_line(tmp_path: Path) -> None:
    result = stdin_check("-", "--stdin-filename", "train.py", data=SEED_WRONG, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"train.py:{SEED_WRONG_LINE}:1: TL001 ")
    assert result.stderr == ""
    assert not list(tmp_path.iterdir())  # nothing cached for stdin
    unnamed = stdin_check("-", data=SEED_WRONG, cwd=tmp_path)
    assert unnamed.stdout.startswith(f"-:{SEED_WRONG_LINE}:1: TL001 ")
    only_the_name = stdin_check("--stdin-filename", "train.py", data=SEED_WRONG, cwd=tmp_path)
    assert only_the_name.stdout == result.stdout


def test_stdin_file_name_takes_the_configuration_of_its_folder(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", textwrap.dedent("""\
        [tool.tllint]
        extend-exclude = ["generated"]
        [tool.tllint.per-file-ignores]
        "scripts/*.py" = ["TL001"]
    """))
    write(tmp_path, "pkg/tllint.toml", 'ignore = ["TL001"]\n')
    ignored = stdin_check("-", "--stdin-filename", "scripts/train.py", data=SEED_WRONG, cwd=tmp_path)
    assert ignored.returncode == 0 and "No findings in 1 file checked." in ignored.stdout
    closest = stdin_check("-", "--stdin-filename", "pkg/train.py", data=SEED_WRONG, cwd=tmp_path)
    assert closest.returncode == 0, closest.stdout
    excluded = stdin_check("-", "--stdin-filename", "generated/train.py", "--force-exclude", data=SEED_WRONG,
                           cwd=tmp_path)
    assert excluded.returncode == 0 and "No findings in 0 files checked." in excluded.stdout
    named = stdin_check("-", "--stdin-filename", "generated/train.py", data=SEED_WRONG, cwd=tmp_path)
    assert named.returncode == 1  # as for a path named on the command line: excludes need --force-exclude


def test_stdin_cannot_be_mixed_with_paths(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_RIGHT)
    result = stdin_check("-", "train.py", data="", cwd=tmp_path)
    assert result.returncode == 2 and "stdin" in result.stderr


# --- exit codes and reports -------------------------------------------------------------------------------------

def test_exit_zero_keeps_the_output(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    plain = run_tllint("check", "train.py", cwd=tmp_path)
    zero = run_tllint("check", "--exit-zero", "train.py", cwd=tmp_path)
    assert (plain.returncode, zero.returncode) == (1, 0)
    assert zero.stdout == plain.stdout
    piped = stdin_check("-", "--stdin-filename", "train.py", "--exit-zero", data=SEED_WRONG, cwd=tmp_path)
    assert piped.returncode == 0 and "TL001" in piped.stdout


def test_exit_zero_still_exits_2_on_errors(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    result = run_tllint("check", "--exit-zero", "train.py", "missing.py", cwd=tmp_path)
    assert result.returncode == 2 and "missing.py" in result.stderr


def test_statistics_counts_per_code_most_frequent_first(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    result = run_tllint("check", "--statistics", "train.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "1  TL001  freeze-after-head-replacement\n"
    write(tmp_path, "b.py", SEED_WRONG)
    write(tmp_path, "c.py", SEED_WRONG)
    write(tmp_path, "d.py", "from torchvision.models import resnet18\nm = resnet18()\nm.requires_grad = False\n")
    many = run_tllint("check", "--statistics", ".", cwd=tmp_path)
    assert many.stdout.splitlines() == ["3  TL001  freeze-after-head-replacement",
                                        "1  TL002  module-requires-grad-attribute"]
    as_json = run_tllint("check", "--statistics", "--output-format", "json", ".", cwd=tmp_path)
    assert json.loads(as_json.stdout)[0] == {"code": "TL001", "name": "freeze-after-head-replacement", "count": 3}


def test_quiet_prints_findings_only_and_silent_nothing(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    write(tmp_path, "clean.py", SEED_RIGHT)
    quiet = run_tllint("check", "-q", ".", cwd=tmp_path)
    assert quiet.returncode == 1 and "TL001" in quiet.stdout and "checked" not in quiet.stdout
    assert run_tllint("check", "--quiet", "clean.py", cwd=tmp_path).stdout == ""
    silent = run_tllint("check", "-s", ".", cwd=tmp_path)
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, "", "")
    broken = run_tllint("check", "--silent", ".", "missing.py", cwd=tmp_path)
    assert broken.returncode == 2 and broken.stdout == "" and "missing.py" in broken.stderr  # errors still say why


def test_output_file_holds_the_report(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    result = run_tllint("check", "--output-format", "json", "--output-file", "report.json", "train.py",
                        cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert result.returncode == 1 and result.stdout == ""
    [finding] = json.loads((tmp_path / "report.json").read_text())
    assert finding["code"] == "TL001"
    text = run_tllint("check", "-o", "report.txt", "train.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert text.stdout == "" and "\x1b[" not in (tmp_path / "report.txt").read_text()  # no colour in a file
    unwritable = run_tllint("check", "-o", str(tmp_path / "no" / "such" / "dir.txt"), "train.py", cwd=tmp_path)
    assert unwritable.returncode == 2 and "cannot write the report" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr


def test_output_format_is_the_primary_name_and_format_its_alias(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    primary = run_tllint("check", "--output-format", "json", "train.py", cwd=tmp_path)
    alias = run_tllint("check", "--format", "json", "train.py", cwd=tmp_path)
    assert primary.stdout == alias.stdout and json.loads(primary.stdout)[0]["code"] == "TL001"
    assert "--output-format" in run_tllint("check", "--help").stdout


def test_colour_follows_force_color_and_no_color(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)

    def coloured(**env: str) -> bool:
        result = subprocess.run([sys.executable, "-m", "tllint", "check", "train.py"], cwd=tmp_path, text=True,
                                capture_output=True, timeout=120, env={"PYTHONPATH": str(REPO), **env})
        assert result.returncode == 1
        return "\x1b[" in result.stdout

    assert not coloured()  # a pipe: no colour
    assert coloured(FORCE_COLOR="1")
    assert not coloured(FORCE_COLOR="1", NO_COLOR="1")
    assert not coloured(FORCE_COLOR="")


# --- honest counting --------------------------------------------------------------------------------------------

def test_the_summary_counts_checked_and_skipped_files(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    write(tmp_path, "clean.py", SEED_RIGHT)
    for index in range(3):
        write(tmp_path, f"utils{index}.py", UTILS)
    write(tmp_path, "vendored.py", "# tllint: skip-file\n" + SEED_WRONG)
    result = run_tllint("check", ".", cwd=tmp_path)
    assert result.stdout.endswith("1 finding in 1 file (1 error); 2 files checked, 3 without training code "
                                  "skipped, 1 skipped by `# tllint: skip-file`; 1 unsafe fix available with "
                                  "--unsafe-fixes.\n"), result.stdout
    again = run_tllint("check", ".", cwd=tmp_path)  # from the cache: the same counts
    assert again.stdout == result.stdout
    (tmp_path / "train.py").unlink()
    clean = run_tllint("check", ".", cwd=tmp_path)
    assert clean.stdout.endswith("No findings in 1 file checked, 3 without training code skipped, 1 skipped by "
                                 "`# tllint: skip-file`.\n")


def test_show_files_lists_checked_and_skipped_files(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    write(tmp_path, "utils.py", UTILS)
    write(tmp_path, ".venv/lib/x.py", SEED_WRONG)
    result = run_tllint("check", "--show-files", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "train.py\nutils.py  (skipped: no training code)\n"
    assert not (tmp_path / ".tllint_cache").exists()


# --- settings on the command line ------------------------------------------------------------------------------

def test_exclude_and_extend_exclude_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "legacy/a.py", SEED_WRONG)
    write(tmp_path, "build/b.py", SEED_WRONG)
    write(tmp_path, "train.py", SEED_WRONG)

    def paths(*args: str) -> list[str]:
        result = run_tllint("check", "--output-format", "json", *args, ".", cwd=tmp_path)
        return sorted(f["path"] for f in json.loads(result.stdout))

    assert paths() == ["legacy/a.py", "train.py"]  # `build` is a default exclude
    assert paths("--extend-exclude", "legacy") == ["train.py"]
    assert paths("--exclude", "legacy") == ["build/b.py", "train.py"]  # replaces the default list, as in ruff
    assert paths("--exclude", "legacy,build") == ["train.py"]


def test_per_file_ignores_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.tllint.per-file-ignores]\n"scripts/*" = ["TL001"]\n')
    write(tmp_path, "scripts/a.py", SEED_WRONG)
    write(tmp_path, "tests/b.py", SEED_WRONG)

    def paths(*args: str) -> list[str]:
        result = run_tllint("check", "--output-format", "json", *args, ".", cwd=tmp_path)
        return sorted(f["path"] for f in json.loads(result.stdout))

    assert paths() == ["tests/b.py"]
    assert paths("--extend-per-file-ignores", "tests/*:TL001") == []
    assert paths("--per-file-ignores", "tests/*:TL001") == ["scripts/a.py"]  # replaces the file's table
    assert paths("--per-file-ignores", "tests/*:TL002,TL001", "--per-file-ignores", "scripts/*:TL0") == []
    bad = run_tllint("check", "--per-file-ignores", "TL001", ".", cwd=tmp_path)
    assert bad.returncode == 2 and "GLOB:CODES" in bad.stderr


def test_an_empty_select_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    for option in ("--select", "--extend-select", "--ignore"):
        result = run_tllint("check", option, "", "train.py", cwd=tmp_path)
        assert result.returncode == 2, (option, result.stdout)
        assert f"{option} needs at least one value" in result.stderr


def test_selecting_runtime_codes_on_check_says_where_they_come_from(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    for selector in ("TL1", "TL104"):
        result = run_tllint("check", "--select", selector, "train.py", cwd=tmp_path)
        assert result.returncode == 2
        assert "tllint audit" in result.stderr and "tllint run" in result.stderr
    assert run_tllint("check", "--select", "TL", "train.py", cwd=tmp_path).returncode == 1
    assert run_tllint("check", "--ignore", "TL1", "train.py", cwd=tmp_path).returncode == 1


def test_show_settings_says_what_applies_and_where_it_comes_from(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.tllint]\nignore = ["TL013"]\nmax-file-size = "2MB"\n')
    write(tmp_path, "train.py", SEED_WRONG)
    result = run_tllint("check", "--show-settings", "--extend-select", "TL900", "train.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"# configuration file: {tmp_path / 'pyproject.toml'} [tool.tllint]" in lines
    assert f'ignore = ["TL013"]  # {tmp_path / "pyproject.toml"} [tool.tllint]' in lines
    assert 'extend-select = ["TL900"]  # command line' in lines
    assert 'select = ["TL0"]  # default' in lines
    assert f"max-file-size = 2000000  # {tmp_path / 'pyproject.toml'} [tool.tllint]" in lines
    enabled = next(line for line in lines if line.startswith("# enabled codes: ")).split(": ", 1)[1].split(", ")
    assert "TL900" in enabled and "TL013" not in enabled and "TL001" in enabled
    assert not (tmp_path / ".tllint_cache").exists()


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_is_accepted(tmp_path: Path, flag: str) -> None:
    write(tmp_path, "train.py", SEED_RIGHT)
    assert run_tllint("check", flag, "train.py", cwd=tmp_path).returncode == 0
