"""The library's own exceptions, so callers can catch one type and read a clear message.

Two families: errors about the reader's *environment* (the data is missing, a file is corrupt, a
download failed, the cache cannot be written) and errors about a *call* (an array of the wrong
shape, an unknown option). An environment error's message already says what is wrong and what
to do, and no line of the reader's code is at fault, so in a notebook it is shown as that message
alone instead of a page of traceback through the library (see :class:`ReadableInNotebooks`).
"""

from __future__ import annotations

_RED = "\x1b[31m"
_RESET = "\x1b[0m"


class MnistError(Exception):
    """Base class of every error mnist_lib raises on purpose."""


class ReadableInNotebooks:
    """Mixin: IPython shows the exception as its class name and message, without a traceback.

    IPython (and so ipykernel, Jupyter and nbclient) calls ``_render_traceback_()`` when an
    exception defines it and shows the lines it returns instead of the formatted traceback
    (``InteractiveShell.showtraceback``). Plain Python, pytest and the command line are unchanged.
    """

    def _render_traceback_(self) -> list[str]:
        """What IPython shows: the class name in red, as IPython colours it, then the message."""
        head, *rest = str(self).splitlines() or [""]
        return [f"{_RED}{type(self).__name__}{_RESET}: {head}", *rest]


class DataError(ReadableInNotebooks, MnistError):
    """A data file is missing, unreadable, truncated, corrupt or of the wrong kind."""


class DataNotFoundError(DataError):
    """No usable MNIST copy was found in any place looked at, and none could be downloaded."""


class DownloadError(DataError):
    """A download failed: every mirror was down, slow, or served the wrong bytes, or the
    destination folder could not be written."""


class InputError(MnistError, ValueError):
    """An array given to the library has the wrong shape, dtype or value range.

    Deliberately not :class:`ReadableInNotebooks`: this is a mistake in the reader's own call,
    and the traceback's last frames in their cell point at the line to change.
    """


class ModelCacheError(ReadableInNotebooks, MnistError):
    """A trained-model cache entry cannot be read or written."""
