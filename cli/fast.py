"""A short way through start-up for the commonest pipeline call, ``newsctl search QUERY PATHS... -l``.

Building the Typer application and the command costs more than the search
itself on a warm index (importing typer and click alone is about 40 ms). For
one narrow, plain form of the command line, this module does what
``cli/commands/search.py`` does for it, without loading typer: the same library
calls, the same renderer, warnings, errors and exit statuses (tests compare the
two byte for byte). Anything else, or anything unusual (another option, ``--``,
an argument that starts with ``-``, standard input), returns None and goes the
normal way.
"""

from __future__ import annotations

import os
import sys

_FILES_ONLY = ("-l", "--files-with-matches")


def parse(argv: list[str]) -> tuple[str, list[str], str | None] | None:
    """``(query, paths, store)`` for ``search QUERY PATH... -l [--store PATH]``, or None for any other form."""
    plain = parse_plain(argv)
    if plain is None or not plain[3] or plain[4] is not None:
        return None
    return plain[:3]


def parse_plain(argv: list[str]) -> tuple[str, list[str], str | None, bool, str | None] | None:
    """``(query, paths, store, files only, format)`` for the plain forms a watcher answers, else None.

    The forms: ``search QUERY PATH... [-l] [--store PATH] [-f/--format tsv]``
    (``-l`` and ``-f`` not together). Anything else, or anything unusual
    (another option, ``--``, an argument that starts with ``-``, standard
    input, an option given twice), gives None.
    """
    if len(argv) < 3 or argv[0] != "search" or "_NEWSCTL_COMPLETE" in os.environ:  # shell completion: Typer's
        return None
    positional: list[str] = []
    values: dict[str, str] = {}
    files_only = 0
    args = iter(argv[1:])
    for arg in args:
        if arg in _FILES_ONLY:
            files_only += 1
            continue
        for name, long, short in (("store", "--store", None), ("format", "--format", "-f")):
            if arg in (long, short) or arg.startswith(long + "="):
                value = arg[len(long) + 1:] if arg.startswith(long + "=") else next(args, None)
                if name in values or not value or value.startswith("-"):
                    return None  # given twice, or a value the normal way should judge
                values[name] = value
                break
        else:
            if arg.startswith("-"):
                return None  # another option, '-' (standard input) or '--'
            positional.append(arg)
    fmt = values.get("format")
    if files_only > 1 or len(positional) < 2 or (fmt is not None and (files_only or fmt != "tsv")):
        return None
    return positional[0], positional[1:], values.get("store"), files_only == 1, fmt


def run(argv: list[str]) -> int | None:
    """The exit status of ``newsctl`` for ``argv`` when this short way takes it, else None."""
    parsed = parse(argv)
    if parsed is None:
        return None
    from analysis.errors import NewsctlError

    from .errors import report, write_failed

    try:
        status = _search_files(*parsed)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except (NewsctlError, KeyboardInterrupt, BrokenPipeError) as exc:
        return report(exc)
    except OSError as exc:
        if not write_failed(exc):
            raise
        return report(exc)


def _search_files(query: str, paths: list[str], store: str | None) -> int:
    """What ``cli/commands/search.py`` does for ``search QUERY PATHS -l``: matching files, one per line."""
    from pathlib import Path

    from analysis.filters import StoryFilter
    from analysis.search import Matcher, SearchIndex, matching_files
    from analysis.store import open_store

    from . import output
    from .errors import EXIT_ERROR, EXIT_NO_MATCH, EXIT_OK

    matcher = Matcher(query)
    with open_store(Path(store) if store is not None else None) as st:
        index = SearchIndex(st.conn)
        with output.progress("Indexing", unit="files") as advance:
            refreshed, matches = index.search_paths(paths, matcher, StoryFilter(), progress=advance)
        for w in refreshed.warnings:
            output.warn(f"{w.path}: {w.message}")
        listed = index.matching_paths(refreshed.files, matcher)  # one statement, no records
        if listed is None:
            listed = matching_files(matches)
        n = output.write_paths(listed)
    return EXIT_ERROR if refreshed.unreadable > 0 else EXIT_OK if n else EXIT_NO_MATCH
