"""`newsctl search`: find stories by words, phrases or a pattern; every hit in context."""

from __future__ import annotations

import contextlib
import dataclasses
from enum import Enum
from typing import Optional

import typer
from typing import Annotated

from .. import common, nlpopts, output
from ..errors import EXIT_ERROR, EXIT_NO_MATCH, EXIT_OK, boundary
from ..output import Column, Format


class Kind(str, Enum):
    lead = "lead"
    item = "item"


HIT_COLUMNS = [
    Column("id"), Column("file", max_width=18), Column("start", justify="right"),
    Column("end", justify="right"), Column("left", justify="right"), Column("match", style="bold yellow"),
    Column("right", flex=True),
]
TABLE_HIT_COLUMNS = ["id", "start", "left", "match", "right"]
STORY_COLUMNS = [Column("id"), Column("file", max_width=24, optional=True), Column("hits", justify="right"),
                 Column("headline", flex=True)]
COUNT_COLUMNS = [Column("file"), Column("hits", justify="right")]

QueryArg = Annotated[Optional[str], typer.Argument(
    metavar="QUERY", show_default=False,
    help="Words, \"phrases\", prefix* and AND / OR / NOT with parentheses; '' matches every story. "
    "Left out with --regex (every argument is then a path).")]
Opt = typer.Option


@boundary
def search(
    query: QueryArg = None,
    paths: common.PathsArg = None,
    regex: Annotated[Optional[str], Opt("--regex", "-e", metavar="PATTERN", help="Search with a Python regular expression instead (reads the files, no index).")] = None,
    case_sensitive: Annotated[bool, Opt("--case-sensitive", help="Match case and diacritics exactly.")] = False,
    entity: Annotated[Optional[str], Opt("--entity", metavar="NAME", help="Only stories mentioning this entity (canonical name or any variant); runs the NLP model if needed.")] = None,
    label: nlpopts.LabelOpt = None,
    place: Annotated[Optional[str], Opt("--place", metavar="NAME", help="Only stories with this dateline place.")] = None,
    agency: Annotated[Optional[str], Opt("--agency", metavar="CODE", help="Only stories credited to this agency (ANP, RTR, ...).")] = None,
    section: Annotated[Optional[str], Opt("--section", metavar="NAME", help="Only digest items of this section (Buitenland, ...).")] = None,
    kind: Annotated[Optional[Kind], Opt("--kind", help="Only leads or only digest items.")] = None,
    context: Annotated[int, Opt("--context", "-C", min=0, metavar="N", help="Characters of context on each side of a hit.")] = 40,
    stories: Annotated[bool, Opt("--stories", help="One row per matching story: id, file, hits, headline.")] = False,
    count: Annotated[bool, Opt("--count", "-c", help="Hits per file: file, hits.")] = False,
    files_only: Annotated[bool, Opt("--files-with-matches", "-l", help="Only the paths of matching files, one per line.")] = False,
    aliases: nlpopts.AliasesOpt = None,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
    no_cache: Annotated[bool, Opt("--no-cache", help="Read the files directly; neither read nor write the store.")] = False,
    fmt: common.FormatOpt = None,
    no_header: common.NoHeaderOpt = False,
) -> None:
    """Find the stories that say something and show every hit in context.

    One row per hit: id, file, start, end, left, match, right (offsets into
    the file text, as everywhere). Matching ignores case and diacritics.
    Exit status like grep: 0 something matched, 1 nothing did, 2 error.
    Plain queries use the full-text index in the store (built on first use,
    refreshed for changed files) and never load the NLP model.

    Example: newsctl search 'Poetin AND China' seeds/ --format tsv
    """
    from analysis.errors import QueryError
    from analysis.search import Filters, Matcher

    if sum((stories, count, files_only)) > 1:
        raise QueryError("choose one of --stories, --count and --files-with-matches")
    if regex is not None and query is not None:
        query, paths = None, [query, *(paths or [])]
    elif regex is None and query is None:
        raise QueryError("give a QUERY ('' matches every story) or --regex PATTERN")
    matcher = Matcher(query or "", regex=regex, case_sensitive=case_sensitive)
    filters = Filters(place=place, agency=agency, section=section, kind=kind.value if kind else None)
    labels = nlpopts.parse_labels(label)
    with contextlib.ExitStack() as stack:
        matches, failed = _matches(stack, paths, matcher, filters, entity=entity, labels=labels,
                                   model=model, store=store, no_cache=no_cache, aliases=aliases)
        found = _emit(matches, context=context, stories=stories, count=count, files_only=files_only,
                      fmt=fmt, header=not no_header)
    raise typer.Exit(EXIT_ERROR if failed else EXIT_OK if found else EXIT_NO_MATCH)


def _matches(stack, paths, matcher, filters, *, entity, labels, model, store, no_cache, aliases=None):
    """``(matches, failed)``: from the index, or from the files read into memory.

    The files are read directly for --regex, --no-cache, standard input and
    the entity filters (which need the whole corpus for the model anyway).
    """
    from analysis import search as lib

    names = common.input_paths(paths)
    if matcher.regex is not None or no_cache or "-" in names or entity or labels:
        corpus = common.load(paths)
        if entity or labels:
            annotated, labels_of = nlpopts.annotate(corpus, model=model, store=store, no_cache=no_cache,
                                                    aliases=aliases)
            keys = lib.entity_story_keys(annotated, labels_of, entity=entity, labels=labels)
            filters = dataclasses.replace(filters, stories=keys)
        failed = any(w.skipped and "cannot read" in w.message for w in corpus.warnings)
        return lib.search_corpus(corpus, matcher, filters), failed
    from analysis.store import open_store

    st = stack.enter_context(open_store(store))
    index = lib.SearchIndex(st.conn)
    with output.progress("Indexing", unit="files") as advance:
        refreshed, matches = index.search_paths(names, matcher, filters, progress=advance)
    for w in refreshed.warnings:
        output.warn(f"{w.path}: {w.message}")
    return matches, refreshed.unreadable > 0


def _emit(matches, *, context, stories, count, files_only, fmt, header) -> int:
    """Render the matches in the chosen form; return how many rows were written."""
    from analysis import search as lib

    if files_only:
        return output.render(({"file": f} for f in lib.matching_files(matches)), [Column("file")],
                             Format.tsv, header=False)
    if count:
        return output.render(lib.count_records(matches), COUNT_COLUMNS, fmt, header=header)
    if stories:
        return output.render(lib.story_records(matches), STORY_COLUMNS, fmt, header=header)
    rows = lib.hit_records(matches, context=context)
    fmt = fmt or output.default_format()
    if fmt is not Format.table:
        return output.render(rows, HIT_COLUMNS, fmt, header=header)
    width = max(8, min(context, (output.console().width - 50) // 2))
    rows = ({**r, "left": r["left"] if len(r["left"]) <= width else "…" + r["left"][-width + 1:]} for r in rows)
    columns = [c for c in HIT_COLUMNS if c.name in TABLE_HIT_COLUMNS]
    return output.render(rows, columns, fmt, header=header)
