"""The one error boundary: library errors become one line on stderr and an exit status.

Exit statuses: 0 success, 1 partial (an input was skipped) or, for search,
nothing matched; 2 usage error, missing input or any other error; 130
interrupted (Ctrl-C). A closed pipe (``| head``) ends quietly with 0.
"""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

import typer

from analysis.errors import NewsctlError

from . import output

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_NO_MATCH = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable)


def boundary(fn: F) -> F:
    """Wrap a command body: no traceback for user errors, Ctrl-C or a closed pipe."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NewsctlError as exc:
            output.error(str(exc))
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            output.silence_stdout()
            raise typer.Exit(EXIT_OK) from None

    return wrapper  # type: ignore[return-value]
