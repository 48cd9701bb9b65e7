"""What reading a notebook costs: the same training script checked as a `.py` file and as a `.ipynb` notebook.

    python bench/notebook_speed.py [--lines 500] [--from FILE] [--repeat 50]

The notebook is generated from the script (`bench/compare.py`'s 500-line one by default, or FILE): cut into code
cells of about 12 lines at top-level statements, a markdown cell before every third, a `!pip install` and a
`%matplotlib inline` line in the first, and as outputs a 30 kB PNG every fourth cell and a few lines of stdout
elsewhere, as a notebook that was run looks. Prints, in-process on one core (medians, runs interleaved):
`check_source` on the script and on the notebook, the reader alone (JSON to masked program), and the byte
pre-filter on a notebook of the same size without training code; then the CLI end to end (`--no-cache`, a fresh
process each run). Asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.compare import script  # noqa: E402
from tllint.config import Config  # noqa: E402
from tllint.static.engine import check_source  # noqa: E402
from tllint.static.notebook import Program, read_cells  # noqa: E402
from tllint.static.prefilter import skip_reason  # noqa: E402


def cells_of(text: str, size: int = 12) -> list[str]:
    """The script cut before top-level statements that follow a blank line, into cells of at least `size` lines."""
    cells: list[list[str]] = [[]]
    lines = text.rstrip("\n").split("\n")
    for index, line in enumerate(lines):
        starts = index > 0 and not lines[index - 1].strip() and line[:1] not in ("", " ", "\t", ")", "]", "}")
        if starts and len(cells[-1]) >= size:
            cells.append([])
        cells[-1].append(line)
    return ["\n".join(cell) for cell in cells]


def notebook(text: str) -> bytes:
    png = base64.b64encode(os.urandom(30_000)).decode()
    cells = []
    for number, source in enumerate(cells_of(text)):
        if number == 0:
            source = "!pip install -q torchmetrics\n%matplotlib inline\n" + source
        if number % 3 == 0:
            heading = [f"## Step {number // 3 + 1}\n", "Notes."]
            cells.append({"cell_type": "markdown", "metadata": {}, "source": heading})
        if number % 4 == 3:
            outputs = [{"output_type": "display_data", "metadata": {},
                        "data": {"image/png": png, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}}]
        else:
            log = [f"epoch {i}: loss 0.{i}3\n" for i in range(4)]
            outputs = [{"output_type": "stream", "name": "stdout", "text": log}]
        lines = [line + "\n" for line in source.split("\n")]
        lines[-1] = lines[-1].rstrip("\n")
        cells.append({"cell_type": "code", "execution_count": number + 1, "metadata": {}, "outputs": outputs,
                      "source": lines})
    document = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                             "language_info": {"name": "python", "version": "3.11.7"}}}
    return json.dumps(document, indent=1).encode()


def timed(work: Callable[[], object], times: list[float]) -> None:
    """Run `work` once, adding its wall time in ms to `times`."""
    started = time.perf_counter()
    work()
    times.append((time.perf_counter() - started) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--from", dest="source", type=Path, default=None, help="a training script to use instead")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    text = args.source.read_text(encoding="utf-8") if args.source else script(args.lines)
    data, codes = text.encode(), Config().enabled_codes()
    nb = notebook(text)
    quiet = notebook(text.replace("parameters(", "params(").replace("requires_grad", "trainable")
                     .replace("torchvision", "tv").replace("create_optimizer", "make_opt"))
    cases: dict[str, Callable[[], object]] = {
        "check_source, .py": lambda: check_source(data, "train.py", codes),
        "check_source, .ipynb": lambda: check_source(nb, "train.ipynb", codes),
        "reader alone (JSON -> masked program)": lambda: Program.of_notebook(read_cells(nb)),
        "pre-filter, .ipynb without training code": lambda: skip_reason(quiet, codes, notebook=True),
    }
    assert skip_reason(quiet, codes, notebook=True) is not None, "the notebook without training code is skipped"
    code_cells = sum(1 for _ in read_cells(nb))
    print(f"script: {text.count(chr(10))} lines, {len(data):,} bytes; notebook: {code_cells} code cells, "
          f"{len(nb):,} bytes (outputs included)")
    print(f"findings: .py {len(check_source(data, 'train.py', codes).findings)}, "
          f".ipynb {len(check_source(nb, 'train.ipynb', codes).findings)}")
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, work in cases.items():
            timed(work, times[name])
    for name, values in times.items():
        print(f"  {name:45} median {statistics.median(values):7.2f} ms")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "train.py").write_bytes(data)
        (Path(folder) / "train.ipynb").write_bytes(nb)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cli: dict[str, list[float]] = {"train.py": [], "train.ipynb": []}
        for _ in range(11):
            for name, values in cli.items():
                timed(lambda name=name: subprocess.run([sys.executable, "-m", "tllint", "check", "--no-cache", "-q",
                                                        name], cwd=folder, env=env, capture_output=True), values)
        for name, values in cli.items():
            label = f"CLI `tllint check --no-cache {name}`"
            print(f"  {label:45} median {statistics.median(values):7.2f} ms")


if __name__ == "__main__":
    main()
