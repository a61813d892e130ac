"""`newsctl entities`: people, organisations and places, with canonical names."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from .. import common, nlpopts, output
from ..errors import boundary
from ..output import Column

ENTITY_COLUMNS = [
    Column("entity", max_width=32), Column("label"), Column("mentions", justify="right"),
    Column("stories", justify="right"), Column("files", justify="right"), Column("variants", flex=True),
]
MENTION_COLUMNS = [
    Column("id"), Column("file", max_width=18, optional=True), Column("story", justify="right", optional=True),
    Column("sentence", justify="right", label="sent"), Column("start", justify="right"),
    Column("end", justify="right"), Column("text", max_width=28), Column("label"),
    Column("canonical", flex=True), Column("source"),
]


@boundary
def entities(
    paths: common.PathsArg = None,
    mentions: Annotated[bool, typer.Option("--mentions", help="One row per mention instead of per entity.")] = False,
    label: nlpopts.LabelOpt = None,
    top: Annotated[Optional[int], typer.Option("--top", min=1, help="Only the N most mentioned entities.")] = None,
    min_count: Annotated[int, typer.Option("--min-count", min=1, help="Only entities with at least N mentions.")] = 1,
    html: Annotated[Optional[Path], typer.Option("--html", metavar="FILE", help="Also write a page with every story's entities highlighted.")] = None,
    no_canonical: nlpopts.NoCanonicalOpt = False,
    all_: nlpopts.AllOpt = False,
    aliases: nlpopts.AliasesOpt = None,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
    no_cache: nlpopts.NoCacheOpt = False,
    fmt: common.FormatOpt = None,
    no_header: common.NoHeaderOpt = False,
) -> None:
    """List the people (PER), organisations (ORG), places (LOC) and other names (MISC).

    One row per canonical entity (entity, label, mentions, stories, files,
    variants), most mentioned first; --mentions gives one row per mention with
    its character offsets in the file. Nationality adjectives (MISC:
    Russische, Amerikaanse) are left out unless --all or --label MISC. Results are kept in the annotation
    store, so a second run over the same files does not run the model again.

    Example: newsctl entities seeds/ --label PER --top 10
    """
    from analysis.entities import drop_adjectives, entity_records, mention_records

    labels = nlpopts.parse_labels(label)
    corpus = common.load(paths)
    annotated, labels_of = nlpopts.annotate(
        corpus, model=model, store=store, no_cache=no_cache, canonical=not no_canonical, aliases=aliases
    )
    if html is not None:
        from analysis.render import write_html

        write_html(annotated, html)  # every mention, adjectives included
    if not nlpopts.keep_adjectives(all_, labels):
        drop_adjectives(annotated, labels_of)
    if mentions:
        output.render(mention_records(annotated, labels=labels), MENTION_COLUMNS, fmt, header=not no_header)
    else:
        rows = entity_records(annotated, labels_of, labels=labels, min_count=min_count, top=top)
        output.render(rows, ENTITY_COLUMNS, fmt, header=not no_header)
    common.exit_status(corpus)
