"""`AuditCallback` for PyTorch Lightning: audit the first optimizer step with its real gradients.

    trainer = L.Trainer(callbacks=[AuditCallback(expect="transfer_learning", trainable=["classifier"])])

`on_before_optimizer_step` runs after the step's backward (inside the closure with automatic optimization),
before the update. The table is printed once, by global rank 0; a mismatch raises `TrainingAuditError`,
which `trainer.fit` surfaces, or with `fail=False` is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl

from tllint.integrations._step import Expect, StepAuditor, TrainingAuditError, unwrap_optimizer

__all__ = ["AuditCallback", "TrainingAuditError"]


class AuditCallback(pl.Callback):
    def __init__(self, expect: Expect | None = None, trainable: Sequence[str] | None = None, *,
                 fail: bool = True, show: bool = True) -> None:
        self.auditor = StepAuditor(expect, trainable, fail, show)

    @property
    def audit(self) -> Any:
        """The `Audit` of the first step (None before it)."""
        return self.auditor.audit

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.auditor.start(pl_module)

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        optimizers = [unwrap_optimizer(opt) for opt in trainer.optimizers] or [unwrap_optimizer(optimizer)]
        self.auditor.at_step(pl_module, optimizers, trainer.is_global_zero, "optimizer step 1")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.auditor.stop()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self.auditor.stop()
