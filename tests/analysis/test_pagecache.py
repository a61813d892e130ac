"""The store's ``pages`` table: a cache of the page rules, so damaged rows are made again."""

import marshal
import zlib

import pytest

from analysis.pagecache import PageCache
from analysis.store import open_store

RECORD = (((0, 1, 5, ("ALMATY",)),), (("Almaty", "LOC", "dateline", "ALMATY"),), b"\0" * 12, b"")


@pytest.mark.parametrize("column, value", [
    ("data", b"not zlib at all"),
    ("data", zlib.compress(b"\x00\x01garbage")),  # unpacks, but is no record
    ("forms", b"\xff\xfe damaged"),
    ("forms", marshal.dumps([1, 2])),  # the wrong shape
], ids=["data-not-zlib", "data-not-a-record", "forms-not-marshal", "forms-wrong-shape"])
def test_a_damaged_row_is_a_miss_not_a_crash(tmp_path, column, value):
    with open_store(tmp_path / "s.sqlite") as st:
        cache = PageCache(st, "pipe", "v1")
        cache.put_many([("good", RECORD), ("bad", RECORD)])
        cache.put_forms([("good", (b"fp", {"Almaty": 2})), ("bad", (b"fp", {"Almaty": 2}))])
        with st.conn:
            st.conn.execute(f"UPDATE pages SET {column} = ? WHERE sha256 = 'bad'", (value,))
        got = cache.get_many(["good", "bad"])
    assert list(got) == ["good"]
    assert got["good"] == (RECORD, (b"fp", {"Almaty": 2}))


def test_a_pages_table_of_another_shape_is_a_store_error_not_a_traceback(tmp_path):
    from analysis.errors import StoreError

    with open_store(tmp_path / "s.sqlite") as st:
        with st.conn:
            st.conn.execute("CREATE TABLE pages (a INTEGER)")  # made by something else
        cache = PageCache(st, "pipe", "v1")
        with pytest.raises(StoreError, match="s.sqlite.*no such column"):
            cache.get_many(["x"])
