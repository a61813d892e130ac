"""`newsctl datelines`: every story with its places, agencies, section and age."""

from __future__ import annotations

from typing import List, Optional

import typer
from typing import Annotated

from .. import common, filteropts, nlpopts, output
from ..errors import EXIT_NO_MATCH, boundary
from ..output import Column

COLUMNS = [
    Column("id"),
    Column("file", max_width=18),
    Column("story", justify="right"),
    Column("kind"),
    Column("section", max_width=12),
    Column("places", max_width=14),
    Column("agencies", max_width=14, optional=True),
    Column("age_minutes", justify="right", label="age"),
    Column("dateline", max_width=24),
    Column("headline", flex=True),
    Column("duplicate_of"),
]
TABLE_COLUMNS = ["id", "places", "agencies", "age_minutes", "headline"]
SUMMARY_COLUMNS = [Column("field"), Column("value"), Column("stories", justify="right")]


@boundary
def datelines(
    paths: common.PathsArg = None,
    fmt: common.FormatOpt = None,
    no_header: common.NoHeaderOpt = False,
    summary: Annotated[bool, typer.Option("--summary", help="Count stories per place and per agency instead.")] = False,
    by: Annotated[Optional[List[str]], typer.Option("--by", metavar="FIELDS", show_default=False, help="With --summary: stories per combination of these fields (place, agency, section, kind), e.g. place,agency; one row per combination.")] = None,
    wide: Annotated[bool, typer.Option("--wide", help="With --summary --by A,B: a two-way table, one row per A, one column per B.")] = False,
    place: filteropts.PlaceOpt = None,
    agency: filteropts.AgencyOpt = None,
    section: filteropts.SectionOpt = None,
    kind: filteropts.KindOpt = None,
    entity: filteropts.EntityOpt = None,
    label: filteropts.LabelOpt = None,
    keep_duplicates: filteropts.KeepDuplicatesOpt = False,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
    no_cache: nlpopts.NoCacheOpt = False,
    jobs: nlpopts.JobsOpt = "auto",
    scheduler: nlpopts.SchedulerOpt = None,
) -> None:
    """List every story with its places, agency credits, section and age.

    One row per story: id, file, story, kind, section, places, agencies,
    age_minutes, dateline, headline, duplicate_of. The terminal table shows
    the most useful columns; every other format has all of them. The story
    filters (--place, --agency, ...) keep only the stories they name;
    --entity and --label run the NLP model (or read its results from the store).

    Example: newsctl datelines seeds/ --format jsonl
    """
    from analysis.corpus import dateline_records

    filt = filteropts.build(place=place, agency=agency, section=section, kind=kind, entity=entity, label=label)
    fields = _by_fields(by, summary, wide)
    fmt = fmt or output.default_format()
    if not filt.needs_entities:
        n, partial = _streamed(paths, filt, fields, summary, wide, fmt, no_header, keep_duplicates, jobs)
        if partial:
            raise typer.Exit(common.EXIT_PARTIAL)
        if filt and not n:
            raise typer.Exit(EXIT_NO_MATCH)
        return
    corpus = common.load(paths)
    annotated, labels_of = nlpopts.annotate(corpus, model=model, store=store, no_cache=no_cache,
                                            jobs=jobs, scheduler=scheduler)
    filt = filt.resolve(annotated, labels_of)
    filteropts.corpus_hints(filt, corpus, annotated, labels_of)
    n = _write(corpus, filt, fields, summary, wide, fmt, no_header, keep_duplicates, dateline_records(corpus, filt))
    nlpopts.check_stored()
    common.exit_status(corpus)
    if filt and not n:
        raise typer.Exit(EXIT_NO_MATCH)


def _streamed(paths, filt, fields, summary: bool, wide: bool, fmt, no_header: bool, keep_duplicates: bool,
              jobs) -> tuple[int, bool]:
    """datelines without the NLP model: the files streamed (analysis.scan), in worker processes with --jobs."""
    from analysis.parallel import open_executor, parse_jobs
    from analysis.scan import DatelineScan, scan_inputs

    names, stdin = common.input_source(paths)
    n_jobs = parse_jobs(jobs)
    # The walk a directory at a time: the workers read the first files while the rest are listed
    # (auto: once enough input is seen for every CPU, or all of it).
    entries, n_jobs = scan_inputs(names, n_jobs)
    # tsv, the pipe's format, of every row: made in the workers as they read the files.
    in_workers = not summary and fmt is output.Format.tsv and not filt
    with open_executor(None, jobs=n_jobs, fork=True,  # forked: no thread runs here yet
                       modules=("analysis.scan", __name__)) as executor:
        executor.start()
        scan = DatelineScan(names, on_warning=lambda w: output.warn(f"{w.path}: {w.message}"), stdin=stdin,
                            executor=executor if n_jobs > 1 else None, summary=summary, walked=entries,
                            parts=(tsv_row_parts, tsv_cell) if in_workers else None)
        del entries  # the scan keeps the paths in a smaller form
        with scan:
            scan.scan()
            if filt:
                filteropts.warn_unmatched(filt, scan.present() if filt.has_dateline_filters else {})
            if summary:
                n = _write(scan, filt, fields, summary, wide, fmt, no_header, keep_duplicates, None)
            elif fmt is output.Format.table:
                n = _write(scan, filt, fields, summary, wide, fmt, no_header, keep_duplicates, scan.records(filt))
            elif in_workers:
                executor.close()  # the workers are done: no thread of the pool runs while the rows go out
                n = _tsv_from_workers(scan, no_header)
            else:  # rows as tuples: a million of them cost no dict each
                n = output.render_rows(scan.rows(filt), COLUMNS, fmt, header=not no_header)
    return n, scan.partial


