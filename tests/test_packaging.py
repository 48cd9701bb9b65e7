"""The wheel users install carries what the checker reads at run time: the rule index, every rule module (whose
docstring is its page) and the architecture table; nothing of the repository's tests or tools. It requires libcst
(for `--fix`) without any extra."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import REPO
from tllint.findings.registry import INDEX_FILE, catalog


def test_wheel_ships_the_index_every_rule_module_and_the_architecture_table(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("tllint-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tllint/static/data/architectures.json.gz" in names
    assert f"tllint/findings/{INDEX_FILE}" in names
    modules = {info.module.replace(".", "/") + ".py" for info in catalog().values()}
    assert modules <= names, sorted(modules - names)
    assert not any(name.startswith(("tests/", "fixtures/", "tools/", "rules/")) for name in names)
    [entry_points] = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[flake8.extension]\nTL = tllint.flake8_plugin:TllintChecker" in text  # flake8 finds the plugin
    assert "[console_scripts]\ntllint = tllint.cli:main" in text
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    requires = [line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist: libcst")]
    assert requires == ["Requires-Dist: libcst>=1.4"], requires  # a runtime dependency (`--fix` merges imports)
