"""The other rules, spelled several ways, in every scope: the same finding on the same line, and none on the
near miss. (Freezes, unfreezes and head replacements in every spelling are in `test_spellings.py`.)

Each case is a list of steps; `expect` names the step and the line inside it where the finding must be.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from tests.static.test_spellings import (
    HEAD_REPLACEMENTS,
    OPTIMIZER_OVER_ALL,
    OPTIMIZER_OVER_TRAINABLE,
    SCOPES,
    findings,
    program,
    spelled,
)


@dataclass(frozen=True)
class Case:
    code: str
    bad: tuple[str, ...]
    expect: tuple[int, int]  # (step, line within the step)
    good: tuple[str, ...]


LOOP_FREEZE = spelled("method", False)
CASES = {
    "TL002 module attribute": Case("TL002", ("{m}.requires_grad = False",), (0, 0), ("{m}.requires_grad_(False)",)),
    "TL002 sub-module attribute": Case(
        "TL002", ("{m}.layer4.requires_grad = False",), (0, 0), ("{m}.layer4.requires_grad_(False)",)),
    "TL002 setattr": Case(
        "TL002", ("setattr({m}, 'requires_grad', False)",), (0, 0), ("{m}.requires_grad_(False)",)),
    "TL002 children loop": Case(
        "TL002", ("for child in {m}.children():\n    child.requires_grad = False",), (0, 1),
        ("for child in {m}.children():\n    child.requires_grad_(False)",)),
    "TL002 a tensor attribute is right": Case(
        "TL002", ("{m}.fc.requires_grad = False",), (0, 0), ("{m}.fc.weight.requires_grad = False",)),
    "TL003 comparison in a loop": Case(
        "TL003", ("for p in {m}.parameters():\n    p.requires_grad == False",), (0, 1), (LOOP_FREEZE,)),
    "TL003 identity comparison": Case(
        "TL003", ("for name, p in {m}.named_parameters():\n    p.requires_grad is False",), (0, 1),
        ("for name, p in {m}.named_parameters():\n    p.requires_grad = False",)),
    "TL004 misspelt in a loop": Case(
        "TL004", ("for p in {m}.parameters():\n    p.require_grad = False",), (0, 1), (LOOP_FREEZE,)),
    "TL004 misspelt on a layer's weight": Case(
        "TL004", ("{m}.conv1.weight.requires_grads = False",), (0, 0), ("{m}.conv1.weight.requires_grad = False",)),
    "TL004 misspelt through setattr": Case(
        "TL004", ("for p in {m}.parameters():\n    setattr(p, 'require_grad', False)",), (0, 1), (LOOP_FREEZE,)),
    "TL005 lazy map": Case(
        "TL005", ("map(lambda p: p.requires_grad_(False), {m}.parameters())",), (0, 0),
        ("list(map(lambda p: p.requires_grad_(False), {m}.parameters()))",)),
    "TL005 lazy generator": Case(
        "TL005", ("(p.requires_grad_(False) for p in {m}.parameters())",), (0, 0),
        ("[p.requires_grad_(False) for p in {m}.parameters()]",)),
    "TL010 optimizer then head": Case(
        "TL010", (OPTIMIZER_OVER_ALL, HEAD_REPLACEMENTS["assign"]), (1, 0),
        (HEAD_REPLACEMENTS["assign"], OPTIMIZER_OVER_ALL)),
    "TL010 optimizer then setattr head": Case(
        "TL010", (OPTIMIZER_OVER_ALL, HEAD_REPLACEMENTS["setattr"]), (1, 0),
        (HEAD_REPLACEMENTS["setattr"], OPTIMIZER_OVER_ALL)),
    "TL010 optimizer then add_module head": Case(
        "TL010", (OPTIMIZER_OVER_ALL, HEAD_REPLACEMENTS["add_module"]), (1, 0),
        (HEAD_REPLACEMENTS["add_module"], OPTIMIZER_OVER_ALL)),
    "TL011 every parameter after a freeze": Case(
        "TL011", (LOOP_FREEZE, HEAD_REPLACEMENTS["assign"], OPTIMIZER_OVER_ALL), (2, 0),
        (LOOP_FREEZE, HEAD_REPLACEMENTS["assign"], OPTIMIZER_OVER_TRAINABLE)),
    "TL011 every parameter after a comprehension freeze": Case(
        "TL011", (spelled("list_comprehension", False), HEAD_REPLACEMENTS["setattr"], OPTIMIZER_OVER_ALL), (2, 0),
        (spelled("list_comprehension", False), HEAD_REPLACEMENTS["setattr"],
         "optimizer = torch.optim.SGD({m}.fc.parameters(), lr=0.01)")),
    "TL013 head-only optimizer, backbone never frozen": Case(
        "TL013", (HEAD_REPLACEMENTS["assign"], "optimizer = torch.optim.SGD({m}.fc.parameters(), lr=0.01)"), (1, 0),
        (LOOP_FREEZE, HEAD_REPLACEMENTS["assign"], "optimizer = torch.optim.SGD({m}.fc.parameters(), lr=0.01)")),
}


def located(case: Case, scope: str) -> tuple[str, int]:
    source, starts = program(scope, list(case.bad))
    step, offset = case.expect
    return source, starts[step] + offset


@pytest.mark.parametrize(("name", "scope"), list(itertools.product(CASES, SCOPES)))
def test_each_spelling_is_reported_in_every_scope(name: str, scope: str) -> None:
    case = CASES[name]
    source, line = located(case, scope)
    assert findings(source) == {(case.code, line)}, source


@pytest.mark.parametrize(("name", "scope"), list(itertools.product(CASES, SCOPES)))
def test_the_near_miss_of_each_spelling_is_quiet(name: str, scope: str) -> None:
    source, _ = program(scope, list(CASES[name].good))
    assert findings(source) == set(), source


LOSS_STEPS = ("logits = {m}(torch.randn(8, 3, 224, 224))",
              "loss = torch.nn.functional.cross_entropy(logits, torch.zeros(8, dtype=torch.long))")
DETACHED_LOSSES = {
    "tensor of item": "loss = torch.tensor(loss.item(), requires_grad=True)",
    "detach then requires_grad_": "loss = loss.detach().requires_grad_()",
    "data then requires_grad_": "loss = loss.data.requires_grad_(True)",
    "as_tensor of item": "loss = torch.as_tensor(loss.item(), requires_grad=True)",
}
BACKWARDS = {
    "plain": "loss.backward()",
    "with options": "loss.backward(retain_graph=True)",
    "scaled": "(loss / 4).backward()",
    "mean": "loss.mean().backward()",
}


@pytest.mark.parametrize(("detached", "backward", "scope"),
                         list(itertools.product(DETACHED_LOSSES, BACKWARDS, ["module", "function", "method"])))
def test_a_loss_rebuilt_from_a_detached_value_is_reported(detached: str, backward: str, scope: str) -> None:
    source, (*_, rebuilt_line, _) = program(scope, [*LOSS_STEPS, DETACHED_LOSSES[detached], BACKWARDS[backward]])
    assert findings(source) == {("TL016", rebuilt_line)}, source
    quiet, _ = program(scope, [*LOSS_STEPS, BACKWARDS[backward], "logged = torch.tensor(loss.item())"])
    assert findings(quiet) == set(), quiet
