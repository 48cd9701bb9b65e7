"""Every runtime fixture: the audit reports exactly the codes its `EXPECT` announces.

A fixture under `fixtures/runtime/TL1nn/` defines `EXPECT` (the set of codes the audit must report, all of
them, info included) and is one of two kinds. A model-setup excerpt, written the way training scripts build
their model and optimizer, defines `build()`, which returns a dict with `model`, `example_inputs` and
optionally `optimizer` and `loss_fn`: it is audited with `audit()`. A training script (no `build()`), for the
codes only `tllint run` can see (optimizers that never step, DDP), is run with `tllint run`. `bad_*` files
trigger their folder's code; `good_*` files are the near-miss right versions and must not.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.helpers import RUNTIME_FIXTURES, load_module, run_tllint
from tllint.findings.registry import Half, rules
from tllint.runtime import audit

FIXTURES = sorted(RUNTIME_FIXTURES.glob("TL1*/*.py"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_fixtures_exist() -> None:
    assert FIXTURES, f"no fixtures under {RUNTIME_FIXTURES}"


def declared(path: Path) -> tuple[set[str], bool]:
    """The fixture's `EXPECT`, and whether it is a model-setup excerpt (defines `build()`), read without
    running it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    expect = [node.value for node in tree.body
              if (isinstance(node, ast.Assign) and any(_is_expect(target) for target in node.targets))
              or (isinstance(node, ast.AnnAssign) and _is_expect(node.target) and node.value is not None)]
    assert len(expect) == 1, f"{fixture_id(path)}: define EXPECT once at module level"
    expected = ast.literal_eval(expect[0]) if not isinstance(expect[0], ast.Call) else set()
    assert isinstance(expected, set) and all(isinstance(code, str) for code in expected), (
        f"{fixture_id(path)}: EXPECT must be a set of codes")
    return expected, any(isinstance(node, ast.FunctionDef) and node.name == "build" for node in tree.body)


def _is_expect(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "EXPECT"


@pytest.mark.parametrize("path", FIXTURES, ids=fixture_id)
def test_fixture_findings_match_expect(path: Path) -> None:
    expected, is_setup = declared(path)
    code, kind = path.parent.name, path.name.split("_", 1)[0]
    assert kind in {"bad", "good"}, f"{fixture_id(path)}: fixture names start with bad_ or good_"
    if kind == "bad":
        assert code in expected, f"{fixture_id(path)}: a bad fixture of {code} must expect {code}"
    else:
        assert code not in expected, f"{fixture_id(path)}: a good fixture of {code} must not expect {code}"
    if is_setup:
        setup = load_module(path).build()
        assert set(setup) <= {"model", "example_inputs", "optimizer", "loss_fn"}, sorted(setup)
        result = audit(setup["model"], setup["example_inputs"], optimizer=setup.get("optimizer"),
                       loss_fn=setup.get("loss_fn"))
        findings = [(f.code, f.message) for f in result.findings]
        where = f"trace: {result.trace}"
    else:
        ran = run_tllint("run", "--format", "json", path.name, cwd=path.parent)
        assert ran.returncode in (0, 1), f"{fixture_id(path)}: exit {ran.returncode}\n{ran.stderr}"
        data = json.loads(ran.stdout)
        findings = [(f["code"], f["message"]) for f in data["findings"]]
        where = f"tllint run: {data['gradients']}"
    actual = {finding_code for finding_code, _ in findings}
    assert actual == expected, (
        f"{fixture_id(path)}\n missing: {sorted(expected - actual)}\n unexpected: {sorted(actual - expected)}\n"
        + "\n".join(f"  {c} {message}" for c, message in findings) + f"\n  {where}")


@pytest.mark.parametrize("code", [registered.info.code for registered in rules(Half.RUNTIME)])
def test_every_runtime_rule_has_three_bad_and_three_good_fixtures(code: str) -> None:
    folder = RUNTIME_FIXTURES / code
    bad = sorted(folder.glob("bad_*.py"))
    good = sorted(folder.glob("good_*.py"))
    assert len(bad) >= 3, f"{code}: {len(bad)} bad fixtures in {folder}"
    assert len(good) >= 3, f"{code}: {len(good)} good fixtures in {folder}"
