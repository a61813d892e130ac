"""The streamed path of entities and cooccur gives what the in-memory path gives."""

import dataclasses

import numpy as np
import pytest

from analysis import cooccurrence as cx
from analysis import entitystream as es
from analysis.pagecache import PageCache
from analysis.aliases import Aliases
from analysis.corpus import load_corpus
from analysis.entities import annotate, drop_adjectives, entity_records, resolve_names
from analysis.filters import StoryFilter, select_stories, variants_of
from analysis.nlp import resolve_model
from analysis.store import open_store
from tests.conftest import SEEDS


def _in_memory(store, aliases=None):
    with open_store(store) as st:
        annotated = annotate(load_corpus([str(SEEDS)]), model_ref=resolve_model(None), store=st)
    return annotated, resolve_names(annotated, aliases=aliases)


def _streamed(store, aliases=None, batch_files=3):
    with open_store(store) as st:
        tables = es.stream_annotations([str(SEEDS)], model_ref=resolve_model(None), store=st,
                                       batch_files=batch_files)
    return tables, es.canonical_names(tables, aliases)


ALIASES = Aliases(names={"poetin": "Wladimir Poetin", "vs": "Amerika"}, labels={"Amerika": "ORG"})


@pytest.mark.parametrize("aliases", [None, ALIASES], ids=["plain", "aliases"])
def test_names_and_entity_rows_match(seeds_store, aliases):
    annotated, labels_of = _in_memory(seeds_store, aliases)
    tables, nm = _streamed(seeds_store, aliases)
    assert nm.labels_of() == labels_of
    names = [m.canonical for m in annotated.mentions()]
    assert [nm.names[i] for i in nm.m_name.tolist()] == names
    everything = np.ones(len(nm.m_name), dtype=bool)
    assert es.variants(tables, nm, everything) == variants_of(annotated.mentions())
    kept = es.adjective_mask(tables, nm, False)
    drop_adjectives(annotated, labels_of)
    for keep_duplicates in (False, True):
        chosen = select_stories(annotated, StoryFilter(), keep_duplicates=keep_duplicates)
        mask = kept & es.story_mask(tables, keep_duplicates)
        assert es.entity_records(tables, nm, mask, min_count=2, top=40) == \
            entity_records(chosen, labels_of, min_count=2, top=40)


@pytest.mark.parametrize("unit", cx.UNITS)
def test_pairs_match(seeds_store, unit):
    annotated, labels_of = _in_memory(seeds_store)
    tables, nm = _streamed(seeds_store)
    drop_adjectives(annotated, labels_of)
    kept = es.adjective_mask(tables, nm, False)
    chosen = select_stories(annotated, StoryFilter(), keep_duplicates=False)
    old = cx.cooccurrence(chosen, labels_of, unit=unit)
    new = es.Cooccurrences(tables, nm, kept & es.story_mask(tables, False), unit=unit)
    assert (new.co.n_units, dict(new.co.entity_units), new.co.variants) == \
        (old.n_units, dict(old.entity_units), old.variants)
    names = dataclasses.replace(StoryFilter(entity=("Poetin",)), label=()).entity_names(old.variants, labels_of)
    for select in [dict(), dict(sort="npmi", top=5), dict(sort="llr", top=3, labels=["PER", "LOC"]),
                   dict(top=4, min_count=2), dict(names=names)]:
        assert cx.select_pairs(new.for_pairs(**select), **select) == cx.select_pairs(old, **select)
    ents = cx.top_entities(old, 8)
    assert cx.matrix(new.for_matrix(8), ents) == cx.matrix(old, ents)


def _stream(paths, store):
    with open_store(store) as st:
        tables = es.stream_annotations([str(p) for p in paths], model_ref=resolve_model(None), store=st)
    return tables, es.canonical_names(tables)


def _records(tables, nm):
    mask = es.adjective_mask(tables, nm, True) & es.story_mask(tables, False)
    return es.entity_records(tables, nm, mask)


def test_second_run_reads_the_pages_from_the_store(seeds_store, tmp_path):
    import shutil

    store = tmp_path / "s.sqlite"
    shutil.copy(seeds_store, store)
    with open_store(store) as st:
        PageCache(st, "", "")  # the table, emptied: earlier tests filled it
        with st.conn:
            st.conn.execute("DELETE FROM pages")
    first, nm1 = _stream([SEEDS], store)
    second, nm2 = _stream([SEEDS], store)
    assert first.pages_cached == 0 and second.pages_cached == len(second.paths)
    assert second.processed == 0 and second.forms_recounted == 0
    assert _records(first, nm1) == _records(second, nm2)


