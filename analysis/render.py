"""Pictures and pages: a self-contained HTML page of highlighted entities (displaCy)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import NewsctlError
from .reader import display_name

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
            "title": html.escape(display_name(title)),
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


@dataclass
class NetworkDrawing:
    """A drawn network: the figure, each shown label's Text, and the nodes whose label was left out."""

    figure: Any
    labels: dict = field(default_factory=dict)  # node -> matplotlib Text
    left_out: list = field(default_factory=list)


LABEL_GAP = 3.0  # pixels kept free around every label box and node disc


def plot_network(graph, path: str | Path, *, title: str | None = None) -> NetworkDrawing:
    """Draw the co-occurrence network to PNG or SVG (see :func:`draw_network`)."""
    p = Path(path)
    fmt = picture_format(p)
    drawing = draw_network(graph, title=title)
    import matplotlib.pyplot as plt

    try:
        drawing.figure.savefig(p, format=fmt)
    except OSError as exc:
        raise NewsctlError(f"cannot write {p}: {exc.strerror or exc}") from exc
    finally:
        plt.close(drawing.figure)
    return drawing


def picture_format(path: str | Path) -> str:
    """``png`` or ``svg``, from the file name; anything else is an error."""
    ext = Path(path).suffix.lower()
    if ext not in (".png", ".svg"):
        raise NewsctlError(f"unknown picture format {ext or Path(path).name!r} (use .png or .svg)")
    return ext[1:]


