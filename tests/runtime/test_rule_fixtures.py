"""Every runtime fixture: the audit reports exactly the codes its `EXPECT` announces.

A fixture is a model-setup excerpt under `fixtures/runtime/TL1nn/`, written the way training scripts build
their model and optimizer. It defines `EXPECT` (the set of codes the audit must report, all of them, info
included) and `build()`, which returns a dict with `model`, `example_inputs` and optionally `optimizer` and
`loss_fn`. `bad_*` files trigger their folder's code; `good_*` files are the near-miss right versions and
must not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import RUNTIME_FIXTURES, load_module
from tllint.findings.registry import Half, rules
from tllint.runtime import audit

FIXTURES = sorted(RUNTIME_FIXTURES.glob("TL1*/*.py"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_fixtures_exist() -> None:
    assert FIXTURES, f"no fixtures under {RUNTIME_FIXTURES}"


@pytest.mark.parametrize("path", FIXTURES, ids=fixture_id)
def test_fixture_findings_match_expect(path: Path) -> None:
    module = load_module(path)
    expected = module.EXPECT
    assert isinstance(expected, set) and all(isinstance(code, str) for code in expected), (
        f"{fixture_id(path)}: EXPECT must be a set of codes")
    code, kind = path.parent.name, path.name.split("_", 1)[0]
    assert kind in {"bad", "good"}, f"{fixture_id(path)}: fixture names start with bad_ or good_"
    if kind == "bad":
        assert code in expected, f"{fixture_id(path)}: a bad fixture of {code} must expect {code}"
    else:
        assert code not in expected, f"{fixture_id(path)}: a good fixture of {code} must not expect {code}"
    setup = module.build()
    assert set(setup) <= {"model", "example_inputs", "optimizer", "loss_fn"}, sorted(setup)
    result = audit(setup["model"], setup["example_inputs"], optimizer=setup.get("optimizer"),
                   loss_fn=setup.get("loss_fn"))
    actual = {finding.code for finding in result.findings}
    assert actual == expected, (
        f"{fixture_id(path)}\n missing: {sorted(expected - actual)}\n unexpected: {sorted(actual - expected)}\n"
        + "\n".join(f"  {f.code} {f.message}" for f in result.findings) + f"\n  trace: {result.trace}")


@pytest.mark.parametrize("code", [registered.info.code for registered in rules(Half.RUNTIME)])
def test_every_runtime_rule_has_three_bad_and_three_good_fixtures(code: str) -> None:
    folder = RUNTIME_FIXTURES / code
    bad = sorted(folder.glob("bad_*.py"))
    good = sorted(folder.glob("good_*.py"))
    assert len(bad) >= 3, f"{code}: {len(bad)} bad fixtures in {folder}"
    assert len(good) >= 3, f"{code}: {len(good)} good fixtures in {folder}"
