"""The flake8 plugin, run by the real flake8: found through the entry point pyproject.toml declares, reporting
with flake8's format, columns, noqa and selection."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, SEED_RIGHT, SEED_WRONG, SEED_WRONG_LINE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.skipif(shutil.which("flake8") is None, reason="needs flake8")


@pytest.fixture
def installed(tmp_path: Path) -> dict[str, str]:
    """An environment where this checkout is installed as flake8 sees installs: package metadata (named tllint,
    so that it stands in for any other install) with the entry points of pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    points = project["entry-points"]["flake8.extension"]
    info = tmp_path / "site" / "tllint-0.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tllint\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text("[flake8.extension]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(info.parent), str(REPO)])}


def flake8(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_entry_point_is_tl_in_flake8_extension() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["flake8.extension"] == {"TL": "tllint.flake8_plugin:TllintChecker"}


def test_flake8_select_tl_reports_the_seed(tmp_path: Path, installed: dict[str, str]) -> None:
    (tmp_path / "train.py").write_text(SEED_WRONG)
    (tmp_path / "clean.py").write_text(SEED_RIGHT)
    result = flake8("--select", "TL", "train.py", "clean.py", cwd=tmp_path, env=installed)
    assert result.returncode == 1, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"train.py:{SEED_WRONG_LINE}:1: TL001 This freeze also freezes `model.fc`")
    assert "tllint: 0.0.0" in flake8("--version", cwd=tmp_path, env=installed).stdout  # the stand-in install


def test_flake8_owns_noqa_and_selection(tmp_path: Path, installed: dict[str, str]) -> None:
    silenced = SEED_WRONG.replace("named_parameters():", "named_parameters():  # noqa: TL001")
    (tmp_path / "train.py").write_text(silenced)
    assert flake8("--select", "TL", "train.py", cwd=tmp_path, env=installed).stdout == ""
    shown = flake8("--select", "TL", "--disable-noqa", "train.py", cwd=tmp_path, env=installed)
    assert "TL001" in shown.stdout
    (tmp_path / "train.py").write_text(SEED_WRONG)
    assert flake8("--select", "TL", "--extend-ignore", "TL001", "train.py", cwd=tmp_path, env=installed).stdout == ""
    assert "TL001" in flake8("--select", "TL00", "train.py", cwd=tmp_path, env=installed).stdout
    both = flake8("--select", "E,F,TL", "train.py", cwd=tmp_path, env=installed)
    assert "TL001" in both.stdout  # alongside flake8's own codes
    per_file = flake8("--select", "TL", "--per-file-ignores", "train.py:TL001", "train.py", cwd=tmp_path,
                      env=installed)
    assert per_file.stdout == ""


def test_flake8_columns_match_tllint(tmp_path: Path, installed: dict[str, str]) -> None:
    script = "from torchvision.models import resnet18\nmodel = resnet18()\nif True:\n    model.requires_grad = False\n"
    (tmp_path / "train.py").write_text(script)
    result = flake8("--select", "TL", "train.py", cwd=tmp_path, env=installed)
    assert result.stdout.startswith("train.py:4:5: TL002 "), result.stdout


def test_a_latin1_file_keeps_its_encoding(tmp_path: Path, installed: dict[str, str]) -> None:
    (tmp_path / "train.py").write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + SEED_WRONG.encode())
    result = flake8("--select", "TL", "train.py", cwd=tmp_path, env=installed)
    assert result.stdout.startswith(f"train.py:{SEED_WRONG_LINE + 2}:1: TL001 "), result.stdout + result.stderr
