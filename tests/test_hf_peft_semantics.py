"""What transformers and PEFT do, as TL006 and TL017-TL020 assume it, checked on the installed libraries.

Each test pins one fact a rule encodes (the rule's page cites it), on tiny models built from configs: when an
upgrade changes a fact, the test that fails names the rule to revisit. Verified with transformers 5.25 and
peft 0.21.2; facts that differ across transformers versions are asserted only where the installed version is
the one the rule page describes.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from packaging.version import Version  # noqa: E402
from peft import LoraConfig, LoraModel, PeftModel, TaskType, get_peft_model  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    ViTConfig,
    ViTForImageClassification,
)

TEXT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 37,
        "vocab_size": 100, "num_labels": 3}
VISION = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 37,
          "image_size": 16, "patch_size": 8, "num_labels": 3}
# From this transformers version on (verified), checkpointing defaults to use_reentrant=False and
# gradient_checkpointing_enable() hooks the inputs of text models itself.
NON_REENTRANT_SINCE = Version("5.25")


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()


def bert(cls: type = BertForSequenceClassification) -> torch.nn.Module:
    torch.manual_seed(0)
    return cls(BertConfig(**TEXT))


def vit() -> torch.nn.Module:
    torch.manual_seed(0)
    return ViTForImageClassification(ViTConfig(**VISION))


def vit_attention() -> list[str]:
    """ViT's attention projections are `query`/`value` in transformers 4 and `q_proj`/`v_proj` in 5."""
    names = {name.rpartition(".")[2] for name, _ in vit().named_modules()}
    return ["q_proj", "v_proj"] if "q_proj" in names else ["query", "value"]


def trained_heads(model: torch.nn.Module, heads: tuple[str, ...] = ("classifier", "qa_outputs")) -> set[str]:
    """The heads with a trainable, non-adapter parameter."""
    return {head for name, param in model.named_parameters() if param.requires_grad and "lora_" not in name
            for head in heads if f".{head}." in f".{name}"}


# --- TL017: which wraps train the head -----------------------------------------------------------------


@pytest.mark.parametrize(("cls", "task", "saved"), [
    (BertForSequenceClassification, None, set()),
    (BertForSequenceClassification, TaskType.SEQ_CLS, {"classifier"}),
    (BertForSequenceClassification, TaskType.FEATURE_EXTRACTION, set()),
    (BertForTokenClassification, TaskType.TOKEN_CLS, {"classifier"}),
    (BertForQuestionAnswering, TaskType.QUESTION_ANS, {"qa_outputs"}),
    (BertForQuestionAnswering, TaskType.SEQ_CLS, set()),
])
def test_task_types_save_these_heads(cls: type, task: TaskType | None, saved: set[str]) -> None:
    model = get_peft_model(bert(cls), LoraConfig(r=4, target_modules=["query", "value"], task_type=task))
    assert trained_heads(model) == saved


def test_peft_model_classes_built_directly_ignore_the_task_type() -> None:
    config = LoraConfig(r=4, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS)
    assert trained_heads(PeftModel(bert(), config)) == set()
    config = LoraConfig(r=4, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS)
    assert trained_heads(LoraModel(bert(), config, "default")) == set()


@pytest.mark.parametrize(("entry", "saved"), [("classifier", True), ("fier", True), ("model.classifier", False),
                                              ("bert.classifier", False), ("classifier.weight", False)])
def test_modules_to_save_matches_by_string_suffix(entry: str, saved: bool) -> None:
    model = get_peft_model(bert(), LoraConfig(r=4, target_modules=["query", "value"], modules_to_save=[entry]))
    assert bool(trained_heads(model)) is saved


def test_no_task_type_saves_a_vision_head() -> None:
    targets = vit_attention()
    assert trained_heads(get_peft_model(vit(), LoraConfig(r=4, target_modules=targets))) == set()
    saved = get_peft_model(vit(), LoraConfig(r=4, target_modules=targets, modules_to_save=["classifier"]))
    assert trained_heads(saved) == {"classifier"}


def test_a_lora_target_on_the_head_or_all_linear_trains_it() -> None:
    targeted = get_peft_model(bert(), LoraConfig(r=4, target_modules=["query", "value", "classifier"]))
    assert any("classifier.lora_" in name and param.requires_grad for name, param in targeted.named_parameters())
    every = get_peft_model(bert(), LoraConfig(r=4, target_modules="all-linear"))
    assert any("classifier.lora_" in name for name, _ in every.named_parameters())
    seq_cls = get_peft_model(bert(), LoraConfig(r=4, target_modules="all-linear", task_type=TaskType.SEQ_CLS))
    assert not any("classifier.lora_" in name for name, _ in seq_cls.named_parameters())  # saved instead
    assert trained_heads(seq_cls) == {"classifier"}


