"""The watcher (analysis/search/watch.py): it keeps the index current, and a search trusts it only when it may."""

import os
import shutil
import threading
import time

import pytest

from analysis.search import Matcher, SearchIndex, matching_files
from analysis.search import index as index_mod
from analysis.search import watch as watch_mod
from analysis.store import open_store

pytest.importorskip("watchdog.observers.inotify_c", reason="index --watch needs watchdog (newsctl[watch]) and Linux")


@pytest.fixture()
def tree(tmp_path, seeds):
    root = tmp_path / "corpus"
    shutil.copytree(seeds, root / "sub")
    return root


@pytest.fixture()
def watcher(tree, tmp_path):
    w = watch_mod.Watcher(tmp_path / "store.sqlite", [str(tree)])
    ready = threading.Event()
    failed = []

    def run():
        try:
            w.run(ready=lambda r: ready.set())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failed.append(exc)
            ready.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(60) and not failed, failed
    yield w
    w.stop()
    t.join(60)
    assert not t.is_alive()


@pytest.fixture()
def patient(monkeypatch):
    """A search waits up to a minute for the watcher to catch up, not SYNC_TIMEOUT's 2 s: on a loaded
    machine the watcher may take longer, and the search then walks (as correct, but not what is tested)."""
    sync = watch_mod.Watch.sync
    monkeypatch.setattr(watch_mod.Watch, "sync", lambda self, timeout=60.0: sync(self, timeout))


@pytest.fixture()
def index(tmp_path):
    st = open_store(tmp_path / "store.sqlite")
    yield SearchIndex(st.conn)
    st.close()


def _files(index, tree, query):
    _, matches = index.search_paths([str(tree)], Matcher(query))
    return [os.path.relpath(f, tree) for f in matching_files(matches)]


def _until(check, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False


def _indexed(index, path):
    row = index.conn.execute("SELECT size FROM search_files WHERE path = ?", (os.fsencode(str(path)),)).fetchone()
    return row[0] if row else None


@pytest.fixture()
def walks(monkeypatch):
    """How many times the stat walk ran (in this process or a forked child)."""
    count = []
    real = index_mod._Walk.__init__

    def counting(self, *a, **kw):
        count.append(1)
        real(self, *a, **kw)

    monkeypatch.setattr(index_mod._Walk, "__init__", counting)
    real_walk = index_mod.walk
    monkeypatch.setattr(index_mod, "walk", lambda paths: count.append(1) or real_walk(paths))
    return count


def test_the_watcher_picks_up_new_changed_and_deleted_files(watcher, tree, index):
    page = tree / "sub" / "003_a388d32138e33352.txt"
    assert _indexed(index, page) == page.stat().st_size  # indexed when it started
    page.write_text("Zwartewatersklooster\n" + page.read_text(encoding="utf-8"), encoding="utf-8")
    new = tree / "sub" / "deeper" / "new.txt"
    new.parent.mkdir()
    new.write_text("Kop\nMOSKOU (ANP) - Blauwvingerkrab gezien.\n", encoding="utf-8")
    gone = tree / "sub" / "004_a67af5a38df70ef6.txt"
    gone.unlink()
    assert _until(lambda: _indexed(index, page) == page.stat().st_size and _indexed(index, new) is not None
                  and _indexed(index, gone) is None)
    assert _files(index, tree, "zwartewatersklooster") == ["sub/003_a388d32138e33352.txt"]
    assert _files(index, tree, "blauwvingerkrab") == ["sub/deeper/new.txt"]
    assert not any("004_" in f for f in _files(index, tree, ""))


def test_a_quiet_tree_is_searched_without_the_walk(watcher, tree, index, walks, patient):
    first = _files(index, tree, "Oekraïne")  # walks, and tags the scope with the watcher's count
    assert first and walks
    walks.clear()
    assert _files(index, tree, "Oekraïne") == first
    assert _files(index, tree, "oorlog") and not walks


def test_a_change_right_before_the_search_is_seen(watcher, tree, index, walks):
    _files(index, tree, "zwartewatersklooster")
    _files(index, tree, "zwartewatersklooster")  # the scope is tagged and trusted now
    for k in range(5):  # no pause between the write and the search
        page = tree / "sub" / f"00{k}_{'x' * 3}.txt"
        page.write_text(f"Kop\nMOSKOU (ANP) - Zwartewatersklooster {k}.\n", encoding="utf-8")
        assert f"sub/00{k}_xxx.txt" in _files(index, tree, "zwartewatersklooster")
        page.unlink()
        assert f"sub/00{k}_xxx.txt" not in _files(index, tree, "zwartewatersklooster")
    target = tree / "sub" / "001_e1118d4810dff467.txt"
    target.write_text("Kop\nMOSKOU (ANP) - Iets anders.\n", encoding="utf-8")
    walks.clear()
    assert "sub/001_e1118d4810dff467.txt" not in _files(index, tree, "oekraine") and walks


def test_a_dead_watcher_is_not_trusted(tree, tmp_path, index, walks):
    w = watch_mod.Watcher(tmp_path / "store.sqlite", [str(tree)])
    ready = threading.Event()
    t = threading.Thread(target=w.run, kwargs={"ready": lambda r: ready.set()}, daemon=True)
    t.start()
    assert ready.wait(60)
    _files(index, tree, "Oekraïne")
    _files(index, tree, "Oekraïne")
    w.stop()
    t.join(60)
    assert not t.is_alive()
    assert watch_mod.covering(index.conn, [str(tree)]) is None  # its lock is free
    page = tree / "sub" / "002_87c820989f8bb488.txt"
    page.write_text("Kop\nMOSKOU (ANP) - Zwartewatersklooster.\n", encoding="utf-8")
    walks.clear()
    assert _files(index, tree, "zwartewatersklooster") == ["sub/002_87c820989f8bb488.txt"] and walks


def test_a_watcher_that_does_not_answer_the_cookie_is_walked_past(watcher, tree, index, walks, monkeypatch):
    _files(index, tree, "Oekraïne")
    _files(index, tree, "Oekraïne")
    monkeypatch.setattr(watch_mod.Watch, "sync", lambda self, timeout=0: False)
    walks.clear()
    assert _files(index, tree, "Oekraïne") and walks


def test_a_symlink_in_the_tree_ends_the_trust(watcher, tree, index, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    assert watch_mod.covering(index.conn, [str(tree)]) is not None
    (tree / "link").symlink_to(outside)
    assert _until(lambda: watch_mod.covering(index.conn, [str(tree)]) is None)


def test_paths_outside_the_roots_are_not_covered(watcher, tree, index, tmp_path):
    assert watch_mod.covering(index.conn, [str(tree / "sub")]) is not None
    assert watch_mod.covering(index.conn, [str(tree), str(tmp_path)]) is None


def test_a_second_watcher_of_the_same_tree_is_refused(watcher, tree, tmp_path):
    from analysis.errors import InputError

    with pytest.raises(InputError, match="already watches"):
        watch_mod.Watcher(tmp_path / "store.sqlite", [str(tree)]).run()
