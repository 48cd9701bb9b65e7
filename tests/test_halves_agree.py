"""The static checker predicts, on the training scripts `tllint run` executes in its tests, the mistakes the
runtime audit then observes (tests/runtime/test_cli_run.py): one vocabulary, two halves that agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tllint.config import Config
from tllint.static.engine import check_source

SCRIPTS = Path(__file__).resolve().parent.parent / "fixtures" / "runtime" / "scripts"

# script -> static findings (code, line); the runtime audit reports for the same scripts:
# replace_then_freeze TL101, optimizer_before_replacement TL104 + TL108, unfreeze_later (past the unfreeze) TL104.
EXPECTED = {
    "replace_then_freeze.py": [("TL001", 9), ("TL009", 11)],
    "optimizer_before_replacement.py": [("TL010", 9)],
    "unfreeze_later.py": [("TL012", 18)],
    "transfer_ok.py": [],
    "gan.py": [],
    "grad_accumulation.py": [],
    "amp_scaler.py": [],
    "wrapped_optimizer.py": [],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_static_findings_on_runtime_scripts(script: str) -> None:
    result = check_source((SCRIPTS / script).read_bytes(), script, Config().enabled_codes())
    assert not result.problems
    assert [(f.code, f.span.line) for f in result.findings] == EXPECTED[script]
