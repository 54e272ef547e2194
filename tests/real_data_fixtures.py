"""Fixtures for tests that train on the real MNIST: import them into a test module by name.

from real_data_fixtures import mnist, real_data_env  # noqa: F401  (pytest fixtures)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mnist_fixtures import REAL_MNIST

from mnist_lib.data import MnistData, load_mnist


@pytest.fixture
def real_data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared real data, no downloads, and an empty model cache of the test's own."""
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
    monkeypatch.setenv("MNIST_DATA_DIR", str(REAL_MNIST))


@pytest.fixture(scope="module")
def mnist() -> MnistData:
    """The full real data set, loaded once per test module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_OFFLINE", "1")
        return load_mnist(REAL_MNIST)
