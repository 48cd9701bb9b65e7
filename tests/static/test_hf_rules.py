"""The static HF/PEFT rules on variants of one script: which spelling fires, which stays quiet."""

from __future__ import annotations

import textwrap

import pytest

from tllint.config import Config
from tllint.static.engine import check_source

CODES = Config().enabled_codes()

TEXT = """
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("roberta-base", num_labels=3)
config = LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"]{extra})
model = get_peft_model(model, config)
"""

IMAGE = """
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForImageClassification

model = AutoModelForImageClassification.from_pretrained(
    "google/vit-base-patch16-224-in21k", num_labels=10, ignore_mismatched_sizes=True)
config = LoraConfig(r=16, target_modules=["query", "value"]{extra})
model = get_peft_model(model, config)
"""


def findings(source: str) -> set[tuple[int, str]]:
    outcome = check_source(textwrap.dedent(source).encode(), "script.py", CODES)
    assert not outcome.problems
    return {(finding.span.line, finding.code) for finding in outcome.findings}


@pytest.mark.parametrize(("extra", "expected"), [
    ("", {(7, "TL017")}),
    (", task_type=TaskType.SEQ_CLS", set()),
    (', task_type="SEQ_CLS"', set()),
    (', modules_to_save=["classifier"]', set()),
    (", task_type=TaskType.CAUSAL_LM", {(7, "TL017")}),
    (', modules_to_save=["pooler"]', {(7, "TL017")}),
    (', modules_to_save=["out_proj"]', set()),  # RoBERTa's logits layer `classifier.out_proj`, saved
])
def test_text_classifier(extra: str, expected: set[tuple[int, str]]) -> None:
    assert findings(TEXT.replace("{extra}", extra)) == expected


@pytest.mark.parametrize(("extra", "expected"), [
    ("", {(8, "TL017")}),
    (', modules_to_save=["classifier"]', set()),
    (", task_type='FEATURE_EXTRACTION'", {(8, "TL017")}),
])
def test_image_classifier(extra: str, expected: set[tuple[int, str]]) -> None:
    assert findings(IMAGE.replace("{extra}", extra)) == expected


def test_checkpointing_order_and_version() -> None:
    after = """
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained("google/vit-base-patch16-224-in21k", num_labels=10)
    model = get_peft_model(model, LoraConfig(r=16, target_modules=["query"], modules_to_save=["classifier"]))
    model.gradient_checkpointing_enable()
    """
    assert findings(after) == {(7, "TL020")}  # the default of transformers before 5 is reentrant
    pin = 'from transformers.utils import check_min_version\n    check_min_version("5.25.0")\n    '
    pinned = after.replace("from peft", pin + "from peft")
    assert findings(pinned) == set()
    explicit = pinned.replace("gradient_checkpointing_enable()",
                              'gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})')
    assert findings(explicit) == {(9, "TL020")}  # a vision model: no version hooks its inputs
    before = """
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained("google/vit-base-patch16-224-in21k", num_labels=10)
    model.gradient_checkpointing_enable()
    model = get_peft_model(model, LoraConfig(r=16, target_modules=["query"], modules_to_save=["classifier"]))
    """
    assert findings(before) == set()  # get_peft_model hooks the inputs of a model already checkpointed


def test_none_as_list_and_frozen_base_model_together() -> None:
    source = """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    names = ["query", "value"]
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
    model = get_peft_model(model, LoraConfig(r=8, target_modules=names, modules_to_save=names.append("classifier")))
    for param in model.base_model.parameters():
        param.requires_grad = False
    torch.optim.AdamW(model.parameters(), lr=1e-4)
    """
    assert findings(source) == {(8, "TL019"), (9, "TL018")}
