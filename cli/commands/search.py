"""`newsctl search`: find stories by words, phrases or a pattern; every hit in context."""

from __future__ import annotations

import contextlib
import sys
from typing import Optional

import typer
from typing import Annotated

from .. import common, filteropts, nlpopts, output
from ..errors import EXIT_ERROR, EXIT_NO_MATCH, EXIT_OK, boundary
from ..output import Column, Format


HIT_COLUMNS = [
    Column("id"), Column("file", max_width=18), Column("start", justify="right"),
    Column("end", justify="right"), Column("left", justify="right"), Column("match", style="bold yellow"),
    Column("right", flex=True),
]
TABLE_HIT_COLUMNS = ["id", "start", "left", "match", "right"]
STORY_COLUMNS = [Column("id"), Column("file", max_width=24, optional=True), Column("hits", justify="right"),
                 Column("headline", flex=True)]
COUNT_COLUMNS = [Column("file"), Column("hits", justify="right")]
ONLY_COLUMNS = ["id", "file", "start", "end", "match"]

# grep options that have no meaning here, with what to do instead (cli/app.py refuses them).
FOREIGN_OPTIONS = {
    "-r": "directories are always searched recursively; leave out -r",
    "-R": "directories are always searched recursively; leave out -R",
    "-n": "newsctl gives character offsets (start, end) into the file instead of line numbers; leave out -n",
    "-E": "queries are not regular expressions; use --regex/-e PATTERN for a Python regular expression",
    "-P": "use --regex/-e PATTERN for a Python regular expression",
    "-F": "queries are literal words already; put a phrase in double quotes",
    "-x": "whole-line matching does not apply to stories; use --regex '^...$' with (?m)",
    "-A": "context is in characters around the hit: use -C N, or --sentence for the whole sentence",
    "-B": "context is in characters around the hit: use -C N, or --sentence for the whole sentence",
    "-Z": "use -0/--null with -l or -L for NUL-separated paths",
    "-q": "to test for a match, use the exit status with > /dev/null",
    "-s": "unreadable files are always reported on stderr",
}

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
    entity: filteropts.EntityOpt = None,
    label: filteropts.LabelOpt = None,
    place: filteropts.PlaceOpt = None,
    agency: filteropts.AgencyOpt = None,
    section: filteropts.SectionOpt = None,
    kind: filteropts.KindOpt = None,
    context: Annotated[int, Opt("--context", "-C", min=0, metavar="N", help="CHARACTERS (not lines, unlike grep) of context on each side of a hit.")] = 40,
    sentence: Annotated[bool, Opt("--sentence", help="Show the whole sentence each hit is in as its context.")] = False,
    stories: Annotated[bool, Opt("--stories", help="One row per matching story: id, file, hits, headline; wire duplicates left out.")] = False,
    keep_duplicates: filteropts.KeepDuplicatesOpt = False,
    count: Annotated[bool, Opt("--count", "-c", help="Hits per file: file, hits.")] = False,
    files_only: Annotated[bool, Opt("--files-with-matches", "-l", help="Only the paths of matching files, one per line.")] = False,
    files_without: Annotated[bool, Opt("--files-without-match", "-L", help="Only the paths of the files with no match, one per line.")] = False,
    null: Annotated[bool, Opt("--null", "-0", help="With -l or -L: end each path with a NUL byte instead of a newline (for xargs -0).")] = False,
    only_matching: Annotated[bool, Opt("--only-matching", "-o", help="Hits without context: id, file, start, end, match.")] = False,
    with_filename: Annotated[bool, Opt("--with-filename", "-H", help="Show the file column in the terminal table too (other formats always have it).")] = False,
    invert: Annotated[bool, Opt("--invert-match", "-v", help="The stories that do NOT match, one row per story as with --stories.")] = False,
    ignore_case: Annotated[bool, Opt("--ignore-case", "-i", help="Accepted for grep users: matching ignores case unless --case-sensitive.")] = False,
    word: Annotated[bool, Opt("--word-regexp", "-w", help="Accepted for grep users: queries match whole words; with --regex, the pattern must match whole words.")] = False,
    aliases: nlpopts.AliasesOpt = None,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
    jobs: nlpopts.JobsOpt = "auto",
    scheduler: nlpopts.SchedulerOpt = None,
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
    from analysis.search import Matcher

    _check(stories=stories, count=count, files_only=files_only, files_without=files_without,
           only_matching=only_matching, invert=invert, null=null, ignore_case=ignore_case,
           case_sensitive=case_sensitive)
    query, regex, paths = _query(query, regex, paths, word=word)
    matcher = Matcher(query or "", regex=regex, case_sensitive=case_sensitive)
    filt = filteropts.build(place=place, agency=agency, section=section, kind=kind, entity=entity, label=label)
    with contextlib.ExitStack() as stack:
        found = _matches(stack, paths, [matcher, Matcher("")] if invert else [matcher], filt,
                         model=model, store=store, no_cache=no_cache, jobs=jobs, scheduler=scheduler,
                         aliases=aliases)
        matches = _inverted(found.matches[1], found.matches[0]) if invert else found.matches[0]
        if (stories or invert) and not keep_duplicates:
            from analysis.search import unique_stories

            matches = unique_stories(matches)
        if files_without or files_only:
            from analysis.search import files_without_match, matching_files

            if files_without:
                listed = files_without_match(found.files(), list(matches))
            else:
                listed = found.matching_paths()
                if listed is None:
                    listed = matching_files(matches)
            n = _paths(listed, null)
        else:
            plain = not (stories or invert or count or only_matching or sentence)
            n = None
            if plain and (fmt or output.default_format()) is Format.tsv:
                n = found.write_hit_lines(context, header=not no_header)
            if n is None:
                lean = found.hit_rows(context) if plain else None
                n = _emit(matches, context=context, sentence=sentence, stories=stories or invert, count=count,
                          only=only_matching, with_file=with_filename, fmt=fmt, header=not no_header, lean=lean)
        found.hints()
    nlpopts.check_stored()
    raise typer.Exit(EXIT_ERROR if found.failed else EXIT_OK if n else EXIT_NO_MATCH)


