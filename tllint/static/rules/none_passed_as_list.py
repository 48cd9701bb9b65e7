"""## What it does
Finds a PEFT config (`LoraConfig(...)`, any `peft.*Config`) whose `modules_to_save`, `target_modules` or
`exclude_modules` is given the result of a list method that works in place and returns `None`:
`modules_to_save=names.append("classifier")`, `target_modules=modules.extend(["k", "v"])`,
`target_modules=names.sort()`.

## Why is this bad?
`list.append`, `extend`, `insert`, `sort`, `reverse`, `remove` and `clear` change the list and return `None`, so
the config receives `None`, which PEFT reads as "not given": `modules_to_save=None` saves nothing (a new head
stays frozen at its random values), and `target_modules=None` falls back to PEFT's default targets for the
architecture. The list itself did change: in the classic version of this mistake
(`LoraConfig(target_modules=names, modules_to_save=names.append("score"))`) the head becomes one more LoRA
target instead of a saved module. Nothing raises.

## Example
```python
from peft import LoraConfig

target_modules = ["q_proj", "v_proj"]
config = LoraConfig(r=8, target_modules=target_modules, modules_to_save=target_modules.append("score"))
```

## Use instead
```python
from peft import LoraConfig

target_modules = ["q_proj", "v_proj"]
config = LoraConfig(r=8, target_modules=target_modules, modules_to_save=["score"])
```
Or build the list first (`names = [*target_modules, "score"]`) and pass it.

## Fix

No fix: `names + [...]` gives the config its list, but whether `names` itself should also change (it is used again
later?) is the author's choice.

## Known limits
Only the call written directly as the keyword's value is seen; a `None` stored in a variable first
(`saved = names.append("score")`) is not followed.
"""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import FileFacts
from tllint.static.rules import ERROR, Context, Violation, rule

CONSEQUENCES = {
    "modules_to_save": "no module is saved, so a new head stays frozen at its random initial values",
    "target_modules": "PEFT falls back to its default target modules for the architecture",
    "exclude_modules": "nothing is excluded",
}


@rule("TL019", ERROR, triggers=("peft",),
      summary="`modules_to_save=names.append(...)` passes `None` to a PEFT config")
def none_passed_as_list(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
    for found in facts.hf.none_lists:
        yield Violation(
            f"`list.{found.method}()` changes the list in place and returns `None`, so `{found.config}` receives "
            f"`{found.keyword}=None`: {CONSEQUENCES[found.keyword]}. Pass the list itself "
            f"(`{found.keyword}=[...]`).",
            found.where.node,
        )
