"""What a live ``newsctl index --watch`` answers over its socket: the plain forms of ``newsctl search``.

The client side is :mod:`cli.client`; the socket, the handshake and the
request's life are :mod:`analysis.search.watch`'s. :func:`answer` takes the
forms :func:`cli.fast.parse_plain` accepts, whose paths all lie under the
watcher's roots, and writes into the client's own standard output exactly what
``cli/commands/search.py`` would (tests compare the two byte for byte). It
declines (returns None before writing anything) whatever it cannot answer so:
another form, paths outside the roots, an error, or warnings to print; the
client then runs the command the usual way, which prints them.
"""

from __future__ import annotations

import io
import marshal
import os
import sys

from analysis.errors import NewsctlError


def _load(payload: bytes):
    """``(argv, cwd, encoding, errors)`` from a request's payload, or None."""
    try:
        value = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    if (not isinstance(value, tuple) or len(value) != 5 or value[0] != 1
            or not isinstance(value[1], list) or not all(isinstance(a, str) for a in value[1])
            or not all(isinstance(v, str) for v in value[2:])):
        return None
    return value[1:]


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def answer(request, caught_up: tuple[int, int], roots: list[str], index) -> int | None:
    """The exit status after writing the answer to ``request``'s descriptors, or None to decline."""
    from analysis.filters import StoryFilter
    from analysis.search import Matcher

    from .fast import parse_plain

    loaded = _load(request.payload)
    if loaded is None:
        return None
    argv, cwd, encoding, errors = loaded
    parsed = parse_plain(argv)
    if parsed is None:
        return None
    query, paths, _, files_only, fmt = parsed
    try:
        os.chdir(cwd)
        if not all(_under(os.path.realpath(p), roots) for p in paths):
            return None
        matcher = Matcher(query)
        refreshed, matches = index.search_paths(paths, matcher, StoryFilter(), caught_up=caught_up)
        if refreshed.warnings or refreshed.unreadable:
            return None
        listed = index.matching_paths(refreshed.files, matcher) if files_only else None
        lean = None if files_only else (index, refreshed.files, matcher)
    except (NewsctlError, OSError):
        return None  # the usual way says what is wrong
    return _write(request, encoding, errors, listed, lean, matches, files_only)


def _write(request, encoding: str, errors: str, listed, lean, matches, files_only: bool) -> int:
    from analysis.search import matching_files

    from . import output
    from .commands import search as command
    from .errors import EXIT_NO_MATCH, EXIT_OK
    from .output import Column, Format

    try:
        out = io.TextIOWrapper(io.FileIO(os.dup(request.fds[0]), "w"), encoding=encoding, errors=errors)
    except (OSError, LookupError):
        return None
    request.accept()
    real = sys.stdout
    sys.stdout = out  # the renderers write to sys.stdout
    try:
        try:
            if files_only:
                rows = ({"file": f} for f in (listed if listed is not None else matching_files(matches)))
                n = output.render(rows, [Column("file")], Format.tsv, header=False)
            else:
                n = command.write_hit_lines(*lean, out) if lean is not None else None
            if n is None:
                n = command._emit(matches, context=40, sentence=False, stories=False, count=False, only=False,
                                  with_file=False, fmt=Format.tsv, header=True)
            out.flush()
            return EXIT_OK if n else EXIT_NO_MATCH
        except BrokenPipeError:
            return EXIT_OK  # as the usual way: a closed pipe ends the output quietly
        except NewsctlError as exc:
            _error(request, exc)
            from .errors import EXIT_ERROR

            return EXIT_ERROR
        except OSError as exc:  # the client's stdout on a full disk: the usual way's one line (cli/errors.py)
            from .errors import EXIT_ERROR, write_failed

            if not write_failed(exc):
                raise
            _error(request, f"cannot write the output ({exc.strerror or exc})")
            return EXIT_ERROR
    finally:
        sys.stdout = real
        try:
            out.close()
        except (OSError, ValueError):
            pass


def _error(request, exc: Exception | str) -> None:
    try:
        from analysis.reader import display_name

        from .output import visible

        os.write(request.fds[1], f"Error: {visible(display_name(str(exc)))}\n".encode(errors="backslashreplace"))
    except OSError:
        pass
