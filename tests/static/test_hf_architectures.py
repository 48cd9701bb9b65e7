"""The shipped Hugging Face table: loader behaviour, checkpoint names, and agreement with the installed transformers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tllint.static import hf_architectures as hf
from tllint.static.hf_architectures import auto_class, checkpoint_family, hf_class

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "tools" / "gen_hf_architectures.py"
SAMPLE = (
    ("BertForSequenceClassification", "bert"),
    ("RobertaForSequenceClassification", "roberta"),
    ("DistilBertForSequenceClassification", "distilbert"),
    ("LlamaForSequenceClassification", "llama"),
    ("LlamaForCausalLM", "llama"),
    ("GPT2ForSequenceClassification", "gpt2"),
    ("T5ForSequenceClassification", "t5"),
    ("ViTForImageClassification", "vit"),
    ("WhisperForAudioClassification", "whisper"),
    ("Wav2Vec2ForCTC", "wav2vec2"),
)


def known(name: str) -> hf.HfClass:
    entry = hf_class(name)
    assert entry is not None, name
    return entry


def test_heads_of_the_common_task_classes() -> None:
    bert = known("BertForSequenceClassification")
    assert (bert.encoder, bert.heads, bert.logits, bert.new_heads) == ("bert", ("classifier",), ("classifier",),
                                                                        ("classifier",))
    assert bert.main_input == "input_ids" and bert.input_embeddings == "bert.embeddings.word_embeddings"
    assert "bert.embeddings.LayerNorm.weight" in bert.stem
    roberta = known("RobertaForSequenceClassification")
    assert roberta.logits == ("classifier.out_proj",) and roberta.logits_heads == ("classifier",)
    assert known("LlamaForSequenceClassification").heads == ("score",)
    assert known("LlamaForSequenceClassification").encoder == "model"
    assert known("GPT2ForSequenceClassification").encoder == "transformer"
    assert known("T5ForSequenceClassification").logits_heads == ("classification_head",)
    assert known("BertForQuestionAnswering").logits_heads == ("qa_outputs",)
    assert known("DistilBertForSequenceClassification").new_heads == ("pre_classifier", "classifier")


def test_pretrained_heads_are_not_new() -> None:
    """A causal LM's `lm_head` and BERT's MLM head are in the checkpoints the families publish."""
    assert known("LlamaForCausalLM").heads == ("lm_head",) and known("LlamaForCausalLM").new_heads == ()
    assert known("BertForMaskedLM").new_heads == ()
    assert known("LlamaForCausalLM").logits == ()  # sized by the vocabulary, not by num_labels
    assert known("BertModel").heads == () and known("BertModel").encoder is None


def test_vision_checkpoints_may_hold_a_head() -> None:
    """ViT checkpoints are published with ImageNet heads: a head is new only when labels are given."""
    assert known("ViTForImageClassification").checkpoints_hold_head
    assert not known("BertForSequenceClassification").checkpoints_hold_head
    assert known("ViTForImageClassification").main_input == "pixel_values"


def test_auto_classes() -> None:
    assert auto_class("AutoModelForSequenceClassification", "roberta") is known("RobertaForSequenceClassification")
    assert auto_class("AutoModelForImageClassification", "deit") is None  # two classes: ambiguous
    assert hf.is_auto_class("AutoModelForCausalLM") and not hf.is_auto_class("BertModel")
    assert {c.name for c in hf.auto_classes("AutoModelForSequenceClassification")} >= {
        "BertForSequenceClassification", "LlamaForSequenceClassification"}
    assert hf.auto_main_input("AutoModelForCausalLM") == "input_ids"
    assert hf.auto_main_input("AutoModel") is None  # text, vision and audio families


@pytest.mark.parametrize(("checkpoint", "family"), [
    ("bert-base-uncased", "bert"),
    ("google-bert/bert-base-multilingual-cased", "bert"),
    ("FacebookAI/roberta-large", "roberta"),
    ("distilroberta-base", "roberta"),
    ("microsoft/deberta-v3-base", "deberta-v2"),
    ("microsoft/deberta-base", "deberta"),
    ("distilbert-base-uncased", "distilbert"),
    ("google/electra-base-discriminator", "electra"),
    ("meta-llama/Llama-2-7b-hf", "llama"),
    ("meta-llama/Meta-Llama-3-8B", "llama"),
    ("mistralai/Mistral-7B-v0.1", "mistral"),
    ("Qwen/Qwen2.5-7B-Instruct", "qwen2"),
    ("Qwen/Qwen3-8B", "qwen3"),
    ("gpt2-medium", "gpt2"),
    ("google/flan-t5-base", "t5"),
    ("google/vit-base-patch16-224-in21k", "vit"),
    ("microsoft/swin-tiny-patch4-window7-224", "swin"),
    ("facebook/convnext-tiny-224", "convnext"),
    ("microsoft/beit-base-patch16-224-pt22k-ft22k", "beit"),
    ("facebook/deit-base-distilled-patch16-224", "deit"),
    ("openai/whisper-small.en", "whisper"),
    ("facebook/wav2vec2-base-960h", "wav2vec2"),
])
def test_official_checkpoint_names(checkpoint: str, family: str) -> None:
    assert checkpoint_family(checkpoint) == family


@pytest.mark.parametrize("checkpoint", [
    "microsoft/codebert-base",  # a RoBERTa whose name contains "bert"
    "vinai/bertweet-base",
    "xlm-mlm-en-2048",
    "meta-llama/Llama-3.2-11B-Vision",  # mllama, not llama
    "Qwen/Qwen2-VL-7B-Instruct",
    "Qwen/Qwen3-30B-A3B",  # qwen3_moe
    "facebook/wav2vec2-conformer-rel-pos-large",
    "google/vit-mae-base",
    "microsoft/swinv2-tiny-patch4-window8-256",
    "facebook/convnextv2-tiny-1k-224",
    "./outputs/checkpoint-500",
    "",
])
def test_other_names_get_no_family(checkpoint: str) -> None:
    assert checkpoint_family(checkpoint) is None


def test_encoder_and_head_attribute_sets() -> None:
    assert {"bert", "roberta", "deberta", "distilbert", "electra", "model", "transformer", "vit"} <= (
        hf.encoder_attributes())
    assert {"classifier", "score", "qa_outputs", "classification_head"} <= hf.head_attributes()
    assert "lm_head" not in hf.head_attributes()  # sized by the vocabulary


def test_loader_is_lazy_and_never_imports_transformers() -> None:
    code = textwrap.dedent(
        """
        import sys
        from tllint.static import hf_architectures as a
        assert a._table.cache_info().currsize == 0, "table read at import time"
        assert a.hf_class("BertForSequenceClassification").heads == ("classifier",)
        loaded = sorted({"torch", "transformers", "numpy"} & set(sys.modules))
        assert not loaded, loaded
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


