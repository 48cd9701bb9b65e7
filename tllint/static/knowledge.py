"""What tllint knows about library names without importing the libraries: which calls build models,
layers and optimizers, which layers have no parameters, and which attribute names are modules."""

from __future__ import annotations

import re

MODEL_NAMESPACES = ("torchvision.models.", "timm.models.", "transformers.", "peft.", "diffusers.")
OPTIMIZER_NAMESPACES = (
    "torch.optim.",
    "transformers.",
    "bitsandbytes.optim.",
    "timm.optim.",
    "apex.optimizers.",
    "torch_optimizer.",
    "lion_pytorch.",
    "deepspeed.ops.",
    "torch.distributed.optim.",
)
NOT_OPTIMIZERS = frozenset({"Optimizer", "lr_scheduler", "swa_utils", "SWALR", "AveragedModel"})
TIMM_OPTIMIZER_FACTORIES = frozenset({"timm.optim.create_optimizer_v2", "timm.optim.create_optimizer"})

# Calls that return the module they are given, so the result is the same model.
SAME_MODEL_WRAPPERS = frozenset(
    {
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
        "torch.distributed.fsdp.FullyShardedDataParallel",
        "torch.compile",
        "torch.jit.script",
        "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
    }
)
SAME_MODEL_WRAPPER_NAMES = frozenset({"DataParallel", "DistributedDataParallel", "DDP", "FSDP"})
# Module methods that return the module itself.
SELF_RETURNING_METHODS = frozenset(
    {"to", "cuda", "cpu", "half", "float", "double", "bfloat16", "train", "eval", "requires_grad_",
     "type", "share_memory", "to_empty", "xpu", "mps"}
)
# Methods that only tensors-or-modules accept and that tell the receiver is a module.
MODULE_ONLY_METHODS = frozenset(
    {"parameters", "named_parameters", "children", "named_children", "modules", "named_modules",
     "state_dict", "load_state_dict", "eval", "train", "apply", "buffers", "named_buffers", "zero_grad",
     "add_module", "register_module", "get_submodule"}
)
# Module methods through which a model hands work to code tllint cannot see.
NO_EFFECT_METHODS = SELF_RETURNING_METHODS | frozenset(
    {"parameters", "named_parameters", "children", "named_children", "modules", "named_modules",
     "state_dict", "load_state_dict", "buffers", "named_buffers", "zero_grad", "forward", "__call__",
     "register_forward_hook", "register_buffer", "extra_repr", "num_parameters", "get_submodule",
     "save_pretrained", "print_trainable_parameters", "generate"}
)

PARAMLESS_LAYERS = frozenset(
    {
        "Identity", "ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmax2d",
        "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Flatten", "Unflatten",
        "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
        "AdaptiveMaxPool3d", "Upsample", "PixelShuffle", "Hardswish", "Hardsigmoid", "LeakyReLU", "ELU",
        "Mish", "Softplus", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "Tanhshrink",
        "Hardtanh", "SELU", "CELU", "GLU", "Softsign", "Threshold",
    }
)
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
# Capitalised names in torch.nn that are not modules: calling them builds a tensor, not a layer.
NOT_MODULES = frozenset({"Parameter", "UninitializedParameter", "UninitializedBuffer", "Buffer"})
# Layers whose parameters are exactly `weight` and `bias`.
LEAF_LAYERS = frozenset(
    {"Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "BatchNorm1d",
     "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "Bilinear"}
)

MODULE_BASES = frozenset(
    {"torch.nn.Module", "torch.nn.modules.module.Module", "pytorch_lightning.LightningModule",
     "lightning.LightningModule", "lightning.pytorch.LightningModule", "transformers.PreTrainedModel",
     "torch.nn.Sequential"}
)

# Libraries whose classes named `...Module`, `...Model`, `...Encoder`, `...Embedder` are `nn.Module` subclasses.
MODULE_LIBRARIES = ("torch.", "torchvision.", "timm.", "transformers.", "diffusers.", "pytorch_lightning.",
                    "lightning.", "peft.", "open_clip.", "sentence_transformers.")
MODULE_CLASS_SUFFIXES = ("Module", "Model", "Encoder", "Decoder", "Embedder")


def is_module_base(qualname: str) -> bool:
    """A base class whose subclasses are modules: `nn.Module`, any `torch.nn` layer (`nn.Linear`), a model or
    encoder class of a deep-learning library (`transformers.BertPreTrainedModel`)."""
    last = qualname.rsplit(".", 1)[-1]
    if qualname in MODULE_BASES or qualname.endswith(("nn.Module", "LightningModule", "PreTrainedModel")):
        return True
    if qualname.startswith("torch.nn.") and qualname.count(".") == 2 and last[:1].isupper():
        return last not in NOT_MODULES
    return qualname.startswith(MODULE_LIBRARIES) and last.endswith(MODULE_CLASS_SUFFIXES)


NON_MODEL_PRETRAINED = re.compile(r"(Tokenizer|Processor|Config|FeatureExtractor|ImageProcessor)", re.I)

# Attribute names that are almost always sub-modules, and names that are almost always parameters.
_MODULE_WORD = re.compile(
    r"^(backbone|encoder|decoder|features|feature_extractor|extractor|classifier|fc|head|heads|neck|stem|"
    r"body|trunk|pooler|embeddings|transformer|blocks?|stages?|layers?\d*|conv\d*|bn\d*|fc\d+|linear\d*|"
    r"base_model|bert|roberta|distilbert|deberta|albert|electra|gpt2|vit|swin|lm_head|score|"
    r"vision_model|text_model|visual|model|module|net|network|cnn|rnn|lstm|gru|mlp|projector|"
    r"projection|proj_head|teacher|student|generator|discriminator|unet|vae|text_encoder|"
    r"image_encoder|avgpool|pool|norm\d*|downsample|layer\d+)$"
)
_PARAM_WORD = re.compile(
    r"(token|pos_embed|positional_embedding|class_embedding|logit_scale|temperature|^weight$|^bias$|"
    r"^alpha$|^beta$|^gamma$|^scale$|prompt|running_mean|running_var|embed_pos|query_embed$)"
)


def looks_like_module_name(attr: str) -> bool:
    """An attribute name that holds a sub-module in practice (`backbone`, `layer4`, `bert`)."""
    return bool(_MODULE_WORD.match(attr)) and not _PARAM_WORD.search(attr)


def is_optimizer_class(qualname: str) -> bool:
    last = qualname.rsplit(".", 1)[-1]
    return (
        qualname.startswith(OPTIMIZER_NAMESPACES)
        and last[:1].isupper()
        and last not in NOT_OPTIMIZERS
        and "Scheduler" not in last
        and "LR" not in last
        and not qualname.startswith("torch.optim.lr_scheduler.")
    )
