"""The library's own exceptions, so callers can catch one type and read a clear message."""

from __future__ import annotations


class MnistError(Exception):
    """Base class of every error mnist_lib raises on purpose."""


class DataError(MnistError):
    """A data file is missing, unreadable, truncated, corrupt or of the wrong kind."""


class DataNotFoundError(DataError):
    """No usable MNIST copy was found in any place looked at, and none could be downloaded."""


class DownloadError(DataError):
    """A download failed: every mirror was down, slow, or served the wrong bytes."""


class InputError(MnistError, ValueError):
    """An array given to the library has the wrong shape, dtype or value range."""


class ModelCacheError(MnistError):
    """A trained-model cache entry cannot be read or written."""
