"""## What it does
Reports a file that tllint analyses but cannot read as Python: a syntax error, bytes that are not valid in the
file's encoding (UTF-8 by default, or the one named by a `# -*- coding: ... -*-` cookie or a BOM), or an
encoding Python does not know or that cannot decode source (`punycode`, `undefined`). A file over
`max-file-size` (10 MB by default) is reported too, without being read. In a notebook (`.ipynb`): JSON that
does not parse, or JSON that is not a notebook (no `cells` list, a cell without a `cell_type`, a source that is
neither a string nor a list of strings), or a code cell that does not compile on its own, as IPython compiles it
(its magics and shell lines masked). The finding points at the position of the error (in its cell, for a cell);
the other files of the run are still checked.

## Why is this bad?
A file that does not parse cannot be checked at all, so none of the other rules ran on it: a freezing or
optimizer mistake in it would go unreported. Python itself would refuse to import the file
(`SyntaxError` / `SyntaxError: (unicode error)`), so a training run that imports it fails at start-up.

## Example
```python
import torch

model = torch.nn.Linear(4, 2)
for p in model.parameters(:
    p.requires_grad = False
```

## Use instead
```python
import torch

model = torch.nn.Linear(4, 2)
for p in model.parameters():
    p.requires_grad = False
```

## Fix

No fix: the file is not Python that this interpreter accepts (or cannot be read), and only its author knows what it
should say.

## Known limits
A file is analysed when it mentions a word some enabled rule needs (`requires_grad`, `parameters(`,
`torchvision`, ...); one that never does is skipped from its bytes, whatever its syntax or encoding, and left to
your general linter. Only the first syntax error of a file is reported. The verdict is that of the Python
running tllint (its own parser and compiler): a file using syntax newer than that Python (PEP 695 `type`
statements and generics under 3.11) is reported too, with the version in the message; run tllint with the
Python the project targets (with pre-commit, `language_version` on the hook). A valid file nested too deeply
for the parser's tree (far beyond what people write) is reported as not checked. A notebook's cell that holds
syntax IPython rewrites and tllint does not mask (a `>>>` prompt pasted into a cell) is reported as a syntax
error.
"""

from __future__ import annotations

from tllint.findings.registry import declare
from tllint.static.rules import ERROR

PARSE_ERROR = declare("TL000", "parse-error", ERROR, module=__name__,
                      summary="the file cannot be decoded or parsed (the run goes on with the other files)")
