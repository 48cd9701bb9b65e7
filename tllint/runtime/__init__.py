"""The runtime audit: one real forward and backward on the real model, to see what actually trains.

The public names below import torch when first used, not when this package is imported: the registry loads the
runtime rules (`tllint.runtime.rules`, which need no torch) in a static-only install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tllint.runtime.asserts import assert_fine_tuning, assert_trains, assert_transfer_learning
    from tllint.runtime.auditor import audit
    from tllint.runtime.results import Audit, AuditError, LayerRow, ParamRow, RuntimeFinding

_PUBLIC = {
    "Audit": "tllint.runtime.results",
    "AuditError": "tllint.runtime.results",
    "LayerRow": "tllint.runtime.results",
    "ParamRow": "tllint.runtime.results",
    "RuntimeFinding": "tllint.runtime.results",
    "assert_fine_tuning": "tllint.runtime.asserts",
    "assert_trains": "tllint.runtime.asserts",
    "assert_transfer_learning": "tllint.runtime.asserts",
    "audit": "tllint.runtime.auditor",
}

__all__ = ["Audit", "AuditError", "LayerRow", "ParamRow", "RuntimeFinding", "assert_fine_tuning", "assert_trains",
           "assert_transfer_learning", "audit"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'tllint.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
