"""The one vocabulary of finding codes that the static checker and the runtime audit share.

Codes: TL000 input problems, TL0xx static rules, TL1xx runtime findings. The prose for each code
lives in its page under `rules/`; this table holds what the code needs to run and to be selected.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tllint.findings.model import Severity


class Half(str, enum.Enum):
    """Which half of tllint reports a code."""

    STATIC = "static"
    RUNTIME = "runtime"


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    half: Half
    opt_in: bool = False
    summary: str = ""


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO
S, R = Half.STATIC, Half.RUNTIME

_RULES = (
    RuleInfo("TL000", "parse-error", E, S, summary="the file cannot be read or parsed"),
    RuleInfo("TL001", "freeze-after-head-replacement", E, S,
             summary="a freeze after a layer was replaced also freezes the new layer"),
    RuleInfo("TL002", "module-requires-grad-attribute", E, S,
             summary="`module.requires_grad = ...` sets a plain attribute and freezes nothing"),
    RuleInfo("TL003", "requires-grad-comparison", E, S,
             summary="`p.requires_grad == False` as a statement does nothing"),
    RuleInfo("TL004", "requires-grad-misspelled", E, S,
             summary="a misspelt `requires_grad` attribute freezes nothing"),
    RuleInfo("TL005", "lazy-freeze", E, S,
             summary="a lazy `map`/generator that is never consumed freezes nothing"),
    RuleInfo("TL006", "head-not-in-architecture", E, S,
             summary="a layer assigned to an attribute the architecture never calls"),
    RuleInfo("TL007", "head-in-features-mismatch", E, S,
             summary="a new head's input size differs from the architecture's"),
    RuleInfo("TL008", "name-filter-matches-nothing", E, S,
             summary="a parameter-name filter matches no parameter of the architecture"),
    RuleInfo("TL009", "optimizer-has-nothing-to-train", E, S,
             summary="an optimizer built over a model that is entirely frozen"),
    RuleInfo("TL010", "optimizer-before-head-replacement", E, S,
             summary="a layer replaced after the optimizer was built never trains"),
    RuleInfo("TL011", "frozen-params-in-optimizer", W, S,
             summary="an optimizer over all parameters while some are frozen"),
    RuleInfo("TL012", "unfrozen-params-not-in-optimizer", E, S,
             summary="parameters unfrozen after the optimizer was built never update"),
    RuleInfo("TL013", "head-only-optimizer-without-freeze", W, S,
             summary="an optimizer over the head only while the backbone was never frozen"),
    RuleInfo("TL014", "freeze-undone", E, S,
             summary="a freeze undone by a later unconditional re-enable"),
    RuleInfo("TL015", "param-in-two-groups", E, S,
             summary="the same parameters in two param groups of one optimizer"),
    RuleInfo("TL016", "loss-detached-from-graph", E, S,
             summary="a loss rebuilt from a number or a detached tensor trains nothing"),
    RuleInfo("TL040", "deprecated-pretrained-argument", W, S,
             summary="torchvision `pretrained=` is deprecated; use `weights=`"),
    RuleInfo("TL041", "frozen-random-weights", E, S,
             summary="freezing a model built without pretrained weights freezes random features"),
    RuleInfo("TL101", "nothing-trains", E, R, summary="no parameter receives a gradient"),
    RuleInfo("TL102", "trainable-without-gradient", W, R,
             summary="trainable parameters that receive no gradient"),
    RuleInfo("TL103", "frozen-in-optimizer", W, R, summary="the optimizer holds frozen parameters"),
    RuleInfo("TL104", "trainable-not-in-optimizer", E, R,
             summary="parameters that receive gradients are in no param group"),
    RuleInfo("TL105", "frozen-batchnorm-updates", N, R,
             summary="a frozen normalization layer still updates its running statistics"),
    RuleInfo("TL107", "zero-learning-rate", W, R,
             summary="a param group with lr == 0 holds trainable parameters"),
    RuleInfo("TL108", "optimizer-holds-foreign-params", W, R,
             summary="the optimizer holds parameters that are not in the model"),
)

del E, W, N, S, R

CATALOG: dict[str, RuleInfo] = {rule.code: rule for rule in _RULES}
BY_NAME: dict[str, RuleInfo] = {rule.name: rule for rule in _RULES}


def rule_info(code: str) -> RuleInfo:
    """The catalog entry for `code`; a KeyError names the unknown code."""
    return CATALOG[code]
