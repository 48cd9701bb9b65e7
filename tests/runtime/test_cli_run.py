"""`tllint run` on fixture training scripts (tiny models, synthetic data, CPU), as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, RUNTIME_FIXTURES, run_tllint

SCRIPTS = RUNTIME_FIXTURES / "scripts"


def run_json(*args: str) -> tuple[int, dict, str]:
    result = run_tllint("run", "--format", "json", *args, cwd=SCRIPTS)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def codes(data: dict) -> set[str]:
    return {finding["code"] for finding in data["findings"]}


def test_replace_then_freeze_is_tl101_and_the_script_stops() -> None:
    code, data, stderr = run_json("replace_then_freeze.py")
    assert code == 1 and "TL101" in codes(data)
    assert "finished training" not in stderr
    assert data["gradients"] == "the script's own backward at optimizer step 1"


def test_correct_transfer_learning_is_clean() -> None:
    code, data, _ = run_json("transfer_ok.py")
    assert code == 0 and codes(data) == {"TL105"}
    assert {row["module"] for row in data["params"] if row["grad"] == "nonzero"} == {"fc"}


def test_script_arguments_reach_the_script() -> None:
    code, data, _ = run_json("transfer_ok.py", "--", "--lr", "0")
    assert code == 1 and "TL107" in codes(data)


def test_optimizer_before_replacement_is_tl104() -> None:
    code, data, _ = run_json("optimizer_before_replacement.py")
    assert code == 1 and {"TL104", "TL108"} <= codes(data)


@pytest.mark.parametrize(("step", "expected"), [(1, set()), (9, {"TL104"})])
def test_unfreezing_later_without_add_param_group(step: int, expected: set[str]) -> None:
    code, data, _ = run_json("--step", str(step), "unfreeze_later.py")
    assert codes(data) - {"TL105"} == expected
    assert code == (1 if expected else 0)


@pytest.mark.parametrize(
    ("script", "trained"),
    [
        ("amp_scaler.py", {"fc"}),
        ("grad_accumulation.py", {"net.features.0", "net.features.1", "net.features.3", "net.features.4",
                                  "net.fc", "extra"}),  # `extra` only runs on odd micro-batches
        ("wrapped_optimizer.py", {"features.0", "features.1", "features.3", "features.4", "fc"}),
    ],
)
def test_loops_that_step_differently_are_clean(script: str, trained: set[str]) -> None:
    code, data, _ = run_json(script)
    assert code == 0 and codes(data) <= {"TL105"}
    assert {row["module"] for row in data["params"] if row["grad"] == "nonzero"} == trained


def test_two_optimizers_each_model_judged_at_its_own_step() -> None:
    code, data, _ = run_json("gan.py")
    assert code == 0 and not data["findings"]
    groups = {row["name"].split(".")[0]: row["group"] for row in data["params"]}
    assert groups == {"Generator": "0:0", "Discriminator": "1:0"}  # numbered in the order they were built


def test_module_mode_and_text_output() -> None:
    result = run_tllint("run", "-m", "trainpkg.train", "--", "0.5", cwd=SCRIPTS)
    assert result.returncode == 0, result.stderr
    assert "trace: hooks" in result.stdout and "0.5" in result.stdout


def test_continue_lets_the_script_finish() -> None:
    result = run_tllint("run", "--continue", "replace_then_freeze.py", cwd=SCRIPTS)
    assert result.returncode == 1
    assert result.stdout.index("TL101") < result.stdout.index("finished training")


def test_never_reaching_a_step_exits_2() -> None:
    result = run_tllint("run", "never_steps.py", cwd=SCRIPTS)
    assert result.returncode == 2
    assert "without reaching optimizer step 1" in result.stderr


def test_a_crashing_script_shows_its_traceback_and_exits_2() -> None:
    result = run_tllint("run", "raises.py", cwd=SCRIPTS)
    assert result.returncode == 2
    assert 'File "raises.py", line 11' in result.stderr and "mat1 and mat2" in result.stderr
    assert "runner.py" not in result.stderr.split("Traceback")[1].splitlines()[1]


def test_missing_script_is_a_usage_error() -> None:
    result = run_tllint("run", "no_such_script.py", cwd=SCRIPTS)
    assert result.returncode == 2 and "no such script" in result.stderr



# Issue 14: `tllint run` ends the script when it said it would.

@pytest.mark.parametrize("script", ["bare_except.py"])
def test_a_script_that_swallows_every_exception_still_stops_at_the_report(script: str) -> None:
    result = run_tllint("run", script, cwd=SCRIPTS)
    assert result.returncode == 1 and "TL101" in result.stdout
    assert "rest of the training" not in result.stdout + result.stderr


def test_a_thread_left_behind_does_not_keep_the_process_alive() -> None:
    result = run_tllint("run", "leaves_a_thread.py", cwd=SCRIPTS, timeout=60)
    assert result.returncode == 0 and "finished training" not in result.stdout


@pytest.mark.parametrize("how", ["os", "sys"])
def test_exiting_before_the_first_step_is_exit_2(how: str) -> None:
    result = run_tllint("run", "exits_early.py", "--", how, cwd=SCRIPTS)
    assert result.returncode == 2
    assert "the script exited before its first optimizer step" in result.stderr


def test_with_continue_the_report_code_wins_over_the_scripts_exit_0() -> None:
    result = run_tllint("run", "--continue", "bare_except.py", cwd=SCRIPTS)
    assert result.returncode == 1 and "rest of the training" in result.stdout


# Issue 16: closures, several optimizers, crashes.

def test_lbfgs_closure_is_audited_after_its_backward() -> None:
    code, data, _ = run_json("lbfgs.py")
    assert code == 0 and codes(data) == {"TL105"}
    assert {row["module"] for row in data["params"] if row["grad"] == "nonzero"} == {"fc"}
    assert data["verdict"] == "transfer learning: only `fc` trains"


@pytest.mark.parametrize(("args", "expected", "exit_code"), [((), {"TL101", "TL103", "TL105"}, 1),
                                                            (("--", "right"), {"TL103", "TL105"}, 1)])
def test_a_closure_passed_by_keyword(args: tuple[str, ...], expected: set[str], exit_code: int) -> None:
    code, data, _ = run_json("closure_sgd.py", *args)
    assert code == exit_code and codes(data) == expected


def test_an_idle_second_optimizer_is_reported_at_step_2_with_tl109() -> None:
    code, data, _ = run_json("--step", "2", "idle_optimizer.py")
    assert code == 1 and codes(data) == {"TL109"}
    assert data["gradients"] == "the script's own backward at optimizer step 2"
    (tl109,) = data["findings"]
    assert "built at idle_optimizer.py:9 never stepped" in tl109["message"]
    assert tl109["params"] == ["fc.weight", "fc.bias"]


@pytest.mark.parametrize(("args", "error"), [
    ((), "element 0 of tensors does not require grad"),
    (("--", "filter"), "optimizer got an empty parameter list"),
])
def test_a_crash_before_the_first_step_is_explained(args: tuple[str, ...], error: str) -> None:
    result = run_tllint("run", "seed_crash.py", *args, cwd=SCRIPTS)
    assert result.returncode == 1
    assert "TL101" in result.stdout
    explanation, _, traceback = result.stderr.partition("Traceback (most recent call last):")
    assert "TL001 This freeze also freezes `model.fc`, which was replaced on line 11" in explanation
    assert error in traceback and 'File "seed_crash.py"' in traceback and "tllint" not in traceback.split(
        "tllint run:")[0]


def test_a_crash_nothing_explains_stays_exit_2() -> None:
    result = run_tllint("run", "raises.py", cwd=SCRIPTS)
    assert result.returncode == 2 and "nothing tllint found explains it" in result.stderr


def test_select_and_ignore_on_run() -> None:
    code, data, _ = run_json("--ignore", "TL101,TL103", "replace_then_freeze.py")
    assert code == 0 and codes(data) == {"TL105"}


def torchrun(*args: str) -> subprocess.CompletedProcess[str]:
    """`torchrun --nproc_per_node 2 -m tllint run ARGS` (gloo on CPU), this checkout first on the path."""
    environ = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "OMP_NUM_THREADS": "1"}
    # --standalone: torchrun binds a free port itself, so no other process can take it between pick and bind.
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "tllint", "run", *args],
                          cwd=SCRIPTS, env=environ, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("args", "exit_code", "codes"), [((), 0, set()), (("--", "late"), 1, {"TL111"})])
def test_ddp_under_torchrun_audits_every_rank_prints_once_and_stops_them(
    args: tuple[str, ...], exit_code: int, codes: set[str]
) -> None:
    result = torchrun("--format", "json", "ddp_train.py", *args)
    assert result.returncode == exit_code, result.stderr[-3000:]
    data = json.loads(result.stdout)  # one report: rank 0's
    assert {f["code"] for f in data["findings"]} == codes
    assert data["wrappers"] == ["DistributedDataParallel"]
    assert "finished training" not in result.stdout + result.stderr


def test_run_in_process_unwinds_the_script_and_returns_the_code(capsys) -> None:
    from tllint.runtime.runner import run

    reports = []
    real_exit = os._exit
    code = run(str(SCRIPTS / "replace_then_freeze.py"), None, [], report=reports.append)
    assert code == 1 and os._exit is real_exit
    (outcome,) = reports
    assert {f.code for f in outcome.audit.findings} >= {"TL101"} and outcome.failure is None
    assert "finished training" not in capsys.readouterr().out
