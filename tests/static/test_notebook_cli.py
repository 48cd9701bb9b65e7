"""`tllint check` on notebooks, through the real CLI in a subprocess: every output format names the cell, a walk
picks notebooks up (and skips Jupyter's checkpoints), the configuration and the cache treat them like other
files, and the static CLI still imports no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, run_tllint
from tests.static.test_no_torch import PROBE
from tests.static.test_outputs import validator

IMPORTS = "import torch.nn as nn\nfrom torchvision.models import resnet18\n"
BUILD = 'model = resnet18(weights="IMAGENET1K_V1")\n'
FREEZE = "for name, param in model.named_parameters():\n    param.requires_grad = False\n"
REPLACE = "model.fc = nn.Linear(512, 10)\n"


def write_notebook(folder: Path, name: str, *cells: str, markdown_first: bool = True) -> Path:
    """A notebook as Jupyter writes it: sources as lists of lines, a markdown cell first, indented JSON."""
    def cell(kind: str, text: str) -> dict:
        lines = [line + "\n" for line in text.split("\n")]
        lines[-1] = lines[-1].removesuffix("\n")
        extra = {"execution_count": None, "outputs": []} if kind == "code" else {}
        return {"cell_type": kind, "metadata": {}, "source": [line for line in lines if line], **extra}

    heading = [cell("markdown", "# Fine-tune a ResNet")] if markdown_first else []
    document = {"cells": [*heading, *(cell("code", text) for text in cells)], "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}}
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


def wrong_order(folder: Path, name: str = "nb.ipynb") -> Path:
    """The seed's wrong order over four code cells (cells 2 to 5): the freeze is line 1 of cell 5."""
    return write_notebook(folder, name, IMPORTS, BUILD, REPLACE, FREEZE)


def test_text_names_the_cell_and_shows_the_line_of_the_cell(tmp_path: Path) -> None:
    wrong_order(tmp_path)
    result = run_tllint("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("nb.ipynb:cell 5:1:1: TL001 [error] ")
    assert "which was replaced on line 1 of cell 4" in result.stdout
    assert "    1 | for name, param in model.named_parameters():" in result.stdout
    assert "1 finding in 1 file (1 error); 1 file checked; 1 unsafe fix available with --unsafe-fixes." in result.stdout


def test_the_right_order_is_clean(tmp_path: Path) -> None:
    write_notebook(tmp_path, "nb.ipynb", IMPORTS, BUILD, FREEZE, REPLACE)
    result = run_tllint("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings in 1 file checked." in result.stdout


def test_json_has_the_cell_and_lines_within_it(tmp_path: Path) -> None:
    wrong_order(tmp_path)
    result = run_tllint("check", "nb.ipynb", "--output-format", "json", cwd=tmp_path)
    [finding] = json.loads(result.stdout)
    assert {k: finding[k] for k in ("code", "path", "cell", "line", "column", "end_line")} == {
        "code": "TL001", "path": "nb.ipynb", "cell": 5, "line": 1, "column": 1, "end_line": 1}


def test_sarif_names_the_cell_and_validates_against_the_official_schema(tmp_path: Path) -> None:
    wrong_order(tmp_path)
    result = run_tllint("check", "nb.ipynb", "--output-format", "sarif", cwd=tmp_path)
    log = json.loads(result.stdout)
    assert not list(validator().iter_errors(log))
    [location] = log["runs"][0]["results"][0]["locations"]
    assert location["logicalLocations"] == [{"name": "cell 5"}] and location["properties"] == {"cell": 5}
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "nb.ipynb"
    assert location["physicalLocation"]["region"]["startLine"] == 1


def test_github_annotates_the_file_with_the_cell_in_the_title(tmp_path: Path) -> None:
    """A cell's line is no line of the .ipynb file: the annotation carries no `line=`."""
    wrong_order(tmp_path)
    result = run_tllint("check", "nb.ipynb", "--output-format", "github", cwd=tmp_path)
    assert result.stdout.startswith("::error file=nb.ipynb,title=TL001 freeze-after-head-replacement "
                                    "(cell 5%2C line 1%2C column 1)::This freeze also freezes")
    assert "line=" not in result.stdout


def test_noqa_in_a_cell(tmp_path: Path) -> None:
    write_notebook(tmp_path, "nb.ipynb", IMPORTS, BUILD, REPLACE, FREEZE.replace("():", "():  # noqa: TL001"))
    result = run_tllint("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_magics_shell_and_help_lines_are_masked(tmp_path: Path) -> None:
    write_notebook(tmp_path, "nb.ipynb", "!pip install -q torchvision\n%matplotlib inline\n" + IMPORTS,
                   BUILD + "model?\nfiles = !ls", "%%time\n" + REPLACE, "%%capture\n" + FREEZE)
    result = run_tllint("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("nb.ipynb:cell 5:2:1: TL001 ")


def test_broken_json_is_tl000_at_its_position(tmp_path: Path) -> None:
    path = wrong_order(tmp_path)
    path.write_text(path.read_text().replace('"cells": [', '"cells": [,', 1))
    result = run_tllint("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("nb.ipynb:2:12: TL000 [error] the notebook is not valid JSON: Expecting value; "
                                    "the notebook was not checked")


def test_json_that_is_not_a_notebook_is_tl000(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_text('{"model": "requires_grad"}')
    result = run_tllint("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and "not a Jupyter notebook: the JSON object has no `cells` list" in result.stdout


def test_a_walk_picks_notebooks_up_and_skips_checkpoints_and_excludes(tmp_path: Path) -> None:
    wrong_order(tmp_path, "notebooks/train.ipynb")
    wrong_order(tmp_path, "notebooks/.ipynb_checkpoints/train-checkpoint.ipynb")
    wrong_order(tmp_path, "scratch/old.ipynb")
    (tmp_path / "pyproject.toml").write_text('[tool.tllint]\nextend-exclude = ["scratch"]\n')
    result = run_tllint("check", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert [line.split(": ")[0] for line in result.stdout.splitlines() if "TL001" in line] == [
        "notebooks/train.ipynb:cell 5:1:1"]


def test_per_file_ignores_apply_to_notebooks(tmp_path: Path) -> None:
    wrong_order(tmp_path, "notebooks/train.ipynb")
    (tmp_path / "pyproject.toml").write_text('[tool.tllint.per-file-ignores]\n"notebooks/*.ipynb" = ["TL001"]\n')
    result = run_tllint("check", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cache_serves_a_notebook_with_its_cell(tmp_path: Path) -> None:
    wrong_order(tmp_path)
    first = run_tllint("check", "nb.ipynb", "--output-format", "json", cwd=tmp_path)
    assert list((tmp_path / ".tllint_cache").rglob("*")), "the first run stores an entry"
    second = run_tllint("check", "nb.ipynb", "--output-format", "json", cwd=tmp_path)
    assert second.stdout == first.stdout and json.loads(second.stdout)[0]["cell"] == 5


def test_stdin_is_read_as_a_notebook_when_its_name_says_so(tmp_path: Path) -> None:
    data = wrong_order(tmp_path).read_text()
    result = subprocess.run([sys.executable, "-m", "tllint", "check", "-", "--stdin-filename", "nb.ipynb"],
                            input=data, capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and result.stdout.startswith("nb.ipynb:cell 5:1:1: TL001"), result.stderr


def test_checking_a_notebook_imports_no_torch(tmp_path: Path) -> None:
    path = wrong_order(tmp_path)
    result = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=REPO, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "1 []", result.stdout + result.stderr