# --- TL019 ------------------------------------------------------------------------------------------------


def test_append_passes_none() -> None:
    names = ["query", "value"]
    config = LoraConfig(r=4, target_modules=names, modules_to_save=names.append("classifier"))
    assert config.modules_to_save is None
    assert "classifier" in config.target_modules  # the list changed: the head became a LoRA target


# --- TL018 / TL006 --------------------------------------------------------------------------------------


def test_base_model_means_the_encoder_or_everything() -> None:
    plain = bert()
    assert plain.base_model is plain.bert
    for param in plain.base_model.parameters():
        param.requires_grad = False
    assert {n for n, p in plain.named_parameters() if p.requires_grad} == {"classifier.weight", "classifier.bias"}
    wrapped = get_peft_model(bert(), LoraConfig(r=4, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS))
    assert type(wrapped.base_model).__name__ == "LoraModel"
    for param in wrapped.base_model.parameters():
        param.requires_grad = False
    assert not any(param.requires_grad for param in wrapped.parameters())


def test_the_adapters_live_inside_the_wrapped_model() -> None:
    model = bert()
    wrapped = get_peft_model(model, LoraConfig(r=4, target_modules=["query", "value"]))
    assert wrapped.base_model.model is model
    assert any("lora_A" in name for name, _ in model.named_parameters())


def test_wrong_encoder_attribute_raises() -> None:
    with pytest.raises(AttributeError):
        bert().roberta  # noqa: B018


# --- TL020: reentrant checkpointing -----------------------------------------------------------------------


def lora_gradients(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> tuple[int, int]:
    """(LoRA B matrices with a non-zero gradient, all of them) after one backward."""
    model.train()
    model(**inputs, labels=torch.tensor([0, 1])).loss.backward()
    grads = [p.grad is not None and bool(p.grad.ne(0).any()) for n, p in model.named_parameters() if "lora_B" in n]
    return sum(grads), len(grads)


PIXELS = {"pixel_values": torch.randn(2, 3, 16, 16)}
TOKENS = {"input_ids": torch.randint(1, 100, (2, 8))}


def test_reentrant_checkpointing_after_the_wrap_starves_the_adapters() -> None:
    model = get_peft_model(vit(), LoraConfig(r=4, target_modules=vit_attention(), modules_to_save=["classifier"]))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    with_grad, total = lora_gradients(model, PIXELS)
    assert total and with_grad == 0


def test_checkpointing_before_the_wrap_is_hooked_by_peft() -> None:
    model = vit()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    model = get_peft_model(model, LoraConfig(r=4, target_modules=vit_attention(), modules_to_save=["classifier"]))
    with_grad, total = lora_gradients(model, PIXELS)
    assert with_grad == total > 0


@pytest.mark.parametrize("fix", ["non-reentrant", "input hook"])
def test_the_fixes(fix: str) -> None:
    model = get_peft_model(vit(), LoraConfig(r=4, target_modules=vit_attention(), modules_to_save=["classifier"]))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": fix == "input hook"})
    if fix == "input hook":
        model.enable_input_require_grads()
    with_grad, total = lora_gradients(model, PIXELS)
    assert with_grad == total > 0


@pytest.mark.skipif(Version(transformers.__version__) < NON_REENTRANT_SINCE,
                    reason="the defaults TL020 relies on from transformers 5.25 on")
def test_modern_transformers_defaults() -> None:
    """transformers >= 5.25: no kwargs means non-reentrant, and text models hook their inputs even when reentrant.
    Removing the hook shows what older versions do with a text model."""
    model = get_peft_model(vit(), LoraConfig(r=4, target_modules=vit_attention(), modules_to_save=["classifier"]))
    model.gradient_checkpointing_enable()
    assert lora_gradients(model, PIXELS)[0] > 0
    text = get_peft_model(bert(), LoraConfig(r=4, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS))
    text.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    assert lora_gradients(text, TOKENS)[0] > 0
    old = get_peft_model(bert(), LoraConfig(r=4, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS))
    old.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    old.base_model.model.disable_input_require_grads()
    assert lora_gradients(old, TOKENS)[0] == 0


def test_frozen_embeddings_starve_a_fully_trained_encoder() -> None:
    model = bert()
    model.bert.embeddings.requires_grad_(False)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    model.disable_input_require_grads()
    model.train()
    model(**TOKENS, labels=torch.tensor([0, 1])).loss.backward()
    assert not any(p.grad is not None for n, p in model.named_parameters() if ".encoder." in f".{n}")
    assert model.classifier.weight.grad is not None
