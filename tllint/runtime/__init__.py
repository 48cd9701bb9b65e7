"""The runtime audit: one real forward and backward on the real model, to see what actually trains.

Importing this package imports torch; the static checker never does.
"""

from tllint.runtime.asserts import assert_fine_tuning, assert_trains, assert_transfer_learning
from tllint.runtime.audit import audit
from tllint.runtime.report import Audit, LayerRow, ParamRow, RuntimeFinding

__all__ = [
    "Audit",
    "LayerRow",
    "ParamRow",
    "RuntimeFinding",
    "assert_fine_tuning",
    "assert_trains",
    "assert_transfer_learning",
    "audit",
]
