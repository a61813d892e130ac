"""An index build or rebuild stopped half-way (Ctrl-C, kill -9) never leaves a store that answers wrongly or fails."""

import shutil

import pytest

from analysis.search import Filters, Matcher, SearchIndex
from analysis.store import open_store
from tests.conftest import SEEDS, ConnectionStandIn


class _StopAtSecondDrop(ConnectionStandIn):
    """A connection that is interrupted (Ctrl-C) at the second DROP TABLE."""

    drops = 0

    def before(self, sql):
        if sql.startswith("DROP TABLE"):
            self.drops += 1
            if self.drops == 2:
                raise KeyboardInterrupt


def _hits(store, corpus) -> list:
    with open_store(store) as st:
        _, matches = SearchIndex(st.conn).search_paths([str(corpus)], Matcher("Poetin OR Tokajev"), Filters())
        return [(m.rec.id, m.spans) for m in matches]


@pytest.fixture()
def indexed(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    store = tmp_path / "s.sqlite"
    expected = _hits(store, corpus)
    assert len(expected) > 5
    return corpus, store, expected


def test_ctrl_c_during_rebuild_leaves_all_or_nothing(indexed):
    corpus, store, expected = indexed
    with open_store(store) as st:
        conn = _StopAtSecondDrop(st.conn)
        index = SearchIndex(conn)
        with pytest.raises(KeyboardInterrupt):
            index.rebuild()
        assert conn.drops == 2
    assert _hits(store, corpus) == expected  # not "no such table: search_fts"


def test_tables_left_by_a_build_stopped_before_its_key_are_built_again(indexed):
    corpus, store, expected = indexed
    with open_store(store) as st, st.conn:  # a build stopped after some tables, before the schema key
        st.conn.execute("DROP TABLE search_fts")
        st.conn.execute("DELETE FROM meta WHERE key = 'search_schema'")
    assert _hits(store, corpus) == expected  # not an empty answer from the files' old rows
