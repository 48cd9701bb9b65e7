"""The wheel users install carries what the checker reads at run time: rule pages and the architecture table."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO
from tllint.findings.catalog import CATALOG


def test_wheel_ships_every_rule_page_and_the_architecture_table(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("tllint-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tllint/static/data/architectures.json.gz" in names
    pages = {f"tllint/_rule_pages/{info.code}-{info.name}.md" for info in CATALOG.values()}
    assert pages <= names, sorted(pages - names)
    assert not any(name.startswith(("tests/", "fixtures/", "tools/")) for name in names)
