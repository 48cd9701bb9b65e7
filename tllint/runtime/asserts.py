"""Asserts for test suites: when the wrong things train, fail with the audit table, offenders marked."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from tllint.runtime.auditor import audit
from tllint.runtime.peft import ORIGINAL
from tllint.runtime.probe import Inputs, LossFn
from tllint.runtime.results import Audit, ParamRow
from tllint.runtime.table import render
from tllint.runtime.wrappers import strip_wrapper_prefix


def assert_trains(
    model: nn.Module,
    example_inputs: Inputs,
    *,
    only: Sequence[str] | None = None,
    all: bool = False,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: LossFn | None = None,
) -> Audit:
    """Exactly the parameters under the module paths `only` (or every parameter, `all=True`) get gradients.

    With an optimizer, those parameters must also be in it at a non-zero lr, and no frozen parameter may be.
    Returns the audit for further checks.
    """
    __tracebackhide__ = True  # pytest: the failure starts with the message, not with tllint's frames
    if (only is None) == (not all):
        raise TypeError("assert_trains needs exactly one of only=[...] or all=True")
    result = audit(model, example_inputs, optimizer=optimizer, loss_fn=loss_fn)
    mismatch = expectation_mismatch(result, only, optimizer is not None)
    if mismatch is not None:
        raise AssertionError(mismatch)
    return result


def expectation_mismatch(result: Audit, only: Sequence[str] | None, with_optimizer: bool) -> str | None:
    """Why `result` does not match "exactly the parameters under `only` train" (`None`: every parameter):
    the table with the offenders marked and the reasons; None when it matches."""
    paths = [strip_wrapper_prefix(path) for path in only or ()]
    unmatched = [path for path in paths if not any(_matches(row, path) for row in result.params)]
    if unmatched:
        modules = sorted({row.name.split(".")[0] for row in result.params})
        return f"no parameter under {unmatched}; top-level modules: {modules}"
    problems: dict[str, list[str]] = {}
    for row in result.params:
        expected = (only is None or any(_matches(row, path) for path in paths)) and row.adapter != ORIGINAL
        reasons = _reasons_for(row, expected, with_optimizer)
        if reasons:
            problems[row.name] = reasons
    if not problems:
        return None
    what = "every parameter" if only is None else f"only {list(only)}"
    n = len(problems)
    title = (f"expected {what} to train; {n} parameter {'tensor does' if n == 1 else 'tensors do'} not "
             "match (marked !)")
    return f"{render(result, marked=problems, title=title)}\n{_reasons(problems)}"


def _reasons(problems: dict[str, list[str]]) -> str:
    """Each reason with the parameters it applies to; a parameter may have several."""
    by_reason: dict[str, list[str]] = {}
    for name, reasons in problems.items():
        for reason in reasons:
            by_reason.setdefault(reason, []).append(name)
    return "\n".join(
        f"  {reason}: {len(names)} ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
        for reason, names in by_reason.items()
    )


def _under(name: str, path: str) -> bool:
    return path == "" or name == path or name.startswith(f"{path}.")


def _matches(row: ParamRow, path: str) -> bool:
    """The row lies under the module `path`, or is a PEFT adapter of that kind (`"lora_"`: every LoRA matrix).
    PEFT's frozen original of a saved module is never expected to train: its trainable copy is."""
    if row.adapter == ORIGINAL:
        return False
    return _under(row.name, path) or bool(path and row.adapter and row.adapter.startswith(path))


def _reasons_for(row: ParamRow, expected: bool, with_optimizer: bool) -> list[str]:
    reasons = []
    if expected and not row.receives_gradient:
        reasons.append("expected to train, gets no gradient" + ("" if row.requires_grad else
                                                                 " (requires_grad=False)"))
    if not expected and row.receives_gradient:
        reasons.append("expected frozen, gets a gradient")
    if with_optimizer and expected and not row.in_optimizer:
        reasons.append("expected to train, not in the optimizer")
    if with_optimizer and expected and row.in_optimizer and row.lr == 0:
        reasons.append("expected to train, its param group has lr=0")
    if with_optimizer and row.in_optimizer and not row.requires_grad:
        reasons.append("frozen, but in the optimizer")
    return reasons


def assert_transfer_learning(
    model: nn.Module,
    example_inputs: Inputs,
    trainable: Sequence[str],
    optimizer: torch.optim.Optimizer | None = None,
    *,
    loss_fn: LossFn | None = None,
) -> Audit:
    """Only the new layers (`trainable`, e.g. `["fc"]`) get gradients (and sit in the optimizer). For a PEFT
    model, name layers by the base model's paths and adapters by their kind: `["classifier", "lora_"]`."""
    __tracebackhide__ = True
    return assert_trains(model, example_inputs, only=trainable, optimizer=optimizer, loss_fn=loss_fn)


def assert_fine_tuning(
    model: nn.Module,
    example_inputs: Inputs,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    loss_fn: LossFn | None = None,
) -> Audit:
    """Every parameter gets a gradient (and sits in the optimizer)."""
    __tracebackhide__ = True
    return assert_trains(model, example_inputs, all=True, optimizer=optimizer, loss_fn=loss_fn)
