"""`newsctl cooccur`: which entities appear together, as rows, a matrix, a graph or a picture."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from .. import common, nlpopts, output
from ..errors import boundary
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
    label: nlpopts.LabelOpt = None,
    entity: Annotated[Optional[str], typer.Option("--entity", metavar="NAME", help="Only pairs with this entity (canonical name or any variant, any case).")] = None,
    keep_duplicates: Annotated[bool, typer.Option("--keep-duplicates", help="Count stories marked duplicate_of too.")] = False,
    matrix: Annotated[bool, typer.Option("--matrix", help="A square entity-by-entity table of pair counts.")] = False,
    graph: Annotated[Optional[Path], typer.Option("--graph", metavar="FILE", help="Write the network: .graphml, .gexf, .dot or .json.")] = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE", help="Draw the strongest pairs to .png or .svg.")] = None,
    no_canonical: nlpopts.NoCanonicalOpt = False,
    all_: nlpopts.AllOpt = False,
    aliases: nlpopts.AliasesOpt = None,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
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
    from analysis import cooccurrence as cx

    labels = nlpopts.parse_labels(label)
    corpus = common.load(paths)
    annotated, labels_of = nlpopts.annotate(
        corpus, model=model, store=store, no_cache=no_cache, canonical=not no_canonical, aliases=aliases
    )
    if not nlpopts.keep_adjectives(all_, labels):
        from analysis.entities import drop_adjectives

        drop_adjectives(annotated, labels_of)
    co = cx.cooccurrence(annotated, labels_of, unit=unit.value, keep_duplicates=keep_duplicates)
    select = dict(sort=sort.value, min_count=min_count, labels=labels, entity=entity)
    if graph is not None:
        cx.write_graph(cx.to_graph(co, cx.select_pairs(co, top=top, **select)), graph)
    if plot is not None:
        _plot(co, cx.select_pairs(co, **select), plot, top or PLOT_NODES)
    if matrix:
        _matrix(co, top or 15, labels, fmt, no_header)
    else:
        rows = cx.select_pairs(co, top=top, **select)
        fmt = fmt or output.default_format()
        output.render((_for_format(r, fmt) for r in rows), PAIR_COLUMNS, fmt, header=not no_header)
    common.exit_status(corpus)


def _for_format(row: dict, fmt: Format) -> dict:
    units = row["units"]
    if fmt is Format.table:
        shown = ", ".join(units[:3]) + (f", … (+{len(units) - 3})" if len(units) > 3 else "")
        return {**row, "units": shown}
    if fmt in (Format.tsv, Format.csv):
        return {**row, "units": ",".join(units)}
    return row


def _plot(co, pairs, path: Path, max_nodes: int) -> None:
    from analysis.cooccurrence import to_graph
    from analysis.render import plot_network

    nodes: set[str] = set()
    kept = []
    for r in pairs:  # strongest first; at most max_nodes nodes and 2 edges per node
        new = {r["entity_a"], r["entity_b"]} - nodes
        if len(nodes) + len(new) > max_nodes:
            continue
        nodes |= new
        kept.append(r)
        if len(kept) >= 2 * max_nodes:
            break
    plot_network(to_graph(co, kept), path, title=f"Entity co-occurrence per {co.unit} ({len(nodes)} entities)")


def _matrix(co, n: int, labels, fmt, no_header: bool) -> None:
    from analysis.cooccurrence import matrix, top_entities

    ents = top_entities(co, n, labels)
    rows = matrix(co, ents)
    fmt = fmt or output.default_format()
    columns = [Column("entity", max_width=24), Column("label"), Column("units", justify="right")]
    if fmt is Format.table:
        rows = [_heat(r, ents) for r in rows]
        # Column headers are cut so the matrix fits the terminal.
        fixed = min(24, max((len(e) for e in ents), default=6)) + len("label") + len("units") + 3 * 3
        width = (output.console().width - fixed) // max(len(ents), 1) - 3
        columns += [Column(e, justify="right", label=_abbrev(e, max(width, 3))) for e in ents]
    else:
        columns += [Column(e, justify="right") for e in ents]
    output.render(rows, columns, fmt, header=not no_header)


def _abbrev(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


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
