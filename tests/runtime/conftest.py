"""Runtime-test settings."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    """Two cores are shared by the whole suite; small inputs gain nothing from more threads."""
    torch.set_num_threads(1)
