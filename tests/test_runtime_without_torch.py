"""`tllint audit` and `tllint run` in a static-only install (no torch): one line with the install hint, exit 2,
no traceback. Torch is made unimportable for the child process only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

WITHOUT_TORCH = """\
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
sys.argv[0] = "tllint"
from tllint.cli import main
main()
"""


@pytest.mark.parametrize(("args", "command"), [
    (["audit", "m:f", "--input-shape", "1,3"], "audit"),
    (["run", "x.py"], "run"),
    (["run", "-m", "pkg.train"], "run"),
])
def test_runtime_commands_without_torch_exit_2_with_the_install_hint(tmp_path: Path, args: list[str],
                                                                     command: str) -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    assert result.stderr == f'tllint {command} needs torch: pip install "tllint[runtime]"\n'
    assert result.stdout == ""


def test_the_static_checker_needs_no_torch(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("from torchvision.models import resnet18\nm = resnet18()\n"
                                       "m.requires_grad = False\n")
    result = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, "check", "train.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1 and "TL002" in result.stdout, result.stderr
