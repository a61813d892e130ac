"""Exceptions raised by the newsctl library.

The library never prints and never exits; the command line turns these into
one line on stderr and an exit status.
"""


class NewsctlError(Exception):
    """Base class for every error newsctl reports to a user."""


class InputError(NewsctlError):
    """A path or input the user named cannot be used (missing, no input given)."""


class ModelError(NewsctlError):
    """An NLP pipeline cannot be found or loaded."""


class QueryError(NewsctlError):
    """A search query or pattern cannot be parsed."""


class StoreError(NewsctlError):
    """The annotation store or search index is damaged or cannot be written."""


class StoreFullError(StoreError):
    """The disk holding the store is full."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, cut to ``limit`` characters (its class name when it has none)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
