"""The one error boundary: library errors become one line on stderr and an exit status.

Exit statuses: 0 success, 1 partial (an input was skipped) or, for search,
nothing matched; 2 usage error, missing input or any other error; 130
interrupted (Ctrl-C). A closed pipe (``| head``) ends quietly with 0.
"""

from __future__ import annotations

import errno
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


# A write that fails for want of room or a failing device: a full disk under `> out.tsv`, /dev/full.
# A closed stdout (`>&-`) fails with EBADF (cli/launch.py).
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF})


def write_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is a write that could not be done (the output's disk is full), not a bug."""
    return isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError) and exc.errno in _WRITE_ERRNOS


def report(exc: NewsctlError | KeyboardInterrupt | BrokenPipeError | OSError) -> int:
    """Say what ended the command, as the boundary does, and return its exit status."""
    if isinstance(exc, NewsctlError):
        output.error(str(exc))
        return EXIT_ERROR
    if isinstance(exc, KeyboardInterrupt):
        try:
            print("Interrupted.", file=sys.stderr)
        except OSError:  # 2>/dev/full: the status still tells
            pass
        return EXIT_INTERRUPTED
    output.silence_stdout()  # a closed pipe or a full disk: nothing more goes there, not even at exit
    if isinstance(exc, BrokenPipeError):
        return EXIT_OK
    where = f"to {exc.filename}" if exc.filename else "the output"
    output.error(f"cannot write {where} ({exc.strerror or exc})")
    return EXIT_ERROR


def flush_stdout() -> None:
    """Write what waits in stdout's buffer now, so that a full disk is reported, not met at exit."""
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError):  # no stdout (closed), or a closed file
        pass


def boundary(fn: F) -> F:
    """Wrap a command body: no traceback for user errors, Ctrl-C, a closed pipe or a full disk."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            try:
                result = fn(*args, **kwargs)
            except (NewsctlError, KeyboardInterrupt, OSError):
                raise
            except BaseException:  # typer.Exit with a status: the output is complete
                flush_stdout()
                raise
            flush_stdout()
            return result
        except (NewsctlError, KeyboardInterrupt, BrokenPipeError) as exc:
            import typer  # here: cli/fast.py uses report() without loading typer

            raise typer.Exit(report(exc)) from None
        except OSError as exc:
            if not write_failed(exc):
                raise
            import typer

            raise typer.Exit(report(exc)) from None

    return wrapper  # type: ignore[return-value]
