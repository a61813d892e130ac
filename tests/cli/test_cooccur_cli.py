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
    for ext in ("png", "svg"):
        out = tmp_path / f"net.{ext}"
        result = invoke(runner, ["cooccur", "seeds", "--plot", out, "--top", "12", "-f", "tsv", *_store(tmp_path)])
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "net.svg").read_text(encoding="utf-8")
