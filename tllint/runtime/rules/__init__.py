"""Runtime rules, one module each: a `@rule` check over the `Evidence` of one audit, with its page as the module
docstring. They yield `Violation`s naming the parameters concerned; `tllint.runtime.observation` turns them into
the audit's findings. Nothing here imports torch.
"""

from __future__ import annotations

from tllint.findings.model import Severity
from tllint.findings.registry import Violation, rule

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

__all__ = ["ERROR", "INFO", "WARNING", "Violation", "rule"]
