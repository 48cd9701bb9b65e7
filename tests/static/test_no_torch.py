"""The static checker must never import torch (it runs as a pre-commit hook, in milliseconds), nor libcst, whose
import alone (about 0.14 s) would double a pre-commit run on one file: libcst is imported only by a `--fix` or
`--diff` that merges an import a fix added into the file's own import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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


def probe(script: Path, options: list[str]) -> str:
    """The exit code and the heavy modules imported by `tllint check --no-cache OPTIONS script`, in a fresh
    process."""
    code = PROBE.replace('["check", sys.argv[1]]', f'["check", "--no-cache", *{options!r}, sys.argv[1]]')
    assert code.count(repr(options)) == 1
    result = subprocess.run([sys.executable, "-c", code, str(script)], cwd=REPO, capture_output=True, text=True,
                            check=True)
    return result.stdout.strip().splitlines()[-1]


def test_fixes_are_reported_in_every_format_and_applied_without_libcst(tmp_path: Path) -> None:
    """Findings carry their fixes in every format without libcst (fixes are text edits at the positions CPython's
    parser gave), and `--diff` and `--fix` apply them without it when no added import has an import to join:
    here the enum's module `torchvision.models` is imported only as `import torchvision.models as models`."""
    script = tmp_path / "train.py"
    script.write_text("import torchvision.models as models\nmodel = models.resnet18(pretrained=True)\n"
                      "model.requires_grad = False\n")
    for options, expected in (([], "1 []"), (["--output-format", "json"], "1 []"),
                              (["--output-format", "sarif"], "1 []"), (["--diff"], "1 []"), (["--fix"], "0 []")):
        assert probe(script, options) == expected, options
    assert "model.requires_grad_(False)" in script.read_text()
    assert "from torchvision.models import ResNet18_Weights\n" in script.read_text()


def test_a_fix_whose_import_joins_an_existing_one_imports_libcst(tmp_path: Path) -> None:
    """A plain check and the JSON and SARIF outputs of a file whose TL040 fix would merge its import still do not
    import libcst; `--fix` does, and merges."""
    script = tmp_path / "train.py"
    original = "from torchvision.models import resnet18\nmodel = resnet18(pretrained=True)\n"
    script.write_text(original)
    for options in ([], ["--output-format", "json"], ["--output-format", "sarif"]):
        assert probe(script, options) == "1 []", options
    assert script.read_text() == original
    fixing = probe(script, ["--fix"])
    assert fixing.startswith("0 ['libcst', ") and "torch" not in fixing, fixing
    assert script.read_text() == ("from torchvision.models import resnet18, ResNet18_Weights\n"
                                  "model = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)\n")
