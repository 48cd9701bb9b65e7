"""The audit on PEFT and transformers models: names, adapter kinds, the asserts, TL110/TL112, and `tllint run` on a
plain PEFT loop and on the transformers Trainer. Tiny models built from configs (no download)."""

from __future__ import annotations

import json
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from peft import LoraConfig, TaskType, get_peft_model  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification  # noqa: E402

from tests.helpers import RUNTIME_FIXTURES, assert_same, fingerprint, load_module, run_tllint  # noqa: E402
from tllint.runtime import assert_transfer_learning, audit  # noqa: E402

SCRIPTS = RUNTIME_FIXTURES / "scripts"
MODELS = load_module(SCRIPTS / "peft_models.py")
TOKENS = {"input_ids": torch.randint(1, 100, (2, 8))}
PIXELS = {"pixel_values": torch.randn(2, 3, 16, 16)}


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()


def lora_bert(task_type: TaskType | None) -> torch.nn.Module:
    torch.manual_seed(0)
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                        vocab_size=100, num_labels=3)
    return get_peft_model(BertForSequenceClassification(config),
                          LoraConfig(r=4, target_modules=["query", "value"], task_type=task_type))


def codes(result) -> set[str]:
    return {finding.code for finding in result.findings}


def test_rows_are_named_by_the_base_model_with_adapters_as_their_own_kind() -> None:
    result = audit(lora_bert(TaskType.SEQ_CLS), TOKENS)
    rows = {row.name: row for row in result.params}
    assert not any(name.startswith("base_model.") or ".base_layer." in name or ".default." in name for name in rows)
    query = "bert.encoder.layer.0.attention.self.query"
    assert rows[f"{query}.weight"].adapter is None and not rows[f"{query}.weight"].requires_grad
    assert rows[f"{query}.lora_A.weight"].adapter == "lora_A"
    assert rows[f"{query}.lora_B.weight"].module == f"{query}.lora_B"
    assert rows[f"{query}.lora_B.weight"].module_type == "lora_B"
    assert rows["classifier.weight"].adapter == "modules_to_save" and rows["classifier.weight"].grad == "nonzero"
    assert rows["classifier.original_module.weight"].adapter == "original_module"
    order = [layer.module for layer in result.layers]  # forward order, in the base model's names
    assert order[0] == "bert.embeddings.word_embeddings"
    assert order.index(f"{query}.lora_A") < order.index("classifier") < order.index("classifier.original_module")
    assert json.loads(json.dumps(result.to_dict()))["params"][0]["adapter"] is None
    assert "lora_A" in str(result)


def test_transfer_learning_assert_passes_with_the_task_type() -> None:
    result = assert_transfer_learning(lora_bert(TaskType.SEQ_CLS), TOKENS, trainable=["classifier", "lora_"])
    assert not result.problems


def test_transfer_learning_assert_names_the_frozen_head() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_transfer_learning(lora_bert(None), TOKENS, trainable=["classifier", "lora_"])
    message = str(failure.value)
    assert "expected to train, gets no gradient (requires_grad=False): 2 (classifier.weight, classifier.bias)" in (
        message)
    assert "TL110" in message


def test_an_adapter_kind_that_matches_nothing_is_reported() -> None:
    with pytest.raises(AssertionError, match=r"no parameter under \['ia3_'\]"):
        assert_transfer_learning(lora_bert(TaskType.SEQ_CLS), TOKENS, trainable=["classifier", "ia3_"])


def test_tl110_only_for_a_head_at_its_initial_values() -> None:
    assert "TL110" in codes(audit(lora_bert(None), TOKENS))
    trained = lora_bert(None)
    with torch.no_grad():
        trained.base_model.model.classifier.bias.fill_(0.1)
    assert "TL110" not in codes(audit(trained, TOKENS))


def test_reentrant_checkpointing_reports_the_starved_adapters() -> None:
    model = MODELS.image_classifier()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    model.train()
    result = audit(model, PIXELS)
    (tl112,) = [finding for finding in result.findings if finding.code == "TL112"]
    assert all(".lora_" in name for name in tl112.params) and len(tl112.params) == 8
    assert "Gradient checkpointing is on" in tl112.message
    rows = {row.name: row for row in result.params}
    assert rows["classifier.weight"].grad == "nonzero"


def test_the_audit_of_a_checkpointed_model_leaves_it_untouched() -> None:
    model = MODELS.image_classifier()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    model.enable_input_require_grads()
    model.train()
    model(**PIXELS, labels=torch.tensor([0, 1])).loss.backward()  # existing gradients must survive
    before = fingerprint(model)
    result = audit(model, PIXELS)
    assert_same(before, fingerprint(model))
    assert "TL112" not in codes(result)
    assert all(row.grad == "nonzero" for row in result.params if row.adapter == "lora_B")


def run_json(script: str, problem: str) -> tuple[int, dict]:
    result = run_tllint("run", "--format", "json", script, "--", "--problem", problem, cwd=SCRIPTS, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("script", ["peft_loop.py", "peft_trainer.py"])
@pytest.mark.parametrize(("problem", "code"), [("head", "TL110"), ("reentrant", "TL112")])
def test_tllint_run_on_peft_scripts(script: str, problem: str, code: str) -> None:
    exit_code, data = run_json(script, problem)
    assert exit_code == 1 and code in {finding["code"] for finding in data["findings"]}
    names = {row["name"] for row in data["params"]}
    assert "classifier.weight" in names and not any(name.startswith("base_model.") for name in names)


def test_tllint_run_on_a_correct_peft_loop_is_clean() -> None:
    exit_code, data = run_json("peft_loop.py", "none")
    assert exit_code == 0 and not data["findings"]
