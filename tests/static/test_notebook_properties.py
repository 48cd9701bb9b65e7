"""Properties of the notebook reader over generated input: a cell of valid Python reads as itself (masking never
touches Python), and no bytes or JSON, however odd, make the checker raise."""

from __future__ import annotations

import ast
import json
import warnings

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.static.test_notebook_reader import notebook
from tllint.config import Config
from tllint.static.engine import check_source
from tllint.static.notebook import python_lines

CODES = Config(select=("ALL",)).enabled_codes()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")

# Statements of Python whose lines look like IPython's escapes (`%`, `!`, `?`, `,`, `/`, `;` at the start or end of
# a line), inside strings, brackets and continuations, where they are Python. Each is complete, so that any
# sequence of them compiles.
STATEMENTS = [
    "s = '''\n%notmagic\n!notshell\n?x\n/y\n'''",
    'x = """a\n?b\n,c\n;d\n"""',
    "y = (1\n     % 2)",
    "z = (a\n     != b)",
    "w = 1 \\\n  % 3",
    "v = 'x?'",
    "u = 1  # why?",
    "d = {'%': 1,\n     ',': 2}",
    "t = [\n  # %comment\n]",
    "if x:\n    q = (1\n  %2)",
    "r = f'{a!r}'",
    "p = '\\\\'",
    "o = '\\''",
    "s = '''a\\''' b\n%x\n'''",
    "k = b'!'",
    "m = 'a\\\n%b'",
    "n = ('a'\n     '?')",
    "def f():\n    '''doc\n%x\n    '''\n    return 1",
    "e = [x\n  for x in y\n  if x]",
    "h = x if y else \\\n    z",
    "",
    "# ?",
    "a = b  # %c",
]
LINES = [line for statement in STATEMENTS for line in statement.split("\n")]


def python_reads_as_itself(source: str) -> None:
    """Masking keeps a program CPython compiles: the same tree, line for line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = ast.dump(ast.parse(source))
            compile(source, "<cell>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
    lines = source.split("\n")
    rows = python_lines(lines)
    assert rows is not None and len(rows) == len(lines)
    assert ast.dump(ast.parse("\n".join(text for text, _ in rows))) == expected, source


@SETTINGS
@given(st.lists(st.sampled_from(STATEMENTS), max_size=12))
def test_python_that_looks_like_ipython_reads_as_itself(statements: list[str]) -> None:
    source = "\n".join(statements)
    compile(source, "<cell>", "exec", dont_inherit=True)  # Python, so the property below is exercised
    python_reads_as_itself(source)


@SETTINGS
@given(hypothesmith.from_grammar())
def test_grammar_generated_cells_read_as_themselves(source: str) -> None:
    python_reads_as_itself(source.replace("\r\n", "\n").replace("\r", "\n"))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
CELL = st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw", 3]),
                              "source": st.one_of(st.text(max_size=80), st.lists(st.text(max_size=30), max_size=4),
                                                  JSON)},
                             optional={"metadata": JSON})


def check(data: bytes) -> None:
    outcome = check_source(data, "nb.ipynb", CODES)
    assert not outcome.problems, outcome.problems


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check(b'{"cells": [{"cell_type": "code", "source": "requires_grad"}' + data)


@SETTINGS
@given(JSON)
def test_any_json(document: object) -> None:
    check(json.dumps(document).encode() + b" requires_grad")


@SETTINGS
@given(st.lists(CELL, max_size=5), JSON)
def test_any_cells(cells: list[dict], metadata: object) -> None:
    check(json.dumps({"cells": [*cells, {"cell_type": "code", "source": "requires_grad"}], "metadata": metadata})
          .encode())


@SETTINGS
@given(st.lists(st.sampled_from([*LINES, "!pip install x", "%time model.fc = 1", "model?", "files = !ls", "%%time",
                                 "%%bash", ">>> x", "pip install y", "for p in model.parameters():",
                                 "    p.requires_grad = False"]), max_size=20))
def test_ipython_soup(lines: list[str]) -> None:
    check(notebook("\n".join(lines), "\n".join(reversed(lines))))
