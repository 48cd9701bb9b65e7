"""The static checker must never import torch (it runs as a pre-commit hook, in milliseconds), nor libcst, whose
import alone (about 0.14 s) would double a pre-commit run on one file."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.helpers import REPO

PROBE = textwrap.dedent("""\
    import sys
    HEAVY = ("torch", "torchvision", "timm", "transformers", "libcst")
    from click.testing import CliRunner
    from tllint.cli import main
    result = CliRunner().invoke(main, ["check", sys.argv[1]])
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    print(result.exit_code, heavy)
""")


def test_static_check_imports_no_torch_nor_libcst(tmp_path) -> None:
    script = tmp_path / "train.py"
    script.write_text("import torch\nfrom torchvision.models import resnet18\nimport torch.nn as nn\n"
                      "model = resnet18()\nmodel.fc = nn.Linear(512, 2)\n"
                      "for p in model.parameters():\n    p.requires_grad = False\n")
    result = subprocess.run([sys.executable, "-c", PROBE, str(script)], cwd=REPO, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "1 []", result.stdout + result.stderr


def test_a_file_without_training_code_is_decided_from_its_bytes(tmp_path) -> None:
    """The byte pre-filter answers before the parser and the pass are even imported."""
    script = tmp_path / "utils.py"
    script.write_text("def add(a, b):\n    return a + b\n")
    heavy = '("tllint.static.interpreter", "tllint.static.engine", "tllint.static.facts")'
    probe = PROBE.replace('m.split(".")[0] in HEAVY', f"m in {heavy}")
    assert probe != PROBE
    result = subprocess.run([sys.executable, "-c", probe, str(script)], cwd=REPO, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "0 []", result.stdout + result.stderr


def test_fixes_are_reported_and_applied_without_libcst(tmp_path) -> None:
    """Findings carry their fixes in every format, and `--diff` and `--fix` apply them, without libcst: fixes are
    text edits at the positions CPython's parser gave."""
    script = tmp_path / "train.py"
    script.write_text("from torchvision.models import resnet18\nmodel = resnet18(pretrained=True)\n"
                      "model.requires_grad = False\n")
    for options, expected in (([], "1 []"), (["--output-format", "json"], "1 []"),
                              (["--output-format", "sarif"], "1 []"), (["--diff"], "1 []"), (["--fix"], "0 []")):
        probe = PROBE.replace('["check", sys.argv[1]]', f'["check", "--no-cache", *{options!r}, sys.argv[1]]')
        assert probe.count(repr(options)) == 1
        result = subprocess.run([sys.executable, "-c", probe, str(script)], cwd=REPO, capture_output=True,
                                text=True, check=True)
        assert result.stdout.strip().splitlines()[-1] == expected, (options, result.stdout + result.stderr)
    assert "model.requires_grad_(False)" in script.read_text()
