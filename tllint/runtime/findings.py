"""The runtime findings TL101-TL108, one function per code, all reading the same `Evidence`.

`tllint.runtime.audit` (probe loss) and `tllint run` (the script's own loss) build the evidence differently
and share everything from here on. Names and severities come from the shared catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tllint.findings.catalog import rule_info
from tllint.runtime.report import ParamRow, RuntimeFinding


@dataclass(frozen=True)
class Evidence:
    """What the findings are computed from.

    `foreign`: descriptions of tensors an optimizer holds that are not parameters of the model and got no
    gradient. `updating_norms`: (module, its parameter names) of normalization layers whose parameters are
    all frozen, in train mode, tracking running statistics, that the forward ran. `loss_requires_grad`:
    False when the loss was not connected to anything trainable, None when not known (`tllint run`).
    """

    rows: tuple[ParamRow, ...]
    has_optimizer: bool
    foreign: tuple[str, ...]
    updating_norms: tuple[tuple[str, tuple[str, ...]], ...]
    loss_requires_grad: bool | None


def _finding(code: str, message: str, params: Sequence[str]) -> RuntimeFinding:
    info = rule_info(code)
    return RuntimeFinding(info.code, info.name, info.severity, message, tuple(params))


def _some(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def nothing_trains(evidence: Evidence) -> list[RuntimeFinding]:
    """TL101: no parameter receives a gradient."""
    rows = evidence.rows
    if not rows or any(row.receives_gradient for row in rows):
        return []
    trainable = [row.name for row in rows if row.requires_grad]
    if not trainable:
        why = f"all {_count(len(rows), 'parameter tensor')} have requires_grad=False"
        fix = ("re-enable the layers meant to train after freezing (freeze first, then replace the head, "
               "or set requires_grad=True on the new head)")
    elif evidence.loss_requires_grad is False:
        why = "the loss does not require grad: it is cut off from every trainable parameter"
        fix = "remove the detach / no_grad / .item() between the model output and the loss"
    else:
        why = f"none of the {_count(len(trainable), 'trainable tensor')} is reached by the backward pass"
        fix = "make the trainable layers take part in the forward and build the loss from their output"
    message = f"No parameter receives a gradient: {why}. Training would change nothing; {fix}."
    return [_finding("TL101", message, trainable or [row.name for row in rows])]


_TL102_CAUSES = {
    False: "are not used in the forward pass (a layer that is never called, e.g. a head assigned to an "
           "attribute the architecture does not use, or an unused auxiliary branch)",
    True: "are used in the forward pass but cut off from the loss (detach, torch.no_grad, .data, or an "
          "integer/argmax operation on the path)",
    None: "are not reached by the backward pass (unused or cut off: the hook fallback cannot tell which)",
}


def trainable_without_gradient(evidence: Evidence) -> list[RuntimeFinding]:
    """TL102: trainable parameters that get no gradient, one finding per cause."""
    causes: dict[bool | None, list[str]] = {}
    for row in evidence.rows:
        if row.requires_grad and not row.receives_gradient:
            causes.setdefault(row.used_in_forward, []).append(row.name)
    consequence = ("they get no gradient and never train, yet cost memory. Call the layer in the forward, "
                   "remove the cut, or freeze them (requires_grad=False) if that is intended.")
    return [
        _finding("TL102", f"{_count(len(names), 'trainable parameter tensor')} ({_some(names)}) "
                 f"{_TL102_CAUSES[used]}: {consequence}", names)
        for used, names in causes.items()
    ]


def frozen_in_optimizer(evidence: Evidence) -> list[RuntimeFinding]:
    """TL103: the optimizer holds parameters with requires_grad=False."""
    names = [row.name for row in evidence.rows if row.in_optimizer and not row.requires_grad]
    if not names:
        return []
    what = f"The optimizer holds {_count(len(names), 'frozen parameter tensor')} ({_some(names)})."
    why = (" torch.optim skips them while their .grad is None, but weight decay and momentum move them once "
           "they hold a (zero) gradient, e.g. after freezing mid-training with zero_grad(set_to_none=False), "
           "and third-party optimizers decay them regardless.")
    fix = " Build the optimizer from [p for p in model.parameters() if p.requires_grad]."
    return [_finding("TL103", what + why + fix, names)]


def trainable_not_in_optimizer(evidence: Evidence) -> list[RuntimeFinding]:
    """TL104: parameters that receive gradients but are in no param group."""
    if not evidence.has_optimizer:
        return []
    names = [row.name for row in evidence.rows
             if row.requires_grad and row.receives_gradient and row.in_optimizer is False]
    if not names:
        return []
    what = (f"{_count(len(names), 'parameter tensor')} ({_some(names)}) receive gradients but are in no "
            "param group: computed every step, never applied, so they stay at their initial values.")
    fix = (" Typical causes: the optimizer was built before the layer was replaced, or layers were unfrozen "
           "later. Build the optimizer after the model is final, or call optimizer.add_param_group(...).")
    return [_finding("TL104", what + fix, names)]


def frozen_batchnorm_updates(evidence: Evidence) -> list[RuntimeFinding]:
    """TL105: frozen normalization layers in train mode that still update their running statistics."""
    if not evidence.updating_norms:
        return []
    modules = [module for module, _ in evidence.updating_norms]
    params = [name for _, names in evidence.updating_norms for name in names]
    what = (f"{_count(len(modules), 'normalization layer')} ({_some(modules)}) have all their parameters "
            "frozen but are in train mode, so every training forward still updates their running mean/var: "
            "the frozen features drift towards the new data.")
    fix = (" Intended in some recipes; otherwise call .eval() on them after every model.train() or use "
           "torchvision.ops.FrozenBatchNorm2d.")
    return [_finding("TL105", what + fix, params)]


def zero_learning_rate(evidence: Evidence) -> list[RuntimeFinding]:
    """TL107: a param group with lr == 0 holds trainable parameters."""
    groups: dict[str, list[str]] = {}
    for row in evidence.rows:
        if row.in_optimizer and row.requires_grad and row.lr == 0:
            groups.setdefault(row.group or "?", []).append(row.name)
    fix = ("Set a learning rate; if a warm-up schedule starts at 0, audit a later step "
           "(`tllint run --step N`).")
    return [
        _finding("TL107", f"Param group {group} has lr=0 and holds {_count(len(names), 'trainable tensor')} "
                 f"({_some(names)}): they get gradients but never move. {fix}", names)
        for group, names in groups.items()
    ]


def optimizer_holds_foreign_params(evidence: Evidence) -> list[RuntimeFinding]:
    """TL108: the optimizer holds tensors that are not parameters of the model."""
    if not evidence.foreign:
        return []
    what = (f"The optimizer holds {_count(len(evidence.foreign), 'tensor')} that are not parameters of the "
            f"model ({_some(evidence.foreign)}), typically the old head after a replacement: it updates "
            "nothing the model uses.")
    return [_finding("TL108", what + " Build the optimizer after the model is final.", evidence.foreign)]


RULES: tuple[Callable[[Evidence], list[RuntimeFinding]], ...] = (
    nothing_trains,
    trainable_without_gradient,
    frozen_in_optimizer,
    trainable_not_in_optimizer,
    frozen_batchnorm_updates,
    zero_learning_rate,
    optimizer_holds_foreign_params,
)


def find_all(evidence: Evidence) -> tuple[RuntimeFinding, ...]:
    """Every finding, worst first, then by code."""
    found = [finding for rule in RULES for finding in rule(evidence)]
    return tuple(sorted(found, key=lambda f: (f.severity.rank, f.code)))
