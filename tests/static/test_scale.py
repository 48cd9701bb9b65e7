"""Scale and robustness of `tllint check`: parallel runs, the result cache, `.gitignore`, odd file systems,
big files, and (with TLLINT_CORPUS=DIR) a whole corpus of real PyTorch code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import tllint.cli.check as check_module
import tllint.static.engine as engine
from tests.helpers import REPO, run_tllint
from tllint.cli import main
from tllint.config import Config, Resolver
from tllint.static.cache import CACHE_DIR, Cache
from tllint.static.discovery import discover
from tllint.static.engine import check_source
from tllint.static.parallel import Job, check_all

CODES = Config().enabled_codes()
WRONG_ORDER = textwrap.dedent("""\
    import torch.nn as nn
    from torchvision.models import resnet18

    model = resnet18(weights="IMAGENET1K_V1")
    model.fc = nn.Linear(512, 10)
    for name, param in model.named_parameters():
        param.requires_grad = False
""")


def write(folder: Path, name: str, text: str = WRONG_ORDER) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shown(folder: Path, *args: str) -> list[str]:
    """The files `check` would look at, as displayed, without checking them."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        return [t.display for t in discover(args or (".",), Resolver()) if not isinstance(t, str)]
    finally:
        os.chdir(old)


def jobs(folder: Path) -> list[Job]:
    return [Job(t.path, t.display, CODES) for t in discover([str(folder)], Resolver()) if not isinstance(t, str)]


# --- parallel ---------------------------------------------------------------------------------------------

def test_parallel_output_equals_serial_output_on_the_fixtures(tmp_path: Path) -> None:
    shutil.copytree(REPO / "fixtures" / "static", tmp_path / "static")
    serial = run_tllint("check", "--no-cache", "--jobs", "1", "--format", "json", "static", cwd=tmp_path)
    spread = run_tllint("check", "--no-cache", "--jobs", "2", "--format", "json", "static", cwd=tmp_path)
    assert serial.returncode == spread.returncode == 1, serial.stderr
    assert spread.stdout == serial.stdout
    assert spread.stderr == serial.stderr
    assert len(json.loads(serial.stdout)) > 20


