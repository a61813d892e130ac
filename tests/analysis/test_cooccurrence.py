import math

import pytest

from analysis.cooccurrence import count_cooccurrence, llr, matrix, npmi, select_pairs, to_graph, write_graph
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
    assert g.nodes["A"] == {"label": "PER", "units": 2}
    assert g.edges["A", "B"]["count"] == 1
    for ext in (".graphml", ".gexf", ".dot", ".json"):
        write_graph(g, tmp_path / f"g{ext}")
        assert (tmp_path / f"g{ext}").read_text(encoding="utf-8").strip()
    with pytest.raises(NewsctlError):
        write_graph(g, tmp_path / "g.xyz")
