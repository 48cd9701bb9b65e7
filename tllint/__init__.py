"""tllint: catch the silent mistakes of transfer learning and fine-tuning in PyTorch code."""

__version__ = "0.1.0"

# The project's public home: rule links in SARIF output and bug reports point here. There is no public repository
# yet; change this one constant when there is.
REPOSITORY_URL = "https://github.com/your-org/tllint"
