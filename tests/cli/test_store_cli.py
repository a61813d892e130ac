"""A damaged or full store after it has opened: one line `Error: ...` naming it, exit 2."""

import re

import pytest

from analysis import store as store_mod
from analysis.corpus import load_corpus
from analysis.nlp import resolve_model
from analysis.store import StoredMention, StoredSentence, open_store
from tests.conftest import invoke

COMMANDS = [
    ["entities", "{seeds}", "-f", "tsv"],
    ["cooccur", "{seeds}", "-f", "tsv"],
    ["search", "Oekraïne OR Poetin", "{seeds}", "-f", "tsv"],
    ["search", "Poetin", "{seeds}", "--entity", "Poetin", "-f", "tsv"],
    ["index", "{seeds}", "-f", "tsv"],
]


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory, seeds):
    """A store holding annotations of every seed (made up, so no model runs) and the search index."""
    path = tmp_path_factory.mktemp("store") / "store.sqlite"
    key = resolve_model(None).key
    with open_store(path) as st:
        for doc, stories in load_corpus([str(seeds)]).pages:
            sents, ments = [], []
            for s in stories:
                sents.append(StoredSentence(s.index, 0, s.start, s.end))
                for m in re.finditer(r"Oekraïne|Rusland|Poetin|Trump|NAVO", doc.text[s.start:s.end]):
                    label = {"Poetin": "PER", "Trump": "PER", "NAVO": "ORG"}.get(m.group(), "LOC")
                    ments.append(StoredMention(s.index, 0, s.start + m.start(), s.start + m.end(), label))
            st.put_annotations(doc.sha256, key, sents, ments)
    from analysis.search import SearchIndex

    with open_store(path) as st:
        SearchIndex(st.conn).refresh([str(seeds)])
    return path


@pytest.fixture()
def no_model(monkeypatch):
    def refuse(ref):
        raise AssertionError("the model ran: the store should have answered")

    monkeypatch.setattr("analysis.nlp.load_pipeline", refuse)


def _run(runner, args, seeds, store):
    return invoke(runner, [a.format(seeds=seeds) for a in args] + ["--store", store])


def _one_line_error(result, store):
    lines = result.stderr.strip().splitlines()
    return (result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error: ")
            and str(store) in lines[0] and "--no-cache" in lines[0] and "Traceback" not in result.output)


def test_the_filled_store_answers_without_the_model(runner, seeds, filled_store, no_model):
    for args in COMMANDS:
        result = _run(runner, args, seeds, filled_store)
        assert result.exit_code == 0, (args, result.stderr)


def test_a_store_garbled_page_by_page(runner, seeds, filled_store, tmp_path, no_model):
    pristine = filled_store.read_bytes()
    size = 4096
    assert len(pristine) >= 20 * size
    store = tmp_path / "store.sqlite"
    failed = set()
    for page in range(20):
        for args in COMMANDS:
            damaged = bytearray(pristine)
            damaged[page * size:(page + 1) * size] = bytes((page * 37 + k * 11) % 256 for k in range(size))
            store.write_bytes(bytes(damaged))
            result = _run(runner, args, seeds, store)
            if result.exit_code == 2:
                assert _one_line_error(result, store), (page, args, result.stderr)
                failed.add(page)
            else:  # a page these commands do not read
                assert result.exit_code == 0 and not result.stderr, (page, args, result.stderr)
    assert len(failed) >= 10, failed


def test_a_full_disk_while_indexing(runner, seeds, tmp_path, monkeypatch):
    real = store_mod.open_store

    def tiny(path=None):
        st = real(path)
        pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
        st.conn.execute(f"PRAGMA max_page_count = {pages + 3}")  # SQLite then answers SQLITE_FULL
        return st

    monkeypatch.setattr(store_mod, "open_store", tiny)
    store = tmp_path / "store.sqlite"
    for args in (["index", "{seeds}"], ["search", "Oekraïne", "{seeds}"]):
        result = _run(runner, args, seeds, store)
        assert _one_line_error(result, store) and "full" in result.stderr, result.stderr


# -- read-only commands on a store that is missing or may not be written ---------------------

def test_index_status_creates_no_store(runner, tmp_path, seeds):
    store = tmp_path / "none" / "store.sqlite"
    result = invoke(runner, ["index", "--status", seeds, "--store", store, "-f", "tsv"])
    assert result.exit_code == 0, result.stderr
    rows = dict(line.split("\t") for line in result.stdout.splitlines()[1:])
    assert (rows["files"], rows["index_bytes"], rows["inputs"], rows["new"]) == ("0", "0", "5", "5")
    assert not (tmp_path / "none").exists()


def _drop_dac_override():  # runs in the child, before exec: root then obeys the file modes
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl")


def _run_unprivileged(args, cwd):
    """newsctl ARGS in a child that cannot write where the file modes say no (also as root)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "import sys; from cli.launch import main; sys.exit(main())", *map(str, args)]
    pre = _drop_dac_override if os.geteuid() == 0 else None
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, preexec_fn=pre)
    except subprocess.SubprocessError as exc:
        if "preexec" in str(exc):
            pytest.skip("cannot drop CAP_DAC_OVERRIDE here")
        raise


@pytest.fixture()
def read_only_store(tmp_path, seeds):
    """An indexed store, cleanly closed (no -wal, no -shm), in a directory nobody may write."""
    where = tmp_path / "ro"
    where.mkdir()
    store = where / "store.sqlite"
    with open_store(store) as st:
        from analysis.search import SearchIndex

        SearchIndex(st.conn).refresh([str(seeds)])
    assert sorted(p.name for p in where.iterdir()) == ["store.sqlite"]
    where.chmod(0o555)
    yield store
    where.chmod(0o755)


def test_index_status_and_show_read_a_store_in_a_directory_that_cannot_be_written(read_only_store, seeds, tmp_path):
    result = _run_unprivileged(["index", "--status", seeds, "--store", read_only_store, "-f", "tsv"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = dict(line.split("\t") for line in result.stdout.splitlines()[1:])
    assert (rows["files"], rows["stories"], rows["up_to_date"]) == ("5", "40", "5")
    result = _run_unprivileged(["show", "000_6886c8d2ffe8f8a4:3", "--store", read_only_store, "-f", "tsv",
                                "--no-header"], cwd=tmp_path)  # found through the index: not under the cwd
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("000_6886c8d2ffe8f8a4:3\t" + str(seeds / "000_6886c8d2ffe8f8a4.txt"))
    assert sorted(p.name for p in read_only_store.parent.iterdir()) == ["store.sqlite"]
    result = _run_unprivileged(["index", seeds, "--store", read_only_store], cwd=tmp_path)  # a write: one line
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: cannot use the store {read_only_store}")


def test_a_write_ahead_log_that_cannot_be_read_is_one_error_line(tmp_path, seeds):
    import shutil

    from analysis.search import SearchIndex

    made, where = tmp_path / "made", tmp_path / "ro"
    made.mkdir()
    where.mkdir()
    with open_store(made / "store.sqlite") as st:
        st.conn.execute("PRAGMA wal_autocheckpoint = 0")
        SearchIndex(st.conn).refresh([str(seeds)])
        for name in ("store.sqlite", "store.sqlite-wal"):  # as a writer killed mid-run leaves it, less the -shm
            shutil.copy(made / name, where / name)
    where.chmod(0o555)
    try:
        result = _run_unprivileged(["index", "--status", "--store", where / "store.sqlite"], cwd=tmp_path)
    finally:
        where.chmod(0o755)
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: cannot read the store {where / 'store.sqlite'}: its directory cannot "
                                    "be written, and its write-ahead log")
