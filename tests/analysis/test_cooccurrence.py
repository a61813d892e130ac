import math
import re

import pytest

from analysis.cooccurrence import (
    count_cooccurrence, graph_format, llr, matrix, npmi, plot_pairs, select_pairs, to_graph, write_graph, write_graphs,
)
from analysis.errors import NewsctlError

LABELS = {"A": "PER", "B": "ORG", "C": "LOC"}


def test_hand_computed_example():
    # N = 4 units: {A,B} {A,B} {A} {}  ->  n_a = 3, n_b = 2, n_ab = 2
    co = count_cooccurrence([("u1", {"A", "B"}), ("u2", {"B", "A"}), ("u3", {"A"}), ("u4", set())], LABELS)
    [row] = select_pairs(co)
    assert (row["entity_a"], row["entity_b"], row["count"], row["count_a"], row["count_b"]) == ("A", "B", 2, 3, 2)
    assert row["units"] == ["u1", "u2"]
    # pmi = ln(0.5 / (0.75 * 0.5)) = ln(4/3); npmi = pmi / -ln(0.5)
    assert row["npmi"] == pytest.approx(math.log(4 / 3) / math.log(2))
    assert row["npmi"] == pytest.approx(0.415037, abs=1e-6)
    # G2 = 2 * (2 ln(8/6) + 1 ln(4/6) + 0 + 1 ln(4/2))
    assert row["llr"] == pytest.approx(2 * (2 * math.log(8 / 6) + math.log(4 / 6) + math.log(2)))
    assert row["llr"] == pytest.approx(1.726092, abs=1e-6)


def test_pair_in_every_unit():
    assert npmi(5, 5, 5, 5) == 1.0
    assert llr(5, 5, 5, 5) == 0.0  # no contrast, no evidence


def test_entity_in_one_unit():
    # N = 3: {A,B} {B} {}
    assert npmi(1, 1, 2, 3) == pytest.approx(math.log(1.5) / math.log(3))
    assert llr(1, 1, 2, 3) == pytest.approx(2 * (math.log(1.5) + math.log(0.75) + math.log(1.5)))


def test_independent_and_exclusive():
    assert npmi(1, 2, 2, 4) == pytest.approx(0.0, abs=1e-12)
    assert llr(1, 2, 2, 4) == pytest.approx(0.0, abs=1e-12)
    assert npmi(0, 2, 2, 4) == -1.0


def test_unit_counts_once_and_pairs_are_ordered():
    co = count_cooccurrence([("u1", {"C", "A", "B"})], LABELS)
    assert sorted(co.pair_units) == [("A", "B"), ("A", "C"), ("B", "C")]


def test_sort_filters_and_entity_variants():
    units = [("u1", {"A", "B"}), ("u2", {"A", "B"}), ("u3", {"A", "C"}), ("u4", {"C"}), ("u5", {"C"})]
    co = count_cooccurrence(units, LABELS)
    co.variants = {"A": {"a", "mr a"}, "B": {"b"}, "C": {"c"}}
    assert [(r["entity_a"], r["entity_b"]) for r in select_pairs(co)] == [("A", "B"), ("A", "C")]
    assert [r["entity_b"] for r in select_pairs(co, min_count=2)] == ["B"]
    assert [r["entity_b"] for r in select_pairs(co, labels=["PER", "LOC"])] == ["C"]
    assert len(select_pairs(co, entity="MR A")) == 2
    assert select_pairs(co, entity="nobody") == []
    assert select_pairs(co, sort="llr")[0]["entity_b"] == "B"
    with pytest.raises(NewsctlError):
        select_pairs(co, sort="bogus")


def test_matrix_and_graph(tmp_path):
    co = count_cooccurrence([("u1", {"A", "B"}), ("u2", {"A"})], LABELS)
    rows = matrix(co, ["A", "B"])
    assert rows[0] == {"entity": "A", "label": "PER", "units": 2, "A": 2, "B": 1}
    g = to_graph(co, select_pairs(co))
    assert g.nodes["A"] == {"label": "A", "type": "PER", "units": 2}
    assert g.edges["A", "B"]["count"] == g.edges["A", "B"]["weight"] == 1
    for ext in (".graphml", ".gexf", ".dot", ".json"):
        write_graph(g, tmp_path / f"g{ext}")
        assert (tmp_path / f"g{ext}").read_text(encoding="utf-8").strip()
    with pytest.raises(NewsctlError):
        write_graph(g, tmp_path / "g.xyz")


# -- graph files: names, types and weights read back ---------------------------

