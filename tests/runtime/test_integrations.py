"""The Lightning and Hugging Face callbacks with the real frameworks, and `tllint run` on Lightning scripts.

Tiny models built from code or configs, CPU tensors, no downloads.
"""

from __future__ import annotations

import logging

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from tests.helpers import RUNTIME_FIXTURES, run_tllint
from tllint.integrations import lightning as tl_lightning
from tllint.integrations import transformers as tl_transformers


class Tiny(L.LightningModule):
    def __init__(self, wrong_order: bool = False, manual: bool = False) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.classifier = nn.Linear(8, 10)
        if wrong_order:
            self.classifier = nn.Linear(8, 3)
        self.requires_grad_(False)
        if not wrong_order:
            self.classifier = nn.Linear(8, 3)
        self.automatic_optimization = not manual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        if not self.automatic_optimization:
            optimizer = self.optimizers()
            optimizer.zero_grad()
            self.manual_backward(loss)
            optimizer.step()
            return None
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.classifier.parameters(), lr=0.1)


def fit(module: L.LightningModule, callback: L.Callback) -> None:
    data = TensorDataset(torch.randn(8, 6), torch.randint(0, 3, (8,)))
    trainer = L.Trainer(max_steps=2, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[callback])
    trainer.fit(module, DataLoader(data, batch_size=4))


@pytest.mark.parametrize("manual", [False, True])
def test_lightning_callback_passes_a_correct_transfer_learning_run(manual: bool, capsys) -> None:
    callback = tl_lightning.AuditCallback(expect="transfer_learning", trainable=["classifier"])
    fit(Tiny(manual=manual), callback)
    assert callback.audit.verdict == "transfer learning: only `classifier` trains"
    assert [row.name for row in callback.audit.params if row.grad == "nonzero"] == ["classifier.weight",
                                                                                   "classifier.bias"]
    assert capsys.readouterr().out.count("transfer learning: only `classifier` trains") == 1


def test_lightning_callback_fails_the_run_with_the_findings() -> None:
    callback = tl_lightning.AuditCallback(expect="transfer_learning", trainable=["classifier"], show=False)
    module = Tiny(wrong_order=True)
    module.classifier.requires_grad_(True)
    module.backbone.requires_grad_(True)  # fine-tuned by mistake: the backbone trains too
    module.configure_optimizers = lambda: torch.optim.SGD(module.parameters(), lr=0.1)
    with pytest.raises(tl_lightning.TrainingAuditError, match=r"expected only \['classifier'\] to train"):
        fit(module, callback)


def test_lightning_callback_only_logs_with_fail_false(caplog) -> None:
    module = Tiny()
    module.configure_optimizers = lambda: torch.optim.SGD(module.backbone.parameters(), lr=0.1)
    with caplog.at_level(logging.WARNING, logger="tllint"):
        fit(module, tl_lightning.AuditCallback(expect="fine_tuning", fail=False, show=False))
    assert "expected every parameter to train" in caplog.text


def tiny_bert() -> BertForSequenceClassification:
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, num_labels=3)
    return BertForSequenceClassification(config)


def hf_train(model: nn.Module, callback, tmp_path) -> None:
    data = [{"input_ids": torch.randint(0, 50, (8,)), "attention_mask": torch.ones(8, dtype=torch.long),
             "labels": torch.tensor(i % 3)} for i in range(8)]
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, report_to=[],
                             use_cpu=True, save_strategy="no", logging_strategy="no", disable_tqdm=True)
    Trainer(model=model, args=args, train_dataset=data, callbacks=[callback]).train()


def test_transformers_callback_passes_a_frozen_encoder(tmp_path, capsys) -> None:
    model = tiny_bert()
    model.bert.requires_grad_(False)
    callback = tl_transformers.AuditCallback(expect="transfer_learning", trainable=["classifier"])
    hf_train(model, callback, tmp_path)
    assert callback.audit.verdict == "transfer learning: only `classifier` trains"
    assert capsys.readouterr().out.count("transfer learning: only `classifier` trains") == 1


def test_transformers_callback_fails_when_everything_is_frozen(tmp_path) -> None:
    model = tiny_bert()
    model.requires_grad_(False)  # the classifier too
    model.classifier.weight.requires_grad_(True)  # the Trainer refuses a model with nothing to optimize
    callback = tl_transformers.AuditCallback(expect="fine_tuning", show=False)
    with pytest.raises(tl_transformers.TrainingAuditError, match="expected every parameter to train"):
        hf_train(model, callback, tmp_path)


SCRIPTS = RUNTIME_FIXTURES / "scripts"


@pytest.mark.parametrize(("args", "exit_code", "verdict"), [
    ((), 0, "transfer learning: only `net.fc` trains"),
    (("--", "manual"), 0, "transfer learning: only `net.fc` trains"),
    (("--", "wrong"), 1, "nothing trains"),
])
def test_tllint_run_on_a_lightning_script(args: tuple[str, ...], exit_code: int, verdict: str) -> None:
    result = run_tllint("run", "lightning_finetune.py", *args, cwd=SCRIPTS, timeout=300)
    assert result.returncode == exit_code, result.stderr[-3000:]
    assert result.stdout.splitlines()[0] == verdict
    assert ("TL101" in result.stdout) is (exit_code == 1)
