"""tllint: catch the silent mistakes of transfer learning and fine-tuning in PyTorch code."""

__version__ = "0.1.0"
