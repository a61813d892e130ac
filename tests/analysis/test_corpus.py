import pytest

from analysis.corpus import crosstab, crosstab_wide, dateline_records, load_corpus, parse_by
from analysis.errors import InputError
from analysis.filters import StoryFilter


@pytest.fixture(scope="module")
def corpus(seeds):
    return load_corpus([str(seeds)])


def test_crosstab_counts_each_combination(corpus):
    rows = crosstab(corpus, ("place", "agency"))
    assert rows[0] == {"place": "Washington", "agency": "ANP", "stories": 9}
    by_key = {(r["place"], r["agency"]): r["stories"] for r in rows}
    for place, agency in [("Washington", "AFP"), ("Kyiv", "ANP"), ("Almaty", "RTR")]:
        expected = sum(1 for _, s in corpus.stories()
                       if place in s.places and agency in s.agencies and not s.duplicate_of)
        assert by_key[(place, agency)] == expected
    counts = [r["stories"] for r in rows]
    assert counts == sorted(counts, reverse=True)


def test_crosstab_wide(corpus):
    rows = crosstab(corpus, ("place", "agency"))
    cols, table = crosstab_wide(rows, "place", "agency")
    assert cols[0] == "ANP" and table[0]["place"] == "Washington" and table[0]["ANP"] == 9
    assert all(set(r) == {"place", *cols} for r in table)


def test_crosstab_with_a_filter(corpus):
    rows = crosstab(corpus, ("kind",), StoryFilter(place="kyiv"))
    assert rows == [{"kind": "item", "stories": 3}]
    assert crosstab(corpus, ("kind",), StoryFilter(place="kyiv"), keep_duplicates=True) == [{"kind": "item", "stories": 4}]


def test_parse_by():
    assert parse_by(["place, agency", "place"]) == ("place", "agency")
    with pytest.raises(InputError, match="unknown --by field plaats"):
        parse_by("plaats")


def test_records_with_a_filter(corpus):
    ids = [r["id"] for r in dateline_records(corpus, StoryFilter(place=("Kyiv", "Moskou"), kind="item"))]
    assert ids and all(r["kind"] == "item" for r in dateline_records(corpus, StoryFilter(kind="item")))
    every = {r["id"]: r for r in dateline_records(corpus)}
    assert ids == [i for i, r in every.items() if r["kind"] == "item" and {"Kyiv", "Moskou"} & set(r["places"])]
