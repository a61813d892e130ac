"""Long and nested queries: any number of terms, a clear error past the nesting limit, never a traceback."""

import pytest

from analysis.errors import QueryError
from analysis.search import Filters, Matcher, SearchIndex
from analysis.search.query import MAX_NESTING, parse_query
from analysis.store import open_store
from tests.conftest import SEEDS

MANY = 3000  # past Python's recursion limit (1000) and FTS5's parser stack


def _hits(query: str, store) -> tuple[list, list]:
    """The hits of ``query`` on the seeds through the index and reading the files, (indexed, direct)."""
    from analysis.corpus import load_corpus
    from analysis.search import search_corpus

    matcher = Matcher(query)
    direct = [(m.rec.id, m.spans) for m in search_corpus(load_corpus([str(SEEDS)]), matcher, Filters())]
    with open_store(store) as st:
        _, matches = SearchIndex(st.conn).search_paths([str(SEEDS)], matcher, Filters())
        indexed = [(m.rec.id, m.spans) for m in matches]
    return indexed, direct


@pytest.mark.parametrize("query", [
    " OR ".join([f"nergens{k}" for k in range(MANY)] + ["Poetin"]),
    " ".join(["Poetin"] * MANY),
    "Poetin NOT " + " NOT ".join(f"nergens{k}" for k in range(MANY)),
], ids=["or", "and", "not"])
def test_a_query_of_thousands_of_terms_finds_what_its_one_term_finds(tmp_path, query):
    indexed, direct = _hits(query, tmp_path / "s.sqlite")
    expected, _ = _hits("Poetin", tmp_path / "s.sqlite")
    assert expected and indexed == direct == expected


def test_the_deepest_query_allowed_runs_on_the_index(tmp_path):
    query = "Poetin"
    for k in range(MAX_NESTING):  # a group in a NOT in an AND in an OR, at every level
        query = f"(x{k} OR a{k} NOT b{k} {query} NOT zz{k})"
    indexed, direct = _hits(query, tmp_path / "s.sqlite")
    assert indexed == direct


def test_parentheses_nested_past_the_limit_are_a_query_error():
    with pytest.raises(QueryError, match=f"nested more than {MAX_NESTING} deep"):
        parse_query("(" * (MAX_NESTING + 1) + "Poetin" + ")" * (MAX_NESTING + 1))
    with pytest.raises(QueryError):
        parse_query("(" * 5000 + "Poetin" + ")" * 5000)  # not a RecursionError