def test_a_new_place_recounts_the_casings(tmp_path, tiny_model):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Kop\nALMATY (ANP) - In Almaty en bij De Wallen was het rustig.\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    ref = resolve_model(str(tiny_model))

    def run():
        with open_store(store) as st:
            tables = es.stream_annotations([str(corpus)], model_ref=ref, store=st)
        old = annotate(load_corpus([str(corpus)]), model_ref=ref, store=None)
        labels = resolve_names(old)
        return tables, es.canonical_names(tables), labels

    tables, nm, labels = run()
    assert nm.labels_of() == labels
    (corpus / "b.txt").write_text("Kop\nDE WALLEN (ANP) - Rustig.\n", encoding="utf-8")
    tables, nm, labels = run()
    assert tables.forms_recounted == 2  # the set of place names changed: both files counted again
    assert nm.labels_of() == labels and "De Wallen" in labels
    tables, nm, labels = run()
    assert tables.forms_recounted == 0


def test_inputs_sharing_a_stem_are_not_streamed(tmp_path):
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "page.txt").write_text("Kop\nTekst.\n", encoding="utf-8")
    assert not es.streamable([str(tmp_path)])
    assert es.streamable([str(tmp_path / "x")])
    assert not es.streamable(["-"])


def _emptied_copy(seeds_store, tmp_path):
    import shutil

    store = tmp_path / "s.sqlite"
    shutil.copy(seeds_store, store)
    with open_store(store) as st:
        PageCache(st, "", "")
        with st.conn:
            st.conn.execute("DELETE FROM pages")
    return store


def test_page_rules_in_worker_processes_give_the_same_rows(seeds_store, tmp_path):
    store = _emptied_copy(seeds_store, tmp_path)
    with open_store(store) as st:
        tables = es.stream_annotations([str(SEEDS)], model_ref=resolve_model(None), store=st, jobs=2,
                                       batch_files=3)
    nm = es.canonical_names(tables)
    assert tables.pages_cached == 0 and tables.processed == 0 and tables.cached == len(tables.paths)
    again, nm2 = _stream([SEEDS], store)
    assert again.pages_cached == len(again.paths)
    annotated, labels_of = _in_memory(seeds_store)
    assert [nm.names[i] for i in nm.m_name.tolist()] == [m.canonical for m in annotated.mentions()]
    assert _records(tables, nm) == _records(again, nm2)


def test_a_model_fill_opens_one_executor_and_keeps_the_pages(tmp_path, tiny_model, monkeypatch):
    from analysis import entities, parallel

    corpus = tmp_path / "c"
    corpus.mkdir()
    for k in range(4):
        (corpus / f"p{k}.txt").write_text(f"Kop {k}\nALMATY (ANP) - Poetin sprak in Almaty met Tokajev.\n",
                                          encoding="utf-8")
    opened = []

    def counting(*args, **kwargs):
        opened.append(1)
        return parallel.InProcessExecutor()

    monkeypatch.setattr(parallel, "open_executor", counting)
    monkeypatch.setattr(entities, "open_executor", counting)
    store = tmp_path / "s.sqlite"
    ref = resolve_model(str(tiny_model))
    with open_store(store) as st:
        filled = es.stream_annotations([str(corpus)], model_ref=ref, store=st, batch_files=1)
    assert filled.processed == 4 and len(opened) == 1  # one executor for every batch, not one a batch
    with open_store(store) as st:
        again = es.stream_annotations([str(corpus)], model_ref=ref, store=st, batch_files=1)
    assert again.processed == 0 and again.pages_cached == 4  # the fill left the page rows
    assert len(opened) == 1


@pytest.mark.parametrize("chunk_rows", [1, 5, 1_000_000])
def test_pair_units_in_chunks_are_every_unit_in_corpus_order(chunk_rows):
    """Units gathered chunk by chunk into one array: each pair's slice holds its units, ascending."""
    rng = np.random.default_rng(7)
    rows = {(int(u), int(n)) for u, n in zip(rng.integers(0, 40, 300), rng.integers(0, 9, 300))}
    rows_unit, rows_name = (np.array(x, dtype=np.int64) for x in zip(*sorted(rows)))
    ut = es.UnitTable("story", 40, lambda us: [f"u{u}" for u in np.asarray(us).tolist()], rows_unit, rows_name)
    expected: dict = {}
    for u in range(40):
        names = sorted(n for uu, n in rows if uu == u)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                expected.setdefault(a * 9 + b, []).append(u)
    codes, counts = es.pair_counts(ut, 9, chunk_rows=chunk_rows)
    assert dict(zip(codes.tolist(), counts.tolist())) == {c: len(v) for c, v in expected.items()}
    wanted = codes[counts >= 2]
    got = es.pair_units(ut, 9, wanted, counts[counts >= 2], chunk_rows=chunk_rows)
    assert {c: v.tolist() for c, v in got.items()} == {c: expected[c] for c in wanted.tolist()}
    ids = es.UnitIds(got[int(wanted[0])], ut.unit_ids)
    assert ids.joined(",") == ",".join(ids) == ",".join(f"u{u}" for u in expected[int(wanted[0])])
    assert ids[-1] == f"u{expected[int(wanted[0])][-1]}" and ids[1:3] == [f"u{u}" for u in expected[int(wanted[0])][1:3]]


