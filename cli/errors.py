"""The one error boundary: library errors become one line on stderr and an exit status.

Exit statuses: 0 success, 1 partial (an input was skipped) or, for search,
nothing matched; 2 usage error, missing input or any other error; 130
interrupted (Ctrl-C). A closed pipe (``| head``) ends quietly with 0.
"""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

from analysis.errors import NewsctlError

from . import output

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_NO_MATCH = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable)


def report(exc: NewsctlError | KeyboardInterrupt | BrokenPipeError) -> int:
    """Say what ended the command, as the boundary does, and return its exit status."""
    if isinstance(exc, NewsctlError):
        output.error(str(exc))
        return EXIT_ERROR
    if isinstance(exc, KeyboardInterrupt):
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    output.silence_stdout()  # a closed pipe
    return EXIT_OK


def boundary(fn: F) -> F:
    """Wrap a command body: no traceback for user errors, Ctrl-C or a closed pipe."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (NewsctlError, KeyboardInterrupt, BrokenPipeError) as exc:
            import typer  # here: cli/fast.py uses report() without loading typer

            raise typer.Exit(report(exc)) from None

    return wrapper  # type: ignore[return-value]
