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
    assert result.stdout.startswith("partial: `segments`, `encoder` and `head` train\ntrace: fx")
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
        (("factories:transfer_learning", "--input-shape", "2,5"), "the audit failed: the model raised"),
        (("factories:exits",), "the factory exited with status 5"),
        (("factories:lazy_model",), "uninitialised lazy modules (`0`): run one forward first"),
        (("factories:frozen_head_mlp", "--select", "TL8"), "unknown rule code or prefix 'TL8'"),
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


def test_the_factory_traceback_is_shown() -> None:
    result = run_tllint("audit", "factories:raises", *SHAPE, cwd=RUNTIME_FIXTURES)
    assert result.returncode == 2
    assert "in _build_broken_model" in result.stderr and "RuntimeError: boom: no weights file" in result.stderr
    assert "the factory raised the error above" in result.stderr and "tllint/runtime" not in result.stderr


@pytest.mark.parametrize(("args", "codes", "exit_code"), [
    ((), {"TL101", "TL103"}, 1),
    (("--ignore", "TL101"), {"TL103"}, 1),
    (("--select", "TL101"), {"TL101"}, 1),
    (("--ignore", "TL101,TL103"), set(), 0),
    (("--select", "TL0"), {"TL101", "TL103"}, 1),  # static codes only: the runtime default stays
])
def test_select_and_ignore(args: tuple[str, ...], codes: set[str], exit_code: int,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(RUNTIME_FIXTURES)
    result = CliRunner().invoke(main, ["audit", "factories:frozen_head_mlp", "--format", "json", *args])
    assert result.exit_code == exit_code, result.output
    assert {f["code"] for f in json.loads(result.output)["findings"]} == codes


def test_runtime_codes_in_the_config_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tllint]\nignore = ["TL103"]\n', encoding="utf-8")
    (tmp_path / "factories.py").write_text((RUNTIME_FIXTURES / "factories.py").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(main, ["audit", "factories:frozen_head_mlp", "--format", "json"])
    assert {f["code"] for f in json.loads(result.output)["findings"]} == {"TL101"}
