import json
import xml.etree.ElementTree as ET

from tests.conftest import invoke


def _store(tmp_path):
    return ["--store", tmp_path / "s.sqlite"]


def test_tokajev_partners(runner, in_root, tmp_path):
    result = invoke(runner, ["cooccur", "seeds", "--entity", "Tokajev", "-f", "jsonl", *_store(tmp_path)])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    partners = {r["entity_b"] if r["entity_a"] == "Kassym-Jomart Tokajev" else r["entity_a"] for r in rows}
    assert {"CSTO", "Almaty", "Karim Masimov"} <= partners
    for r in rows:
        assert r["entity_a"] < r["entity_b"]
        assert r["count"] == len(r["units"])
        assert -1 <= r["npmi"] <= 1 and r["llr"] >= 0


def test_tsv_columns_and_default_sort(runner, in_root, tmp_path):
    result = invoke(runner, ["cooccur", "seeds", *_store(tmp_path)])
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["entity_a", "label_a", "entity_b", "label_b", "count", "count_a", "count_b", "npmi", "llr", "units"]
    keys = [(-int(l.split("\t")[4]), l.split("\t")[0], l.split("\t")[2]) for l in lines[1:]]
    assert keys == sorted(keys)


def test_duplicates_left_out_unless_kept(runner, in_root, tmp_path):
    args = ["cooccur", "seeds/004_a67af5a38df70ef6.txt", "--entity", "Zelensky", "-f", "jsonl", *_store(tmp_path)]
    plain = [json.loads(x) for x in invoke(runner, args).stdout.splitlines()]
    kept = [json.loads(x) for x in invoke(runner, args + ["--keep-duplicates"]).stdout.splitlines()]
    assert all("004_a67af5a38df70ef6:7" not in r["units"] for r in plain)
    assert any("004_a67af5a38df70ef6:7" in r["units"] for r in kept)


def test_units_sentence_and_file(runner, in_root, tmp_path):
    for unit, check in [("sentence", lambda u: u.count(".") == 1 and ":" in u), ("file", lambda u: u.endswith(".txt"))]:
        result = invoke(runner, ["cooccur", "seeds", "--unit", unit, "--top", "5", "-f", "jsonl", *_store(tmp_path)])
        rows = [json.loads(x) for x in result.stdout.splitlines()]
        assert rows and all(check(u) for r in rows for u in r["units"])


def test_label_min_count_top_sort(runner, in_root, tmp_path):
    result = invoke(runner, ["cooccur", "seeds", "--label", "PER,LOC", "--min-count", "2", "--sort", "npmi",
                             "--top", "4", "-f", "jsonl", *_store(tmp_path)])
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert 0 < len(rows) <= 4
    assert all(r["label_a"] in ("PER", "LOC") and r["label_b"] in ("PER", "LOC") and r["count"] >= 2 for r in rows)
    assert [r["npmi"] for r in rows] == sorted((r["npmi"] for r in rows), reverse=True)


def test_matrix_is_square_data(runner, in_root, tmp_path):
    result = invoke(runner, ["cooccur", "seeds", "--matrix", "--top", "5", "-f", "json", *_store(tmp_path)])
    rows = json.loads(result.stdout)
    names = [r["entity"] for r in rows]
    assert len(rows) == 5
    for r in rows:
        assert r[r["entity"]] == r["units"]
        for other in rows:
            assert r[other["entity"]] == other[r["entity"]]
    table = invoke(runner, ["cooccur", "seeds", "--matrix", "--top", "5", "-f", "table", *_store(tmp_path)])
    assert names[0][:7] in table.stdout


def test_graph_files(runner, in_root, tmp_path):
    for ext in ("graphml", "gexf", "dot", "json"):
        out = tmp_path / f"net.{ext}"
        result = invoke(runner, ["cooccur", "seeds", "--min-count", "2", "--graph", out, "-f", "tsv", *_store(tmp_path)])
        assert result.exit_code == 0 and out.stat().st_size > 0
    ET.parse(tmp_path / "net.graphml")
    ET.parse(tmp_path / "net.gexf")
    data = json.loads((tmp_path / "net.json").read_text(encoding="utf-8"))
    assert data["nodes"] and data["edges"] and "npmi" in data["edges"][0]
    assert "graph" in (tmp_path / "net.dot").read_text(encoding="utf-8")
    bad = invoke(runner, ["cooccur", "seeds", "--graph", tmp_path / "net.xyz", *_store(tmp_path)])
    assert bad.exit_code == 2 and "unknown graph format" in bad.stderr


