"""Pictures and pages: a self-contained HTML page of highlighted entities (displaCy)."""

from __future__ import annotations

import html
from pathlib import Path

from .errors import NewsctlError

LABEL_COLOURS = {"PER": "#f9c74f", "ORG": "#90be6d", "LOC": "#74c0fc", "MISC": "#d0bfff"}


def story_entities_page(annotated) -> str:
    """HTML for every story with its mentions highlighted by label.

    displaCy escapes the text but puts labels and titles into the page as
    they are, so every label (it carries the canonical name) and title (it
    carries the file name and the dateline) is escaped here.
    """
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
                 "label": html.escape(m.label if m.canonical in (m.text, "") else f"{m.label} · {m.canonical}")}
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


def write_html(annotated, path: str | Path) -> None:
    page = story_entities_page(annotated).replace("<title>displaCy</title>", "<title>newsctl entities</title>")
    try:
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise NewsctlError(f"cannot write {path}: {exc.strerror or exc}") from exc


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
