"""Helpers imported from other files of the project are followed (issue 12, item 5): a model factory and a freeze
helper in `models.py`, called from `train.py`, are replayed at the call in every import spelling Python resolves to
the project's file; a name that resolves to no file of the project, or to a file that cannot be read or parsed,
stays unknown (quiet); the cached result of `train.py` goes stale when `models.py` changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import expectations, run_tllint
from tllint.config import Config
from tllint.static.cache import CACHE_DIR
from tllint.static.parallel import check_bytes

CODES = Config().enabled_codes()

MODELS = '''\
import torch.nn as nn
from torchvision.models import resnet18


def build_model(num_classes=10):
    model = resnet18(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(512, num_classes)
    return model


def build_frozen_model(num_classes=10):
    model = resnet18(weights="IMAGENET1K_V1")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, num_classes)
    return model


def load_backbone():
    return resnet18(weights="IMAGENET1K_V1")


def freeze_backbone(model):
    for param in model.parameters():
        param.requires_grad = False
'''

WRONG_ORDER = '''\
{imports}

model = {prefix}build_model()
{prefix}freeze_backbone(model)  # expect: TL001
'''

WRONG_ORDER_IN_FUNCTION = '''\
def main():
    {imports}
    model = {prefix}build_model()
    {prefix}freeze_backbone(model)  # expect: TL001
'''

RIGHT_ORDER = '''\
import torch
import torch.nn as nn
{imports}

model = {prefix}load_backbone()
{prefix}freeze_backbone(model)
model.fc = nn.Linear(512, 10)
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
frozen = {prefix}build_frozen_model()
head_optimizer = torch.optim.SGD(frozen.fc.parameters(), lr=0.01)
'''

PACKAGE = {"pkg/__init__.py": "", "pkg/models.py": MODELS}
NAMES = "build_model, build_frozen_model, load_backbone, freeze_backbone"

# (spelling, the project's files, the checked file, its import statement, how the names are prefixed at the call)
SPELLINGS = [
    ("absolute", {"models.py": MODELS}, "train.py", f"from models import {NAMES}", ""),
    ("module", {"models.py": MODELS}, "train.py", "import models", "models."),
    ("module alias", {"models.py": MODELS}, "train.py", "import models as M", "M."),
    ("relative", PACKAGE, "pkg/train.py", f"from .models import {NAMES}", ""),
    ("relative module", PACKAGE, "pkg/train.py", "from . import models", "models."),
    ("two levels up", {**PACKAGE, "pkg/scripts/__init__.py": ""}, "pkg/scripts/train.py",
     f"from ..models import {NAMES}", ""),
    ("package", PACKAGE, "train.py", f"from pkg.models import {NAMES}", ""),
    ("package module", PACKAGE, "train.py", "import pkg.models", "pkg.models."),
    ("package module alias", PACKAGE, "train.py", "import pkg.models as M", "M."),
    ("submodule of a package", PACKAGE, "train.py", "from pkg import models", "models."),
    ("from the package root", PACKAGE, "pkg/train.py", f"from pkg.models import {NAMES}", ""),
    ("re-exported by __init__", {"pkg/__init__.py": f"from .models import {NAMES}\n", "pkg/models.py": MODELS},
     "train.py", f"from pkg import {NAMES}", ""),
    ("from the project root", {"models.py": MODELS, "scripts/.keep": ""}, "scripts/train.py",
     f"from models import {NAMES}", ""),
]


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def findings(root: Path, checked: str, project_root: Path | None = None) -> set[tuple[int, str]]:
    """(line, code) of each finding on `checked`, checked as the CLI checks it (its path and project root known)."""
    path = root / checked
    outcome = check_bytes(path.read_bytes(), str(path), CODES, None, path, project_root or root)
    assert not outcome.problems, outcome.problems
    return {(finding.span.line, finding.code) for finding in outcome.findings}


@pytest.mark.parametrize(("spelling", "files", "checked", "imports", "prefix"), SPELLINGS,
                         ids=[s[0] for s in SPELLINGS])
@pytest.mark.parametrize("template", [WRONG_ORDER, WRONG_ORDER_IN_FUNCTION], ids=["module level", "function"])
def test_a_factory_and_a_freeze_helper_of_the_project_are_followed(
        tmp_path: Path, spelling: str, files: dict[str, str], checked: str, imports: str, prefix: str,
        template: str) -> None:
    train = template.format(imports=imports, prefix=prefix)
    write_tree(tmp_path, {**files, checked: train})
    assert findings(tmp_path, checked) == expectations(train.encode())


@pytest.mark.parametrize(("spelling", "files", "checked", "imports", "prefix"), SPELLINGS,
                         ids=[s[0] for s in SPELLINGS])
def test_the_right_order_through_the_same_helpers_is_clean(
        tmp_path: Path, spelling: str, files: dict[str, str], checked: str, imports: str, prefix: str) -> None:
    write_tree(tmp_path, {**files, checked: RIGHT_ORDER.format(imports=imports, prefix=prefix)})
    assert findings(tmp_path, checked) == set()


def test_the_followed_state_is_known_not_guessed(tmp_path: Path) -> None:
    """The factory's frozen backbone is known in train.py: all of it handed to the optimizer is worth a warning."""
    train = ("import torch\nfrom models import build_frozen_model\n\nmodel = build_frozen_model()\n"
             "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # expect: TL011\n")
    write_tree(tmp_path, {"models.py": MODELS, "train.py": train})
    assert findings(tmp_path, "train.py") == expectations(train.encode())


