"""The one pass over a file: an abstract interpreter that follows models through names, calls and statements in
execution order and records `FileFacts`.

It interprets only what matters to training: which values are models (and which path inside them), parameters
and optimizers; everything else is `UNKNOWN`. Precision first: whenever a value or a test cannot be read, the
pass records nothing rather than guess. One concern per module:

- `state`: frames, abstract values and their join after branches and loops (what is copied, what is shared);
- `statements`, `expressions`: the language;
- `library`, `methods`: what torch / torchvision / timm / transformers calls and module methods do;
- `hf`: Hugging Face transformers and PEFT (heads, PEFT wrappers and configs, gradient checkpointing);
- `summaries`: same-file helpers summarised once and replayed at each call, and classes;
- `project`: helpers imported from other files of the project, replayed the same way;
- `nametests`: tests on parameter names read as selectors;
- `detectors`: small syntactic detectors for rules that need no timeline;
- `syntax`, `imports`: reading syntax and resolving imported names.
"""

from __future__ import annotations

import ast
import sys

from tllint.static.facts import FileFacts
from tllint.static.interpreter.detectors import Detectors
from tllint.static.interpreter.expressions import Expressions
from tllint.static.interpreter.hf import HfCalls
from tllint.static.interpreter.imports import ImportTable
from tllint.static.interpreter.library import LibraryCalls
from tllint.static.interpreter.methods import MethodCalls
from tllint.static.interpreter.nametests import NameTests
from tllint.static.interpreter.project import ProjectCalls
from tllint.static.interpreter.state import Frame
from tllint.static.interpreter.statements import Statements
from tllint.static.interpreter.summaries import HelperSummaries
from tllint.static.project import ProjectFiles
from tllint.static.source import Source

RECURSION_LIMIT = 50_000


class Interpreter(Statements, Expressions, MethodCalls, LibraryCalls, HfCalls, HelperSummaries, ProjectCalls, NameTests,
                  Detectors):
    """Builds the `FileFacts` of one parsed module."""

    def run(self) -> FileFacts:
        frame = Frame({}, ImportTable(), {}, {}, next(self.scopes))
        self.register_definitions(self.module.body, frame)
        self.block(self.module.body, frame)
        for function in list(frame.functions.values()):
            self.summarise(function, frame)
        for cls in list(frame.classes.values()):
            self.instantiate(cls, frame)
        return self.facts


def build_facts(module: ast.Module, source: Source, project: ProjectFiles | None = None) -> FileFacts:
    """Build the facts of one parsed file; with `project`, helpers imported from other files of the project are
    followed (and the files looked at recorded in it).

    The pass recurses along the tree (an `elif` chain nests), so valid files that CPython compiles can be deeper
    than Python's default recursion limit. From 3.11 on, Python-to-Python calls use no C stack, and the limit can
    be raised safely for the pass."""
    limit = sys.getrecursionlimit()
    if sys.version_info >= (3, 11):
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        interpreter = Interpreter(module, source)
        interpreter.project = project
        return interpreter.run()
    finally:
        sys.setrecursionlimit(limit)
