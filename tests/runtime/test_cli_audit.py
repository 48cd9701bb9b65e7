"""`tllint audit MODULE:FACTORY` as a subprocess, from the fixtures directory."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.helpers import REPO, RUNTIME_FIXTURES, run_tllint
from tllint.cli import main

SHAPE = ("--input-shape", "2,3,32,32")


def audit_json(factory: str, *args: str) -> tuple[int, dict]:
    result = run_tllint("audit", f"factories:{factory}", *args, "--format", "json", cwd=RUNTIME_FIXTURES)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def codes(data: dict) -> set[str]:
    return {finding["code"] for finding in data["findings"]}


def test_clean_transfer_learning_exits_0_with_info_only() -> None:
    code, data = audit_json("transfer_learning", *SHAPE)
    assert code == 0 and codes(data) == {"TL105"}
    assert [row["name"] for row in data["params"] if row["grad"] != "none"] == ["fc.weight", "fc.bias"]


def test_dict_factory_with_optimizer_and_its_own_inputs() -> None:
    code, data = audit_json("optimizer_before_replacement")
    assert code == 1 and {"TL104", "TL108"} <= codes(data)
    assert data["trace"] == "fx"


def test_embedding_model_with_two_long_inputs_as_text() -> None:
    result = run_tllint("audit", "factories:token_classifier", "--input-shape", "2,7", "--input-shape", "2,7",
                    "--input-dtype", "long", cwd=RUNTIME_FIXTURES)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("trace: fx")
    assert "trainable 7 · receive gradients 7" in result.stdout  # all but the frozen token table


def test_usage_error_exits_2() -> None:
    result = run_tllint("audit", "factories:transfer_learning", cwd=RUNTIME_FIXTURES)
    assert result.returncode == 2 and "no example inputs" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("factories:nope", *SHAPE), "cannot import"),
        (("factories", *SHAPE), "expected MODULE:FACTORY"),
        (("factories:not_a_model", *SHAPE), "the factory returned str"),
        (("factories:transfer_learning", "--input-shape", "2,x"), "bad --input-shape"),
        (("factories:transfer_learning", "--input-shape", "2,5"), "the audit failed"),
    ],
)
def test_usage_errors_in_process(
    args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same exit-2 path as above, in process: a subprocess per variant would only re-import torch."""
    monkeypatch.chdir(RUNTIME_FIXTURES)
    result = CliRunner().invoke(main, ["audit", *args])
    assert result.exit_code == 2 and message in result.output


def test_check_does_not_import_torch() -> None:
    code = ("import sys; from click.testing import CliRunner; from tllint.cli import main; "
            "CliRunner().invoke(main, ['check', '--help']); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
