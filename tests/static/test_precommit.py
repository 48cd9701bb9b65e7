"""The real `pre-commit` runs this repository's hook: a wrong freeze order fails it, a right one passes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.static.test_cli import RIGHT_ORDER, WRONG_ORDER
from tests.static.test_notebook_cli import BUILD, FREEZE, IMPORTS, REPLACE, write_notebook, wrong_order

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None,
                                reason="pre-commit and git are needed")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"})


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of this checkout (committed or not) as a git repository pre-commit can install from."""
    snapshot = tmp_path_factory.mktemp("hook") / "tllint"
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".tllint_cache",
                                    "*.egg-info", "bench", "fixtures", "tests", "notes")
    shutil.copytree(REPO, snapshot, ignore=ignore)
    git("init", "-q", cwd=snapshot)
    git("add", "-A", cwd=snapshot)
    git("commit", "-qm", "snapshot", cwd=snapshot)
    return snapshot


def try_repo(hook_repo: Path, project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(["pre-commit", "try-repo", str(hook_repo), "tllint", "--color", "never"], cwd=project,
                          capture_output=True, text=True, env=env, timeout=900)


def test_hook_fails_on_wrong_order_and_passes_on_right_order(hook_repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    (project / "train.py").write_text(WRONG_ORDER)
    git("add", "train.py", cwd=project)
    failing = try_repo(hook_repo, project, home)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "train.py:6:1: TL001" in failing.stdout

    (project / "train.py").write_text(RIGHT_ORDER)
    git("add", "train.py", cwd=project)
    passing = try_repo(hook_repo, project, home)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


def readme_snippet() -> str:
    """The pre-commit configuration the README gives users."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [snippet] = [block for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "id: tllint" in block]
    return snippet


def test_the_readme_snippet_works_with_only_the_url_and_revision_replaced(hook_repo: Path, tmp_path: Path) -> None:
    """The README's snippet, verbatim but for `repo:` (a local clone) and `rev:` (its HEAD commit), through the
    real `pre-commit run` on staged files: a wrong freeze order is blocked, the right one passes."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, check=True, capture_output=True,
                          text=True).stdout.strip()
    snippet = readme_snippet()
    config = re.sub(r"(repo: )\S+", lambda m: m.group(1) + str(hook_repo), snippet, count=1)
    config = re.sub(r"(rev: )\S+", lambda m: m.group(1) + head, config, count=1)
    changed = [(a, b) for a, b in zip(snippet.splitlines(), config.splitlines(), strict=True) if a != b]
    assert [a.split(":")[0].strip(" -") for a, _ in changed] == ["repo", "rev"]
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    (project / ".pre-commit-config.yaml").write_text(config)
    (project / "train.py").write_text(WRONG_ORDER)
    git("add", ".pre-commit-config.yaml", "train.py", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pre-commit", "run", "--color", "never"], cwd=project, capture_output=True,
                              text=True, env=env, timeout=900)

    blocked = run()
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "train.py:6:1: TL001" in blocked.stdout
    (project / "train.py").write_text(RIGHT_ORDER)
    git("add", "train.py", cwd=project)
    passing = run()
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "tllint" in passing.stdout and "Passed" in passing.stdout


def test_fix_in_the_hook_args_rewrites_the_file_and_fails_the_commit(hook_repo: Path, tmp_path: Path) -> None:
    """`args: [--fix]`, as with ruff's hook: the commit fails, the file is rewritten, and committing the fixed file
    passes."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, check=True, capture_output=True,
                          text=True).stdout.strip()
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {head}\n    hooks:\n      - id: tllint\n        args: [--fix]\n")
    broken = "from torchvision.models import resnet18\n\nmodel = resnet18(pretrained=True)  # the backbone\n" \
             "model.requires_grad = False  # freeze it\n"
    (project / "train.py").write_text(broken)
    git("add", ".pre-commit-config.yaml", "train.py", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    subprocess.run(["pre-commit", "install"], cwd=project, check=True, capture_output=True, env=env)

    def commit() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "train"],
                              cwd=project, capture_output=True, text=True, env=env, timeout=900)

    failed = commit()
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert "files were modified by this hook" in failed.stdout + failed.stderr
    fixed = (project / "train.py").read_text()
    assert "model.requires_grad_(False)  # freeze it" in fixed
    assert "resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)  # the backbone" in fixed
    git("add", "train.py", cwd=project)
    passed = commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_hook_checks_a_staged_notebook(hook_repo: Path, tmp_path: Path) -> None:
    """`types_or: [python, jupyter]`: pre-commit hands the hook a notebook, whose finding names its cell."""
    home = tmp_path / "pre-commit-home"
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    wrong_order(project, "train.ipynb")
    git("add", "train.ipynb", cwd=project)
    failing = try_repo(hook_repo, project, home)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "train.ipynb:cell 5:1:1: TL001" in failing.stdout

    write_notebook(project, "train.ipynb", IMPORTS, BUILD, FREEZE, REPLACE)
    git("add", "train.ipynb", cwd=project)
    passing = try_repo(hook_repo, project, home)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