# --- agreement with the installed transformers ------------------------------------------------------


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """tools/gen_hf_architectures.py imported as a module (it needs torch and transformers)."""
    pytest.importorskip("transformers", reason="transformers is not installed")
    spec = importlib.util.spec_from_file_location("gen_hf_architectures", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import transformers

    if transformers.__version__ != hf.table_version():
        pytest.skip(f"installed transformers {transformers.__version__} differs from the table's "
                    f"{hf.table_version()}; run `python tools/gen_hf_architectures.py` to regenerate")
    return module


@pytest.mark.parametrize(("name", "family"), SAMPLE)
def test_entry_matches_installed_transformers(generator: ModuleType, name: str, family: str) -> None:
    tables = {auto: generator.auto_names(auto) for auto in generator.AUTO_CLASSES}
    reference_name = generator.checkpoint_class(family, tables)
    reference = generator.build(reference_name, family)[0] if reference_name else None
    base = generator.build(tables["AutoModel"][family][0], family)[0]
    described = generator.describe(name, family, base, reference)
    entry = known(name)
    for field in ("family", "encoder", "children", "heads", "new_heads", "logits", "input_embeddings", "stem"):
        value = described[field]
        assert getattr(entry, field) == (tuple(value) if isinstance(value, list) else value), field
    assert entry.main_input == described["main_input"]


def test_serialization_is_deterministic(generator: ModuleType) -> None:
    table = {"header": {"format": 1}, "classes": {"B": {"x": [2, 1]}, "A": {}}}
    assert generator.serialize(table) == generator.serialize(dict(reversed(table.items())))
