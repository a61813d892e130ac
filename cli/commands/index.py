"""`newsctl index`: build or refresh the full-text index that `newsctl search` uses."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer
from typing import Annotated

from .. import common, nlpopts, output
from ..errors import EXIT_PARTIAL, boundary
from ..output import Column

SUMMARY_COLUMNS = [
    Column("files", justify="right"), Column("new", justify="right"), Column("changed", justify="right"),
    Column("unchanged", justify="right"), Column("removed", justify="right"), Column("skipped", justify="right"),
    Column("stories", justify="right"),
]
STATUS_COLUMNS = [Column("field"), Column("value", flex=True)]

IndexPathsArg = Annotated[Optional[List[str]], typer.Argument(
    metavar="PATHS", show_default=False, help="Files or directories (walked for *.txt) to index.")]


@boundary
def index(
    paths: IndexPathsArg = None,
    status: Annotated[bool, typer.Option("--status", help="Show what the index holds (and, with PATHS, what is out of date) instead.")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and build it again from scratch.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Also drop every indexed file that no longer exists, wherever it is.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Read the whole index to look for damage (a damaged index can miss hits without an error); exit 2 if there is any.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Index PATHS (directories), then keep following their changes until Ctrl-C; searches under them skip the stat walk, and plain ones (-l, or hits as tsv) are answered by the watcher itself.")] = False,
    store: nlpopts.StoreOpt = None,
    fmt: common.FormatOpt = None,
    no_header: common.NoHeaderOpt = False,
) -> None:
    """Build or refresh the full-text search index, with a progress bar.

    New and changed files are indexed, files gone from the named directories
    drop out, unchanged files are only stat'ed. One row: files, new, changed,
    unchanged, removed, skipped, stories. `newsctl search` does the same
    refresh itself; this command is for doing it ahead of time.

    Example: newsctl index seeds/ && newsctl index --status seeds/
    """
    from analysis.errors import InputError
    from analysis.search import SearchIndex
    from analysis.store import open_store

    if check:
        if paths or status or prune or rebuild or watch:
            raise InputError("--check takes no PATHS and no other option but --store and the output format")
        _check(store, fmt, no_header)
        return
    if not (paths or status or prune or rebuild):
        raise InputError("no input: give the files or directories to index (see --help)")
    if watch:
        _watch(paths or [], store)
        return
    if status and not (rebuild or prune):  # only read: nothing created, and a store in a read-only place works
        with open_store(store, readonly=True) as st:
            _status(st, SearchIndex(st.conn, readonly=True), paths, fmt, no_header)
        return
    with open_store(store) as st:
        idx = SearchIndex(st.conn)
        if rebuild:
            idx.rebuild()
        pruned = idx.prune() if prune else 0
        if status:
            _status(st, idx, paths, fmt, no_header)
            return
        with output.progress("Indexing", unit="files") as advance:
            r = idx.refresh(paths or [], progress=advance)
    for w in r.warnings:
        output.warn(f"{w.path}: {w.message}")
    row = {"files": len(r.files) + r.skipped, "new": r.new, "changed": r.changed, "unchanged": r.unchanged,
           "removed": r.removed + pruned, "skipped": r.skipped, "stories": r.stories}
    output.render([row], SUMMARY_COLUMNS, fmt, header=not no_header)
    if r.skipped:
        raise typer.Exit(EXIT_PARTIAL)


def _status(st, idx, paths, fmt, no_header) -> None:
    rows = [{"field": "store", "value": str(st.path)}]
    rows += [{"field": k, "value": v} for k, v in idx.status(paths or None).items()]
    output.render(rows, STATUS_COLUMNS, fmt, header=not no_header)


def _check(store, fmt, no_header) -> None:
    """``index --check``: every part of the index read; one row each; exit 2 on damage."""
    from analysis.errors import StoreError
    from analysis.search import SearchIndex
    from analysis.store import open_store

    with open_store(store, readonly=True) as ro:  # no store made where there is none
        rows = [{"field": "store", "value": str(ro.path)}]
        held = SearchIndex(ro.conn, readonly=True).conn is ro.conn  # else none, or one of another version
    if not held:
        rows.append({"field": "index", "value": "none (newsctl index PATHS builds one)"})
        output.render(rows, STATUS_COLUMNS, fmt, header=not no_header)
        return
    with open_store(store) as st:  # FTS5's own check is an INSERT (that writes nothing)
        idx = SearchIndex(st.conn, readonly=True)
        with output.progress("Checking", unit="stories") as advance:
            found = idx.check(progress=advance)
    rows += [{"field": k, "value": v} for k, v in found.items()]
    output.render(rows, STATUS_COLUMNS, fmt, header=not no_header)
    bad = [f"{k}: {v}" for k, v in found.items() if not v.startswith("ok")]
    if bad:
        raise StoreError(f"the search index in {st.path} is damaged ({bad[0]}); "
                         "run newsctl index --rebuild PATHS to build it again from the files")


def _watch(paths, store) -> None:
    """``index --watch``: index, say so on stderr, then keep the index current until Ctrl-C."""
    from analysis.search.watch import Watcher

    from ..serve import answer

    watcher = Watcher(store, paths, answer=answer)

    def ready(r) -> None:
        for w in r.warnings:
            output.warn(f"{w.path}: {w.message}")
        print(f"watching {len(r.files)} files in {', '.join(paths)} (Ctrl-C stops)", file=sys.stderr, flush=True)

    watcher.run(ready=ready)
