"""The notebook reader: which cells are read, how IPython's own syntax is masked, and where findings land.

The masking is compared with what IPython does to the same cells (its rewrites noted beside each case): a line
IPython rewrites is masked one for one, every other line is left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import REPO, expectations
from tllint.config import Config
from tllint.static.engine import check_source
from tllint.static.notebook import CellLine, NotANotebook, Program, python_lines, read_cells
from tllint.static.prefilter import skip_reason

NOTEBOOK_FIXTURES = sorted((REPO / "fixtures" / "notebooks").glob("*.ipynb"))
CODES = Config().enabled_codes()


def notebook(*sources: str | list[str], kinds: tuple[str, ...] = (), metadata: dict | None = None) -> bytes:
    """A notebook's bytes: one cell per source, of the kinds given (code by default)."""
    cells = [{"cell_type": kind, "metadata": {}, "source": source}
             for kind, source in zip(kinds or ("code",) * len(sources), sources, strict=True)]
    return json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def masked(cell: str) -> list[str] | None:
    rows = python_lines(cell.split("\n"))
    return None if rows is None else [text for text, _ in rows]


# --- which cells are read ---------------------------------------------------------------------------------------


def test_cells_are_numbered_among_all_cells_and_only_code_cells_are_read() -> None:
    data = notebook("# Title", "a = 1\nb = 2\n", "raw text", ["c = 3\n", "d = 4"],
                    kinds=("markdown", "code", "raw", "code"))
    cells = [(cell.number, cell.lines) for cell in read_cells(data)]
    assert cells == [(2, ["a = 1", "b = 2"]), (4, ["c = 3", "d = 4"])]


def test_a_source_as_a_string_or_as_a_list_of_strings_reads_the_same() -> None:
    text = "import torch\r\nmodel = torch.nn.Linear(2, 2)\n\n"
    as_list = [line + "\n" for line in text.split("\n")[:-1]]
    assert read_cells(notebook(text)) == read_cells(notebook(as_list))
    assert read_cells(notebook(text))[0].lines == ["import torch", "model = torch.nn.Linear(2, 2)", ""]


def test_nbformat_3_worksheets_are_read() -> None:
    document = {"nbformat": 3, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 1, "source": ["Title"]},
        {"cell_type": "code", "language": "python", "input": ["x = 1\n", "y = 2"], "outputs": []}]}]}
    assert [(c.number, c.lines) for c in read_cells(json.dumps(document).encode())] == [(2, ["x = 1", "y = 2"])]


@pytest.mark.parametrize("metadata", [
    {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}},
    {"language_info": {"name": "julia"}},
])
def test_a_notebook_of_another_language_has_no_python_cells(metadata: dict) -> None:
    assert read_cells(notebook("model$fc <- nn_linear(512, 10)", metadata=metadata)) == []