UNFREEZE_TRAIN = '''\
{imports}

model = build_model()
freeze_backbone(model){expect}
unfreeze_head(model)
'''

HELPER_EFFECTS = [
    ("re-enables the head", "    model.fc.requires_grad_(True)\n", ""),
    ("only logs: no effect", "    print(sum(p.numel() for p in model.parameters()))\n", "  # expect: TL001"),
    ("calls something unknown", "    from somelib import set_trainable\n    set_trainable(model.fc)\n", ""),
]


@pytest.mark.parametrize(("effect", "body", "expect"), HELPER_EFFECTS, ids=[e[0] for e in HELPER_EFFECTS])
def test_what_a_helper_does_is_what_the_call_does(tmp_path: Path, effect: str, body: str, expect: str) -> None:
    train = UNFREEZE_TRAIN.format(imports="from models import build_model, freeze_backbone, unfreeze_head",
                                  expect=expect)
    write_tree(tmp_path, {"models.py": MODELS + f"\n\ndef unfreeze_head(model):\n{body}", "train.py": train})
    assert findings(tmp_path, "train.py") == expectations(train.encode())


def test_a_helper_of_an_unknown_library_stays_unknown(tmp_path: Path) -> None:
    """The same call, the same names, but `unfreeze_head` comes from a library: it may re-enable the head."""
    train = UNFREEZE_TRAIN.format(imports="from models import build_model, freeze_backbone\n"
                                          "from vision_tools import unfreeze_head", expect="")
    write_tree(tmp_path, {"models.py": MODELS, "train.py": train})
    assert findings(tmp_path, "train.py") == set()


@pytest.mark.parametrize("where", ["outside/models.py", "project/elsewhere/models.py", "outside/vision/models.py"])
def test_a_module_outside_the_import_path_is_not_the_projects(tmp_path: Path, where: str) -> None:
    """A file of the same name that Python would not import (another folder, outside the project) is not followed:
    the names are a library's, unknown."""
    write_tree(tmp_path, {where: MODELS})
    train = WRONG_ORDER.format(imports=f"from models import {NAMES}", prefix="").replace("  # expect: TL001", "")
    write_tree(tmp_path, {"project/scripts/train.py": train, "project/.tllint.toml": ""})
    assert findings(tmp_path / "project", "scripts/train.py") == set()
    vision = train.replace("from models import", "from vision.models import")
    write_tree(tmp_path, {"project/scripts/train.py": vision})
    assert findings(tmp_path / "project", "scripts/train.py") == set()


BROKEN = {
    "missing": None,
    "syntax error": MODELS + "\ndef broken(:\n",
    "undecodable": MODELS.encode() + b"\nname = '\xff\xfe'\n",
    "a folder of that name": "folder",
    "a function of another name": "def build(num_classes=10):\n    return None\n",
    "a class, not a function": "class build_model:\n    pass\n\n\nclass freeze_backbone:\n    pass\n",
    "a cycle": "from train import build_model, freeze_backbone\n",
}


@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
def test_a_module_that_cannot_be_read_leaves_the_call_unknown(tmp_path: Path, broken: str) -> None:
    content = BROKEN[broken]
    if content == "folder":
        (tmp_path / "models.py").mkdir()
    elif content is not None:
        write_tree(tmp_path, {"models.py": content})
    train = WRONG_ORDER.format(imports="from models import build_model, freeze_backbone", prefix="")
    write_tree(tmp_path, {"train.py": train.replace("  # expect: TL001", "")})
    assert findings(tmp_path, "train.py") == set()


def test_import_cycles_end(tmp_path: Path) -> None:
    """a.py and b.py call each other's helpers: followed a few files deep, then unknown; no recursion error."""
    a = "from b import step_b\n\n\ndef step_a(model):\n    step_b(model)\n"
    b = "from a import step_a\n\n\ndef step_b(model):\n    step_a(model)\n"
    train = WRONG_ORDER.format(imports="from models import build_model\nfrom a import step_a as freeze_backbone",
                               prefix="").replace("  # expect: TL001", "")
    write_tree(tmp_path, {"a.py": a, "b.py": b, "models.py": MODELS, "train.py": train})
    assert findings(tmp_path, "train.py") == set()


