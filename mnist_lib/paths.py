"""Where mnist_lib keeps what it downloads and trains, in one place so every module agrees.

One environment variable moves everything: ``MNIST_CACHE_DIR`` is the cache root; downloaded
data goes to ``<root>/data`` and trained models to ``<root>/models``. Without it the per-user cache
folder of the platform is used (``~/.cache/mnist-lib`` on Linux). The project's Makefile points it
at the git-ignored ``.cache/`` folder of the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_CACHE_DIR = "MNIST_CACHE_DIR"
"""Environment variable naming the cache root (data downloads and trained models)."""

ENV_DATA_DIR = "MNIST_DATA_DIR"
"""Environment variable naming a folder that already holds MNIST (looked at before the cache)."""


def cache_root() -> Path:
    """The cache root: ``$MNIST_CACHE_DIR`` when set, else the platform's per-user cache folder."""
    configured = os.environ.get(ENV_CACHE_DIR, "").strip()
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_cache_path("mnist-lib")


def data_cache_dir() -> Path:
    """Folder that downloads of MNIST go to."""
    return cache_root() / "data"


def model_cache_dir() -> Path:
    """Folder of the trained-model cache."""
    return cache_root() / "models"