def _tsv_from_workers(scan, no_header: bool) -> int:
    """Every row as tsv, the text made by the scan's workers (tsv_row_parts) and written here in order."""
    import sys

    import codecs

    out = sys.stdout
    if not no_header:
        out.write("\t".join(c.name for c in COLUMNS) + "\n")
    try:
        utf8 = codecs.lookup(out.encoding).name == "utf-8"
    except (LookupError, TypeError):
        utf8 = False
    n = 0
    # In UTF-8 (every output but a terminal in another encoding) part of the rows may come as bytes,
    # encoded as this stream would, from a second process (DatelineScan.text).
    for text, count in scan.text(("utf-8", out.errors or "strict") if utf8 else None):
        if text.__class__ is bytes:
            out.flush()
            out.buffer.write(text)
        else:
            out.write(text)
        n += count
    out.flush()
    return n


def tsv_row_parts(rows: list[tuple]) -> list[str]:
    """Each row's tsv line in three parts, around its places and duplicate_of cells (runs in the scan's workers).

    The scan fills in those two cells (:func:`tsv_cell`) once the whole
    corpus is read. A row's values have fixed types (text; text or None; a
    number; tuples of text), so each line is written as ``tsv_text`` writes
    it when no value needs an escape. The rows are the scan's: a row's id is
    its file's stem, ``:`` and its number, and its headline the first
    sentence of a decoded page with its white space collapsed, so neither
    can hold a tab, newline, carriage return or lone surrogate that its file
    name or page does not (decoded text has no lone surrogate). So each file
    name and each other text value is looked at once, and the whole text for
    a backslash; if any needs an escape, every value goes through
    :func:`tsv_cell`, which gives what ``tsv_text`` gives.
    """
    joined: dict[tuple[str, ...], str] = {}
    plain: set[str] = set()  # text values seen to need no escape
    clean = True
    last_path = None
    out = []
    add = out.append
    for rid, path, index, kind, section, _, agencies, age, dateline, headline, _ in rows:
        a = joined.get(agencies)
        if a is None:
            a = joined[agencies] = "/".join(agencies)
            clean = clean and _plain(a)
        if path is not last_path:
            last_path = path
            if path not in plain:
                clean = clean and _plain(path)
                plain.add(path)
        if kind not in plain:
            clean = clean and _plain(kind)
            plain.add(kind)
        if section is not None and section not in plain:
            clean = clean and _plain(section)
            plain.add(section)
        if dateline is not None and dateline not in plain:
            clean = clean and _plain(dateline)
            plain.add(dateline)
        add(f"{rid}\t{path}\t{index}\t{kind}\t{'' if section is None else section}\t")
        add(f"\t{a}\t{'' if age is None else age}\t{'' if dateline is None else dateline}\t{headline}\t")
        add("\n")
    if clean and "\\" not in "".join(out):
        return out
    out = []
    for row in rows:
        out.append("\t".join(map(tsv_cell, row[:5])) + "\t")
        out.append("\t" + "\t".join(map(tsv_cell, row[6:10])) + "\t")
        out.append("\n")
    return out


def _plain(text: str) -> bool:
    """Whether tsv_text leaves ``text`` as it is, a backslash aside (looked for in the whole text)."""
    return "\t" not in text and "\n" not in text and "\r" not in text and (text.isascii() or _utf8(text))


def tsv_cell(value) -> str:
    """One value as a cell of a tsv line (as ``output.tsv_text`` makes it)."""
    if value.__class__ is str and value.isascii() and value.isprintable() and "\\" not in value:
        return value  # nothing to escape (a story id, mostly): as tsv_escape(plain(value)) gives it
    return output.tsv_escape(output.plain(value))


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _write(corpus, filt, fields, summary: bool, wide: bool, fmt, no_header: bool, keep_duplicates: bool,
           records) -> int:
    from analysis.corpus import dateline_summary

    if fields:
        return _crosstab(corpus, fields, filt, wide, fmt, no_header, keep_duplicates)
    if summary:
        return output.render(dateline_summary(corpus, filt, keep_duplicates=keep_duplicates), SUMMARY_COLUMNS, fmt,
                             header=not no_header)
    columns = COLUMNS
    if fmt is output.Format.table:
        columns = [c for c in COLUMNS if c.name in TABLE_COLUMNS]
    return output.render(records, columns, fmt, header=not no_header)


def _by_fields(by, summary: bool, wide: bool) -> tuple[str, ...]:
    from analysis.corpus import parse_by
    from analysis.errors import InputError

    if not by:
        if wide:
            raise InputError("--wide goes with --summary --by A,B")
        return ()
    if not summary:
        raise InputError("--by goes with --summary")
    fields = parse_by(by)
    if wide and len(fields) != 2:
        raise InputError("--wide needs two --by fields (rows, columns), e.g. --by place,agency")
    return fields


def _crosstab(corpus, fields, filt, wide: bool, fmt, no_header: bool, keep_duplicates: bool) -> int:
    from analysis.corpus import crosstab, crosstab_wide

    rows = crosstab(corpus, fields, filt, keep_duplicates=keep_duplicates)
    if not wide:
        columns = [Column(f) for f in fields] + [Column("stories", justify="right")]
        return output.render(rows, columns, fmt, header=not no_header)
    names, table = crosstab_wide(rows, *fields)
    columns = [Column(fields[0])] + [Column(c, justify="right") for c in names]
    return output.render(table, columns, fmt, header=not no_header)
