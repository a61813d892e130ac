"""Entity co-occurrence: which canonical entities share a unit, how often, how surprisingly.

Counting is one streaming pass over the units (stories, sentences or files):
each unit contributes its set of entities once, and a dictionary counts the
pairs inside it, so the cost grows with the entities per unit, never with
the square of the vocabulary.

Association measures, for entities a and b over N units, with n_a and n_b the
units containing each and n_ab the units containing both:

* ``npmi = log(p_ab / (p_a p_b)) / -log(p_ab)`` with ``p_x = n_x / N``;
  1 when the pair fills every unit it could, 0 when independent, -1 never.
* ``llr`` = Dunning's log-likelihood ratio G² = 2 Σ k log(k N / (row col))
  over the 2x2 table (n_ab, n_a - n_ab, n_b - n_ab, N - n_a - n_b + n_ab).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Iterator

from .errors import NewsctlError

UNITS = ("story", "sentence", "file")
SORTS = ("count", "npmi", "llr")


@dataclass
class Cooccurrence:
    unit: str
    n_units: int
    entity_units: Counter  # entity -> units containing it
    pair_units: dict  # (a, b) with a < b -> list of unit ids
    labels: dict  # entity -> label
    variants: dict = field(default_factory=dict)  # entity -> set of surface forms

    def pairs(self, keep=None) -> Iterator[dict]:
        """Pair records; ``keep(a, b, n_ab)`` filters before the measures are computed."""
        for (a, b), units in self.pair_units.items():
            n_ab = len(units)
            if keep is not None and not keep(a, b, n_ab):
                continue
            n_a, n_b = self.entity_units[a], self.entity_units[b]
            yield {
                "entity_a": a, "label_a": self.labels[a], "entity_b": b, "label_b": self.labels[b],
                "count": n_ab, "count_a": n_a, "count_b": n_b,
                "npmi": npmi(n_ab, n_a, n_b, self.n_units),
                "llr": llr(n_ab, n_a, n_b, self.n_units),
                "units": units,
            }


def npmi(n_ab: int, n_a: int, n_b: int, n: int) -> float:
    """Normalised pointwise mutual information of a pair seen together ``n_ab`` times."""
    if n_ab <= 0 or n <= 0:
        return -1.0
    p_ab = n_ab / n
    if p_ab >= 1.0:
        return 1.0
    pmi = math.log(p_ab / ((n_a / n) * (n_b / n)))
    return pmi / -math.log(p_ab)


def llr(n_ab: int, n_a: int, n_b: int, n: int) -> float:
    """Dunning's log-likelihood ratio (G²) for the 2x2 contingency table."""
    k = (n_ab, n_a - n_ab, n_b - n_ab, n - n_a - n_b + n_ab)
    rows = (n_a, n - n_a)
    cols = (n_b, n - n_b)
    total = 0.0
    for i, kij in enumerate(k):
        if kij > 0:
            total += kij * math.log(kij * n / (rows[i // 2] * cols[i % 2]))
    return max(0.0, 2.0 * total)


def units_of(annotated, unit: str, *, keep_duplicates: bool = False) -> Iterator[tuple[str, set[str]]]:
    """Yield ``(unit id, entities in it)`` for every unit, empty ones included.

    Unit ids: the story id, ``<story id>.<sentence>`` or the file path.
    """
    if unit not in UNITS:
        raise NewsctlError(f"unknown unit {unit!r} (choose from {', '.join(UNITS)})")
    if unit == "file":
        current, ents = None, set()
        for ann in annotated.stories:
            if ann.doc.path != current:
                if current is not None:
                    yield current, ents
                current, ents = ann.doc.path, set()
            if ann.story.duplicate_of and not keep_duplicates:
                continue
            ents.update(m.canonical for m in ann.mentions)
        if current is not None:
            yield current, ents
        return
    for ann in annotated.stories:
        if ann.story.duplicate_of and not keep_duplicates:
            continue
        if unit == "story":
            yield ann.story.id, {m.canonical for m in ann.mentions}
        else:
            by_sentence: dict[int, set[str]] = defaultdict(set)
            for m in ann.mentions:
                by_sentence[m.sentence].add(m.canonical)
            count = max(len(ann.sentences), max(by_sentence, default=-1) + 1)
            for k in range(count):
                yield f"{ann.story.id}.{k}", by_sentence.get(k, set())


def count_cooccurrence(units: Iterable[tuple[str, set[str]]], labels: dict, unit: str = "story") -> Cooccurrence:
    """Count units per entity and per unordered pair in one pass."""
    n = 0
    entity_units: Counter = Counter()
    pair_units: dict = defaultdict(list)
    for uid, ents in units:
        n += 1
        if not ents:
            continue
        entity_units.update(ents)
        for a, b in combinations(sorted(ents), 2):
            pair_units[(a, b)].append(uid)
    return Cooccurrence(unit, n, entity_units, dict(pair_units), labels)


def select_pairs(
    co: Cooccurrence,
    *,
    sort: str = "count",
    min_count: int = 1,
    top: int | None = None,
    labels: Iterable[str] | None = None,
    entity: str | None = None,
    names: set[str] | None = None,
) -> list[dict]:
    """Filter and order the pairs; ties are broken by the two names.

    ``entity``: pairs with the entity that name refers to; ``names``: pairs
    with at least one of these entities (``StoryFilter.entity_names``).
    """
    if sort not in SORTS:
        raise NewsctlError(f"unknown sort {sort!r} (choose from {', '.join(SORTS)})")
    wanted = set(labels) if labels else None
    match = entity_matcher(co, entity) if entity else None
    lab = co.labels

    def keep(a: str, b: str, n_ab: int) -> bool:
        if n_ab < min_count:
            return False
        if wanted and not (lab[a] in wanted and lab[b] in wanted):
            return False
        if names is not None and a not in names and b not in names:
            return False
        return not match or match(a) or match(b)

    rows = list(co.pairs(keep))
    rows.sort(key=lambda r: (-r[sort], r["entity_a"], r["entity_b"]))
    return rows[:top] if top else rows


def entity_matcher(co: Cooccurrence, name: str):
    """Matches the entities ``name`` refers to (see :func:`analysis.entities.entities_named`)."""
    from .entities import entities_named

    variants = {e: co.variants.get(e, ()) for e in co.entity_units}
    return entities_named(name, variants).__contains__


def top_entities(co: Cooccurrence, n: int, labels: Iterable[str] | None = None) -> list[str]:
    wanted = set(labels) if labels else None
    ents = [e for e in co.entity_units if not wanted or co.labels[e] in wanted]
    ents.sort(key=lambda e: (-co.entity_units[e], e))
    return ents[:n]


def matrix(co: Cooccurrence, entities: list[str]) -> list[dict]:
    """Square matrix rows: ``entity``, ``label``, ``units`` and one column per entity.

    Off-diagonal cells are pair counts; the diagonal holds the entity's own units.
    """
    rows = []
    for a in entities:
        row = {"entity": a, "label": co.labels[a], "units": co.entity_units[a]}
        for b in entities:
            if a == b:
                row[b] = co.entity_units[a]
            else:
                pair = (a, b) if a < b else (b, a)
                row[b] = len(co.pair_units.get(pair, ()))
        rows.append(row)
    return rows


def to_graph(co: Cooccurrence, pairs: list[dict]):
    """A networkx graph of the given pairs, named for Gephi and Graphviz.

    Nodes are keyed by entity name and carry ``label`` (the name, what Gephi
    and Graphviz show), ``type`` (PER, ORG, LOC or MISC) and ``units``. Edges
    carry ``weight`` (the pair count, which Gephi reads as the edge weight),
    ``count`` (the same number, under the name the pair rows use), ``npmi``
    and ``llr``. Characters XML cannot carry become U+FFFD in names.
    """
    import networkx as nx

    g = nx.Graph(unit=co.unit, units=co.n_units)
    for r in pairs:
        a, b = graph_name(r["entity_a"]), graph_name(r["entity_b"])
        for name, e in ((a, r["entity_a"]), (b, r["entity_b"])):
            if name not in g:
                g.add_node(name, label=name, type=co.labels[e], units=co.entity_units[e])
        g.add_edge(a, b, weight=r["count"], count=r["count"], npmi=round(r["npmi"], 6), llr=round(r["llr"], 6))
    return g


def plot_pairs(pairs: list[dict], max_nodes: int) -> list[dict]:
    """The pairs worth drawing: strongest first, at most ``max_nodes`` nodes and twice as many edges."""
    nodes: set[str] = set()
    kept = []
    for r in pairs:
        new = {r["entity_a"], r["entity_b"]} - nodes
        if len(nodes) + len(new) > max_nodes:
            continue
        nodes |= new
        kept.append(r)
        if len(kept) >= 2 * max_nodes:
            break
    return kept


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def graph_name(name: str) -> str:
    """``name`` with the characters XML 1.0 cannot carry (controls, lone surrogates) as U+FFFD."""
    return _NOT_XML.sub("\ufffd", name)


GRAPH_FORMATS = (".graphml", ".gexf", ".dot", ".gv", ".json", "nodes.csv", "edges.csv")


def graph_format(path) -> str:
    """The format a graph file's name asks for: ``graphml``, ``gexf``, ``dot``, ``json``, ``nodes`` or ``edges``.

    A ``.csv`` file is one of Gephi's spreadsheet tables, told apart by the
    end of its name: ``nodes.csv`` (also ``net-nodes.csv``) or ``edges.csv``.
    """
    from pathlib import Path

    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".csv":
        stem = p.stem.lower()
        if stem.endswith("nodes"):
            return "nodes"
        if stem.endswith("edges"):
            return "edges"
        raise NewsctlError(f"a .csv graph file is a Gephi table: name it ...nodes.csv or ...edges.csv, not {p.name!r}")
    formats = {".graphml": "graphml", ".gexf": "gexf", ".dot": "dot", ".gv": "dot", ".json": "json"}
    if ext not in formats:
        raise NewsctlError(f"unknown graph format {ext or p.name!r} (use {', '.join(GRAPH_FORMATS)})")
    return formats[ext]


def write_graphs(graph, paths) -> None:
    """Write ``graph`` to every path, each in the format its name asks for.

    Every name is checked before anything is written, so a wrong one leaves
    no half of the set behind; a path given twice is written once.
    """
    wanted = {}
    for path in paths:
        wanted.setdefault(str(path), (path, graph_format(path)))
    for path, fmt in wanted.values():
        write_graph(graph, path, fmt=fmt)


def write_graph(graph, path, *, fmt: str | None = None) -> None:
    """Write ``graph`` in the format its name asks for (see :func:`graph_format`)."""
    import json
    from pathlib import Path

    import networkx as nx

    p = Path(path)
    fmt = fmt or graph_format(p)
    try:
        if fmt == "graphml":
            nx.write_graphml(graph, p)
        elif fmt == "gexf":
            nx.write_gexf(graph, p)
        elif fmt == "dot":
            p.write_text(dot_text(graph), encoding="utf-8")
        elif fmt == "json":
            p.write_text(json.dumps(nx.node_link_data(graph, edges="edges"), ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            with p.open("w", encoding="utf-8", newline="") as fh:
                _write_gephi_table(graph, fh, fmt)
    except OSError as exc:
        raise NewsctlError(f"cannot write {p}: {exc.strerror or exc}") from exc


def dot_text(graph) -> str:
    """Graphviz DOT for ``graph``: every id and string quoted, so ``:`` (node:port) and spaces are safe.

    Inside quotes, backslash, double quote, newline and carriage return are
    written as ``\\\\``, ``\\"``, ``\\n`` and ``\\r``: Graphviz shows the
    ``label`` as the name, and the mapping keeps distinct names distinct ids.
    """
    lines = ["graph cooccurrence {"]
    if graph.graph:
        lines.append(f"graph [{_dot_attrs(graph.graph)}];")
    for node, data in graph.nodes(data=True):
        lines.append(f"{_dot_quote(node)} [{_dot_attrs(data)}];")
    for a, b, data in graph.edges(data=True):
        lines.append(f"{_dot_quote(a)} -- {_dot_quote(b)} [{_dot_attrs(data)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_quote(value) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{text}"'


def _dot_attrs(data: dict) -> str:
    parts = []
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = _dot_quote(value)
        elif isinstance(value, int):
            shown = str(value)
        else:
            shown = f"{value:.6f}".rstrip("0").rstrip(".") if math.isfinite(value) else _dot_quote(value)
        name = key if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", str(key)) else _dot_quote(key)
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _write_gephi_table(graph, fh, table: str) -> None:
    """Gephi's spreadsheet import: ``Id,Label,type,units`` or ``Source,Target,Type,Weight,count,npmi,llr``.

    A name that starts like a spreadsheet formula (``=``, ``+``, ``-``, ``@``)
    gets a leading ``'`` (OWASP's CSV-injection advice), the same in every column.
    """
    import csv

    def text(value: str) -> str:
        return "'" + value if value.startswith(FORMULA_START) else value

    writer = csv.writer(fh, lineterminator="\n")
    if table == "nodes":
        writer.writerow(["Id", "Label", "type", "units"])
        for node, d in graph.nodes(data=True):
            writer.writerow([text(node), text(d["label"]), d["type"], d["units"]])
    else:
        writer.writerow(["Source", "Target", "Type", "Weight", "count", "npmi", "llr"])
        for a, b, d in graph.edges(data=True):
            writer.writerow([text(a), text(b), "Undirected", d["weight"], d["count"], d["npmi"], d["llr"]])


def cooccurrence(annotated, labels_of: dict, *, unit: str = "story", keep_duplicates: bool = False) -> Cooccurrence:
    """Co-occurrence counts of an annotated corpus whose mentions have canonical names."""
    co = count_cooccurrence(units_of(annotated, unit, keep_duplicates=keep_duplicates), labels_of, unit)
    variants: dict = defaultdict(set)
    for m in annotated.mentions():
        variants[m.canonical].add(m.text)
    co.variants = dict(variants)
    return co
