"""What the tests share: paths, the seed script, the real CLI in a subprocess, fixture expectations, fixture
modules loaded by path, and bit-exact fingerprints of model state (torch is imported only by those)."""

from __future__ import annotations

import copy
import importlib.util
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
STATIC_FIXTURES = FIXTURES / "static"
RUNTIME_FIXTURES = FIXTURES / "runtime"

# The seed: a resnet18 whose head is replaced before the freeze loop, and the right order of the same script.
SEED_WRONG_PATH = STATIC_FIXTURES / "TL001" / "bad_seed.py"
SEED_RIGHT_PATH = STATIC_FIXTURES / "TL001" / "good_seed.py"
SEED_WRONG = SEED_WRONG_PATH.read_text(encoding="utf-8")
SEED_RIGHT = SEED_RIGHT_PATH.read_text(encoding="utf-8")

EXPECT = re.compile(rb"#\s*expect:\s*(TL\d{3}(?:\s*,\s*TL\d{3})*)")


def expectations(data: bytes) -> set[tuple[int, str]]:
    """The (line, code) pairs a fixture's `# expect: TL001` comments announce (read on bytes: any encoding)."""
    expected: set[tuple[int, str]] = set()
    for number, line in enumerate(data.split(b"\n"), start=1):
        match = EXPECT.search(line)
        if match:
            expected |= {(number, code.strip().decode()) for code in match.group(1).split(b",")}
    return expected


SEED_WRONG_LINE = min(line for line, _ in expectations(SEED_WRONG.encode()))


def run_tllint(*args: str, cwd: Path | None = None, timeout: float = 120,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m tllint ARGS` in a subprocess, importing this checkout's package."""
    environ = {**os.environ, **(env or {}),
               "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    environ.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "tllint", *args], cwd=cwd or REPO, env=environ,
                          capture_output=True, text=True, timeout=timeout)


def permission_bits_apply() -> list[str]:
    """A command prefix under which file permission bits apply: nothing for a normal user; for root (who reads any
    file, so a mode-0 file is not unreadable) `setpriv` dropping the two capabilities that override them. Empty
    list and a skip (pytest) when that cannot be done."""
    import shutil

    import pytest

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("tests run as root and setpriv is missing: no file can be made unreadable")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def load_module(path: Path) -> ModuleType:
    """Import a fixture file by its path (no `sys.path` edits), as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fingerprint(model: Any, optimizer: Any = None) -> dict[str, Any]:
    """Everything the audit promises to leave as it found it, copied."""
    import numpy
    import torch

    params = dict(model.named_parameters())
    return {
        "params": {name: p.detach().clone() for name, p in params.items()},
        "param_ids": {name: id(p) for name, p in params.items()},
        "grads": {name: None if p.grad is None else p.grad.clone() for name, p in params.items()},
        "requires_grad": {name: p.requires_grad for name, p in params.items()},
        "buffers": {name: b.clone() for name, b in model.named_buffers()},
        "training": {name: m.training for name, m in model.named_modules()},
        "attributes": {name: sorted(vars(m)) for name, m in model.named_modules()},
        "state_dict": {name: t.clone() for name, t in model.state_dict(keep_vars=True).items()},
        "rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
        "numpy_rng": [getattr(part, "tolist", lambda p=part: p)() for part in numpy.random.get_state()],
        "optimizer": copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None,
    }


def assert_same(before: Any, after: Any, path: str = "") -> None:
    """Bit-identical comparison of two fingerprints (tensors by value and dtype, None stays None)."""
    import torch

    if isinstance(before, torch.Tensor):
        assert isinstance(after, torch.Tensor), path
        assert before.dtype == after.dtype and torch.equal(before, after), f"{path} changed"
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), path
        for key in before:
            assert_same(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, list | tuple):
        assert len(before) == len(after), path
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_same(b, a, f"{path}[{i}]")
    else:
        assert before == after, f"{path}: {before!r} -> {after!r}"