def test_workers_import_no_torch(tmp_path: Path) -> None:
    """A `torch` that refuses to import: a worker (or the parent) that imports it would fail the run."""
    write(tmp_path / "fake", "torch/__init__.py", "raise ImportError('the static checker imported torch')\n")
    for index in range(6):
        write(tmp_path / "src", f"train{index}.py")
    env_path = f"{tmp_path / 'fake'}{os.pathsep}{REPO}"
    result = subprocess.run([sys.executable, "-m", "tllint", "check", "--no-cache", "-j", "2", "src"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": env_path}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "imported torch" not in result.stderr
    assert result.stdout.count("TL001") == 6


def test_an_internal_error_names_the_file_and_the_run_goes_on(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.py", "b.py", "c.py", "d.py"):
        write(tmp_path, name)
    real = engine.check_source

    def flaky(data: bytes, path: str, codes: frozenset[str], **options: object):
        if path.endswith("b.py"):
            raise ValueError("boom")
        if path.endswith("c.py"):
            os._exit(3)  # a worker that dies outright
        return real(data, path, codes, **options)

    monkeypatch.setattr(engine, "check_source", flaky)  # workers are forked: they see the patch
    outcomes = check_all(jobs(tmp_path), None, workers=2)
    assert [len(o.findings) for o in outcomes] == [1, 0, 0, 1]
    assert [len(o.problems) for o in outcomes] == [0, 1, 1, 0]
    assert "b.py: internal error: ValueError: boom" in outcomes[1].problems[0]
    assert "c.py: internal error: the worker process checking this file died" in outcomes[2].problems[0]


# --- cache --------------------------------------------------------------------------------------------------

def test_cache_hit_gives_identical_output(tmp_path: Path) -> None:
    write(tmp_path, "train.py")
    write(tmp_path, "clean.py", "print('nothing to see')\n")
    write(tmp_path, "broken.py", "model.requires_grad = (\n")
    first = run_tllint("check", "--format", "json", ".", cwd=tmp_path)
    entries = sorted((tmp_path / CACHE_DIR).rglob("v1/*/*"))
    assert len(entries) == 2  # clean.py mentions no trigger word: the byte pre-filter answers, nothing to cache
    assert (tmp_path / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    second = run_tllint("check", "--format", "json", ".", cwd=tmp_path)
    assert (second.returncode, second.stdout, second.stderr) == (first.returncode, first.stdout, first.stderr)
    assert {f["code"] for f in json.loads(second.stdout)} == {"TL000", "TL001"}


def test_the_cache_is_read(tmp_path: Path) -> None:
    """A planted entry under the right key is served, which proves hits skip the check."""
    path = write(tmp_path, "train.py")
    cache = Cache(tmp_path / CACHE_DIR, "salt")
    [outcome] = check_all([Job(path, "train.py", CODES)], cache, workers=1)
    [finding] = outcome.findings
    key = cache.key(path.read_bytes(), CODES)
    assert cache.load(path, key, "train.py") == [finding]
    cache.store(path, key, [])
    assert check_all([Job(path, "train.py", CODES)], cache, workers=1)[0].findings == []


def test_corrupt_or_foreign_cache_entries_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "train.py")
    first = run_tllint("check", ".", cwd=tmp_path)
    [entry] = (tmp_path / CACHE_DIR).rglob("v1/*/*")
    for garbage in (b"\x00\xffnot json", b"[]", b'{"format": 1, "key": 3}', b"{}", b'{"format": 99}'):
        entry.write_bytes(garbage)
        again = run_tllint("check", ".", cwd=tmp_path)
        assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)


def test_a_cache_that_cannot_be_written_is_not_fatal(tmp_path: Path) -> None:
    write(tmp_path, "train.py")
    (tmp_path / CACHE_DIR).write_text("a file where the cache folder should be")
    result = run_tllint("check", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == ""
    assert "TL001" in result.stdout


def test_no_cache_neither_reads_nor_writes(tmp_path: Path) -> None:
    path = write(tmp_path, "train.py")
    result = run_tllint("check", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert not (tmp_path / CACHE_DIR).exists()
    run_tllint("check", ".", cwd=tmp_path)
    [entry] = (tmp_path / CACHE_DIR).rglob("v1/*/*")
    stored = json.loads(entry.read_text())
    stored["findings"] = []  # poison the entry: only a run that reads the cache would see "no findings"
    entry.write_text(json.dumps(stored))
    assert run_tllint("check", ".", cwd=tmp_path).returncode == 0
    assert run_tllint("check", "--no-cache", ".", cwd=tmp_path).returncode == 1
    assert path.exists()


def test_a_cache_written_under_another_python_is_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is a syntax error depends on the Python that parses: a cache shared by two interpreters must not mix."""
    from tllint.static import cache as cache_module

    here = cache_module.build_fingerprint()
    cache_module.build_fingerprint.cache_clear()
    monkeypatch.setattr(cache_module.sys, "version_info", SimpleNamespace(major=3, minor=99))
    try:
        other = cache_module.build_fingerprint()
    finally:
        cache_module.build_fingerprint.cache_clear()
    assert other != here


def test_the_cache_sits_beside_the_config_file(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.tllint]\nselect = ['TL0']\n")
    write(tmp_path, "pkg/train.py")
    run_tllint("check", "train.py", cwd=tmp_path / "pkg")
    assert (tmp_path / CACHE_DIR).is_dir()
    assert not (tmp_path / "pkg" / CACHE_DIR).exists()


def test_version_and_configuration_changes_invalidate(tmp_path: Path) -> None:
    path = write(tmp_path, "train.py")
    data = path.read_bytes()
    cache = Cache(tmp_path / CACHE_DIR, "one build")
    cache.store(path, cache.key(data, CODES), [])
    assert cache.load(path, cache.key(data, CODES), "train.py") == []
    assert cache.load(path, Cache(cache.folder, "another build").key(data, CODES), "train.py") is None
    assert cache.load(path, cache.key(data, CODES - {"TL001"}), "train.py") is None
    assert cache.load(path, cache.key(data + b"\n", CODES), "train.py") is None
    # end to end: a narrower selection is not served the wider run's findings
    assert run_tllint("check", ".", cwd=tmp_path).returncode == 1
    narrowed = run_tllint("check", "--ignore", "TL001,TL041", ".", cwd=tmp_path)
    assert narrowed.returncode == 0, narrowed.stdout
    write(tmp_path, "pyproject.toml", "[tool.tllint]\nignore = ['TL001', 'TL041']\n")
    assert run_tllint("check", ".", cwd=tmp_path).returncode == 0


# --- discovery ------------------------------------------------------------------------------------------------

def test_gitignore_is_respected_nested_and_negated(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "generated/\n*_pb2.py\n/top_only.py\n")
    for name in ("train.py", "generated/model.py", "api_pb2.py", "top_only.py", "sub/top_only.py",
                 "sub/keep.py", "sub/skip.py", "sub/deeper/skip.py", "sub/deeper/again.py"):
        write(tmp_path, name)
    write(tmp_path, "sub/.gitignore", "skip.py\n")
    write(tmp_path, "sub/deeper/.gitignore", "!skip.py\n")
    assert sorted(shown(tmp_path)) == ["sub/deeper/again.py", "sub/deeper/skip.py", "sub/keep.py", "sub/top_only.py",
                               "train.py"]


def test_gitignore_of_the_enclosing_repository_applies_to_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".gitignore", "pkg/vendored/\n")
    write(tmp_path, "pkg/vendored/x.py")
    write(tmp_path, "pkg/own.py")
    assert shown(tmp_path / "pkg") == ["own.py"]
    assert shown(tmp_path, "pkg") == ["pkg/own.py"]


def test_explicit_paths_ignore_gitignore_and_force_exclude_applies_excludes(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.tllint]\nexclude = ['gen']\n")
    write(tmp_path, ".gitignore", "ignored.py\n")
    write(tmp_path, "gen/model.py")
    write(tmp_path, "ignored.py")
    plain = run_tllint("check", "gen/model.py", "ignored.py", cwd=tmp_path)
    assert "gen/model.py" in plain.stdout and "ignored.py" in plain.stdout
    forced = run_tllint("check", "--force-exclude", "gen/model.py", "train_missing.py", cwd=tmp_path)
    assert "gen/model.py" not in forced.stdout
    assert forced.returncode == 2  # the missing file is still an error
    assert run_tllint("check", "--force-exclude", "gen/model.py", cwd=tmp_path).returncode == 0
    assert run_tllint("check", ".", cwd=tmp_path).returncode == 0


def test_a_file_deleted_while_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.py", "b.py", "c.py"):
        write(tmp_path, name)
    listed = check_module.discover

    def discover_then_delete(*args, **kwargs):
        targets = list(listed(*args, **kwargs))
        (tmp_path / "b.py").unlink()
        return targets

    monkeypatch.setattr(check_module, "discover", discover_then_delete)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", "1", "--format", "json", "."])
    assert result.exit_code == 2
    assert [f["path"] for f in json.loads(result.stdout)] == ["a.py", "c.py"]
    assert "tllint: error: b.py: cannot read: No such file or directory" in result.stderr


def test_symlink_loop_and_a_directory_named_like_a_script(tmp_path: Path) -> None:
    write(tmp_path, "real/train.py")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "folder.py").mkdir()
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    result = run_tllint("check", "--format", "json", ".", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout) if f["code"] == "TL001"] == ["real/train.py"]
    assert "dangling.py: cannot read" in result.stderr
    assert result.returncode == 2


# --- big input ------------------------------------------------------------------------------------------------

def test_a_50000_line_file_is_checked_whole() -> None:
    """Generated helpers after a real mistake: the whole file is parsed, analysed and located (its speed is
    measured by bench/static_speed.py, not asserted here)."""
    block = textwrap.dedent("""\
        def step_{i}(model, batch, optimizer):
            loss = model(batch).sum() * {i}
            loss.backward()
            optimizer.step()
            return loss.item()

    """)
    text = WRONG_ORDER + "".join(block.format(i=i) for i in range(50_000 // 6 + 1))
    assert text.count("\n") >= 50_000
    result = check_source(text.encode(), "big.py", CODES)
    assert not result.problems
    assert result.analysed
    assert [(f.code, f.span.line) for f in result.findings if f.code == "TL001"] == [("TL001", 6)]


# --- a real corpus (bench/corpus.sh DIR; then TLLINT_CORPUS=DIR pytest -m slow) -----------------------------

CORPUS = os.environ.get("TLLINT_CORPUS")


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS, reason="set TLLINT_CORPUS=DIR (built by bench/corpus.sh DIR)")
def test_the_whole_corpus_runs_without_internal_errors() -> None:
    assert CORPUS is not None
    result = run_tllint("check", "--no-cache", "--format", "json", CORPUS, timeout=3600)
    assert result.stderr == "", result.stderr[:2000]  # no internal error, no file left unread
    assert result.returncode in (0, 1)
    findings = json.loads(result.stdout)
    assert len({f["path"] for f in findings if f["code"] == "TL000"}) < len(list(Path(CORPUS).rglob("*.py")))