def test_an_in_memory_fill_keeps_the_page_rows_a_streamed_fill_keeps(tmp_path, tiny_model):
    """`entities --mentions` or `datelines --entity` (the in-memory path) filling the store leave the page
    rows a streamed run would make (dateline places as printed), so the next streamed run reads them."""
    import marshal
    import sqlite3
    import zlib

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Kop\nALMATY (ANP) - In Almaty en bij De Wallen was het rustig.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Kop\nDE WALLEN (ANP) - Poetin sprak met Tokajev.\n", encoding="utf-8")
    ref = resolve_model(str(tiny_model))
    memory, streamed = tmp_path / "m.sqlite", tmp_path / "s.sqlite"
    with open_store(memory) as st:
        annotate(load_corpus([str(corpus)]), model_ref=ref, store=st)
    with open_store(streamed) as st:
        es.stream_annotations([str(corpus)], model_ref=ref, store=st)

    def pages(store):
        with sqlite3.connect(store) as c:
            return {sha: marshal.loads(zlib.decompress(data)) for sha, data in c.execute("SELECT sha256, data FROM pages")}

    assert len(pages(memory)) == 2 and pages(memory) == pages(streamed)
    with open_store(memory) as st:
        tables = es.stream_annotations([str(corpus)], model_ref=ref, store=st)
    assert tables.pages_cached == 2 and tables.processed == 0


def test_no_worker_pool_when_every_page_is_stored(seeds_store, monkeypatch):
    from analysis import parallel

    _stream([SEEDS], seeds_store)  # the page rows are there now
    started = []
    monkeypatch.setattr(parallel.LocalExecutor, "__init__", lambda self, *a: started.append(a))
    with open_store(seeds_store) as st:
        tables = es.stream_annotations([str(SEEDS)], model_ref=resolve_model(None), store=st, jobs=2)
    assert tables.pages_cached == len(tables.paths) and not started


def test_one_pool_runs_the_rules_and_then_the_model(tmp_path, tiny_model):
    """Batches whose model output is stored go to the pool for the rules; later batches the store lacks
    run the model on the same worker processes; the tables are those of a run on one core."""
    import shutil

    corpus = tmp_path / "c"
    corpus.mkdir()
    for k in range(6):
        (corpus / f"p{k}.txt").write_text(f"Kop {k}\nALMATY (ANP) - Poetin sprak in Almaty met Tokajev over {k}.\n",
                                          encoding="utf-8")
    ref = resolve_model(str(tiny_model))
    store = tmp_path / "s.sqlite"
    with open_store(store) as st:  # the model's output for the first two files, without their page rows
        annotate(load_corpus([str(corpus / "p0.txt"), str(corpus / "p1.txt")]), model_ref=ref, store=st)
        with st.conn:
            st.conn.execute("DELETE FROM pages")
    shutil.copy(store, tmp_path / "one.sqlite")
    with open_store(store) as st:
        pooled = es.stream_annotations([str(corpus)], model_ref=ref, store=st, jobs=2, batch_files=2)
    with open_store(tmp_path / "one.sqlite") as st:
        alone = es.stream_annotations([str(corpus)], model_ref=ref, store=st, jobs=1, batch_files=2)
    assert (pooled.cached, pooled.processed) == (alone.cached, alone.processed) == (2, 4)
    assert _records(pooled, es.canonical_names(pooled)) == _records(alone, es.canonical_names(alone))
    assert pooled.keys == alone.keys and pooled.m_key.tolist() == alone.m_key.tolist()


def test_the_rules_read_the_store_or_take_the_records_alike(seeds_store, tmp_path, monkeypatch):
    """The page rules read the stored model output themselves from an SQLite file (the workers share that
    work); a store that is no file hands the records over: the same rows either way."""
    store = _emptied_copy(seeds_store, tmp_path)
    with open_store(store) as st:
        assert es._readable_path(st) == str(store.resolve())
    assert es._readable_path(open_store(tmp_path / "none.sqlite", readonly=True)) is None  # held in memory
    read, nm1 = _stream([SEEDS], store)
    assert not es._READER  # the connection the rules read with here is closed with the run
    (tmp_path / "b").mkdir()
    store = _emptied_copy(seeds_store, tmp_path / "b")
    monkeypatch.setattr(es, "_readable_path", lambda store: None)
    handed, nm2 = _stream([SEEDS], store)
    assert read.pages_cached == handed.pages_cached == 0 and read.cached == handed.cached == len(read.paths)
    assert _records(read, nm1) == _records(handed, nm2)
