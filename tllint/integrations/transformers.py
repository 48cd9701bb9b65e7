"""`AuditCallback` for the Hugging Face `Trainer`: audit the first optimizer step with its real gradients.

    trainer = Trainer(model, args, train_dataset=data,
                      callbacks=[AuditCallback(expect="transfer_learning", trainable=["classifier"])])

`on_pre_optimizer_step` runs after the step's backward (and gradient accumulation), before the update. The
table is printed once, by the world's main process; a mismatch raises `TrainingAuditError`, which
`trainer.train()` surfaces, or with `fail=False` is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from tllint.integrations._step import Expect, StepAuditor, TrainingAuditError, unwrap_optimizer

__all__ = ["AuditCallback", "TrainingAuditError"]


class AuditCallback(TrainerCallback):
    def __init__(self, expect: Expect | None = None, trainable: Sequence[str] | None = None, *,
                 fail: bool = True, show: bool = True) -> None:
        self.auditor = StepAuditor(expect, trainable, fail, show)

    @property
    def audit(self) -> Any:
        """The `Audit` of the first step (None before it)."""
        return self.auditor.audit

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if model is not None:
            self.auditor.start(model)

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, model: Any = None, optimizer: Any = None,
                              **kwargs: Any) -> None:
        if model is None:
            return
        optimizers = [unwrap_optimizer(optimizer)] if optimizer is not None else []
        self.auditor.at_step(model, optimizers, state.is_world_process_zero, f"optimizer step {state.global_step + 1}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.auditor.stop()