def _check(*, stories, count, files_only, files_without, only_matching, invert, null, ignore_case,
           case_sensitive) -> None:
    """Refuse options that do not go together."""
    from analysis.errors import QueryError

    modes = {"--stories": stories, "--count": count, "--files-with-matches": files_only,
             "--files-without-match": files_without, "--only-matching": only_matching}
    if sum(modes.values()) > 1:
        raise QueryError(f"choose one of {', '.join(modes)}")
    if invert and any(v for k, v in modes.items() if k != "--stories"):
        raise QueryError("--invert-match/-v lists stories; it does not go with -c, -l, -L or -o")
    if null and not (files_only or files_without):
        raise QueryError("--null/-0 goes with -l or -L (it separates the paths they print)")
    if ignore_case and case_sensitive:
        raise QueryError("choose one of --ignore-case and --case-sensitive")


def _query(query, regex, paths, *, word: bool):
    """``(query, regex, paths)``: with --regex, the QUERY argument is the first path."""
    from analysis.errors import QueryError

    if regex is not None and query is not None:
        query, paths = None, [query, *(paths or [])]
    elif regex is None and query is None:
        raise QueryError("give a QUERY ('' matches every story) or --regex PATTERN")
    if regex is not None and word:
        regex = rf"\b(?:{regex})\b"
    return query, regex, paths


class _Found:
    """What _matches found: the matches, the files searched, whether one failed, and hints."""

    def __init__(self, matches, failed: bool, files, hints, lean=None) -> None:
        self.matches, self.failed, self._files, self.hints = matches, failed, files, hints
        self._lean = lean  # (index, files, matcher) when the index may answer lean

    def files(self) -> list[str]:
        return self._files()

    def matching_paths(self):
        """The matching files as ``SearchIndex.matching_paths`` reads them, or None where it cannot."""
        return self._lean[0].matching_paths(*self._lean[1:]) if self._lean is not None else None

    def hit_rows(self, context: int):
        """The hits as ``SearchIndex.hit_rows`` reads them (flat memory), or None where it cannot."""
        return self._lean[0].hit_rows(*self._lean[1:], context) if self._lean is not None else None

    def write_hit_lines(self, context: int, header: bool) -> int | None:
        """Write the hits as tsv from the index (:func:`write_hit_lines`); None (nothing written) where it cannot."""
        if self._lean is None:
            return None
        return write_hit_lines(*self._lean, sys.stdout, context=context, header=header)


