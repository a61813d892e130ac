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
    if len(argv) < 4 or argv[0] != "search" or "_NEWSCTL_COMPLETE" in os.environ:  # shell completion: Typer's
        return None
    positional: list[str] = []
    store = None
    files_only = 0
    args = iter(argv[1:])
    for arg in args:
        if arg in _FILES_ONLY:
            files_only += 1
        elif arg == "--store" or arg.startswith("--store="):
            value = arg[len("--store="):] if arg.startswith("--store=") else next(args, None)
            if store is not None or not value or value.startswith("-"):
                return None  # given twice, or a value the normal way should judge
            store = value
        elif arg.startswith("-"):
            return None  # another option, '-' (standard input) or '--'
        else:
            positional.append(arg)
    if files_only != 1 or len(positional) < 2:
        return None
    return positional[0], positional[1:], store


def run(argv: list[str]) -> int | None:
    """The exit status of ``newsctl`` for ``argv`` when this short way takes it, else None."""
    parsed = parse(argv)
    if parsed is None:
        return None
    from analysis.errors import NewsctlError

    from .errors import report

    try:
        status = _search_files(*parsed)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except (NewsctlError, KeyboardInterrupt, BrokenPipeError) as exc:
        return report(exc)


def _search_files(query: str, paths: list[str], store: str | None) -> int:
    """What ``cli/commands/search.py`` does for ``search QUERY PATHS -l``: matching files, one per line."""
    from pathlib import Path

    from analysis.filters import StoryFilter
    from analysis.search import Matcher, SearchIndex, matching_files
    from analysis.store import open_store

    from . import output
    from .errors import EXIT_ERROR, EXIT_NO_MATCH, EXIT_OK
    from .output import Column, Format

    matcher = Matcher(query)
    with open_store(Path(store) if store is not None else None) as st:
        index = SearchIndex(st.conn)
        with output.progress("Indexing", unit="files") as advance:
            refreshed, matches = index.search_paths(paths, matcher, StoryFilter(), progress=advance)
        for w in refreshed.warnings:
            output.warn(f"{w.path}: {w.message}")
        n = output.render(({"file": f} for f in matching_files(matches)), [Column("file")], Format.tsv, header=False)
    return EXIT_ERROR if refreshed.unreadable > 0 else EXIT_OK if n else EXIT_NO_MATCH
