import sqlite3

import pytest

from analysis.errors import StoreError, StoreFullError
from analysis.search import Matcher, SearchIndex
from analysis.store import StoredMention, StoredSentence, open_store, store_error


def _fill(st, n=50):
    for k in range(n):
        st.put_annotations(f"sha{k}", "p", [StoredSentence(0, i, i, i + 1) for i in range(40)],
                           [StoredMention(0, i, i, i + 1, "PER") for i in range(40)])


def test_a_full_disk_while_writing_is_a_store_full_error(tmp_path):
    path = tmp_path / "s.sqlite"
    with open_store(path) as st:
        pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
        st.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite then answers SQLITE_FULL
        with pytest.raises(StoreFullError) as info:
            _fill(st)
        assert str(path) in str(info.value) and "full" in str(info.value) and "--no-cache" in str(info.value)
        written = st.annotation_count()
        assert 0 < written < 50
        for k in range(written):  # what fitted is whole; what did not is not there at all
            sents, ments = st.get_annotations(f"sha{k}", "p")
            assert len(sents) == len(ments) == 40
        assert st.get_annotations(f"sha{written}", "p") is None


def test_a_full_disk_while_indexing(tmp_path, seeds):
    with open_store(tmp_path / "s.sqlite") as st:
        index = SearchIndex(st.conn)
        pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
        st.conn.execute(f"PRAGMA max_page_count = {pages + 3}")
        with pytest.raises(StoreFullError, match="s.sqlite"):
            index.refresh([str(seeds)])


def _garble(path, page, size):
    with open(path, "r+b") as fh:
        fh.seek(page * size)
        fh.write(bytes((page * 37 + k * 11) % 256 for k in range(size)))


def test_damage_found_mid_query_is_a_store_error(tmp_path, seeds):
    path = tmp_path / "s.sqlite"
    with open_store(path) as st:
        _fill(st, 20)
        SearchIndex(st.conn).refresh([str(seeds)])
        size = st.conn.execute("PRAGMA page_size").fetchone()[0]
        pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
    pristine = path.read_bytes()
    errors = 0
    for page in range(1, min(pages, 20)):  # page 0 (the header) fails at open, tested below
        path.write_bytes(pristine)
        _garble(path, page, size)
        try:
            with open_store(path) as st:
                st.get_many([f"sha{k}" for k in range(20)], "p")
                st.annotation_count()
                index = SearchIndex(st.conn)
                r = index.refresh([str(seeds)])
                list(index.search(r.files, Matcher("Oekraïne OR Poetin")))
                index.status([str(seeds)])
        except StoreError as exc:
            assert str(path) in str(exc) and "--no-cache" in str(exc)
            errors += 1
    assert errors >= 5  # most pages hold data that these calls read


def test_a_damaged_header_fails_at_open(tmp_path):
    path = tmp_path / "s.sqlite"
    with open_store(path) as st:
        _fill(st, 2)
    _garble(path, 0, 4096)
    with pytest.raises(StoreError, match="damaged") as info:
        open_store(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("code, message, kind, words", [
    (13, "database or disk is full", StoreFullError, "full"),
    (11, "database disk image is malformed", StoreError, "damaged"),
    (267, "database disk image is malformed", StoreError, "damaged"),  # SQLITE_CORRUPT_VTAB
    (26, "file is not a database", StoreError, "damaged"),
    (1, "vtable constructor failed: search_fts", StoreError, "damaged"),
    (5, "database is locked", StoreError, "cannot use"),
])
def test_store_error_names_the_store_and_the_way_out(code, message, kind, words):
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    err = store_error(exc, "/x/store.sqlite")
    assert type(err) is kind
    text = str(err)
    assert words in text and "/x/store.sqlite" in text and message in text and "--no-cache" in text
    assert "\n" not in text


def test_a_read_only_open_of_a_missing_store_creates_nothing(tmp_path):
    from analysis.store import connect_readonly

    path = tmp_path / "not" / "there.sqlite"
    assert connect_readonly(path) is None
    with open_store(path, readonly=True) as st:
        assert SearchIndex(st.conn, readonly=True).status()["files"] == 0
        assert SearchIndex(st.conn, readonly=True).size_on_disk() == 0
    assert not (tmp_path / "not").exists()


def test_a_read_only_index_reads_while_a_writer_holds_its_transaction(tmp_path, seeds):
    path = tmp_path / "s.sqlite"
    with open_store(path) as st:
        SearchIndex(st.conn).refresh([str(seeds)])
    with open_store(path) as writer:
        writer.conn.execute("BEGIN IMMEDIATE")
        writer.conn.execute("DELETE FROM search_files")
        with open_store(path, readonly=True) as reader:  # WAL: the reader sees the last commit, at once
            assert SearchIndex(reader.conn, readonly=True).status()["files"] == 5
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader.conn.execute("DELETE FROM meta")
        writer.conn.rollback()


def test_a_read_only_index_of_another_version_reads_as_empty_and_is_left_alone(tmp_path, seeds):
    path = tmp_path / "s.sqlite"
    with open_store(path) as st:
        SearchIndex(st.conn).refresh([str(seeds)])
        with st.conn:
            st.conn.execute("UPDATE meta SET value = 'old' WHERE key = 'search_schema'")
    with open_store(path, readonly=True) as st:
        assert SearchIndex(st.conn, readonly=True).status()["files"] == 0
    with open_store(path) as st:
        assert st.conn.execute("SELECT count(*) FROM search_files").fetchone()[0] == 5  # not dropped


def test_processes_opening_a_new_store_together_all_get_it(tmp_path):
    """Commands started together on a store that is not there yet: each opens it (SQLite answered one of
    them "database is locked" at once when it switched the new file to WAL, about one open in 40)."""
    import os
    import sys

    from analysis.errors import StoreError
    from analysis.store import open_store

    failed = 0
    for trial in range(60):
        path = tmp_path / f"s{trial}.sqlite"
        pids = []
        for k in range(4):
            pid = os.fork()
            if pid == 0:  # the child: open, write, leave without running pytest's exit code
                code = 0
                try:
                    store = open_store(path)
                    with store.conn:
                        store.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, 'x')", (f"k{k}",))
                except StoreError as exc:
                    sys.stderr.write(f"{exc}\n")
                    code = 2
                finally:
                    os._exit(code)
            pids.append(pid)
        for pid in pids:
            failed += os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0
    assert failed == 0
