"""How the library's errors look in a notebook: an environment problem as one readable message.

IPython shows an exception's ``_render_traceback_()`` lines instead of its traceback; the library's
environment errors (data, downloads, the model cache) define it, a reader's wrong call does not.
The chapters themselves are run without data in test_notebooks_without_data.py.
"""

from __future__ import annotations

import pytest

from mnist_lib import errors
from mnist_lib.errors import (
    DataError,
    DataNotFoundError,
    DownloadError,
    InputError,
    MnistError,
    ModelCacheError,
    ReadableInNotebooks,
)

ENVIRONMENT_ERRORS = [DataError, DataNotFoundError, DownloadError, ModelCacheError]


@pytest.mark.parametrize("kind", ENVIRONMENT_ERRORS, ids=lambda kind: kind.__name__)
def test_environment_errors_render_as_their_name_and_message_only(kind: type) -> None:
    error = kind("MNIST was not found. Places looked at:\n  - cache folder /x: does not exist")
    assert error._render_traceback_() == [
        f"\x1b[31m{kind.__name__}\x1b[0m: MNIST was not found. Places looked at:",
        "  - cache folder /x: does not exist",
    ]
    assert isinstance(error, MnistError)


def test_an_empty_message_still_renders_the_name() -> None:
    assert DataError()._render_traceback_() == ["\x1b[31mDataError\x1b[0m: "]


def test_a_wrong_call_keeps_its_traceback() -> None:
    """InputError (and the base class) are left to IPython's traceback, which shows the line."""
    assert not hasattr(InputError("x"), "_render_traceback_")
    assert not hasattr(MnistError("x"), "_render_traceback_")
    assert issubclass(InputError, ValueError)


def test_every_readable_error_is_an_environment_error() -> None:
    readable = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, ReadableInNotebooks)
        and value.__module__ == errors.__name__
        and value is not ReadableInNotebooks
    }
    assert readable == {kind.__name__ for kind in ENVIRONMENT_ERRORS}
