"""Nothing in the user's tree can break `tllint check`: odd files, links, unreadable folders, long names, a cache
planted by the repository, crafted `.gitignore` lines, internal errors and Ctrl-C. Each case ends in a finding or
one error line and the documented exit code, never a traceback or a hang.

The subprocess timeouts here are guards against hangs, not speed measurements (those live in `bench/`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import tllint.static.engine as engine
from tests.helpers import REPO, SEED_RIGHT, SEED_WRONG, SEED_WRONG_LINE, permission_bits_apply, run_tllint
from tllint.cli import main
from tllint.static.cache import CACHE_DIR
from tllint.static.gitignore import IgnoreFile, ignored
from tllint.static.reading import NotRegular, read_limited

POSIX = sys.platform != "win32"
needs_posix = pytest.mark.skipif(not POSIX, reason="FIFOs, devices and permission bits are POSIX")


def write(folder: Path, name: str, text: str = SEED_WRONG) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_unprivileged(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*permission_bits_apply(), sys.executable, "-m", "tllint", "check", *args], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60)


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A folder the checker cannot list."""
    folder = tmp_path / "locked"
    write(folder, "inside.py")
    folder.chmod(0)
    probe = subprocess.run([*permission_bits_apply(), sys.executable, "-c", f"import os; os.listdir({str(folder)!r})"],
                           capture_output=True)
    if probe.returncode == 0:
        folder.chmod(0o755)
        pytest.skip("permission bits do not apply here: no folder can be made unreadable")
    yield folder
    folder.chmod(0o755)


# --- the acceptance tree ----------------------------------------------------------------------------------------

@needs_posix
def test_a_tree_of_odd_paths_reports_the_finding_one_error_per_bad_path_and_exits_2(tmp_path: Path,
                                                                                    locked: Path) -> None:
    write(tmp_path, "train.py")
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "self").symlink_to(".", target_is_directory=True)  # a link to a folder: not followed
    result = run_unprivileged(".", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith(f"train.py:{SEED_WRONG_LINE}:1: TL001 ")
    assert result.stderr.splitlines() == [
        "tllint: error: locked: cannot list this folder: cannot read: Permission denied",
        "tllint: error: loop.py: symbolic link loop, skipped",
        "tllint: error: pipe.py: not a regular file (a FIFO), skipped",
        "tllint: error: zero.py: not a regular file (a device), skipped",
    ]


@needs_posix
def test_odd_paths_named_on_the_command_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "dangling.py").symlink_to("nowhere.py")
    write(tmp_path, "train.py")
    result = run_tllint("check", "pipe.py", "zero.py", "loop.py", "dangling.py", "train.py", cwd=tmp_path,
                        timeout=60)
    assert result.returncode == 2 and "TL001" in result.stdout
    assert result.stderr.splitlines() == [
        "tllint: error: dangling.py: cannot read: broken symbolic link (to nowhere.py), skipped",
        "tllint: error: loop.py: symbolic link loop, skipped",
        "tllint: error: pipe.py: not a regular file (a FIFO), skipped",
        "tllint: error: zero.py: not a regular file (a device), skipped",
    ]


@needs_posix
def test_a_fifo_in_place_of_a_file_is_never_waited_on(tmp_path: Path) -> None:
    """Discovery skips FIFOs; if one replaces a file after discovery, the read opens it non-blocking and refuses."""
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(NotRegular):
        read_limited(tmp_path / "pipe.py", 1000)


@needs_posix
def test_links_to_files_are_followed_once(tmp_path: Path) -> None:
    write(tmp_path, "real/train.py")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real" / "train.py")
    result = run_tllint("check", "--output-format", "json", ".", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)] == ["alias.py"]


# --- long names -------------------------------------------------------------------------------------------------

