"""Every common spelling of a freeze, an unfreeze and a head replacement is the same event.

Real scripts freeze with `p.requires_grad_(False)` in a loop, a comprehension, `list(map(...))`, a loop over
`children()`; they replace the head with `setattr` or `add_module`; and they do it at module level, in a function,
in a method on `self.model`, under `if args.freeze:` or through an alias. Each table below is generated: every
spelling x replacement x scope of a mistake must give the same finding on the same line, and the right order of
each must give none. The near misses at the end look like the mistakes and are correct.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable

import pytest

from tllint.config import Config
from tllint.static.engine import check_source

CODES = Config().enabled_codes()

# `{m}` is the model expression, `{flag}` False for a freeze and True for an unfreeze.
REQUIRES_GRAD_SPELLINGS = {
    "assign": "for p in {m}.parameters():\n    p.requires_grad = {flag}",
    "assign_named": "for name, param in {m}.named_parameters():\n    param.requires_grad = {flag}",
    "method": "for p in {m}.parameters():\n    p.requires_grad_({flag})",
    "method_keyword": "for p in {m}.parameters():\n    p.requires_grad_(requires_grad={flag})",
    "method_named": "for _, p in {m}.named_parameters():\n    p.requires_grad_({flag})",
    "setattr": "for p in {m}.parameters():\n    setattr(p, 'requires_grad', {flag})",
    "list_wrapped": "for p in list({m}.parameters()):\n    p.requires_grad_({flag})",
    "tuple_wrapped": "for p in tuple({m}.parameters()):\n    p.requires_grad = {flag}",
    "enumerate": "for i, p in enumerate({m}.parameters()):\n    p.requires_grad_({flag})",
    "enumerate_named": "for i, (n, p) in enumerate({m}.named_parameters()):\n    p.requires_grad = {flag}",
    "list_comprehension": "[p.requires_grad_({flag}) for p in {m}.parameters()]",
    "list_comprehension_named": "[p.requires_grad_({flag}) for _, p in {m}.named_parameters()]",
    "set_comprehension": "{{p.requires_grad_({flag}) for p in {m}.parameters()}}",
    "generator_consumed": "list(p.requires_grad_({flag}) for p in {m}.parameters())",
    "map_consumed": "list(map(lambda p: p.requires_grad_({flag}), {m}.parameters()))",
    "map_looped": "for _ in map(lambda p: p.requires_grad_({flag}), {m}.parameters()):\n    pass",
    "children": "for child in {m}.children():\n    child.requires_grad_({flag})",
    "named_children": "for _, child in {m}.named_children():\n    child.requires_grad_({flag})",
    "children_inner_loop":
        "for child in {m}.children():\n    for p in child.parameters():\n        p.requires_grad = {flag}",
    "modules_inner_loop":
        "for layer in {m}.modules():\n    for p in layer.parameters():\n        p.requires_grad_({flag})",
    "module_call": "{m}.requires_grad_({flag})",
    "module_call_keyword": "{m}.requires_grad_(requires_grad={flag})",
}

HEAD_REPLACEMENTS = {
    "assign": "{m}.fc = nn.Linear(512, 10)",
    "setattr": "setattr({m}, 'fc', nn.Linear(512, 10))",
    "add_module": "{m}.add_module('fc', nn.Linear(512, 10))",
    "register_module": "{m}.register_module('fc', nn.Linear(512, 10))",
}

HEADER = "import argparse\nimport torch\nimport torch.nn as nn\nfrom torchvision.models import resnet18\n"
BUILD = "resnet18(weights='IMAGENET1K_V1')"


def module_level(body: str) -> str:
    return f"model = {BUILD}\n{body.format(m='model')}\n"


def in_function(body: str) -> str:
    return f"def build():\n    model = {BUILD}\n{textwrap.indent(body.format(m='model'), '    ')}\n    return model\n"


def in_method(body: str) -> str:
    return (f"class Trainer:\n    def __init__(self):\n        self.model = {BUILD}\n"
            f"{textwrap.indent(body.format(m='self.model'), ' ' * 8)}\n")


def under_if(body: str) -> str:
    return (f"args = argparse.ArgumentParser().parse_args()\nmodel = {BUILD}\nif args.freeze:\n"
            f"{textwrap.indent(body.format(m='model'), '    ')}\n")


def through_alias(body: str) -> str:
    return f"model = {BUILD}\nnet = model\n{body.format(m='net')}\n"


def under_main_guard(body: str) -> str:
    return f"if __name__ == '__main__':\n    model = {BUILD}\n{textwrap.indent(body.format(m='model'), '    ')}\n"


SCOPES: dict[str, Callable[[str], str]] = {
    "module": module_level, "function": in_function, "method": in_method, "if": under_if,
    "alias": through_alias, "main_guard": under_main_guard,
}


def spelled(name: str, flag: bool) -> str:
    """A spelling with its flag, `{m}` left for the scope to fill."""
    return REQUIRES_GRAD_SPELLINGS[name].replace("{flag}", str(flag)).replace("{{", "{").replace("}}", "}")


def program(scope: str, steps: list[str]) -> tuple[str, list[int]]:
    """The script and the line where each step starts."""
    marked = [f"#step{i}\n{step}" for i, step in enumerate(steps)]
    source = HEADER + SCOPES[scope]("\n".join(marked).replace("{", "{{").replace("}", "}}").replace(
        "{{m}}", "{m}"))
    lines = source.splitlines()
    starts = [next(n + 2 for n, line in enumerate(lines) if line.strip() == f"#step{i}") for i in range(len(steps))]
    return source, starts


def findings(source: str) -> set[tuple[str, int]]:
    outcome = check_source(source.encode(), "train.py", CODES)
    return {(f.code, f.span.line) for f in outcome.findings}


@pytest.mark.parametrize(("freeze", "replacement", "scope"),
                         list(itertools.product(REQUIRES_GRAD_SPELLINGS, HEAD_REPLACEMENTS, SCOPES)))
def test_a_freeze_after_the_head_replacement_is_reported_at_the_freeze(freeze: str, replacement: str,
                                                                       scope: str) -> None:
    source, (_, freeze_line) = program(scope, [HEAD_REPLACEMENTS[replacement], spelled(freeze, False)])
    assert findings(source) == {("TL001", freeze_line)}, source


@pytest.mark.parametrize(("freeze", "replacement", "scope"),
                         list(itertools.product(REQUIRES_GRAD_SPELLINGS, HEAD_REPLACEMENTS, SCOPES)))
def test_a_freeze_before_the_head_replacement_is_quiet(freeze: str, replacement: str, scope: str) -> None:
    source, _ = program(scope, [spelled(freeze, False), HEAD_REPLACEMENTS[replacement]])
    assert findings(source) == set(), source


OPTIMIZER_OVER_TRAINABLE = ("optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, {m}.parameters()), "
                            "lr=0.01)")
OPTIMIZER_OVER_ALL = "optimizer = torch.optim.SGD({m}.parameters(), lr=0.01)"


@pytest.mark.parametrize(("spelling", "scope"), list(itertools.product(REQUIRES_GRAD_SPELLINGS,
                                                                         ["module", "method", "if"])))
def test_an_unfreeze_after_the_optimizer_is_reported_at_the_unfreeze(spelling: str, scope: str) -> None:
    unfreeze = spelled(spelling, True).replace("{m}", "{m}.layer4")
    wrong, (*_, unfreeze_line) = program(scope, [spelled("assign", False), HEAD_REPLACEMENTS["assign"],
                                                 OPTIMIZER_OVER_TRAINABLE, unfreeze])
    assert findings(wrong) == {("TL012", unfreeze_line)}, wrong
    right, _ = program(scope, [spelled("assign", False), HEAD_REPLACEMENTS["assign"], unfreeze,
                               OPTIMIZER_OVER_TRAINABLE])
    assert findings(right) == set(), right


@pytest.mark.parametrize(("spelling", "scope"), list(itertools.product(REQUIRES_GRAD_SPELLINGS,
                                                                         ["module", "function", "if"])))
def test_a_freeze_undone_before_training_is_reported_at_the_re_enable(spelling: str, scope: str) -> None:
    source, (_, _, unfreeze_line, _) = program(scope, [spelled("method", False), HEAD_REPLACEMENTS["assign"],
                                                       spelled(spelling, True), OPTIMIZER_OVER_ALL])
    assert findings(source) == {("TL014", unfreeze_line)}, source


PARTIAL_FREEZES = {
    "by name": "for name, p in {m}.named_parameters():\n    if 'layer4' not in name:\n        p.requires_grad_(False)",
    "by position": "for p in list({m}.parameters())[:-10]:\n    p.requires_grad = False",
    "by child position": "for child in list({m}.children())[:6]:\n    child.requires_grad_(False)",
    "by child name": "for name, child in {m}.named_children():\n    if name != 'layer4':\n"
                     "        child.requires_grad_(False)",
}


@pytest.mark.parametrize(("partial", "spelling"), list(itertools.product(PARTIAL_FREEZES, REQUIRES_GRAD_SPELLINGS)))
def test_a_partial_freeze_undone_before_training_is_reported_at_the_re_enable(partial: str, spelling: str) -> None:
    source, (_, _, unfreeze_line, _) = program("module", [PARTIAL_FREEZES[partial], HEAD_REPLACEMENTS["assign"],
                                                          spelled(spelling, True), OPTIMIZER_OVER_ALL])
    assert findings(source) == {("TL014", unfreeze_line)}, source


@pytest.mark.parametrize(("spelling", "scope"), list(itertools.product(REQUIRES_GRAD_SPELLINGS,
                                                                         ["module", "method", "if"])))
def test_an_optimizer_over_a_wholly_frozen_model_is_reported(spelling: str, scope: str) -> None:
    source, (_, optimizer_line) = program(scope, [spelled(spelling, False), OPTIMIZER_OVER_ALL])
    assert findings(source) == {("TL009", optimizer_line)}, source


HEADS_OF_OTHER_ARCHITECTURES = {
    "vit_b_16": "{m}.heads.head = nn.Linear(768, 10)",
    "vit_b_16 setattr": "setattr({m}.heads, 'head', nn.Linear(768, 10))",
    "vgg16": "{m}.classifier[6] = nn.Linear(4096, 10)",
    "mobilenet_v2": "{m}.classifier[-1] = nn.Linear(1280, 10)",
    "efficientnet_b0": "{m}.classifier[1] = nn.Linear(1280, 10)",
    "convnext_tiny": "{m}.classifier[2] = nn.Linear(768, 10)",
}


@pytest.mark.parametrize(("architecture", "freeze"), list(itertools.product(
    HEADS_OF_OTHER_ARCHITECTURES, ["method", "list_comprehension", "map_consumed", "named_children"])))
def test_heads_of_other_architectures_are_replacements(architecture: str, freeze: str) -> None:
    constructor = architecture.split()[0]
    head = HEADS_OF_OTHER_ARCHITECTURES[architecture].format(m="model")
    freeze_step = spelled(freeze, False).format(m="model")
    header = f"import torch.nn as nn\nfrom torchvision.models import {constructor}\n"
    build = f"model = {constructor}(weights='IMAGENET1K_V1')\n"
    wrong = f"{header}{build}{head}\n{freeze_step}\n"
    assert findings(wrong) == {("TL001", 5)}, wrong
    assert findings(f"{header}{build}{freeze_step}\n{head}\n") == set()


NEAR_MISSES = {
    "a freeze by position that leaves the last two tensors (the new head) trainable":
        "for p in list({m}.parameters())[:-2]:\n    p.requires_grad_(False)",
    "a freeze by position over all children but the last (the head)":
        "for child in list({m}.children())[:-1]:\n    child.requires_grad_(False)",
    "a generator that nothing consumes runs nothing":
        "pending = (p.requires_grad_(False) for p in {m}.parameters())",
    "a map that nothing consumes runs nothing":
        "pending = map(lambda p: p.requires_grad_(False), {m}.parameters())",
    "a name filter that keeps the head trainable":
        "for name, p in {m}.named_parameters():\n    if not name.startswith('fc'):\n        p.requires_grad_(False)",
    "a comprehension that only reads the flags":
        "flags = [p.requires_grad for p in {m}.parameters()]",
    "the head re-enabled right after the freeze":
        "[p.requires_grad_(False) for p in {m}.parameters()]\n{m}.fc.requires_grad_(True)",
}


@pytest.mark.parametrize("case", NEAR_MISSES)
@pytest.mark.parametrize("scope", ["module", "method"])
def test_near_misses_after_the_head_replacement_are_quiet(case: str, scope: str) -> None:
    source, _ = program(scope, [HEAD_REPLACEMENTS["assign"], NEAR_MISSES[case]])
    assert findings(source) == set(), source


@pytest.mark.parametrize(("first", "second"), [("method", "module_call"), ("assign", "list_comprehension"),
                                               ("children", "map_consumed"), ("module_call", "named_children")])
@pytest.mark.parametrize("scope", ["module", "function", "method"])
def test_the_same_freeze_in_both_arms_is_one_unconditional_freeze(first: str, second: str, scope: str) -> None:
    both_arms = (f"if args.linear_probe:\n{textwrap.indent(spelled(first, False), '    ')}\n"
                 f"else:\n{textwrap.indent(spelled(second, False), '    ')}")
    source, (_, arms_line) = program(scope, [HEAD_REPLACEMENTS["assign"], both_arms])
    source = source.replace(HEADER, HEADER + "args = argparse.ArgumentParser().parse_args()\n", 1)
    assert findings(source) == {("TL001", arms_line + 2)}, source
