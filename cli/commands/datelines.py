"""`newsctl datelines`: every story with its places, agencies, section and age."""

from __future__ import annotations

import typer
from typing import Annotated

from .. import common, output
from ..errors import boundary
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
) -> None:
    """List every story with its places, agency credits, section and age.

    One row per story: id, file, story, kind, section, places, agencies,
    age_minutes, dateline, headline, duplicate_of. The terminal table shows
    the most useful columns; every other format has all of them.

    Example: newsctl datelines seeds/ --format jsonl
    """
    from analysis.corpus import dateline_records, dateline_summary

    corpus = common.load(paths)
    fmt = fmt or output.default_format()
    if summary:
        output.render(dateline_summary(corpus), SUMMARY_COLUMNS, fmt, header=not no_header)
    else:
        columns = COLUMNS
        if fmt is output.Format.table:
            columns = [c for c in COLUMNS if c.name in TABLE_COLUMNS]
        output.render(dateline_records(corpus), columns, fmt, header=not no_header)
    common.exit_status(corpus)