def test_a_python_kernel_without_language_keys_is_python() -> None:
    colab = {"kernelspec": {"name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}}
    assert len(read_cells(notebook("x = 1", metadata=colab))) == 1


def test_a_cell_of_another_language_in_a_polyglot_notebook_is_skipped() -> None:
    document = json.loads(notebook("SELECT 1", "x = 1"))
    document["cells"][0]["metadata"] = {"vscode": {"languageId": "sql"}}
    document["cells"][1]["metadata"] = {"vscode": {"languageId": "python"}}
    assert [cell.number for cell in read_cells(json.dumps(document).encode())] == [2]


@pytest.mark.parametrize(("data", "message", "where"), [
    (b'{"cells": [', "not valid JSON: Expecting value", (1, 12, None)),
    (b'{\n  "cells": [}\n', "not valid JSON", (2, 13, None)),
    (b"\xff\xfe", "not valid UTF-8", (1, 1, None)),
    (b"[1, 2]", "not an object with a `cells` list", (1, 1, None)),
    (b'{"metadata": {}}', "no `cells` list", (1, 1, None)),
    (b'{"cells": [{"cell_type": "code", "source": "x"}, 3]}', "cell 2 is not an object", (1, 1, 2)),
    (b'{"cells": [{"cell_type": "code", "source": [1, 2]}]}', "source of cell 1 is neither", (1, 1, 1)),
    (b'[' * 100_000, "nests too deeply", (1, 1, None)),
])
def test_what_is_not_a_notebook_says_why_and_where(data: bytes, message: str, where: tuple) -> None:
    with pytest.raises(NotANotebook) as raised:
        read_cells(data)
    assert message in str(raised.value)
    assert (raised.value.line, raised.value.column, raised.value.cell) == where


# --- masking ----------------------------------------------------------------------------------------------------

MASKING = [
    # IPython: get_ipython().system(...) / run_line_magic(...)
    ("!pip install -q timm\nimport timm", ["pass", "import timm"]),
    ("%load_ext autoreload\n%autoreload 2", ["pass", "pass"]),
    ("!!ls\n%env CUDA_VISIBLE_DEVICES=0", ["pass", "pass"]),
    # IPython: files = get_ipython().getoutput('ls')
    ("files = !ls\nout = %sx nvidia-smi\na, b = !echo 1 2", ["files = None", "out = None", "a, b = None"]),
    # IPython: %pinfo / %pinfo2
    ("model.fc?\n?model\nmodel.fc??\nx = 1  # why?", ["pass", "pass", "pass", "x = 1  # why?"]),
    # indented escapes, inside a block
    ("for i in range(3):\n    !echo {i}\n    %time f(i)", ["for i in range(3):", "    pass", "    f(i)"]),
    # `%time stmt` keeps its statement
    ("%time model = build()", ["model = build()"]),
    # not a statement's start: inside a string, inside brackets, continuing an expression
    ("s = '''\n%notmagic\n!notshell\n'''", None),
    ("msg = ('%s'\n       % 3)\nz = (a\n     != b)", None),
    ("x = 1 \\\n  % 2", None),
    ("print('x?')\ny = 'a ? b'", None),
    ("d = {'a': 1,\n     'b': 2}\n%env X=1", ["d = {'a': 1,", "     'b': 2}", "pass"]),
    # a shell line continued with `\`: IPython joins the next line to it
    ("!echo a \\\n  b\nq = 2", ["pass", "", "q = 2"]),
    # a cell whose first line is indented is dedented
    ("    a = 1\n    b = 2", ["a = 1", "b = 2"]),
    # a pasted interactive session loses its prompts
    (">>> import torch\n>>> x = torch.ones(2)\n... ", ["import torch", "x = torch.ones(2)", ""]),
    ("In [1]: a = 1\n   ...: b = 2", ["a = 1", "b = 2"]),
    # a one-line cell that is a magic without its `%` (automagic), and Python that only looks like one
    ("pip install diffusers", ["pass"]),
    ("\ncd ..\n", ["", "pass", ""]),
    ("pip = 3", None),
    ("time.sleep(1)", None),
    ("pip install x\ny = 1", None),  # only a cell of one line: IPython reports this one as a syntax error too
    # cell magics: the body of %%time / %%capture is Python, the first line is masked
    ("%%time\nmodel.train()", ["pass", "model.train()"]),
    ("\n%%capture out\n!pip install timm\nimport timm", ["", "pass", "pass", "import timm"]),
    ("x = 1\n%%not_on_the_first_line", ["x = 1", "pass"]),  # IPython: run_line_magic('%not_on_the_first_line')
]


@pytest.mark.parametrize(("cell", "expected"), MASKING)
def test_ipython_syntax_is_masked_line_for_line(cell: str, expected: list[str] | None) -> None:
    assert masked(cell) == (cell.split("\n") if expected is None else expected)


@pytest.mark.parametrize("cell", ["%%bash\nrm -rf /tmp/x", "%%writefile train.py\nimport torch", "%%html\n<b>x</b>",
                                  "%%script bash\necho", "  %%sh\n  ls"])
def test_a_cell_whose_body_is_not_python_is_left_out(cell: str) -> None:
    assert python_lines(cell.split("\n")) is None


def test_columns_count_in_the_cell_as_written() -> None:
    """A dedented cell and `%time ` shift the columns of the code after them; the finding gets them back."""
    program = Program.of_notebook(read_cells(notebook("x = 1", "    %time y = 2\n    z = 3")))
    assert program.text == "x = 1\ny = 2\nz = 3\n"
    assert [(o.cell, o.line, o.shift) for o in program.origins] == [(1, 1, 0), (2, 1, 10), (2, 2, 4)]


def test_a_program_line_prints_as_its_line_in_its_cell() -> None:
    program = Program.of_notebook(read_cells(notebook("# Title", "a = 1\nb = 2", kinds=("markdown", "code"))))
    line = CellLine(2, program.origins[1])
    assert line == 2 and f"on line {line}" == "on line 2 of cell 2"


# --- findings ---------------------------------------------------------------------------------------------------


def seed_notebook(*, wrong: bool) -> bytes:
    head = 'model = resnet18(weights="IMAGENET1K_V1")'
    freeze = "for name, param in model.named_parameters():\n    param.requires_grad = False"
    replace = "model.fc = nn.Linear(512, 10)"
    return notebook("import torch.nn as nn\nfrom torchvision.models import resnet18", head,
                    *((replace, freeze) if wrong else (freeze, replace)))


def test_the_seed_split_over_cells_is_reported_in_its_cell_and_the_right_order_is_clean() -> None:
    wrong = check_source(seed_notebook(wrong=True), "nb.ipynb", CODES)
    assert [(f.code, f.cell, f.span.line, f.span.column) for f in wrong.findings] == [("TL001", 4, 1, 1)]
    assert "replaced on line 1 of cell 3" in wrong.findings[0].message
    assert wrong.findings[0].extra["source_line"] == "for name, param in model.named_parameters():"
    assert check_source(seed_notebook(wrong=False), "nb.ipynb", CODES).findings == []


def test_a_finding_after_masked_lines_keeps_its_line_and_column() -> None:
    data = notebook("!pip install timm\n%matplotlib inline\nimport torch.nn as nn\n"
                    "from torchvision.models import resnet18",
                    'model = resnet18(weights="IMAGENET1K_V1")\nmodel.fc = nn.Linear(512, 10)\nmodel?',
                    "if True:\n    %time for p in model.parameters(): p.requires_grad = False")
    [finding] = check_source(data, "nb.ipynb", CODES).findings
    assert (finding.code, finding.cell, finding.span.line, finding.span.column) == ("TL001", 3, 2, 11)


def test_noqa_in_a_cell_silences_its_line() -> None:
    data = seed_notebook(wrong=True).replace(b"named_parameters():", b"named_parameters():  # noqa: TL001")
    assert check_source(data, "nb.ipynb", CODES).findings == []


def test_a_notebook_without_code_cells_or_without_training_code_is_clean() -> None:
    for data in (notebook("# only words about requires_grad", kinds=("markdown",)), notebook("print(1)"),
                 notebook(metadata={"kernelspec": {"language": "python"}})):
        outcome = check_source(data, "nb.ipynb", CODES)
        assert outcome.findings == [] and outcome.skipped is not None


def test_skip_file_counts_in_a_code_cell_only() -> None:
    wrong = json.loads(seed_notebook(wrong=True))
    wrong["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "Put `# tllint: skip-file` in a cell"})
    assert [f.code for f in check_source(json.dumps(wrong).encode(), "nb.ipynb", CODES).findings] == ["TL001"]
    wrong["cells"][1]["source"] = "# tllint: skip-file\n" + wrong["cells"][1]["source"]
    assert check_source(json.dumps(wrong).encode(), "nb.ipynb", CODES).skipped is not None


def test_a_cell_is_compiled_as_ipython_compiles_it() -> None:
    """Top-level `await` is valid in a cell; `return` outside a function is not, and stops the check there."""
    awaiting = seed_notebook(wrong=True).replace(b'"import torch', b'"await asyncio.sleep(0)\\nimport torch')
    assert [f.code for f in check_source(awaiting, "nb.ipynb", CODES).findings] == ["TL001"]
    returning = seed_notebook(wrong=True).replace(b'"model.fc', b'"return\\nmodel.fc')
    [finding] = check_source(returning, "nb.ipynb", CODES).findings
    assert (finding.code, finding.cell, finding.span.line) == ("TL000", 3, 1)
    assert "'return' outside function" in finding.message


@pytest.mark.parametrize("path", NOTEBOOK_FIXTURES, ids=lambda path: path.name)
def test_notebook_fixture_findings_match_expectations(path: Path) -> None:
    """`# expect: TL001` on a line of a cell announces a finding there (read from the JSON here, not by the
    reader under test); `good_*` notebooks carry none and must stay quiet."""
    document = json.loads(path.read_bytes())
    expected = set()
    for number, cell in enumerate(document["cells"], start=1):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        expected |= {(number, line, code) for line, code in expectations(source.encode())}
    assert bool(expected) == path.name.startswith("bad_"), "bad_* notebooks announce findings, good_* none"
    outcome = check_source(path.read_bytes(), str(path.relative_to(REPO)), CODES)
    assert not outcome.problems
    assert {(f.cell, f.span.line, f.code) for f in outcome.findings} == expected


@pytest.mark.parametrize("source", [["opt = SGD(model.parameters\n", "    (), lr=0.1)"],
                                    "opt = SGD(model.parameters \\\n(), lr=0.1)",
                                    "opt = SGD(model.parameters\t(), 0.1)"])
def test_the_byte_prefilter_finds_words_split_by_the_json(source: str | list[str]) -> None:
    """A word of several tokens (`parameters(`) split over lines of a cell is still found in the raw JSON."""
    assert skip_reason(notebook(source), frozenset({"TL011"}), notebook=True) is None
    assert skip_reason(notebook("opt = SGD(params(), lr=0.1)"), frozenset({"TL011"}), notebook=True) is not None


def test_a_stale_noqa_in_a_cell_is_reported_in_its_cell() -> None:
    data = seed_notebook(wrong=False).replace(b"named_parameters():", b"named_parameters():  # noqa: TL001")
    [finding] = check_source(data, "nb.ipynb", CODES | {"TL900"}).findings
    assert (finding.code, finding.cell, finding.span.line, finding.span.column) == ("TL900", 3, 1, 47)


# --- scripts the notebook writes --------------------------------------------------------------------------------

SCRIPT_HEAD = "%%writefile train.py\nimport torch.nn as nn\nfrom torchvision.models import resnet18\n" \
              "model = resnet18(weights='IMAGENET1K_V1')\nmodel.fc = nn.Linear(512, 10)"
SCRIPT_FREEZE = "for p in model.parameters():\n    p.requires_grad = False"


def test_a_written_script_is_its_own_program_and_appends_join_it() -> None:
    """The freeze appended in cell 3 follows the head replaced in cell 1's script: TL001 in cell 3. The notebook's
    own program (cell 2) holds no model, and the script's names are not the notebook's."""
    data = notebook(SCRIPT_HEAD, "print(model)", "%%writefile -a train.py\n" + SCRIPT_FREEZE)
    [finding] = check_source(data, "nb.ipynb", CODES).findings
    assert (finding.code, finding.cell, finding.span.line) == ("TL001", 3, 2)
    assert "replaced on line 5 of cell 1" in finding.message


@pytest.mark.parametrize("cells", [
    ("%%writefile -a train.py\n" + SCRIPT_HEAD.split("\n", 1)[1] + "\n" + SCRIPT_FREEZE,),  # appends to no script
    (SCRIPT_HEAD + "\n" + SCRIPT_FREEZE, SCRIPT_HEAD.replace("model.fc", "x")),  # rewritten: the last version counts
    (SCRIPT_HEAD.replace("train.py", "notes.txt") + "\n" + SCRIPT_FREEZE,),  # not a Python file
])
def test_what_is_not_a_python_file_the_notebook_writes_is_not_checked(cells: tuple[str, ...]) -> None:
    assert check_source(notebook(*cells), "nb.ipynb", CODES).findings == []


def test_a_written_script_compiles_as_a_file_and_skip_file_in_the_notebook_covers_it() -> None:
    awaiting = notebook(SCRIPT_HEAD + "\nawait start()")
    [finding] = check_source(awaiting, "nb.ipynb", CODES).findings
    assert (finding.code, finding.cell, finding.span.line) == ("TL000", 1, 6)
    skipped = notebook("# tllint: skip-file\nimport torch", SCRIPT_HEAD + "\n" + SCRIPT_FREEZE)
    assert check_source(skipped, "nb.ipynb", CODES).skipped is not None
