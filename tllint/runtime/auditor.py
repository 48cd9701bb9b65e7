"""`audit(model, example_inputs)`: one real forward and backward on the real model, leaving no trace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from tllint.runtime import peft
from tllint.runtime.observation import Observation, build_audit, grad_status
from tllint.runtime.probe import Inputs, LossFn, call_model, probe_loss
from tllint.runtime.results import Audit, GradStatus
from tllint.runtime.state import untouched
from tllint.runtime.trace import Usage, fx_usage, hook_usage, recorded_calls
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
    stays changed (see `tllint.runtime.state`).
    """
    inner, wrappers = unwrap(model)
    try:
        usage: Usage | None = fx_usage(inner, example_inputs)
        trace = "fx"
    except Exception as error:  # any tracing failure falls back to hooks, by design
        usage, trace = None, f"hooks: {_reason(error)}"
    with untouched(inner), torch.enable_grad(), _calls_if(usage is None, inner) as ran:
        output = call_model(inner, example_inputs)
        loss = loss_fn(output) if loss_fn is not None else probe_loss(output)
        grads = _probe_gradients(inner, loss)
    observation = Observation(
        roots=[("", inner)],
        grads=grads,
        usage=usage or hook_usage(inner, ran),
        optimizers=[optimizer] if optimizer is not None else [],
        trace=trace,
        gradients="loss_fn" if loss_fn is not None else "probe loss",
        wrappers=wrappers,
        loss_requires_grad=loss is not None and loss.requires_grad,
    )
    return build_audit(observation)


@contextmanager
def _calls_if(needed: bool, model: nn.Module) -> Iterator[list[nn.Module]]:
    """Record the forward's calls only when fx could not trace: hooks cost time on every module call."""
    if not needed:
        yield []
        return
    with recorded_calls(model) as calls:
        yield calls


def _probe_gradients(model: nn.Module, loss: torch.Tensor | None) -> dict[int, GradStatus]:
    """Gradients of `loss` w.r.t. the trainable parameters, without touching any `.grad`.

    `torch.autograd.grad` returns gradients we own: nothing accumulates into the user's `.grad`, and hooks
    that fire on accumulation (DDP's reducer, `register_post_accumulate_grad_hook`) stay quiet.
    """
    trainable = [param for param in model.parameters() if param.requires_grad]
    if loss is None or not loss.requires_grad or not trainable:
        return {}
    if peft.checkpointing([("", model)]):
        # A reentrant checkpoint runs its own backward inside and answers nothing to `autograd.grad`: a real
        # backward, into `.grad` cleared for it (the caller's guard puts every `.grad` back).
        for param in trainable:
            param.grad = None
        loss.backward()
        return {id(param): grad_status(param.grad) for param in trainable}
    grads = torch.autograd.grad(loss, trainable, allow_unused=True)
    return {id(param): grad_status(grad) for param, grad in zip(trainable, grads, strict=True)}


def _reason(error: Exception) -> str:
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line[:160]}"
