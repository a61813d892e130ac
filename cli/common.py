"""Options shared by every command and the step that turns PATHS into a corpus."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer
from typing import Annotated

from analysis.errors import InputError

from . import output
from .errors import EXIT_PARTIAL
from .output import Format

PathsArg = Annotated[
    Optional[List[str]],
    typer.Argument(
        help="Files or directories (walked for *.txt); '-' or a pipe for standard input.",
        show_default=False,
        metavar="PATHS",
    ),
]
FormatOpt = Annotated[
    Optional[Format],
    typer.Option(
        "--format", "-f",
        help="Output format. Default: table on a terminal, tsv in a pipe (scripts should pass it).",
        show_default=False,
        case_sensitive=False,
    ),
]
NoHeaderOpt = Annotated[bool, typer.Option("--no-header", help="Leave out the header line (table, tsv, csv).")]


def input_paths(paths: list[str] | None) -> list[str]:
    """PATHS as given, or stdin when nothing is named and text is piped in."""
    if paths:
        return list(paths)
    if not sys.stdin.isatty():
        return ["-"]
    raise InputError("no input: give files or directories, or pipe text on stdin (see --help)")


def input_source(paths: list[str] | None) -> tuple[list[str], bytes | None]:
    """PATHS (see :func:`input_paths`) and standard input's bytes when one of them is '-'."""
    names = input_paths(paths)
    data = None
    if "-" in names:
        data = sys.stdin.buffer.read()
        if not data and not paths:
            raise InputError("no input: give files or directories, or pipe text on stdin (see --help)")
    return names, data


def load(paths: list[str] | None):
    """Read the corpus, printing warnings on stderr as they come."""
    import io

    from analysis.corpus import load_corpus

    names, data = input_source(paths)
    return load_corpus(
        names,
        on_warning=lambda w: output.warn(f"{w.path}: {w.message}"),
        stdin=None if data is None else io.BytesIO(data),
    )


def exit_status(corpus) -> None:
    """Exit 1 when an input had to be skipped."""
    if corpus.partial:
        raise typer.Exit(EXIT_PARTIAL)
