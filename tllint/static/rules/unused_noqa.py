"""## What it does
Reports a `# noqa: TLxxx` comment that silenced nothing in this run, or that names a code tllint does not have.
Opt-in, like ruff's RUF100: enable it with `--extend-select TL900` or `extend-select = ["TL900"]`.

## Why is this bad?
A `# noqa` outlives the finding it was written for: the code is fixed or moved, the comment stays, and the next
time the same mistake is made on that line (a freeze moved after the head replacement again) nothing is reported.
A misspelled code (`# noqa: TL01`, `# noqa: TL100`) silences nothing, or something else, while looking like it
silences the finding.

## Example
```python
import torch
from torchvision.models import resnet18

model = resnet18(weights="DEFAULT")
for param in model.parameters():  # noqa: TL001
    param.requires_grad = False
model.fc = torch.nn.Linear(512, 10)
```

## Use instead
```python
import torch
from torchvision.models import resnet18

model = resnet18(weights="DEFAULT")
for param in model.parameters():
    param.requires_grad = False
model.fc = torch.nn.Linear(512, 10)
```

## Fix

No fix: the comment may silence a code that a different selection runs, so removing it is left to the author.

## Known limits
Only tllint's codes are judged: other linters' codes in the same comment (`# noqa: E501, TL001`) are left alone,
and so is a bare `# noqa`, which silences every linter's findings on its line. A code that did not run on the file
in this run (not selected, disabled by `per-file-ignores`, a runtime code) cannot be judged and is not reported;
neither is TL900 itself. A noqa on a statement's first line and another on its last line may both be counted as
used. Removing the code (or the whole comment) automatically comes with `--fix`.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.findings.registry import catalog
from tllint.static.facts import FileFacts
from tllint.static.rules import WARNING, Context, Violation, rule


@rule("TL900", WARNING, triggers=("noqa", "NOQA"), opt_in=True, reads_noqa=True,
      summary="a `# noqa: TLxxx` that silenced nothing in this run, or names an unknown code")
def unused_noqa(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    known = catalog()
    for comment in facts.noqa:
        named = [code for code in comment.directive.codes or () if code.startswith("TL")]
        unknown = [code for code in named if not any(real.startswith(code) for real in known)]
        unused = [code for code in named if code not in unknown and not "TL900".startswith(code)
                  and any(ran.startswith(code) for ran in comment.ran)
                  and not any(silenced.startswith(code) for silenced in comment.silenced)]
        problems = [f"{_listed(unknown)} {'is not a tllint code' if len(unknown) == 1 else 'are not tllint codes'}"
                    " (`tllint rule --all` lists them)"] if unknown else []
        if unused:
            problems.append(f"no {_listed(unused, 'or')} finding is reported on this line in this run, so the "
                            "comment silences nothing and would hide the next such mistake here")
        if problems:
            everything = len(unknown) + len(unused) == len(comment.directive.codes or ())
            yield Violation(f"This `# noqa` is stale: {'; '.join(problems)}. Remove "
                            f"{'the comment' if everything else _listed(unknown + unused, 'and') + ' from it'}.",
                            comment.node)


def _listed(codes: list[str], joint: str = "and") -> str:
    quoted = [f"`{code}`" for code in codes]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {joint} {quoted[-1]}"
