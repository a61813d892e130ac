"""The co-occurrence picture: no label hides another label or a node."""

import itertools

import networkx as nx
import pytest

from analysis.errors import NewsctlError
from analysis.render import draw_network, plot_network


def assert_nothing_hidden(drawing, graph):
    """Measured from matplotlib's own extents: label boxes apart, and off every node but their own."""
    from matplotlib.collections import PathCollection

    fig = drawing.figure
    if not hasattr(fig.canvas, "get_renderer"):  # closed after saving: draw it again, same size and dpi
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    [ax] = fig.axes
    [markers] = [c for c in ax.collections if isinstance(c, PathCollection)]
    nodes = list(graph)
    centres = ax.transData.transform(markers.get_offsets())
    sizes = markers.get_sizes()
    radii = [(s ** 0.5 / 2 + markers.get_linewidths()[0] / 2) * fig.dpi / 72 for s in sizes]
    assert len(centres) == len(nodes)
    boxes = {v: t.get_window_extent(renderer) for v, t in drawing.labels.items()}
    assert set(boxes) | set(drawing.left_out) == set(nodes)
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not ba.overlaps(bb), f"labels {a!r} and {b!r} overlap"
    for v, box in boxes.items():
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
        for k, (x, y) in enumerate(centres):
            if nodes[k] == v:
                continue
            nx_, ny_ = min(max(x, box.x0), box.x1), min(max(y, box.y0), box.y1)
            assert (x - nx_) ** 2 + (y - ny_) ** 2 > radii[k] ** 2, f"label {v!r} hides node {nodes[k]!r}"
    for legend in fig.legends:
        assert not any(box.overlaps(legend.get_window_extent(renderer)) for box in boxes.values())
    for t in fig.texts:  # title and caption
        assert not any(box.overlaps(t.get_window_extent(renderer)) for box in boxes.values())


def _graph(n: int, *, long_names: bool = False, seed: int = 3):
    import random

    rnd = random.Random(seed)
    g = nx.Graph()
    names = [f"{'Entiteit met een lange naam ' if long_names else 'Naam '}{k}" for k in range(n)]
    for k, v in enumerate(names):
        g.add_node(v, label=v, type=["PER", "ORG", "LOC", "MISC"][k % 4], units=rnd.randint(1, 30))
    for a, b in itertools.combinations(names, 2):
        if rnd.random() < 0.25:
            c = rnd.randint(1, 9)
            g.add_edge(a, b, weight=c, count=c, npmi=0.5, llr=3.0)
    return g


@pytest.mark.parametrize("n,long_names", [(30, False), (30, True), (8, False)])
def test_labels_hide_nothing(n, long_names):
    import matplotlib.pyplot as plt

    g = _graph(n, long_names=long_names)
    drawing = draw_network(g, title="test")
    try:
        assert_nothing_hidden(drawing, g)
        caption = " ".join(t.get_text() for t in drawing.figure.texts)
        if drawing.left_out:
            assert f"{len(drawing.left_out)} of {n}" in caption and "left out" in caption
        else:
            assert "left out" not in caption
        if not long_names:
            assert not drawing.left_out  # short names at 30 nodes all find room
    finally:
        plt.close(drawing.figure)


def test_the_picture_does_not_depend_on_the_order_nodes_and_edges_came_in():
    import random

    import matplotlib.pyplot as plt

    g = _graph(24)
    shuffled = nx.Graph()
    nodes, edges = list(g.nodes(data=True)), list(g.edges(data=True))
    rnd = random.Random(11)
    rnd.shuffle(nodes)
    rnd.shuffle(edges)
    shuffled.add_nodes_from(nodes)
    shuffled.add_edges_from((b, a, d) for a, b, d in edges)
    pictures = []
    for graph in (g, shuffled):
        drawing = draw_network(graph)
        try:
            pictures.append(({v: t.get_position() for v, t in drawing.labels.items()}, sorted(drawing.left_out)))
        finally:
            plt.close(drawing.figure)
    assert pictures[0] == pictures[1]


def test_crowded_picture_leaves_labels_out_and_says_so():
    import matplotlib.pyplot as plt

    g = _graph(90, long_names=True)
    drawing = draw_network(g)
    try:
        assert drawing.left_out
        assert_nothing_hidden(drawing, g)
        assert any(f"{len(drawing.left_out)} of 90" in t.get_text() for t in drawing.figure.texts)
    finally:
        plt.close(drawing.figure)


def test_hostile_label_and_formats(tmp_path):
    g = nx.Graph()
    g.add_node("<b>$x^2$ \\n", label="<b>$x^2$ \\n", type="PER", units=2)
    g.add_node("A", label="A", type="LOC", units=1)
    g.add_edge("<b>$x^2$ \\n", "A", weight=1)
    drawing = plot_network(g, tmp_path / "g.svg")
    label = drawing.labels["<b>$x^2$ \\n"]
    assert label.get_text() == "<b>$x^2$ \\n" and not label.get_parse_math()  # shown as written, not as math
    assert "<svg" in (tmp_path / "g.svg").read_text(encoding="utf-8")
    with pytest.raises(NewsctlError):
        plot_network(g, tmp_path / "g.pdf")
    with pytest.raises(NewsctlError):
        plot_network(nx.Graph(), tmp_path / "g.png")
