"""What both callbacks share: record which modules run until the first optimizer step, audit that step's real
gradients, print the table once, and fail the run (or only log) when it is wrong."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from tllint.findings.model import Severity
from tllint.runtime.asserts import expectation_mismatch
from tllint.runtime.observation import Observation, build_audit, grad_statuses
from tllint.runtime.results import Audit
from tllint.runtime.trace import hook_usage, recorded_calls
from tllint.runtime.wrappers import unwrap

Expect = Literal["transfer_learning", "fine_tuning"]
logger = logging.getLogger("tllint")


class TrainingAuditError(AssertionError):
    """The audit of the first optimizer step found that the wrong parameters train."""


class StepAuditor:
    """Audits one step. `expect`: "transfer_learning" (with `trainable`, e.g. ["classifier"]) or "fine_tuning";
    without it only error findings fail. `fail=False` logs instead of raising."""

    def __init__(self, expect: Expect | None = None, trainable: Sequence[str] | None = None, fail: bool = True,
                 show: bool = True) -> None:
        if expect == "transfer_learning" and not trainable:
            raise TypeError('expect="transfer_learning" needs trainable=[...], the layers that should train')
        if expect not in (None, "transfer_learning", "fine_tuning"):
            raise TypeError(f'expect must be "transfer_learning" or "fine_tuning", not {expect!r}')
        self.expect = expect
        self.trainable = list(trainable) if trainable else None
        self.fail = fail
        self.show = show
        self.audit: Audit | None = None
        self._recording: Any = None
        self._ran: list[nn.Module] = []

    def start(self, model: nn.Module) -> None:
        """Record the modules whose forward runs until the audited step."""
        if self.audit is None and self._recording is None:
            self._recording = recorded_calls(unwrap(model)[0])
            self._ran = self._recording.__enter__()

    def stop(self) -> None:
        if self._recording is not None:
            self._recording.__exit__(None, None, None)
            self._recording = None

    def at_step(self, model: nn.Module, optimizers: Sequence[Any], first_rank: bool, where: str) -> None:
        """Audit now (gradients are the step's), once; print on the first rank; fail or log."""
        if self.audit is not None:
            return
        self.stop()
        inner, wrappers = unwrap(model)
        params = list(inner.parameters())
        self.audit = build_audit(Observation(
            roots=[("", inner)],
            grads={id(p): status for p, status in zip(params, grad_statuses([p.grad for p in params]), strict=True)},
            usage=hook_usage(inner, self._ran),
            optimizers=list(optimizers),
            trace="hooks: recorded from the trainer's forward passes",
            gradients=f"the trainer's own backward at {where}",
            wrappers=wrappers,
        ))
        if self.show and first_rank:
            print(self.audit, flush=True)
        problems = self.problems(bool(optimizers))
        if problems is None:
            return
        if self.fail:
            raise TrainingAuditError(problems)
        if first_rank:
            logger.warning("tllint: %s", problems)

    def problems(self, with_optimizer: bool) -> str | None:
        assert self.audit is not None
        if self.expect is not None:
            only = self.trainable if self.expect == "transfer_learning" else None
            mismatch = expectation_mismatch(self.audit, only, with_optimizer)
            if mismatch is not None:
                return mismatch
        errors = [f for f in self.audit.findings if f.severity is Severity.ERROR]
        if errors:
            return "\n".join([f"the audit of the first optimizer step found {len(errors)} error(s):",
                              *(f"{f.code} {f.name}: {f.message}" for f in errors)])
        return None


def unwrap_optimizer(optimizer: Any) -> Any:
    """The torch optimizer inside Lightning's / Accelerate's wrappers (both keep it as `.optimizer`/`._optimizer`)."""
    for attribute in ("_optimizer", "optimizer"):
        inner = getattr(optimizer, attribute, None)
        if isinstance(inner, torch.optim.Optimizer):
            return unwrap_optimizer(inner)
    return optimizer
