"""Pictures and pages: a self-contained HTML page of highlighted entities (displaCy)."""

from __future__ import annotations

import html
from pathlib import Path

from .errors import NewsctlError

LABEL_COLOURS = {"PER": "#f9c74f", "ORG": "#90be6d", "LOC": "#74c0fc", "MISC": "#d0bfff"}


def story_entities_page(annotated) -> str:
    """HTML for every story with its mentions highlighted by label."""
    from spacy import displacy

    parts = []
    for ann in annotated.stories:
        story, text = ann.story, ann.doc.text
        dateline = story.dateline.raw if story.dateline else "no dateline"
        title = f"{story.id} · {dateline}"
        if story.duplicate_of:
            title += f" · duplicate of {story.duplicate_of}"
        parts.append({
            "text": text[story.start: story.end],
            "ents": [
                {"start": m.start - story.start, "end": m.end - story.start,
                 "label": m.label if m.canonical in (m.text, "") else f"{m.label} · {m.canonical}"}
                for m in ann.mentions
            ],
            "title": html.escape(title),
        })
    colours = dict(LABEL_COLOURS)
    for p in parts:
        for e in p["ents"]:
            colours.setdefault(e["label"], LABEL_COLOURS.get(e["label"].split(" ")[0], "#ddd"))
    return displacy.render(parts, style="ent", manual=True, page=True, minify=True,
                           options={"colors": colours})


LABEL_NAMES = {"PER": "person", "ORG": "organisation", "LOC": "place", "MISC": "other name"}


def _legend() -> str:
    chips = "".join(
        f'<span style="background: {html.escape(colour)}; padding: 0.2em 0.5em; margin-right: 0.6em;'
        f' border-radius: 0.35em">{html.escape(label)} <small>{html.escape(LABEL_NAMES.get(label, ""))}</small></span>'
        for label, colour in LABEL_COLOURS.items())
    return f'<p class="legend" style="margin: 0 0 2rem 0">Labels: {chips}</p>'


def finish_page(page: str, title: str, *, before: str = "") -> str:
    """A displaCy page made newsctl's: Dutch ``lang``, UTF-8, a title, the label legend.

    ``before`` is HTML put above the legend (a link back to the index).
    """
    page = page.replace('<html lang="en">', '<html lang="nl">', 1)
    page = page.replace("<title>displaCy</title>",
                        f'<meta charset="utf-8"><title>{html.escape(title)}</title>', 1)
    body = page.find("<body")
    if body != -1:
        end = page.find(">", body) + 1
        page = page[:end] + before + f"<h1>{html.escape(title)}</h1>" + _legend() + page[end:]
    return page


def entities_page(annotated, title: str = "newsctl entities", *, before: str = "") -> str:
    """The whole page for ``annotated``'s stories (``--html FILE`` and ``--html -``)."""
    return finish_page(story_entities_page(annotated), title, before=before)


def _write(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise NewsctlError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_html(annotated, path: str | Path) -> None:
    _write(Path(path), entities_page(annotated))


def write_html_dir(annotated, directory: str | Path) -> list[Path]:
    """One page per input file in ``directory`` and an ``index.html`` linking them; returns the pages.

    Pages are named after the file stem (``000_x.html``; ``000_x-2.html`` when
    two files share a stem). The index lists each file with its stories and
    mentions.
    """
    from urllib.parse import quote

    from .entities import AnnotatedCorpus

    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NewsctlError(f"cannot create {d}: {exc.strerror or exc}") from exc
    by_file: dict[str, list] = {}
    for a in annotated.stories:
        by_file.setdefault(a.doc.path, []).append(a)
    used: set[str] = {"index"}
    rows, pages = [], []
    for path, stories in by_file.items():
        stem = stories[0].doc.stem
        name, k = stem, 1
        while name in used:
            k += 1
            name = f"{stem}-{k}"
        used.add(name)
        part = AnnotatedCorpus(annotated.corpus, stories)
        page = d / f"{name}.html"
        _write(page, entities_page(part, f"newsctl entities · {path}",
                                   before='<p><a href="index.html">all files</a></p>'))
        pages.append(page)
        mentions = sum(len(a.mentions) for a in stories)
        rows.append(f'<tr><td><a href="{html.escape(quote(page.name))}">{html.escape(path)}</a></td>'
                    f'<td style="text-align: right">{len(stories)}</td><td style="text-align: right">{mentions}</td></tr>')
    index = (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>newsctl entities</title></head>'
        '<body style="font-family: sans-serif; padding: 2rem"><h1>newsctl entities</h1>' + _legend()
        + '<table><thead><tr><th style="text-align: left">file</th><th>stories</th><th>mentions</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></body></html>\n'
    )
    _write(d / "index.html", index)
    return pages


def plot_network(graph, path: str | Path, *, title: str | None = None) -> None:
    """Draw the co-occurrence network to PNG or SVG.

    Node area grows with the entity's units, edge width with the pair count,
    node colour shows the label; the layout is seeded, so the same data gives
    the same picture.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.lines import Line2D

    p = Path(path)
    if p.suffix.lower() not in (".png", ".svg"):
        raise NewsctlError(f"unknown picture format {p.suffix or p.name!r} (use .png or .svg)")
    if graph.number_of_nodes() == 0:
        raise NewsctlError("nothing to draw: no pairs left after filtering")
    fig, ax = plt.subplots(figsize=(12, 9), dpi=110)
    pos = nx.spring_layout(graph, seed=7, k=1.6 / max(1, graph.number_of_nodes()) ** 0.5, weight="count")
    units = [graph.nodes[n].get("units", 1) for n in graph]
    top = max(units) or 1
    sizes = [300 + 2200 * u / top for u in units]
    colours = [LABEL_COLOURS.get(graph.nodes[n].get("label"), "#dddddd") for n in graph]
    counts = [graph.edges[e].get("count", 1) for e in graph.edges]
    cmax = max(counts, default=1)
    widths = [0.8 + 6 * c / cmax for c in counts]
    nx.draw_networkx_edges(graph, pos, ax=ax, width=widths, edge_color="#8a8a8a", alpha=0.55)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=sizes, node_color=colours, edgecolors="#333333", linewidths=0.8)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=10,
                            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75})
    handles = [Line2D([0], [0], marker="o", color="w", markerfacecolor=c, markeredgecolor="#333", markersize=11, label=lab)
               for lab, c in LABEL_COLOURS.items() if lab in {graph.nodes[n].get("label") for n in graph}]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, title="label")
    ax.set_title(title or "Entity co-occurrence", fontsize=13)
    ax.axis("off")
    fig.tight_layout()
    try:
        fig.savefig(p, format=p.suffix.lower()[1:])
    except OSError as exc:
        raise NewsctlError(f"cannot write {p}: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