HOSTILE = {
    'say "hi"': "PER", "<script>alert(1)</script>": "ORG", "line\nbreak": "LOC", "back\\slash\\": "MISC",
    "http://x.nl:8080/a": "ORG", "a:b": "LOC", "=SUM(A1)": "PER", "Oekraïne": "LOC", "node": "MISC",
    "x -- y; z [label=q]": "PER", "&amp; }": "ORG", "tab\there": "LOC",
}


def _hostile_graph():
    names = sorted(HOSTILE)
    # a ring: every name shares one unit with the next; the first two share a second unit
    units = [(f"u{k}", {names[k], names[(k + 1) % len(names)]}) for k in range(len(names))]
    units += [("extra", {names[0], names[1]})]
    co = count_cooccurrence(units, dict(HOSTILE))
    return co, to_graph(co, select_pairs(co))


def _expected_edges(g):
    return {frozenset((a, b)): d["count"] for a, b, d in g.edges(data=True)}


def _dot_unescape(text: str) -> str:
    assert text[0] == text[-1] == '"', text
    out, k, body = [], 0, text[1:-1]
    while k < len(body):
        if body[k] == "\\":
            out.append({"n": "\n", "r": "\r", "\\": "\\", '"': '"'}[body[k + 1]])
            k += 2
        else:
            out.append(body[k])
            k += 1
    return "".join(out)


def test_graph_names_types_weights(tmp_path):
    co, g = _hostile_graph()
    assert set(g) == set(HOSTILE)
    edges = _expected_edges(g)
    assert max(edges.values()) == 2
    for v, d in g.nodes(data=True):
        assert d == {"label": v, "type": HOSTILE[v], "units": co.entity_units[v]}
    for a, b, d in g.edges(data=True):
        assert d["weight"] == d["count"] and set(d) == {"weight", "count", "npmi", "llr"}


def test_graphml_read_back(tmp_path):
    import networkx as nx
    import xml.etree.ElementTree as ET

    _, g = _hostile_graph()
    path = tmp_path / "g.graphml"
    write_graph(g, path)
    back = nx.read_graphml(path)
    assert {v: (d["label"], d["type"]) for v, d in back.nodes(data=True)} == {v: (v, t) for v, t in HOSTILE.items()}
    assert {frozenset((a, b)): d["weight"] for a, b, d in back.edges(data=True)} == _expected_edges(g)
    # Gephi's GraphML importer: a node key named `label`, an edge key named `weight`
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(path).getroot()
    keys = {(k.get("for"), k.get("attr.name")): k.get("id") for k in root.findall("g:key", ns)}
    assert {("node", "label"), ("node", "type"), ("edge", "weight"), ("edge", "npmi"), ("edge", "llr")} <= set(keys)
    labels = [n.find(f"g:data[@key='{keys['node', 'label']}']", ns).text for n in root.iter(f"{{{ns['g']}}}node")]
    assert sorted(labels) == sorted(HOSTILE)


def test_gexf_read_back(tmp_path):
    import networkx as nx
    import xml.etree.ElementTree as ET

    _, g = _hostile_graph()
    path = tmp_path / "g.gexf"
    write_graph(g, path)
    back = nx.read_gexf(path)
    assert {v: (d["label"], d["type"]) for v, d in back.nodes(data=True)} == {v: (v, t) for v, t in HOSTILE.items()}
    assert {frozenset((a, b)): d["weight"] for a, b, d in back.edges(data=True)} == _expected_edges(g)
    # Gephi's GEXF: the node's `label` attribute, the edge's `weight` attribute
    root = ET.parse(path).getroot()
    ns = {"x": root.tag.split("}")[0][1:]}
    assert sorted(n.get("label") for n in root.iterfind(".//x:node", ns)) == sorted(HOSTILE)
    by_id = {n.get("id"): n.get("label") for n in root.iterfind(".//x:node", ns)}
    weights = {frozenset((by_id[e.get("source")], by_id[e.get("target")])): float(e.get("weight"))
               for e in root.iterfind(".//x:edge", ns)}
    assert weights == _expected_edges(g)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydot's parser on new pyparsing
def test_dot_read_back_with_pydot(tmp_path):
    import pydot

    _, g = _hostile_graph()
    path = tmp_path / "g.dot"
    write_graph(g, path)
    [back] = pydot.graph_from_dot_file(str(path))
    nodes = {_dot_unescape(n.get_name()): n.get_attributes() for n in back.get_nodes() if n.get_name() not in ("graph", "node", "edge")}
    assert len(nodes) == len(HOSTILE)  # `http://x.nl:8080/a` is one node, not node `http` with port `//x.nl:...`
    assert {v: (_dot_unescape(a["label"]), _dot_unescape(a["type"])) for v, a in nodes.items()} == {
        v: (v, t) for v, t in HOSTILE.items()}
    edges = {frozenset((_dot_unescape(e.get_source()), _dot_unescape(e.get_destination()))): int(e.get_attributes()["weight"])
             for e in back.get_edges()}
    assert edges == _expected_edges(g)