def test_plot_png_and_svg(runner, in_root, tmp_path):
    args = ["cooccur", "seeds", "--plot", tmp_path / "net.png", "--plot", tmp_path / "net.svg", "--top", "12"]
    result = invoke(runner, args + ["-f", "tsv", *_store(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "net.svg").read_text(encoding="utf-8")
    bad = invoke(runner, ["cooccur", "seeds", "--plot", tmp_path / "a.png", "--plot", tmp_path / "a.pdf", *_store(tmp_path)])
    assert bad.exit_code == 2 and "a.pdf" not in bad.stdout and "unknown picture format '.pdf'" in bad.stderr
    assert not (tmp_path / "a.png").exists()


def test_graph_repeated_writes_every_file(runner, in_root, tmp_path):
    import csv

    import networkx as nx

    files = [tmp_path / "g.gexf", tmp_path / "nodes.csv", tmp_path / "edges.csv", tmp_path / "g.dot"]
    args = ["cooccur", "seeds", "--min-count", "2", "-f", "tsv", *_store(tmp_path)]
    result = invoke(runner, args + [x for f in files for x in ("--graph", f)])
    assert result.exit_code == 0, result.stderr
    pairs = {frozenset(l.split("\t")[0:3:2]): int(l.split("\t")[4]) for l in result.stdout.splitlines()[1:]}
    g = nx.read_gexf(files[0])
    assert {frozenset((a, b)): d["weight"] for a, b, d in g.edges(data=True)} == pairs
    assert g.nodes["Kassym-Jomart Tokajev"]["label"] == "Kassym-Jomart Tokajev"
    assert g.nodes["Kassym-Jomart Tokajev"]["type"] == "PER"
    with open(files[1], encoding="utf-8", newline="") as fh:
        nodes = {r["Id"]: r for r in csv.DictReader(fh)}
    with open(files[2], encoding="utf-8", newline="") as fh:
        edges = list(csv.DictReader(fh))
    assert set(nodes) == set(g) and nodes["Almaty"]["Label"] == "Almaty" and nodes["Almaty"]["type"] == "LOC"
    assert {frozenset((r["Source"], r["Target"])): int(r["Weight"]) for r in edges} == pairs
    assert files[3].read_text(encoding="utf-8").startswith("graph cooccurrence {")


def test_graph_bad_name_fails_before_work(runner, in_root, tmp_path):
    result = invoke(runner, ["cooccur", "seeds", "--graph", tmp_path / "g.gexf", "--graph", tmp_path / "pairs.csv", *_store(tmp_path)])
    assert result.exit_code == 2 and "nodes.csv" in result.stderr and "pairs.csv" in result.stderr
    assert not (tmp_path / "g.gexf").exists() and not (tmp_path / "s.sqlite").exists()


def test_plot_top_30_hides_no_label(runner, in_root, tmp_path, monkeypatch):
    import analysis.render as render
    from tests.analysis.test_render_network import assert_nothing_hidden

    drawn = []
    real = render.plot_network

    def spy(graph, path, **kw):
        drawn.append((graph, real(graph, path, **kw)))
        return drawn[-1][1]

    monkeypatch.setattr(render, "plot_network", spy)
    out = tmp_path / "net.png"
    result = invoke(runner, ["cooccur", "seeds", "--top", "30", "--plot", out, "-f", "tsv", *_store(tmp_path)])
    assert result.exit_code == 0, result.stderr
    [(graph, drawing)] = drawn
    assert graph.number_of_nodes() > 20
    assert_nothing_hidden(drawing, graph)
    assert not drawing.left_out  # the seeds' 28 names all find room
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_matrix_at_80_columns(runner, in_root, tmp_path, monkeypatch):
    import re

    monkeypatch.setenv("COLUMNS", "80")
    result = invoke(runner, ["cooccur", "seeds", "--matrix", "-f", "table", *_store(tmp_path)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(l) <= 80 for l in lines)
    header = lines[1].split()
    assert header[:3] == ["entity", "label", "units"]
    shown = header[3:]
    assert len(shown) == len(set(shown)) >= 3
    note = " ".join(l.strip() for l in lines if l.strip()[:1].isdigit() or "left out" in l or "tsv" in l)
    left = re.search(r"(\d+) of 15 columns .* left out to fit 80 characters", note)
    assert left and int(left.group(1)) + len(shown) == 15
    wide = invoke(runner, ["cooccur", "seeds", "--matrix", "--top", "4", "-f", "table", *_store(tmp_path)])
    assert "left out" not in wide.stdout


def test_matrix_headers_fit_and_differ():
    from cli.commands.cooccur import fit_matrix, short_labels

    assert short_labels(["Russische", "Rusland"], 3) == ["R…e", "R…d"]
    assert short_labels(["Russische", "Rusland", "ICE"], 5) == ["Russ…", "Rusl…", "ICE"]
    assert short_labels(["Oekraïne", "Oekraïense"], 7) == ["Oekr…ne", "Oekr…se"]
    same = short_labels(["abcdefX", "abcdefX", "abcdefY"], 4)
    assert len(set(same)) == 3 and all(len(s) <= 4 for s in same)
    ents = [f"Entiteit {k}" for k in range(15)]
    rows = [{"entity": e, "label": "LOC", "units": 120, **{f: 7 for f in ents}} for e in ents]
    shown, headers = fit_matrix(ents, rows, 80)
    assert shown == ents[: len(shown)] and len(headers) == len(shown) == len(set(headers))
    # sum of columns + 3 between + 2 edges
    used = 11 + 5 + 5 + sum(max(len(h), 3) for h in headers) + 3 * (2 + len(shown)) + 2
    assert used <= 80 < used + 3 + len(headers[0])
    assert fit_matrix(ents, rows, 500) == (ents, ents)


def test_streamed_output_is_the_in_memory_output_byte_for_byte(runner, in_root, seeds_store, monkeypatch):
    """Every pair with every unit id (the streamed path joins them a chunk at a time) as the in-memory path prints it."""
    from analysis import entitystream
    from cli import nlpopts

    monkeypatch.setattr(entitystream.UnitIds, "CHUNK", 3)
    runs = [(unit, fmt) for unit in ("story", "sentence", "file") for fmt in ("tsv", "csv")] + [("story", "jsonl")]
    streamed = [invoke(runner, ["cooccur", "seeds", "--unit", unit, "-f", fmt, "--store", seeds_store]).stdout
                for unit, fmt in runs]
    monkeypatch.setattr(nlpopts, "can_stream", lambda *a, **k: False)
    for (unit, fmt), out in zip(runs, streamed):
        assert invoke(runner, ["cooccur", "seeds", "--unit", unit, "-f", fmt, "--store", seeds_store]).stdout == out
    assert streamed[0].count("\n") > 100
