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