def test_dot_read_back_with_graphviz(tmp_path):
    import json
    import shutil
    import subprocess

    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed")
    _, g = _hostile_graph()
    path = tmp_path / "g.dot"
    write_graph(g, path)
    out = subprocess.run(["dot", "-Tjson0", str(path)], capture_output=True, text=True, check=True).stdout
    objects = json.loads(out)["objects"]
    assert len(objects) == len(HOSTILE)
    assert sorted(o["type"] for o in objects) == sorted(HOSTILE.values())
    # Graphviz has read `\"` already; the label's escString turns `\\` and `\n` into what is drawn
    drawn = {re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), o["label"]) for o in objects}
    assert drawn == set(HOSTILE)


def test_json_read_back(tmp_path):
    import json

    import networkx as nx

    _, g = _hostile_graph()
    path = tmp_path / "g.json"
    write_graph(g, path)
    back = nx.node_link_graph(json.loads(path.read_text(encoding="utf-8")), edges="edges")
    assert {v: (d["label"], d["type"]) for v, d in back.nodes(data=True)} == {v: (v, t) for v, t in HOSTILE.items()}
    assert {frozenset((a, b)): d["weight"] for a, b, d in back.edges(data=True)} == _expected_edges(g)


def test_gephi_tables(tmp_path):
    import csv

    _, g = _hostile_graph()
    write_graphs(g, [tmp_path / "nodes.csv", tmp_path / "net-edges.csv"])
    with open(tmp_path / "nodes.csv", encoding="utf-8", newline="") as fh:
        nodes = list(csv.DictReader(fh))
    with open(tmp_path / "net-edges.csv", encoding="utf-8", newline="") as fh:
        edges = list(csv.DictReader(fh))
    assert list(nodes[0]) == ["Id", "Label", "type", "units"]
    assert list(edges[0]) == ["Source", "Target", "Type", "Weight", "count", "npmi", "llr"]

    def name(cell):  # a formula-like name keeps its guard quote in every column
        return cell[1:] if cell.startswith("'=") else cell

    assert {name(r["Id"]): (name(r["Label"]), r["type"]) for r in nodes} == {v: (v, t) for v, t in HOSTILE.items()}
    assert "'=SUM(A1)" in {r["Id"] for r in nodes}
    assert {frozenset((name(r["Source"]), name(r["Target"]))): int(r["Weight"]) for r in edges} == _expected_edges(g)
    assert {r["Type"] for r in edges} == {"Undirected"}
    assert {r["Source"] for r in edges} | {r["Target"] for r in edges} <= {r["Id"] for r in nodes}


def test_graph_file_names(tmp_path):
    assert [graph_format(p) for p in ("a.GraphML", "a.gexf", "a.gv", "a.dot", "a.json", "nodes.csv", "g_edges.CSV")] == [
        "graphml", "gexf", "dot", "dot", "json", "nodes", "edges"]
    for bad in ("pairs.csv", "g.xyz", "g"):
        with pytest.raises(NewsctlError):
            graph_format(bad)
    _, g = _hostile_graph()
    with pytest.raises(NewsctlError, match="pairs.csv"):
        write_graphs(g, [tmp_path / "g.gexf", tmp_path / "pairs.csv"])
    assert not (tmp_path / "g.gexf").exists()  # names are checked before anything is written


def test_control_characters_become_replacement(tmp_path):
    import xml.etree.ElementTree as ET

    co = count_cooccurrence([("u1", {"bell\x07", "A"})], {"bell\x07": "PER", "A": "LOC"})
    g = to_graph(co, select_pairs(co))
    assert set(g) == {"bell\ufffd", "A"}
    write_graph(g, tmp_path / "g.graphml")
    ET.parse(tmp_path / "g.graphml")


def test_plot_pairs_limits_nodes():
    rows = [{"entity_a": a, "entity_b": b} for a, b in [("A", "B"), ("A", "C"), ("D", "E"), ("B", "C"), ("F", "G")]]
    assert plot_pairs(rows, 3) == rows[:2] + [rows[3]]
    assert len(plot_pairs(rows, 100)) == 5