def test_a_chain_of_files_is_followed(tmp_path: Path) -> None:
    """train.py -> helpers.py -> models.py: the helper's own import is followed too."""
    helpers = "from models import build_model, freeze_backbone\n\n\ndef make():\n    return build_model()\n\n\n" \
              "def freeze(model):\n    freeze_backbone(model)\n"
    train = "from helpers import make, freeze\n\nmodel = make()\nfreeze(model)  # expect: TL001\n"
    write_tree(tmp_path, {"models.py": MODELS, "helpers.py": helpers, "train.py": train})
    assert findings(tmp_path, "train.py") == expectations(train.encode())


def test_two_calls_of_a_factory_build_two_models(tmp_path: Path) -> None:
    """Each call of the factory is a model of its own: freezing the second says nothing about the first."""
    train = ("import torch\nfrom models import build_model, freeze_backbone\n\nteacher = build_model()\n"
             "student = build_model()\nfreeze_backbone(teacher)  # expect: TL001\n"
             "optimizer = torch.optim.SGD(student.parameters(), lr=0.01)\n")
    write_tree(tmp_path, {"models.py": MODELS, "train.py": train})
    assert findings(tmp_path, "train.py") == expectations(train.encode())


def test_a_same_file_helper_still_wins(tmp_path: Path) -> None:
    """A function defined in train.py shadows nothing in models.py and is summarised as before."""
    train = ("import torch.nn as nn\nfrom torchvision.models import resnet18\nfrom models import freeze_backbone\n\n"
             "\ndef freeze_backbone(model):\n    pass\n\n\nmodel = resnet18(weights='DEFAULT')\n"
             "model.fc = nn.Linear(512, 10)\nfreeze_backbone(model)\n")
    write_tree(tmp_path, {"models.py": MODELS, "train.py": train})
    assert findings(tmp_path, "train.py") == set()


# --- the cached result of train.py depends on models.py, through the real CLI -------------------------------------

FREEZES = "\n\ndef freeze_backbone(model):\n    for param in model.parameters():\n        param.requires_grad = False\n"
LOGS = "\n\ndef freeze_backbone(model):\n    print(model)\n"


def _models(body: str) -> str:
    return MODELS[:MODELS.index("def freeze_backbone")].rstrip() + body


def _check_train(repo: Path) -> tuple[int, str]:
    result = run_tllint("check", "train.py", cwd=repo)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout


def test_editing_an_imported_file_invalidates_the_cached_result(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    train = WRONG_ORDER.format(imports="from models import build_model, freeze_backbone", prefix="")
    write_tree(repo, {".tllint.toml": "", "train.py": train, "models.py": _models(LOGS)})
    assert _check_train(repo)[0] == 0
    [entry] = (repo / CACHE_DIR).rglob("v1/*/*")
    dependencies = dict(json.loads(entry.read_text())["dependencies"])
    assert dependencies[str(repo / "models.py")] is not None  # the entry names the file it used, with its hash
    assert _check_train(repo)[0] == 0  # served again while models.py is unchanged
    (repo / "models.py").write_text(_models(FREEZES))
    code, out = _check_train(repo)
    assert code == 1 and "train.py:4:1: TL001" in out
    (repo / "models.py").write_text(_models(LOGS))
    assert _check_train(repo)[0] == 0
    os.remove(repo / "models.py")  # gone: the helpers are unknown
    assert _check_train(repo)[0] == 0
    (repo / "models.py").write_text(_models(FREEZES))  # back: an absent file is a dependency too
    assert _check_train(repo)[0] == 1


def test_a_cached_result_is_served_without_reanalysis(tmp_path: Path) -> None:
    """The entry holds the findings: while neither file changes, the second run reads them back (a finding
    planted in the entry proves it came from there)."""
    repo = tmp_path / "repo"
    train = WRONG_ORDER.format(imports="from models import build_model, freeze_backbone", prefix="")
    write_tree(repo, {".tllint.toml": "", "train.py": train, "models.py": _models(FREEZES)})
    assert _check_train(repo)[0] == 1
    [entry] = (repo / CACHE_DIR).rglob("v1/*/*")
    record = json.loads(entry.read_text())
    record["findings"][0]["message"] = "planted"
    entry.write_text(json.dumps(record))
    assert "planted" in _check_train(repo)[1]
    (repo / "models.py").write_text(_models(FREEZES) + "\n# an edit\n")
    assert "planted" not in _check_train(repo)[1]