def draw_network(graph, *, title: str | None = None) -> NetworkDrawing:
    """Draw the co-occurrence network on a matplotlib figure.

    Node area grows with the entity's units, edge width with the pair weight
    (count), node colour shows the type. Nodes are pushed apart until no two
    discs touch. Labels are placed largest entity first, each at the first of
    a ring of spots around its node where its box (measured with the
    renderer) touches no other label, no other node, the legend or the
    caption; a label with no such spot is left out, and the caption says how
    many. The layout is seeded, so the same data gives the same picture.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.lines import Line2D

    if graph.number_of_nodes() == 0:
        raise NewsctlError("nothing to draw: no pairs left after filtering")
    n = graph.number_of_nodes()
    dpi = 110
    fig = plt.figure(figsize=(12, 9) if n <= 20 else (14, 10.5), dpi=dpi)
    ax = fig.add_axes((0.01, 0.1, 0.98, 0.8))
    ax.axis("off")
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    width, height = box.width, box.height
    ax.set_xlim(0, width)  # data units are the axes' own pixels
    ax.set_ylim(0, height)

    nodes = list(graph)
    units = [graph.nodes[v].get("units", 1) for v in nodes]
    top = max(units) or 1
    shrink = min(1.0, 20 / n)
    sizes = [(300 + 2200 * u / top) * shrink for u in units]  # points², as scatter takes them
    radii = [(s ** 0.5 / 2 + 0.5) * dpi / 72 for s in sizes]  # pixels, edge line included
    canon = sorted(range(n), key=lambda i: str(nodes[i]))  # the picture follows the data, not the order it came in
    xy = _spread(_layout(graph, [nodes[i] for i in canon], width, height), [radii[i] for i in canon], width, height)
    at = {nodes[i]: p for i, p in zip(canon, xy)}

    weights = [graph.edges[e].get("weight", 1) for e in graph.edges]
    wmax = max(weights, default=1)
    nx.draw_networkx_edges(graph, at, ax=ax, width=[0.8 + 6 * w / wmax for w in weights],
                           edge_color="#8a8a8a", alpha=0.55)
    nx.draw_networkx_nodes(graph, at, ax=ax, nodelist=nodes, node_size=sizes,
                           node_color=[LABEL_COLOURS.get(graph.nodes[v].get("type"), "#dddddd") for v in nodes],
                           edgecolors="#333333", linewidths=0.8)
    types = {graph.nodes[v].get("type") for v in nodes}
    handles = [Line2D([0], [0], marker="o", color="w", markerfacecolor=c, markeredgecolor="#333", markersize=11, label=lab)
               for lab, c in LABEL_COLOURS.items() if lab in types]
    legend = fig.legend(handles=handles, loc="lower center", ncol=max(1, len(handles)), frameon=False,
                        title="type", bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title or "Entity co-occurrence", fontsize=13, y=0.975)

    drawing = NetworkDrawing(fig)
    caption = fig.text(0.5, 0.945, _caption(n, n), ha="center", va="top", fontsize=9, color="#555555")
    blocked = [legend.get_window_extent(renderer), caption.get_window_extent(renderer)]  # the longest caption
    discs = [(*ax.transData.transform(at[v]), r) for v, r in zip(nodes, radii)]
    order = sorted(range(n), key=lambda i: (-units[i], str(nodes[i])))
    placed = []
    from matplotlib.patheffects import withStroke

    halo = [withStroke(linewidth=3, foreground="white")]
    for i in order:
        v = nodes[i]
        text = ax.text(0, 0, graph.nodes[v].get("label", str(v)), fontsize=10, zorder=5, path_effects=halo, parse_math=False)
        spot = _free_spot(text, renderer, ax, discs, i, placed + blocked, box)
        if spot is None:
            text.remove()
            drawing.left_out.append(v)
        else:
            placed.append(spot)
            drawing.labels[v] = text
    caption.set_text(_caption(n, len(drawing.left_out)))
    return drawing


def _caption(n: int, left_out: int) -> str:
    text = f"{n} entities; node area by units, edge width by pair count."
    if left_out:
        text += (f" Labels are placed largest entity first: {left_out} of {n} found no free spot beside"
                 " their node and are left out (the --graph files name every node).")
    return text


def _layout(graph, nodes: list, width: float, height: float) -> list[list[float]]:
    """Seeded spring layout in the axes' pixels: the largest connected part fills the
    left of the picture, the smaller parts are stacked in a column on the right."""
    import networkx as nx

    parts = sorted((sorted(c, key=str) for c in nx.connected_components(graph)), key=lambda c: (-len(c), str(c[0])))
    cells = [(0.0, 0.0, width, height)]
    if len(parts) > 1:
        side = min(0.3, 0.08 + 0.04 * (len(parts) - 1)) * width
        rest = sum(len(c) ** 0.5 for c in parts[1:])
        cells = [(0.0, 0.0, width - side, height)]
        top = height
        for c in parts[1:]:
            h = height * len(c) ** 0.5 / rest
            cells.append((width - side, top - h, side, h))
            top -= h
    at = {}
    for part, (x0, y0, w, h) in zip(parts, cells):
        sub = nx.Graph()  # nodes in sorted order: the seeded layout starts from the same places
        sub.add_nodes_from(part)
        sub.add_edges_from(graph.subgraph(part).edges(data=True))
        pos = nx.spring_layout(sub, seed=7, k=1.6 / len(part) ** 0.5, weight="weight") if len(part) > 2 else \
            {v: (k, 0.5) for k, v in enumerate(part)}
        xs = [float(pos[v][0]) for v in part]
        ys = [float(pos[v][1]) for v in part]
        mx, my = min(100.0, w * 0.15), min(40.0, h * 0.25)
        for v, x, y in zip(part, xs, ys):
            at[v] = [_scale(x, min(xs), max(xs), x0 + mx, x0 + w - mx), _scale(y, min(ys), max(ys), y0 + my, y0 + h - my)]
    return [at[v] for v in nodes]


def _scale(v: float, lo: float, hi: float, a: float, b: float) -> float:
    return (a + b) / 2 if hi - lo < 1e-12 else a + (v - lo) / (hi - lo) * (b - a)


def _spread(xy: list[list[float]], radii, width: float, height: float) -> list[tuple[float, float]]:
    """Nudge discs apart until no two touch, keeping each inside the axes."""
    for _ in range(300):
        moved = False
        for i in range(len(xy)):
            for j in range(i + 1, len(xy)):
                dx, dy = xy[j][0] - xy[i][0], xy[j][1] - xy[i][1]
                dist = (dx * dx + dy * dy) ** 0.5
                need = radii[i] + radii[j] + 2 * LABEL_GAP
                if dist >= need:
                    continue
                if dist < 1e-9:
                    dx, dy, dist = 1.0, 0.0, 1.0
                push = (need - dist) / 2 + 0.5
                ux, uy = dx / dist, dy / dist
                xy[i][0] -= ux * push
                xy[i][1] -= uy * push
                xy[j][0] += ux * push
                xy[j][1] += uy * push
                moved = True
        for k, r in enumerate(radii):
            xy[k][0] = min(max(xy[k][0], r), width - r)
            xy[k][1] = min(max(xy[k][1], r), height - r)
        if not moved:
            break
    return [(x, y) for x, y in xy]


# Spots around a node, in the order tried: right, left, above, below, then the diagonals.
_SPOTS = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"), (0, -1, "center", "top"),
          (0.71, 0.71, "left", "bottom"), (-0.71, 0.71, "right", "bottom"),
          (0.71, -0.71, "left", "top"), (-0.71, -0.71, "right", "top")]


def _free_spot(text, renderer, ax, discs, own: int, boxes, frame):
    """Move ``text`` to the first spot beside disc ``own`` where it hides nothing; its box, or None."""
    cx, cy, r = discs[own]
    for ring in (0, 10, 24):
        for ux, uy, ha, va in _SPOTS:
            d = r + LABEL_GAP + ring
            text.set_position(ax.transData.inverted().transform((cx + ux * d, cy + uy * d)))
            text.set_ha(ha)
            text.set_va(va)
            bb = text.get_window_extent(renderer)
            if bb.x0 < frame.x0 or bb.x1 > frame.x1 or bb.y0 < frame.y0 or bb.y1 > frame.y1:
                continue
            if any(_boxes_touch(bb, other) for other in boxes):
                continue
            if any(k != own and _box_touches_disc(bb, x, y, rr) for k, (x, y, rr) in enumerate(discs)):
                continue
            return bb
    return None


def _boxes_touch(a, b, gap: float = LABEL_GAP) -> bool:
    return a.x0 < b.x1 + gap and b.x0 < a.x1 + gap and a.y0 < b.y1 + gap and b.y0 < a.y1 + gap


def _box_touches_disc(bb, x: float, y: float, r: float, gap: float = LABEL_GAP) -> bool:
    nx_ = min(max(x, bb.x0), bb.x1)
    ny_ = min(max(y, bb.y0), bb.y1)
    return (x - nx_) ** 2 + (y - ny_) ** 2 < (r + gap) ** 2
