"""`audit(model, example_inputs)`: one real forward and backward on the real model, leaving no trace."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from tllint.runtime.observation import Observation, build_audit, grad_statuses
from tllint.runtime.optimizers import held
from tllint.runtime.probe import Inputs, LossFn, call_model, probe_loss
from tllint.runtime.results import Audit, AuditError, GradStatus
from tllint.runtime.state import parameters_copied_on_write, untouched
from tllint.runtime.trace import hook_usage, recorded_calls, traced_usage
from tllint.runtime.wrappers import unwrap


def audit(
    model: nn.Module,
    example_inputs: Inputs,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: LossFn | None = None,
) -> Audit:
    """Which parameters get gradients, which the optimizer holds, and what is wrong with that.

    `example_inputs`: a tensor, a tuple of positional inputs or a dict of keyword inputs. The model runs in
    its current mode on its own device; `loss_fn(output)` replaces the probe loss. Nothing the audit touches
    stays changed (see `tllint.runtime.state`). Raises `AuditError` for what cannot be audited without changing
    it (uninitialised lazy modules, meta tensors) or at all (inside `torch.inference_mode`).
    """
    inner, wrappers = unwrap(model)
    refuse_unauditable(inner)
    optimizers = [optimizer] if optimizer is not None else []
    with untouched(inner):
        _without_compiled_calls(inner)
        usage, trace = traced_usage(inner, example_inputs)
        with torch.enable_grad(), _calls_if(usage is None, inner) as ran:
            grads, loss = _probe_gradients(inner, _gradient_targets(inner, optimizers),
                                           lambda: _loss(inner, example_inputs, loss_fn))
    observation = Observation(
        roots=[("", inner)],
        grads=grads,
        usage=usage or hook_usage(inner, ran),
        optimizers=optimizers,
        trace=trace,
        gradients="loss_fn" if loss_fn is not None else "probe loss",
        wrappers=wrappers,
        loss_requires_grad=loss is not None and loss.requires_grad,
        probe_loss=loss_fn is None,
    )
    return build_audit(observation)


def refuse_unauditable(model: nn.Module) -> None:
    """Raise `AuditError` for a model the audit would have to change, or could not run backward on."""
    if torch.is_inference_mode_enabled():
        raise AuditError("the audit cannot run inside torch.inference_mode(): autograd is off there, so no "
                         "parameter could get a gradient; call it outside the block")
    lazy = [path or "<root>" for path, module in model.named_modules()
            if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params()]
    if lazy:
        raise AuditError(f"uninitialised lazy modules ({_names(lazy)}): run one forward first so that their "
                         "shapes are known; the audit would materialise them")
    tensors = [*model.named_parameters(), *model.named_buffers()]
    meta = [name for name, tensor in tensors if tensor.is_meta]
    if meta:
        raise AuditError(f"tensors on the meta device ({_names(meta)}) have no values to run: materialise the "
                         "model (to_empty() and load its weights) before auditing it")
    inference = [name for name, tensor in tensors if tensor.is_inference()]
    if inference:
        raise AuditError(f"tensors created under torch.inference_mode ({_names(inference)}) cannot take part "
                         "in autograd: build the model outside inference_mode")


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _without_compiled_calls(model: nn.Module) -> None:
    """Call the original forward of a `Module.compile()`d model: compiling takes seconds and tells nothing.

    Only inside `untouched()`, which puts the compiled call back.
    """
    for module in model.modules():
        if module.__dict__.get("_compiled_call_impl") is not None:
            module.__dict__["_compiled_call_impl"] = None


@contextmanager
def _calls_if(needed: bool, model: nn.Module) -> Iterator[list[nn.Module]]:
    """Record the forward's calls only when fx could not trace: hooks cost time on every module call."""
    if not needed:
        yield []
        return
    with recorded_calls(model) as calls:
        yield calls


def _loss(model: nn.Module, inputs: Inputs, loss_fn: LossFn | None) -> torch.Tensor | None:
    with parameters_copied_on_write(model):
        output = call_model(model, inputs)
        return loss_fn(output) if loss_fn is not None else probe_loss(output)


def _gradient_targets(model: nn.Module, optimizers: Sequence[torch.optim.Optimizer]) -> list[torch.Tensor]:
    """The trainable parameters, and trainable tensors the optimizer holds outside the model (a temperature
    that only `loss_fn` uses gets its gradient too)."""
    targets = {id(param): param for param in model.parameters() if param.requires_grad}
    for tensor, _slot in held(optimizers):
        if isinstance(tensor, torch.Tensor) and tensor.requires_grad and tensor.is_leaf:
            targets.setdefault(id(tensor), tensor)
    return list(targets.values())


def _probe_gradients(
    model: nn.Module, targets: list[torch.Tensor], forward: Callable[[], torch.Tensor | None]
) -> tuple[dict[int, GradStatus], torch.Tensor | None]:
    """Gradients of the loss w.r.t. `targets`, without touching any `.grad`; and the loss.

    `torch.autograd.grad` returns gradients we own: nothing accumulates into the user's `.grad`, and hooks
    that fire on accumulation (DDP's reducer, `register_post_accumulate_grad_hook`) stay quiet. Reentrant
    gradient checkpointing answers only a real `backward()`: then the forward runs again and `.grad` is read
    after a real backward and put back.
    """
    loss = forward()
    if loss is None or not loss.requires_grad or not targets:
        return {}, loss
    try:
        grads: Sequence[torch.Tensor | None] = torch.autograd.grad(loss, targets, allow_unused=True)
    except RuntimeError as error:
        if "checkpoint" not in str(error):
            raise
        grads = [None]
    if any(grad is None for grad in grads) and _reentrant_checkpoint_in(loss):
        # The blocks inside a reentrant checkpoint are not in the outer graph: `autograd.grad` never reaches
        # them (or refuses), while a real backward recomputes each block and reaches its parameters.
        loss = forward()
        assert loss is not None
        grads = _backward_gradients(loss, targets)
    return {id(tensor): status for tensor, status in zip(targets, grad_statuses(grads), strict=True)}, loss


def _reentrant_checkpoint_in(loss: torch.Tensor) -> bool:
    """The loss's graph holds a reentrant `torch.utils.checkpoint` segment."""
    seen: set[int] = set()
    stack = [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node).__name__ == "CheckpointFunctionBackward":
            return True
        stack.extend(next_node for next_node, _ in node.next_functions)
    return False


def _backward_gradients(loss: torch.Tensor, targets: list[torch.Tensor]) -> list[torch.Tensor | None]:
    saved: list[Any] = [tensor.grad for tensor in targets]
    try:
        for tensor in targets:
            tensor.grad = None
        loss.backward()
        return [tensor.grad for tensor in targets]
    finally:
        for tensor, grad in zip(targets, saved, strict=True):
            tensor.grad = grad