def _matches(stack, paths, matchers, filt, *, model, store, no_cache, jobs="auto", scheduler=None, aliases=None) -> _Found:
    """The matches of each of ``matchers``: from the index, or from the files read into memory.

    The files are read directly for --regex, --no-cache, standard input and
    the entity filters (which need the whole corpus for the model anyway).
    """
    from analysis import search as lib

    names = common.input_paths(paths)
    if any(m.regex is not None for m in matchers) or no_cache or "-" in names or filt.needs_entities:
        corpus = common.load(paths)
        annotated = labels_of = None
        if filt.needs_entities:
            annotated, labels_of = nlpopts.annotate(corpus, model=model, store=store, no_cache=no_cache,
                                                    jobs=jobs, scheduler=scheduler, aliases=aliases)
            filt = filt.resolve(annotated, labels_of)
        failed = any(w.skipped and "cannot read" in w.message for w in corpus.warnings)
        return _Found([lib.search_corpus(corpus, m, filt) for m in matchers], failed,
                      lambda: [doc.path for doc, _ in corpus.pages],
                      lambda: filteropts.corpus_hints(filt, corpus, annotated, labels_of))
    from analysis.store import open_store

    st = stack.enter_context(open_store(store))
    index = lib.SearchIndex(st.conn)
    with output.progress("Indexing", unit="files") as advance:
        refreshed, first = index.search_paths(names, matchers[0], filt, progress=advance)
    for w in refreshed.warnings:
        output.warn(f"{w.path}: {w.message}")

    def hints() -> None:
        if filt.has_dateline_filters:
            filteropts.warn_unmatched(filt, index.filter_values(refreshed.files))

    matches = [first] + [index.search(refreshed.files, m, filt) for m in matchers[1:]]
    lean = None if filt or len(matchers) > 1 else (index, refreshed.files, matchers[0])
    return _Found(matches, refreshed.unreadable > 0, lambda: [p for p, _ in refreshed.files], hints, lean)


def _inverted(every, matched):
    """The stories of ``every`` that are not in ``matched``, with no hits."""
    hit = {(m.rec.file, m.rec.story) for m in matched}
    for m in every:
        if (m.rec.file, m.rec.story) not in hit:
            m.spans = []
            yield m


def _paths(paths, null: bool) -> int:
    """Print paths one per line (tsv-escaped), or NUL-terminated as they are (--null)."""
    if not null:
        return output.write_paths(paths)
    import os

    out = sys.stdout.buffer
    n = 0
    for p in paths:
        out.write(os.fsencode(p) + b"\0")
        n += 1
    out.flush()
    return n


TSV_SPECIALS = "\\\t\r\n"  # what output.tsv_escape changes


def tsv_field(text: str) -> str:
    """A text field of a tsv line, as ``output.render`` writes it."""
    from analysis.reader import display_name

    return output.tsv_escape(display_name(text))


def write_hit_lines(index, files, matcher, out, *, context: int = 40, header: bool = True) -> int | None:
    """Write the hits as tsv lines straight from the index (``SearchIndex.hit_lines``); the count.

    The same lines ``output.render`` writes for hit records, without making a
    record of each hit. None (nothing written) where the index cannot give them so.
    """
    import codecs

    try:
        raw = getattr(out, "buffer", None) if codecs.lookup(out.encoding).name == "utf-8" else None
    except (LookupError, TypeError, AttributeError):
        raw = None
    blocks = index.hit_lines(files, matcher, context, escape=tsv_field, specials=TSV_SPECIALS, utf8=raw is not None)
    if blocks is None:
        return None
    write = out.write
    if header:
        write("\t".join(c.name for c in HIT_COLUMNS) + "\n")
    n = 0
    for lines, k in blocks:
        if isinstance(lines, bytes):  # strict UTF-8 made by a helper: what `out` would write for its text
            out.flush()
            raw.write(lines)
        else:
            write(lines)
        n += k
    out.flush()
    return n


def _emit(matches, *, context, sentence, stories, count, only, with_file, fmt, header, lean=None) -> int:
    """Render the matches in the chosen form; return how many rows were written.

    ``lean``: the same hits as tuples from the index (``SearchIndex.hit_rows``), read instead of ``matches``.
    """
    from analysis import search as lib

    if count:
        return output.render(lib.count_records(matches), COUNT_COLUMNS, fmt, header=header)
    if stories:
        return output.render(lib.story_records(matches), STORY_COLUMNS, fmt, header=header)
    if lean is not None:
        names = [c.name for c in HIT_COLUMNS]
        rows = (dict(zip(names, row)) for row in lean)
    else:
        rows = lib.hit_records(matches, context=0 if only else context, sentence=sentence and not only)
    fmt = fmt or output.default_format()
    shown = ONLY_COLUMNS if only else [c.name for c in HIT_COLUMNS]
    if fmt is not Format.table:
        return output.render(rows, [c for c in HIT_COLUMNS if c.name in shown], fmt, header=header)
    width = max(8, min(10**6 if sentence else context, (output.console().width - 50) // 2))
    rows = ({**r, "left": r["left"] if len(r["left"]) <= width else "…" + r["left"][-width + 1:]} for r in rows)
    table = [*TABLE_HIT_COLUMNS, "file"] if with_file else TABLE_HIT_COLUMNS
    columns = [c for c in HIT_COLUMNS if c.name in table and c.name in shown]
    return output.render(rows, columns, fmt, header=header)
