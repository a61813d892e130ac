"""`newsctl entities`: people, organisations and places, with canonical names."""

from __future__ import annotations

from typing import Optional

import typer
from typing import Annotated

from .. import common, filteropts, nlpopts, output
from ..errors import EXIT_NO_MATCH, boundary
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
    label: filteropts.LabelOpt = None,
    top: Annotated[Optional[int], typer.Option("--top", min=1, help="Only the N most mentioned entities.")] = None,
    min_count: Annotated[int, typer.Option("--min-count", min=1, help="Only entities with at least N mentions.")] = 1,
    html: Annotated[Optional[str], typer.Option("--html", metavar="FILE|DIR/|-", help="Also write a page with every story's entities highlighted; DIR/: one page per file and an index.html; -: the page to stdout instead of the table.")] = None,
    no_canonical: nlpopts.NoCanonicalOpt = False,
    place: filteropts.PlaceOpt = None,
    agency: filteropts.AgencyOpt = None,
    section: filteropts.SectionOpt = None,
    kind: filteropts.KindOpt = None,
    entity: filteropts.EntityOpt = None,
    keep_duplicates: filteropts.KeepDuplicatesOpt = False,
    all_: nlpopts.AllOpt = False,
    aliases: nlpopts.AliasesOpt = None,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
    jobs: nlpopts.JobsOpt = "auto",
    scheduler: nlpopts.SchedulerOpt = None,
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
    from analysis.filters import select_stories

    filt = filteropts.build(place=place, agency=agency, section=section, kind=kind, entity=entity, label=label)
    if not mentions and html is None and nlpopts.can_stream(paths, filt, no_cache=no_cache, no_canonical=no_canonical):
        return _streamed(paths, filt, top=top, min_count=min_count, keep_duplicates=keep_duplicates, all_=all_,
                         aliases=aliases, model=model, store=store, jobs=jobs, scheduler=scheduler, fmt=fmt,
                         no_header=no_header)
    corpus = common.load(paths)
    annotated, labels_of = nlpopts.annotate(
        corpus, model=model, store=store, no_cache=no_cache, canonical=not no_canonical, jobs=jobs, scheduler=scheduler,
        aliases=aliases,
    )
    filteropts.corpus_hints(filt, corpus, annotated, labels_of)
    if html is not None:
        _html(select_stories(annotated, filt), html)
        if html == "-":  # the page is the output
            nlpopts.check_stored()
            common.exit_status(corpus)
            return
    if not nlpopts.keep_adjectives(all_, filt.label or None):
        drop_adjectives(annotated, labels_of)
    chosen = select_stories(annotated, filt, keep_duplicates=keep_duplicates)
    names = filt.entity_names(_variants(annotated), labels_of)
    if mentions:
        n = output.render(mention_records(chosen, names=names), MENTION_COLUMNS, fmt, header=not no_header)
    else:
        rows = entity_records(chosen, labels_of, names=names, min_count=min_count, top=top)
        n = output.render(rows, ENTITY_COLUMNS, fmt, header=not no_header)
    nlpopts.check_stored()
    common.exit_status(corpus)
    if filt and not n:
        raise typer.Exit(EXIT_NO_MATCH)


def _streamed(paths, filt, *, top, min_count, keep_duplicates, all_, aliases, model, store, jobs, scheduler, fmt,
              no_header) -> None:
    """The entity list from files streamed in batches (:mod:`analysis.entitystream`): any corpus size."""
    import numpy as np

    from analysis import entitystream as es

    tables, nm = nlpopts.streamed(paths, model=model, store=store, jobs=jobs, scheduler=scheduler, aliases=aliases)
    labels_of = nm.labels_of()
    filteropts.entity_hints(filt, lambda: es.variants(tables, nm, np.ones(len(nm.m_name), dtype=bool)), labels_of)
    kept = es.adjective_mask(tables, nm, nlpopts.keep_adjectives(all_, filt.label or None))
    names = filt.entity_names(es.variants(tables, nm, kept), labels_of) if filt.needs_entities else None
    rows = es.entity_records(tables, nm, kept & es.story_mask(tables, keep_duplicates), names=names,
                             min_count=min_count, top=top)
    n = output.render(rows, ENTITY_COLUMNS, fmt, header=not no_header)
    nlpopts.check_stored()
    if tables.partial:
        raise typer.Exit(common.EXIT_PARTIAL)
    if filt and not n:
        raise typer.Exit(EXIT_NO_MATCH)


def _html(annotated, target: str) -> None:
    import os
    import sys

    from analysis import render

    if target == "-":
        sys.stdout.write(render.entities_page(annotated))
        sys.stdout.flush()
    elif target.endswith(("/", os.sep)) or os.path.isdir(target):
        render.write_html_dir(annotated, target)
    else:
        render.write_html(annotated, target)


def _variants(annotated):
    from analysis.filters import variants_of

    return variants_of(annotated.mentions())
