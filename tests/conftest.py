"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest_plugins = ["real_data_fixtures"]


@pytest.fixture(autouse=True)
def _close_pyplot_figures() -> Iterator[None]:
    """The library's figures bypass pyplot; close anything a test opened there anyway."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
