"""From what was observed (gradients, usage, optimizers) to an `Audit`: rows, layers and findings.

Shared by `audit()` and `tllint run`; they differ only in how the observation is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from tllint.findings.registry import Half, rules
from tllint.runtime import peft
from tllint.runtime.evidence import Evidence
from tllint.runtime.optimizers import held, slots_by_id
from tllint.runtime.results import Audit, GradStatus, ParamRow, RuntimeFinding, roll_up, verdict
from tllint.runtime.trace import Usage, owner_path

_RANK: dict[GradStatus, int] = {"none": 0, "zero": 1, "nonzero": 2}


def grad_status(grad: torch.Tensor | None) -> GradStatus:
    """ "none" when autograd never reached the tensor, "zero" when it did with all zeros, else "nonzero"."""
    if grad is None:
        return "none"
    if grad.layout == torch.sparse_coo:
        grad = grad.coalesce().values()
    elif grad.layout != torch.strided:
        grad = grad.to_dense()
    return "nonzero" if bool(grad.ne(0).any()) else "zero"


def grad_statuses(grads: Sequence[torch.Tensor | None]) -> list[GradStatus]:
    """`grad_status` of many gradients at once: one fused max-abs kernel and one device sync per device.

    On a GPU, asking each gradient "any nonzero?" separately waits for the device once per parameter.
    """
    statuses: list[GradStatus] = ["none"] * len(grads)
    dense: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for index, grad in enumerate(grads):
        if grad is None:
            continue
        if grad.layout == torch.strided and grad.is_floating_point() and grad.numel():
            dense.setdefault((grad.device, grad.dtype), []).append(index)
        else:
            statuses[index] = grad_status(grad)
    for indices in dense.values():
        norms = torch._foreach_norm([grads[index] for index in indices], float("inf"))  # type: ignore[misc]
        for index, nonzero in zip(indices, torch.stack(norms).ne(0).tolist(), strict=True):
            statuses[index] = "nonzero" if nonzero else "zero"
    return statuses


def strongest(a: GradStatus, b: GradStatus) -> GradStatus:
    """The more informative of two observations of one parameter's gradient."""
    return a if _RANK[a] >= _RANK[b] else b


@dataclass(frozen=True)
class Observation:
    """`roots`: (name prefix, module) audited together; `grads`: `id(tensor)` -> status (absent: none).

    `requires_grad`: the flags as they were when the gradients were read (default: as they are now).
    `idle_optimizers`: (description, tensors it holds); `ddp_changed`: (parameter, its flag now) for flags
    changed after DDP wrapped the module.
    """

    roots: Sequence[tuple[str, nn.Module]]
    grads: Mapping[int, GradStatus]
    usage: Usage
    optimizers: Sequence[torch.optim.Optimizer]
    trace: str
    gradients: str
    wrappers: tuple[str, ...] = ()
    loss_requires_grad: bool | None = None
    probe_loss: bool = False
    gradients_seen: bool = True
    idle_optimizers: Sequence[tuple[str, Sequence[torch.Tensor]]] = ()
    requires_grad: Mapping[int, bool] | None = None
    ddp_changed: Sequence[tuple[torch.Tensor, bool]] = ()


def build_audit(observation: Observation) -> Audit:
    """Build the rows, roll them up, and run every finding."""
    modules: dict[str, nn.Module] = {}
    named: list[tuple[str, nn.Parameter]] = []
    for prefix, root in observation.roots:
        modules.update(root.named_modules(prefix=prefix))
        named.extend(root.named_parameters(prefix=prefix))
    slots = slots_by_id(observation.optimizers)
    has_optimizer = bool(observation.optimizers)
    rows = []
    for name, param in named:
        status = observation.grads.get(id(param), "none")
        slot = slots.get(id(param))
        owner = owner_path(name)
        used = observation.usage.used.get(name)
        rows.append(ParamRow(
            name=name,
            module=owner,
            module_type=type(modules[owner]).__name__,
            requires_grad=(observation.requires_grad or {}).get(id(param), param.requires_grad),
            grad=status,
            in_optimizer=(slot is not None) if has_optimizer else None,
            group=slot.group if slot else None,
            lr=slot.lr if slot else None,
            weight_decay=slot.weight_decay if slot else None,
            used_in_forward=True if status != "none" else used,
            numel=param.numel(),
        ))
    rows, order = peft.rename(observation.roots, rows, observation.usage.order, modules)  # PEFT: base model's names
    model_ids = {id(param) for _, param in named}
    foreign: dict[int, str] = {}
    for tensor, slot in held(observation.optimizers):
        if id(tensor) not in model_ids and observation.grads.get(id(tensor), "none") == "none":
            foreign.setdefault(id(tensor), f"group {slot.group}: tensor of shape {tuple(tensor.shape)}")
    params = tuple(rows)
    names = {id(param): name for name, param in named}
    evidence = Evidence(
        rows=params,
        has_optimizer=has_optimizer,
        foreign=tuple(foreign.values()),
        updating_norms=_updating_norms(modules, params),
        loss_requires_grad=observation.loss_requires_grad,
        probe_loss=observation.probe_loss,
        gradients_seen=observation.gradients_seen,
        idle_optimizers=tuple(
            (description, tuple(names[id(tensor)] for tensor in tensors if id(tensor) in names))
            for description, tensors in observation.idle_optimizers),
        ddp_changed=tuple((names[id(param)], now) for param, now in observation.ddp_changed if id(param) in names),
        new_heads=peft.new_heads(observation.roots, params),
        checkpointing=peft.checkpointing(observation.roots),
    )
    return Audit(
        params=params,
        layers=roll_up(params, order),
        findings=find_all(evidence),
        trace=observation.trace,
        gradients=observation.gradients,
        wrappers=observation.wrappers,
        verdict=verdict(params, has_optimizer, observation.gradients_seen,
                        idle=frozenset(name for _, held in evidence.idle_optimizers for name in held)),
    )


def _updating_norms(
    modules: Mapping[str, nn.Module], rows: Sequence[ParamRow]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Norm layers that ran in train mode, track running statistics, and whose parameters are all frozen."""
    by_module: dict[str, list[ParamRow]] = {}
    for row in rows:
        by_module.setdefault(row.module, []).append(row)
    found = []
    for path, own in by_module.items():
        module = modules[path]
        if (
            isinstance(module, _NormBase)
            and module.training
            and module.track_running_stats
            and module.running_mean is not None
            and not any(row.requires_grad for row in own)
            and any(row.used_in_forward is not False for row in own)
        ):
            found.append((path, tuple(row.name for row in own)))
    return tuple(found)


def find_all(evidence: Evidence) -> tuple[RuntimeFinding, ...]:
    """Every runtime rule's findings, worst first, then by code."""
    found = [
        RuntimeFinding(rule.info.code, rule.info.name, rule.info.severity, violation.message, violation.params)
        for rule in rules(Half.RUNTIME)
        if rule.check is not None
        for violation in rule.check(evidence)
    ]
    return tuple(sorted(found, key=lambda f: (f.severity.rank, f.code)))
