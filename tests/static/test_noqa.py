"""`# noqa` as the README states it, TL900 (unused noqa) end to end, the cost of finding comments (tokenizing only
where needed), the byte pre-filter across whitespace, and ruff's RUF100 leaving tllint's codes alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

import tllint.static.engine as engine
from tests.helpers import SEED_WRONG, SEED_WRONG_LINE, run_tllint
from tllint.config import Config
from tllint.static.engine import check_source

CODES = Config().enabled_codes()
WITH_TL900 = CODES | {"TL900"}
HEADER = textwrap.dedent("""\
    import torch.nn as nn
    from torchvision.models import resnet18

    model = resnet18(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(512, 10)
""")


def findings(text: str, codes: frozenset[str] = CODES) -> list[tuple[str, int]]:
    outcome = check_source(text.encode(), "train.py", codes)
    assert not outcome.problems
    return [(f.code, f.span.line) for f in outcome.findings]


@pytest.mark.parametrize("loop", [
    "for name, param in (\n    model.named_parameters()\n):  # noqa: TL001\n    param.requires_grad = False\n",
    "for name, param in (\n    model.named_parameters()\n)  :  # noqa: TL001\n    param.requires_grad = False\n",
    "for name, param in model.named_parameters(\n):  # noqa: TL001\n    param.requires_grad = False\n",
    "for name, param in (  # noqa: TL001\n    model.named_parameters()\n):\n    param.requires_grad = False\n",
    "for (\n    name, param\n) in model.named_parameters():  # noqa: TL001\n    param.requires_grad = False\n",
], ids=["closing-line", "spaced-colon", "call-parenthesis", "first-line", "target-over-lines"])
def test_noqa_on_the_first_or_last_line_of_a_multiline_for_header(loop: str) -> None:
    assert findings(HEADER + loop) == []
    assert findings(HEADER + loop.replace("  # noqa: TL001", "")) == [("TL001", 6)]


def test_noqa_inside_the_loop_body_does_not_silence_the_header() -> None:
    loop = "for name, param in (\n    model.named_parameters()\n):\n    param.requires_grad = False  # noqa: TL001\n"
    assert findings(HEADER + loop) == [("TL001", 6)]


def test_noqa_codes_need_digits_as_in_flake8() -> None:
    """`# noqa:TL001` and prefixes with digits name codes; `# noqa: TLDR` names none (so it is bare)."""
    line = "for name, param in model.named_parameters():"
    body = "\n    param.requires_grad = False\n"
    assert findings(HEADER + line + "  # noqa:TL001" + body) == []
    assert findings(HEADER + line + "  # noqa: TL0" + body) == []
    assert findings(HEADER + line + "  # NOQA: tl001, E501" + body) == []
    assert findings(HEADER + line + "  # noqa: TL002" + body) == [("TL001", 6)]


def test_the_prefilter_matches_words_across_whitespace() -> None:
    """`model.parameters ()` still holds the trigger word `parameters(`: the file is analysed, not skipped."""
    text = ("from torchvision.models import resnet18\nimport torch\nmodel = resnet18(weights='DEFAULT')\n"
            "model.requires_grad_(False)\noptimizer = torch.optim.SGD(model.parameters (), lr=0.1)\n")
    no_other_words = text.replace("requires_grad_(False)", "eval()").replace("torchvision.models", "models")
    outcome = check_source(no_other_words.replace("resnet18", "build").encode(), "x.py", CODES)
    assert outcome.analysed and outcome.skipped is None
    assert findings(text) == [("TL009", 5)]
    assert findings(text.replace("parameters ()", "parameters(\n)")) == [("TL009", 5)]


# --- TL900 --------------------------------------------------------------------------------------------------------

def test_extend_select_tl900_reports_a_stale_noqa(tmp_path: Path) -> None:
    right = HEADER.replace("model.fc = nn.Linear(512, 10)\n", "") + (
        "for name, param in model.named_parameters():  # noqa: TL001\n    param.requires_grad = False\n"
        "model.fc = nn.Linear(512, 10)\n")
    (tmp_path / "train.py").write_text(right)
    assert run_tllint("check", "train.py", cwd=tmp_path).returncode == 0  # opt-in: off by default
    result = run_tllint("check", "--extend-select", "TL900", "--output-format", "json", "train.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    [finding] = json.loads(result.stdout)
    assert (finding["code"], finding["line"], finding["column"]) == ("TL900", 5, 47)
    assert finding["severity"] == "warning" and "`TL001`" in finding["message"]
    (tmp_path / "train.py").write_text(SEED_WRONG.replace("named_parameters():", "named_parameters():  # noqa: TL001"))
    used = run_tllint("check", "--extend-select", "TL900", "train.py", cwd=tmp_path)
    assert used.returncode == 0, used.stdout


def test_tl900_can_be_silenced_on_its_line_and_judges_only_codes_that_ran() -> None:
    stale = HEADER + "x = 1  # noqa: TL001\n"
    assert findings(stale, WITH_TL900) == [("TL900", 6)]
    assert findings(stale.replace("TL001", "TL001, TL900"), WITH_TL900) == []
    assert findings(stale, WITH_TL900 - {"TL001"}) == []  # TL001 did not run: its noqa cannot be judged
    assert findings(stale.replace("TL001", "TL104"), WITH_TL900) == []  # a runtime code: not judged here
    assert findings(stale.replace("TL001", "TL999"), WITH_TL900) == [("TL900", 6)]  # no such code
    assert findings(stale.replace("# noqa: TL001", "# noqa"), WITH_TL900) == []


def test_comments_are_tokenized_only_where_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokenizing costs more than the analysis: without TL900, only when a reported line mentions noqa; with
    TL900, when the file mentions noqa at all."""
    calls: list[int] = []
    real = engine.directives

    def counting(text: str):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(text)

    monkeypatch.setattr(engine, "directives", counting)
    quiet = SEED_WRONG + "x = 1  # noqa: E501\n"
    assert findings(quiet) == [("TL001", SEED_WRONG_LINE)] and calls == []
    assert findings(quiet, WITH_TL900) == [("TL001", SEED_WRONG_LINE)] and calls == [1]
    assert findings(SEED_WRONG, WITH_TL900) == [("TL001", SEED_WRONG_LINE)] and calls == [1]
    silenced = SEED_WRONG.replace("named_parameters():", "named_parameters():  # noqa")
    assert findings(silenced) == [] and calls == [1, 1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="needs ruff")
def test_ruff_with_external_tl_keeps_tllint_codes_in_noqa(tmp_path: Path) -> None:
    """The README's ruff setting: with `lint.external = ["TL"]`, ruff's RUF100 --fix keeps `# noqa: TL001` (alone,
    or beside a code of ruff's own that is unused); without it, ruff deletes tllint's code with its own (the
    reason the README tells ruff users to set it)."""
    script = SEED_WRONG.replace("named_parameters():", "named_parameters():  # noqa: TL001").replace(
        'weights="IMAGENET1K_V1")', 'weights="IMAGENET1K_V1")  # noqa: E501, TL041')
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert 'external = ["TL"]' in readme

    def fixed(ruff_toml: str) -> str:
        (tmp_path / "train.py").write_text(script)
        (tmp_path / "ruff.toml").write_text(ruff_toml)
        subprocess.run(["ruff", "check", "--fix", "--no-cache", "train.py"], cwd=tmp_path, capture_output=True,
                       timeout=120)
        return (tmp_path / "train.py").read_text()

    kept = fixed('[lint]\nextend-select = ["RUF100"]\nexternal = ["TL"]\n')
    assert "named_parameters():  # noqa: TL001" in kept
    assert 'weights="IMAGENET1K_V1")  # noqa: TL041' in kept  # ruff's unused E501 removed, tllint's code kept
    lost = fixed('[lint]\nextend-select = ["RUF100"]\n')
    assert "TL041" not in lost