def test_a_file_name_too_long_for_the_system(tmp_path: Path) -> None:
    name = "t" * 300 + ".py"
    write(tmp_path, "train.py")
    result = run_tllint("check", name, "train.py", cwd=tmp_path)
    assert result.returncode == 2 and "TL001" in result.stdout
    assert result.stderr == f"tllint: error: {name}: the path is too long for this system, skipped\n"


@needs_posix
def test_a_tree_deeper_than_path_max_is_reported_and_the_rest_checked(tmp_path: Path) -> None:
    write(tmp_path, "train.py")
    depth = 0
    descriptor = os.open(tmp_path, os.O_RDONLY)
    try:
        while depth * 201 < 4200:  # past PATH_MAX (4096 on Linux), built relative to open folders
            os.mkdir("d" * 200, dir_fd=descriptor)
            deeper = os.open("d" * 200, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = deeper
            depth += 1
    finally:
        os.close(descriptor)
    result = run_tllint("check", ".", cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "TL001" in result.stdout
    [line] = result.stderr.splitlines()
    assert "the path is too long for this system" in line and line.startswith("tllint: error: dddd")
    shutil.rmtree(tmp_path / ("d" * 200), ignore_errors=True)


# --- a repository that plants its own cache -------------------------------------------------------------------

def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@needs_posix
def test_a_committed_cache_link_to_outside_writes_nothing_there(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    repo = tmp_path / "repo"
    write(repo, "train.py")
    (repo / CACHE_DIR).symlink_to(outside, target_is_directory=True)
    result = run_tllint("check", ".", cwd=repo)
    assert result.returncode == 1 and "TL001" in result.stdout
    assert result.stderr == (f"tllint: warning: {repo / CACHE_DIR} is a symbolic link; the cache is off for this "
                             "run (tllint never writes through a link)\n")
    assert contents(outside) == {"keep.txt": b"mine"}
    assert run_tllint("check", "-s", ".", cwd=repo).stderr == ""


@needs_posix
@pytest.mark.parametrize("planted", [".gitignore", "CACHEDIR.TAG", "v1", "shard", "entry"])
def test_links_inside_the_cache_are_never_followed(tmp_path: Path, planted: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("mine")
    repo = tmp_path / "repo"
    write(repo, "train.py")
    first = run_tllint("check", ".", cwd=repo)  # a real cache, to find the entry's place
    [entry] = (repo / CACHE_DIR).rglob("v1/*/*")
    target = {".gitignore": repo / CACHE_DIR / ".gitignore", "CACHEDIR.TAG": repo / CACHE_DIR / "CACHEDIR.TAG",
              "v1": repo / CACHE_DIR / "v1", "shard": entry.parent, "entry": entry}[planted]
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.symlink_to(outside / "victim" if planted in (".gitignore", "CACHEDIR.TAG", "entry") else outside)
    if planted in (".gitignore", "CACHEDIR.TAG"):
        shutil.rmtree(repo / CACHE_DIR / "v1")  # the markers are written when the folder is made: make it again
        (repo / CACHE_DIR / ".gitignore").unlink(missing_ok=True) if planted != ".gitignore" else None
        (repo / CACHE_DIR / "CACHEDIR.TAG").unlink(missing_ok=True) if planted != "CACHEDIR.TAG" else None
    again = run_tllint("check", ".", cwd=repo)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)
    assert contents(outside) == {"victim": b"mine"}


def poisoned(tmp_path: Path, entry_text: bytes) -> subprocess.CompletedProcess[str]:
    write(tmp_path, "train.py")
    first = run_tllint("check", ".", cwd=tmp_path)
    [entry] = (tmp_path / CACHE_DIR).rglob("v1/*/*")
    stored = json.loads(entry.read_text())
    entry.write_bytes(entry_text.replace(b"KEY", stored["key"].encode()))
    again = run_tllint("check", ".", cwd=tmp_path)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)
    return again


@pytest.mark.parametrize("entry", [
    b'{"format": 1, "key": "KEY", "findings": [{"code": 5}]}',
    b'{"format": 1, "key": "KEY", "findings": [{"code": "TL001", "name": "freeze-after-head-replacement", '
    b'"severity": "error", "message": ["not", "text"], "span": [1, 1, 1, 1], "fix": null, "cell": null, '
    b'"extra": {}}]}',
    b'{"format": 1, "key": "KEY", "findings": [{"code": "TL001", "name": "freeze-after-head-replacement", '
    b'"severity": "error", "message": "m", "span": [1, true, 1, 1], "fix": null, "cell": null, "extra": {}}]}',
    b'{"format": 1, "key": "KEY", "findings": [{"code": "TL001", "name": "freeze-after-head-replacement", '
    b'"severity": "error", "message": "m", "span": [1, 1, 1, 1], "fix": null, "cell": null, '
    b'"extra": {"source_line": 7}}]}',
    b'{"format": 1, "key": "KEY", "findings": [{"code": "TL999", "name": "x", "severity": "error", '
    b'"message": "m", "span": [1, 1, 1, 1], "fix": null, "cell": null, "extra": {}}]}',
    b'{"format": 1, "key": "KEY", "findings": {}}',
    b'{"format": 1, "key": "KEY", "findings": [], "extra": 1}',
    b'{"format": 1, "key": "KEY", "findings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
], ids=["code-type", "message-type", "span-bool", "source-line-type", "unknown-code", "findings-dict",
        "extra-key", "deep-nesting"])
def test_a_cache_entry_of_the_wrong_shape_is_a_miss(tmp_path: Path, entry: bytes) -> None:
    poisoned(tmp_path, entry)


@needs_posix
def test_a_fifo_as_a_cache_entry_is_a_miss(tmp_path: Path) -> None:
    write(tmp_path, "train.py")
    first = run_tllint("check", ".", cwd=tmp_path)
    [entry] = (tmp_path / CACHE_DIR).rglob("v1/*/*")
    entry.unlink()
    os.mkfifo(entry)
    again = run_tllint("check", ".", cwd=tmp_path, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)


# --- size limit -------------------------------------------------------------------------------------------------

def test_a_file_over_the_size_limit_is_tl000_and_not_read(tmp_path: Path) -> None:
    write(tmp_path, "big.py", "x = 1\n" * 400)
    write(tmp_path, "train.py", SEED_RIGHT)
    result = run_tllint("check", "--max-file-size", "1kB", "--output-format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)
    assert (finding["path"], finding["code"], finding["line"]) == ("big.py", "TL000", 1)
    assert "over the 1,000 bytes limit (`max-file-size`)" in finding["message"]
    write(tmp_path, "pyproject.toml", '[tool.tllint]\nmax-file-size = "1MB"\n')
    assert run_tllint("check", ".", cwd=tmp_path).returncode == 0


# --- .gitignore -------------------------------------------------------------------------------------------------

def test_a_crafted_gitignore_line_cannot_make_the_walk_spin(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "a*" * 60 + "b\n" + "**/" * 50 + "a*" * 30 + "c/\n")
    for index in range(20):
        write(tmp_path, f"{'a' * 200}{index}.py", SEED_WRONG)
    write(tmp_path, f"{'a/' * 40}train.py")
    result = run_tllint("check", "--no-cache", "--statistics", ".", cwd=tmp_path, timeout=60)
    assert result.stdout == "21  TL001  freeze-after-head-replacement\n"


PATTERNS = ["*.pyc", "build/", "/top.py", "docs/*.py", "a/**/z.py", "**/gen", "deep/**", "!keep.pyc", "\\#hash.py",
            "trailing.py   ", "[abc]x.py", "[!q]y.py", "x?z.py", "*.egg-info", "lib/*/mod.py", "sub/", "!sub/again.py",
            "**/logs/*.py", "notes\\ .py"]
PATHS = ["a.pyc", "keep.pyc", "sub/keep.pyc", "build/x.py", "sub/build/x.py", "top.py", "sub/top.py", "docs/a.py",
         "docs/sub/a.py", "x/docs/a.py", "a/z.py", "a/b/z.py", "a/b/c/z.py", "b/a/z.py", "gen/x.py", "x/gen/y.py",
         "deep/x.py", "deep/a/b.py", "#hash.py", "trailing.py", "ax.py", "dx.py", "qy.py", "ry.py", "xaz.py",
         "xz.py", "pkg.egg-info/x.py", "lib/a/mod.py", "lib/a/b/mod.py", "lib/mod.py", "sub/again.py",
         "logs/a.py", "x/logs/a.py", "x/logs/deep/a.py", "notes .py", "plain.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the reference")
def test_gitignore_semantics_agree_with_git(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("\n".join(PATTERNS) + "\n")
    for path in PATHS:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    listed = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"], cwd=tmp_path, check=True,
                            capture_output=True, text=True).stdout.split("\0")
    by_git = sorted(p for p in PATHS if p not in listed)
    rules = IgnoreFile.read(tmp_path / ".gitignore", str(tmp_path))
    assert rules is not None

    def ignored_by_tllint(path: str) -> bool:
        parts = path.split("/")
        return any(ignored(os.path.join(str(tmp_path), *parts[:i]), i < len(parts), [rules])
                   for i in range(1, len(parts) + 1))

    assert sorted(p for p in PATHS if ignored_by_tllint(p)) == by_git
    assert 5 < len(by_git) < len(PATHS) - 5  # the cases cover both answers


# --- exit codes ---------------------------------------------------------------------------------------------------

def test_an_internal_error_is_one_line_naming_the_file_and_exit_2(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.py")
    write(tmp_path, "b.py")
    real = engine.build_facts

    def broken(tree, source, project=None):  # type: ignore[no-untyped-def]
        if "b_marker" in "\n".join(source.lines):
            raise ValueError("boom")
        return real(tree, source, project)

    (tmp_path / "b.py").write_text(SEED_WRONG + "b_marker = 1\n")
    monkeypatch.setattr(engine, "build_facts", broken)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--no-cache", "-j", "1", "."])
    assert result.exit_code == 2
    assert "a.py:" in result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith("tllint: error: b.py: internal error while analysing: ValueError: boom (a bug in tllint: "
                           "please report it with this file at ")
    assert "Traceback" not in result.stderr
    verbose = CliRunner().invoke(main, ["check", "--no-cache", "-j", "1", "--verbose", "."])
    assert verbose.exit_code == 2 and "Traceback (most recent call last)" in verbose.stderr
    assert "raise ValueError(\"boom\")" in verbose.stderr


def test_an_internal_error_outside_any_file_is_one_line_and_exit_2(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import tllint.cli.check as check_module

    def broken(*args: object) -> int:
        raise KeyError("lost")

    monkeypatch.setattr(check_module, "_check", broken)
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("tllint: internal error: KeyError: 'lost' (a bug in tllint: please report it at ")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    verbose = CliRunner().invoke(main, ["check", "-v", str(tmp_path)])
    assert verbose.exit_code == 2 and "Traceback (most recent call last)" in verbose.stderr


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the worker processes")
def test_ctrl_c_exits_130_without_a_traceback_from_any_process(tmp_path: Path) -> None:
    """As a terminal does: SIGINT to the whole process group (the checker and its idle or busy workers)."""
    for index in range(1500):
        write(tmp_path, f"pkg{index % 30}/train{index}.py", SEED_WRONG + f"\nvalue = {index}\n")
    process = subprocess.Popen([sys.executable, "-m", "tllint", "check", "--no-cache", "-j", "2", "."],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(children(process.pid)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the workers could be interrupted"
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip() == ""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # no worker is left behind
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail("worker processes outlived the interrupted checker")


@needs_posix
def test_read_limited_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(NotRegular):
        read_limited(Path("/dev/null"), 10)
    (tmp_path / "f.py").write_text("x")
    assert read_limited(tmp_path / "f.py", 10) == b"x"
