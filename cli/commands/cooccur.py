"""`newsctl cooccur`: which entities appear together, as rows, a matrix, a graph or a picture."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from .. import common, filteropts, nlpopts, output
from ..errors import EXIT_NO_MATCH, boundary
from ..output import Column, Format

PAIR_COLUMNS = [
    Column("entity_a", max_width=26), Column("label_a", label="la"), Column("entity_b", max_width=26),
    Column("label_b", label="lb"), Column("count", justify="right"), Column("count_a", justify="right", label="n_a"),
    Column("count_b", justify="right", label="n_b"), Column("npmi", justify="right"), Column("llr", justify="right"),
    Column("units", flex=True, optional=True),
]
PLOT_NODES = 20


class Unit(str, Enum):
    story = "story"
    sentence = "sentence"
    file = "file"


class Sort(str, Enum):
    count = "count"
    npmi = "npmi"
    llr = "llr"


@boundary
def cooccur(
    paths: common.PathsArg = None,
    unit: Annotated[Unit, typer.Option("--unit", help="What counts as appearing together.")] = Unit.story,
    sort: Annotated[Sort, typer.Option("--sort", help="Order pairs by count, npmi or llr (ties by name).")] = Sort.count,
    min_count: Annotated[int, typer.Option("--min-count", min=1, help="Only pairs sharing at least N units.")] = 1,
    top: Annotated[Optional[int], typer.Option("--top", min=1, help="Only the first N pairs (matrix: N entities, default 15; plot: N nodes, default 20).")] = None,
    label: filteropts.LabelOpt = None,
    entity: filteropts.EntityOpt = None,
    keep_duplicates: filteropts.KeepDuplicatesOpt = False,
    matrix: Annotated[bool, typer.Option("--matrix", help="A square entity-by-entity table of pair counts.")] = False,
    graph: Annotated[Optional[list[Path]], typer.Option("--graph", metavar="FILE", help="Write the network: .graphml, .gexf, .dot, .json, or Gephi's nodes.csv / edges.csv; repeat for several files.")] = None,
    plot: Annotated[Optional[list[Path]], typer.Option("--plot", metavar="FILE", help="Draw the strongest pairs to .png or .svg; repeat for several files.")] = None,
    no_canonical: nlpopts.NoCanonicalOpt = False,
    place: filteropts.PlaceOpt = None,
    agency: filteropts.AgencyOpt = None,
    section: filteropts.SectionOpt = None,
    kind: filteropts.KindOpt = None,
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
    """Count which entities appear together, with npmi and llr association.

    One row per unordered pair (entity_a < entity_b): count, count_a, count_b,
    npmi, llr and the ids of the shared units. Duplicate stories are left out
    unless --keep-duplicates. Nationality adjectives (MISC: Russische,
    Amerikaanse) are left out unless --all or --label MISC.

    Example: newsctl cooccur seeds/ --entity Tokajev
    """
    import dataclasses

    from analysis import cooccurrence as cx
    from analysis.filters import select_stories
    from analysis.render import picture_format

    filt = filteropts.build(place=place, agency=agency, section=section, kind=kind, entity=entity, label=label)
    labels = filt.label or None
    for path in graph or ():
        cx.graph_format(path)  # a wrong name fails before the model runs
    for path in plot or ():
        picture_format(path)
    if not plot and nlpopts.can_stream(paths, filt, no_cache=no_cache, no_canonical=no_canonical):
        return _streamed(paths, filt, unit=unit.value, sort=sort.value, min_count=min_count, top=top, labels=labels,
                         keep_duplicates=keep_duplicates, matrix=matrix, graph=graph, all_=all_, aliases=aliases,
                         model=model, store=store, jobs=jobs, scheduler=scheduler, fmt=fmt, no_header=no_header)
    corpus = common.load(paths)
    annotated, labels_of = nlpopts.annotate(corpus, model=model, store=store, no_cache=no_cache, canonical=not no_canonical,
                                         jobs=jobs, scheduler=scheduler, aliases=aliases)
    if not nlpopts.keep_adjectives(all_, labels):
        from analysis.entities import drop_adjectives

        drop_adjectives(annotated, labels_of)
    filteropts.corpus_hints(filt, corpus, annotated, labels_of)
    chosen = select_stories(annotated, filt, keep_duplicates=keep_duplicates)
    co = cx.cooccurrence(chosen, labels_of, unit=unit.value, keep_duplicates=keep_duplicates)
    names = dataclasses.replace(filt, label=()).entity_names(co.variants, labels_of)
    select = dict(sort=sort.value, min_count=min_count, labels=labels, names=names)
    if graph:
        cx.write_graphs(cx.to_graph(co, cx.select_pairs(co, top=top, **select)), graph)
    if plot:
        _plot(co, cx.select_pairs(co, **select), plot, top or PLOT_NODES)
    if matrix:
        n = _matrix(co, top or 15, labels, fmt, no_header)
    else:
        rows = cx.select_pairs(co, top=top, **select)
        fmt = fmt or output.default_format()
        n = output.render((_for_format(r, fmt) for r in rows), PAIR_COLUMNS, fmt, header=not no_header)
    nlpopts.check_stored()
    common.exit_status(corpus)
    if filt and not n:
        raise typer.Exit(EXIT_NO_MATCH)


def _streamed(paths, filt, *, unit, sort, min_count, top, labels, keep_duplicates, matrix, graph, all_, aliases,
              model, store, jobs, scheduler, fmt, no_header) -> None:
    """The pairs from files streamed in batches (:mod:`analysis.entitystream`): any corpus size."""
    import dataclasses

    from analysis import cooccurrence as cx
    from analysis import entitystream as es

    tables, nm = nlpopts.streamed(paths, model=model, store=store, jobs=jobs, scheduler=scheduler, aliases=aliases)
    labels_of = nm.labels_of()
    kept = es.adjective_mask(tables, nm, nlpopts.keep_adjectives(all_, labels))
    filteropts.entity_hints(filt, lambda: es.variants(tables, nm, kept), labels_of)
    counts = es.Cooccurrences(tables, nm, kept & es.story_mask(tables, keep_duplicates), unit=unit,
                              keep_duplicates=keep_duplicates)
    names = dataclasses.replace(filt, label=()).entity_names(counts.co.variants, labels_of)
    select = dict(sort=sort, min_count=min_count, labels=labels, names=names)
    co = None
    if graph or not matrix:
        co = counts.for_pairs(top=top, **select)
    if graph:
        cx.write_graphs(cx.to_graph(co, cx.select_pairs(co, top=top, **select)), graph)
    if matrix:
        n = _matrix(counts.for_matrix(top or 15, labels), top or 15, labels, fmt, no_header)
    else:
        rows = cx.select_pairs(co, top=top, **select)
        fmt = fmt or output.default_format()
        n = output.render((_for_format(r, fmt) for r in rows), PAIR_COLUMNS, fmt, header=not no_header)
    nlpopts.check_stored()
    if tables.partial:
        raise typer.Exit(common.EXIT_PARTIAL)
    if filt and not n:
        raise typer.Exit(EXIT_NO_MATCH)


def _for_format(row: dict, fmt: Format) -> dict:
    units = row["units"]
    if fmt is Format.table:
        shown = ", ".join(units[:3]) + (f", … (+{len(units) - 3})" if len(units) > 3 else "")
        return {**row, "units": shown}
    if fmt in (Format.tsv, Format.csv, Format.excel_csv):
        joined = getattr(units, "joined", None)  # the streamed path's lazy ids join a chunk at a time
        return {**row, "units": joined(",") if joined else ",".join(units)}
    return row if isinstance(units, list) else {**row, "units": list(units)}  # the streamed path's ids are lazy


def _plot(co, pairs, paths: list[Path], max_nodes: int) -> None:
    from analysis.cooccurrence import plot_pairs, to_graph
    from analysis.render import plot_network

    g = to_graph(co, plot_pairs(pairs, max_nodes))
    for path in dict.fromkeys(paths):
        plot_network(g, path, title=f"Entity co-occurrence per {co.unit} ({g.number_of_nodes()} entities)")


def _matrix(co, n: int, labels, fmt, no_header: bool) -> int:
    from analysis.cooccurrence import matrix, top_entities

    ents = top_entities(co, n, labels)
    rows = matrix(co, ents)
    fmt = fmt or output.default_format()
    columns = [Column("entity", max_width=24), Column("label"), Column("units", justify="right")]
    caption = None
    if fmt is Format.table:
        width = output.console().width
        shown, headers = fit_matrix(ents, rows, width)
        rows = [_heat(r, ents) for r in rows]
        columns += [Column(e, justify="right", label=h) for e, h in zip(shown, headers)]
        if len(shown) < len(ents):
            caption = (f"{len(ents) - len(shown)} of {len(ents)} columns (the smallest entities) left out "
                       f"to fit {width} characters; -f tsv shows all")
    else:
        columns += [Column(e, justify="right") for e in ents]
    return output.render(rows, columns, fmt, header=not no_header, caption=caption)


MIN_HEADER = 5  # `Russ…`: shorter headers say too little


def fit_matrix(ents: list[str], rows: list[dict], width: int) -> tuple[list[str], list[str]]:
    """The entity columns a ``width``-character table can show, first ones first, and their headers.

    A table costs the sum of its column widths, 3 between columns and 2 at the
    edges. Headers are cut to the widest width all shown columns can have, at
    least ``MIN_HEADER``, and made unique (see :func:`short_labels`).
    """
    fixed = [min(24, max((len(e) for e in ents), default=6)), len("label"),
             max([len("units")] + [len(str(r["units"])) for r in rows])]
    room = width - (sum(fixed) + 3 * (len(fixed) - 1) + 2)
    digits = {e: max(len(str(r[e])) for r in rows) for e in ents}
    for k in range(len(ents), 0, -1):
        shown = ents[:k]
        header = min(room // k - 3, max(len(e) for e in shown))
        if header < 1:
            continue
        cost = sum(3 + max(min(header, len(e)), digits[e]) for e in shown)
        if cost <= room and (header >= MIN_HEADER or all(len(e) <= header for e in shown)):
            return shown, short_labels(shown, header)
    return [], []


def short_labels(names: list[str], width: int) -> list[str]:
    """Each name cut to ``width`` characters with `…`, all different.

    Names that would share a header keep their last letters instead
    (`Russische`, `Rusland` at 3: `R…e`, `R…d`); if that is not enough, a number.
    """
    def cut(name: str, tail: int) -> str:
        if len(name) <= width:
            return name
        head = max(width - 1 - tail, 0)
        return name[:head] + "…" + (name[len(name) - tail:] if tail else "")

    out = [cut(e, 0) for e in names]
    for tail in range(1, max(width - 1, 1)):
        clashes = [k for k, s in enumerate(out) if out.count(s) > 1]
        if not clashes:
            return out
        for k in clashes:
            out[k] = cut(names[k], tail)
    seen: dict[str, int] = {}
    for k, s in enumerate(out):
        if out.count(s) > 1:
            seen[s] = seen.get(s, 0) + 1
            mark = str(seen[s])
            out[k] = names[k][: max(width - 1 - len(mark), 0)] + "…" + mark
    return out


def _heat(row: dict, ents: list[str]) -> dict:
    from rich.text import Text

    peak = max([row[e] for e in ents if e != row["entity"]] + [1])
    out = dict(row)
    for e in ents:
        v = row[e]
        if e == row["entity"]:
            out[e] = Text(str(v), style="dim")
        elif v:
            level = v / peak
            style = "black on #fde68a" if level < 0.34 else "black on #f59e0b" if level < 0.67 else "white on #b91c1c"
            out[e] = Text(str(v), style=style)
        else:
            out[e] = Text("·", style="dim")
    return out
