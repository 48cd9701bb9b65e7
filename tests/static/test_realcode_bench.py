"""bench/realcode: the manifest is well formed, materialise.sh reads files out of git mirrors at their commits, and
realcode.py counts found mistakes, misses and false alarms from a real `tllint check` run.

The files used here are this project's own seed fixtures committed into a throwaway git repository: no public
code is involved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, SEED_RIGHT, SEED_WRONG

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BENCH = REPO / "bench"
MANIFEST = BENCH / "realcode" / "manifest.toml"
SEED_FREEZE_LINE = 6  # the freeze after the head replacement in fixtures/static/TL001/bad_seed.py


def test_manifest_entries_are_complete_and_unique() -> None:
    entries = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["file"]
    keys = [(e["repo"], e["commit"], e["path"]) for e in entries]
    assert len(keys) == len(set(keys))
    for entry in entries:
        assert entry["kind"] in ("bug", "correct")
        assert len(entry["commit"]) == 40 and int(entry["commit"], 16) >= 0
        assert entry["repo"].count("/") == 1 and entry["evidence"]
        assert bool(entry.get("expect")) == (entry["kind"] == "bug")
        for expected in entry.get("expect", []):
            assert str(expected["code"]).startswith("TL") and expected["line"] > 0
    assert sum(e["kind"] == "bug" for e in entries) >= 20
    assert sum(e["kind"] == "correct" for e in entries) >= 20


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, str, str]:
    """A mirrors folder holding `someone/scripts` (as the fetch tool names it) with two commits of train.py:
    the seed's wrong order, then the right order. Returns (mirrors folder, buggy commit, fixed commit)."""
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    _git(work, "config", "user.email", "eval@example.invalid")
    _git(work, "config", "user.name", "eval")
    (work / "train.py").write_text(SEED_WRONG, encoding="utf-8")
    _git(work, "add", "train.py")
    _git(work, "commit", "-qm", "wrong order")
    buggy = _git(work, "rev-parse", "HEAD")
    (work / "train.py").write_text(SEED_RIGHT, encoding="utf-8")
    _git(work, "commit", "-qam", "right order")
    fixed = _git(work, "rev-parse", "HEAD")
    mirrors = tmp_path / "mirrors"
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(mirrors / "someone+scripts" / "repo"))
    return mirrors, buggy, fixed


def _entry(commit: str, kind: str, expect: str = "") -> str:
    """One manifest entry for train.py of `someone/scripts` at `commit`."""
    text = f'[[file]]\nrepo = "someone/scripts"\ncommit = "{commit}"\npath = "train.py"\nkind = "{kind}"\n'
    return text + f'evidence = "test"\n{f"expect = {expect}" if expect else ""}\n\n'


def _materialise(mirrors: Path, dest: Path, manifest: Path) -> None:
    done = subprocess.run(["bash", str(BENCH / "realcode" / "materialise.sh"), str(mirrors), str(dest), str(manifest)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _measure(dest: Path, manifest: Path) -> dict:
    command = [sys.executable, str(BENCH / "realcode.py"), str(dest), "--manifest", str(manifest), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_materialise_then_measure(mirror: tuple[Path, str, str], tmp_path: Path) -> None:
    mirrors, buggy, fixed = mirror
    manifest = tmp_path / "manifest.toml"
    expect = f'[{{ code = "TL001", line = {SEED_FREEZE_LINE} }}, {{ code = "TL010", line = 2 }}]'
    manifest.write_text(_entry(buggy, "bug", expect) + _entry(fixed, "correct"), encoding="utf-8")
    dest = tmp_path / "files"
    _materialise(mirrors, dest, manifest)
    assert (dest / "someone+scripts" / buggy / "train.py").read_text(encoding="utf-8") == SEED_WRONG
    assert (dest / "someone+scripts" / fixed / "train.py").read_text(encoding="utf-8") == SEED_RIGHT

    result = _measure(dest, manifest)
    assert result["recall"] == {"found": 1, "expected": 2}
    assert [(m["codes"], m["where"]) for m in result["misses"]] == [(["TL010"], "line 2")]
    assert result["false_alarms"]["errors"] == 0


def test_error_on_a_correct_file_is_a_false_alarm(mirror: tuple[Path, str, str], tmp_path: Path) -> None:
    mirrors, buggy, _ = mirror
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(_entry(buggy, "correct"), encoding="utf-8")
    dest = tmp_path / "files"
    _materialise(mirrors, dest, manifest)
    result = _measure(dest, manifest)
    assert result["false_alarms"]["errors"] >= 1
    assert any(f"TL001 (error) line {SEED_FREEZE_LINE}" in alarm["finding"] for alarm in result["alarms"])


def test_missing_files_are_reported_not_measured(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(_entry("0" * 40, "correct"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(BENCH / "realcode.py"), str(tmp_path), "--manifest", str(manifest)],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "not materialised" in done.stderr


def test_a_file_tllint_cannot_analyse_is_reported(mirror: tuple[Path, str, str], tmp_path: Path) -> None:
    """A tllint that exits 2 with an internal error on one file still yields the figures for the others, and the
    failed file is listed (a file not analysed must never count as clean)."""
    mirrors, buggy, fixed = mirror
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(_entry(buggy, "bug", f'[{{ code = "TL001", line = {SEED_FREEZE_LINE} }}]')
                        + _entry(fixed, "correct"), encoding="utf-8")
    dest = tmp_path / "files"
    _materialise(mirrors, dest, manifest)
    failing = dest / "someone+scripts" / buggy / "train.py"
    fake = tmp_path / "fake" / "tllint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__main__.py").write_text(
        "import sys\n"
        "print('[]')\n"
        f"print('tllint: error: {failing}: internal error while analysing: AttributeError: x', file=sys.stderr)\n"
        "sys.exit(2)\n",
        encoding="utf-8",
    )
    command = [sys.executable, str(BENCH / "realcode.py"), str(dest), "--manifest", str(manifest), "--json",
               "--tllint-root", str(fake.parent)]
    result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert result["recall"] == {"found": 0, "expected": 1}
    assert [(item["kind"], item["finding"].split(":")[0]) for item in result["not_analysed"]] == [
        ("bug", "internal error while analysing")]
