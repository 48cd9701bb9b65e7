"""`--fix` on notebooks: fixes are applied cell by cell, and the notebook's JSON is rewritten with only the changed
cells' sources different (outputs, metadata, key order, layout kept); a line IPython rewrites (a magic, a dedented
cell) gets no fix, and a notebook whose JSON layout cannot be reproduced is not rewritten.

`TLLINT_UPDATE_GOLDEN=1` rewrites the golden notebook, as in `test_fix_golden.py`.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import FIXTURES, run_tllint
from tests.static.test_notebook_cli import BUILD, FREEZE, IMPORTS, REPLACE, write_notebook
from tllint.findings.registry import Half, rules
from tllint.static.fixing.apply import FixPolicy, fix_bytes

COLAB = FIXTURES / "notebooks" / "bad_fixable_colab_resnet50.ipynb"
GOLDEN = COLAB.with_name(COLAB.name + ".fixed")
CODES = frozenset(r.info.code for r in rules(Half.STATIC))
SAFE = FixPolicy(CODES)


def cells(data: bytes | str) -> list[dict[str, Any]]:
    return json.loads(data)["cells"]


def source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def without_sources(data: bytes | str) -> Any:
    document = json.loads(data)
    for cell in document["cells"]:
        cell.pop("source")
    return document


def test_the_colab_notebook_is_fixed_cell_by_cell_into_its_golden_file() -> None:
    original = COLAB.read_bytes()
    result = fix_bytes(original, COLAB.name, CODES, SAFE)
    assert not result.problems and not result.notes
    if os.environ.get("TLLINT_UPDATE_GOLDEN") == "1":
        GOLDEN.write_bytes(result.data)
    assert result.data == GOLDEN.read_bytes()
    assert sorted(f.code for f in result.fixed) == ["TL002", "TL005", "TL040"]
    before, after = cells(original), cells(result.data)
    changed = [number for number, (old, new) in enumerate(zip(before, after, strict=True), start=1)
               if source(old) != source(new)]
    assert changed == [4, 5, 6]
    assert without_sources(result.data) == without_sources(original)  # outputs, ids, metadata, execution counts
    assert list(json.loads(result.data)) == list(json.loads(original))  # key order
    assert source(after[4]).startswith("%%time\n# unfreeze the last stage as well\nfor p in ")  # the magic kept
    assert source(after[6]) == source(before[6])  # a dedented cell: reported, not fixed
    assert [f.code for f in result.outcome.findings] == ["TL002"]
    assert result.outcome.findings[0].fix is None and result.outcome.findings[0].cell == 7


def test_fixing_the_golden_notebook_again_changes_nothing() -> None:
    golden = GOLDEN.read_bytes()
    assert fix_bytes(golden, GOLDEN.name.removesuffix(".fixed"), CODES, SAFE).data == golden


def test_json_output_names_the_cell_of_each_edit(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path, "nb.ipynb", IMPORTS, BUILD, REPLACE, FREEZE)
    result = run_tllint("check", "--output-format", "json", notebook.name, cwd=tmp_path)
    [finding] = json.loads(result.stdout)
    assert (finding["code"], finding["cell"]) == ("TL001", 5)
    assert finding["fix"]["applicability"] == "unsafe"
    assert [(e["cell"], e["line"], e["end_line"]) for e in finding["fix"]["edits"]] == [(4, 1, 1), (5, 1, 3)]


def test_the_seeds_wrong_order_over_cells_is_moved_only_with_unsafe_fixes(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path, "nb.ipynb", IMPORTS, BUILD, REPLACE, FREEZE)
    original = notebook.read_bytes()
    safe = run_tllint("check", "--fix", notebook.name, cwd=tmp_path)
    assert safe.returncode == 1 and notebook.read_bytes() == original
    assert "1 unsafe fix available with --unsafe-fixes" in safe.stdout
    unsafe = run_tllint("check", "--fix", "--unsafe-fixes", notebook.name, cwd=tmp_path)
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    fixed = [source(cell) for cell in cells(notebook.read_bytes())]
    assert fixed[3] == FREEZE + REPLACE and fixed[4] == ""  # the freeze moved into the replacement's cell
    assert without_sources(notebook.read_bytes()) == without_sources(original)
    assert run_tllint("check", notebook.name, cwd=tmp_path).returncode == 0


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch")
def test_diff_then_patch_gives_what_fix_writes(tmp_path: Path) -> None:
    for folder in ("diffed", "fixed"):
        shutil.copy(COLAB, (tmp_path / folder).mkdir() or tmp_path / folder / "nb.ipynb")
    diff = run_tllint("check", "--diff", "nb.ipynb", cwd=tmp_path / "diffed")
    assert diff.returncode == 1 and (tmp_path / "diffed" / "nb.ipynb").read_bytes() == COLAB.read_bytes()
    subprocess.run(["patch", "-p1", "-s"], input=diff.stdout, text=True, cwd=tmp_path / "diffed", check=True)
    run_tllint("check", "--fix", "nb.ipynb", cwd=tmp_path / "fixed")
    assert (tmp_path / "diffed" / "nb.ipynb").read_bytes() == (tmp_path / "fixed" / "nb.ipynb").read_bytes()
    assert (tmp_path / "fixed" / "nb.ipynb").read_bytes() == GOLDEN.read_bytes()


def notebook_text(sources: list[str], *, indent: int | str | None, ensure_ascii: bool, crlf: bool = False,
                  ending: str = "\n", separators: tuple[str, str] | None = None) -> str:
    document = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "Fine-tune — ResNet ✓"},
                          *({"cell_type": "code", "execution_count": 3, "metadata": {"tags": ["train"]},
                             "outputs": [{"output_type": "stream", "name": "stdout", "text": "loss 0.5 → 0.4\n"}],
                             "source": text} for text in sources)],
                "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(document, indent=indent, ensure_ascii=ensure_ascii, separators=separators)
    return (text.replace("\n", "\r\n") if crlf else text) + ending


BAD_CELL = "import torchvision\nmodel = torchvision.models.resnet18()\nmodel.layer1.requires_grad = False"
GOOD_CELL = "import torchvision\nmodel = torchvision.models.resnet18()\nmodel.layer1.requires_grad_(False)"
LAYOUTS = {
    "jupyter": {"indent": 1, "ensure_ascii": False},
    "two-spaces-ascii": {"indent": 2, "ensure_ascii": True},
    "tabs": {"indent": "\t", "ensure_ascii": False},
    "one-line": {"indent": None, "ensure_ascii": False, "ending": ""},
    "compact": {"indent": None, "ensure_ascii": True, "separators": (",", ":")},
    "crlf": {"indent": 4, "ensure_ascii": False, "crlf": True, "ending": "\r\n"},
}


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_byte_but_the_fixed_source_is_kept_in_the_notebooks_own_layout(layout: str, bom: bool) -> None:
    """Sources as strings, so that the only change the fix may make is the one JSON string of the fixed cell."""
    options = LAYOUTS[layout]
    before = notebook_text(["print('untouched')", BAD_CELL], **options)  # type: ignore[arg-type]
    prefix = codecs.BOM_UTF8 if bom else b""
    result = fix_bytes(prefix + before.encode(), "nb.ipynb", CODES, SAFE)
    assert not result.notes and [f.code for f in result.fixed] == ["TL002"]
    old, new = (json.dumps(text, ensure_ascii=options["ensure_ascii"]) for text in (BAD_CELL, GOOD_CELL))
    assert before.count(old) == 1
    assert result.data == prefix + before.replace(old, new).encode()


def test_a_layout_json_dumps_cannot_reproduce_is_not_rewritten(tmp_path: Path) -> None:
    text = notebook_text([BAD_CELL], indent=1, ensure_ascii=False)
    text = text.replace('"nbformat_minor": 5', '"nbformat_minor": 5e0')
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(text, encoding="utf-8")
    result = run_tllint("check", "--fix", notebook.name, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the finding stays; not an internal error
    assert "nb.ipynb: not fixed: its JSON is not laid out as json.dumps writes it" in result.stderr
    assert notebook.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("cell", "why"), [
    ("  import torchvision\n  model = torchvision.models.resnet18()\n  model.layer1.requires_grad = False",
     "a dedented cell"),
    ("import torchvision\r\nmodel = torchvision.models.resnet18()\r\nmodel.layer1.requires_grad = False",
     "a cell with CRLF endings inside its source"),
    (">>> import torchvision\n>>> model = torchvision.models.resnet18()\n>>> model.layer1.requires_grad = False",
     "a pasted session with prompts"),
])
def test_a_line_ipython_rewrites_gets_no_fix(cell: str, why: str) -> None:
    data = notebook_text([cell], indent=1, ensure_ascii=False).encode()
    result = fix_bytes(data, "nb.ipynb", CODES, SAFE)
    [finding] = result.outcome.findings
    assert finding.code == "TL002" and finding.fix is None, why
    assert result.data == data


def test_a_fix_next_to_a_magic_line_keeps_it() -> None:
    cell = "%%capture\n!pip install -q torchvision\n" + BAD_CELL + "\n%matplotlib inline"
    result = fix_bytes(notebook_text([cell], indent=1, ensure_ascii=False).encode(), "nb.ipynb", CODES, SAFE)
    [fixed] = cells(result.data)[1:]
    assert source(fixed) == "%%capture\n!pip install -q torchvision\n" + GOOD_CELL + "\n%matplotlib inline"
