import os
import shutil

import pytest

from analysis import search as lib
from analysis.search import index as index_mod
from analysis.corpus import load_corpus
from analysis.entities import AnnotatedCorpus, AnnotatedStory, Mention
from analysis.errors import InputError, QueryError
from analysis.reader import expand_paths
from analysis.search import Filters, Matcher, SearchIndex, fold, fts_expression, parse_query
from analysis.store import open_store
from tests.conftest import ConnectionStandIn


@pytest.fixture()
def store(tmp_path):
    st = open_store(tmp_path / "store.sqlite")
    yield st
    st.close()


@pytest.fixture()
def index(store):
    return SearchIndex(store.conn)


def run(index, paths, query="", **kw):
    refreshed = index.refresh([str(p) for p in paths])
    regex = kw.pop("regex", None)
    case = kw.pop("case_sensitive", False)
    return list(index.search(refreshed.files, Matcher(query, regex=regex, case_sensitive=case), Filters(**kw)))


def ids(matches):
    return [m.rec.id for m in matches]


# -- folding ---------------------------------------------------------------------

def test_fold_strips_case_and_diacritics_one_char_for_one(seeds):
    assert fold("Oekraïne") == "oekraine"
    assert fold("BELÉM café één") == "belem cafe een"
    assert fold("İstanbul") == "istanbul"
    assert fold("Straße ﬁets") == "straße ﬁets"  # would change the length: kept
    for path in seeds.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert len(fold(text)) == len(text)
    weird = "".join(chr(c) for c in range(0x20, 0x3000))
    assert len(fold(weird)) == len(weird)


# -- the query language -------------------------------------------------------------

@pytest.mark.parametrize("query, tree, fts", [
    ("Poetin", '"Poetin"', '"poetin"'),
    ('"strategische locaties"', '"strategische locaties"', '"strategische locaties"'),
    ("oorlog*", '"oorlog"*', '"oorlog"*'),
    ("Poetin AND China", '("Poetin" AND "China")', '("poetin") AND ("china")'),
    ("ICE OR NAVO", '("ICE" OR "NAVO")', '("ice") OR ("navo")'),
    ("Oekraïne NOT Rusland", '("Oekraïne" NOT "Rusland")', '("oekraine") NOT ("rusland")'),
    ("a b OR c", '(("a" AND "b") OR "c")', '(("a") AND ("b")) OR ("c")'),
    ("a OR b c", '("a" OR ("b" AND "c"))', '("a") OR (("b") AND ("c"))'),
    ("(a OR b) NOT c d", '((("a" OR "b") NOT "c") AND "d")', '((("a") OR ("b")) NOT ("c")) AND ("d")'),
    ("NAVO-chef", '"NAVO chef"', '"navo chef"'),
    ('"de oorlog"*', '"de oorlog"*', '"de oorlog"*'),
    ("and or", '("and" AND "or")', '("and") AND ("or")'),  # lower case: plain words
])
def test_parse(query, tree, fts):
    node = parse_query(query)
    assert str(node) == tree
    if fts:
        assert fts_expression(node) == fts


def test_parse_empty_and_nfd_query():
    assert parse_query("") is None and parse_query("   ") is None
    assert str(parse_query("Oekrai\u0308ne")) == '"Oekraïne"'


@pytest.mark.parametrize("query, message", [
    ('"abc', "quote"), ("NOT x", "NOT needs a term on its left"), ("a AND", "ends with an operator"),
    ("(a", "'(' without ')'"), ("a)", "')' without '('"), ("()", "empty pair"), ("oor*log", "'*' may only end"),
    ("-", "nothing to search for"), ('""', "nothing to search for"), ("OR b", "OR needs a term"),
])
def test_invalid_queries(query, message):
    with pytest.raises(QueryError, match="invalid query") as exc:
        parse_query(query)
    assert message in str(exc.value)


def test_case_sensitive_fts_leaves_out_not():
    assert Matcher("a NOT b", case_sensitive=True).fts == '"a"'
    assert Matcher("a NOT b").fts == '("a") NOT ("b")'


@pytest.mark.parametrize("query", ["NEAR(a b)", "col:x", "^start", "a + b", "x'); DROP TABLE t; --", "{a b}: c", "a*b"])
def test_user_text_never_reaches_match_raw(index, seeds, query):
    # FTS5 syntax in a query is searched for as words or refused as a query error
    try:
        run(index, [seeds], query)
    except QueryError as exc:
        assert "invalid query" in str(exc)


# -- matching within a story ---------------------------------------------------------

def test_matcher_terms_phrases_prefixes():
    text = "Internationale troepen bewaken 'strategische'\nlocaties in Oekraïne; oorlogsmisdaden en OORLOG."
    spans = lambda q, **kw: [text[s:e] for s, e in Matcher(q, **kw).spans(text) or []]  # noqa: E731
    assert spans('"strategische locaties"') == ["strategische'\nlocaties"]
    assert spans("oekraine") == ["Oekraïne"]
    assert spans("oorlog*") == ["oorlogsmisdaden", "OORLOG"]
    assert spans("oorlog") == ["OORLOG"]
    assert spans("troep") == []  # whole words only
    assert spans("oorlog", case_sensitive=True) == []
    assert spans("OORLOG", case_sensitive=True) == ["OORLOG"]
    assert spans("oekraine", case_sensitive=True) == []
    assert spans("troepen OR nergens") == ["troepen"]
    assert spans("troepen AND nergens") == []
    assert spans("troepen NOT oekraine") == []
    assert spans("troepen NOT rusland") == ["troepen"]
    assert Matcher("").spans(text) == [(0, 0)]
    assert spans("x", regex=r"oorlog\w*") == ["oorlogsmisdaden", "OORLOG"]
    assert spans("x", regex=r"oorlog\w*", case_sensitive=True) == ["oorlogsmisdaden"]


def test_invalid_regex():
    with pytest.raises(QueryError, match="invalid regular expression"):
        Matcher(regex="(unclosed")
    with pytest.raises(QueryError, match="the repetition number is too large"):  # an OverflowError, not re.error
        Matcher(regex="x{99999999999}")


# -- walking ----------------------------------------------------------------------

def test_walk_finds_what_expand_paths_finds(tmp_path, seeds, monkeypatch):
    root = tmp_path / "c"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    for rel in ["z.txt", "a/x.txt", "b/deep/y.txt", "b/notes.md", ".hidden.txt", "a/UPPER.TXT"]:
        (root / rel).write_text("Kop\nTekst.\n", encoding="utf-8")
    (root / "dir.txt").mkdir()
    (root / "link.txt").symlink_to(root / "missing.txt")
    monkeypatch.chdir(tmp_path)
    for args in (["c"], ["c/"], ["./c", "c/z.txt"], [str(root)]):
        assert [e.path for e in lib.walk(args)] == expand_paths(args)
    monkeypatch.chdir(root)
    assert [e.path for e in lib.walk(["."])] == expand_paths(["."])
    with pytest.raises(InputError, match="nope"):
        lib.walk(["nope"])


# -- the index ----------------------------------------------------------------------

def test_hits_point_into_the_file_text(index, in_root):
    matches = run(index, ["seeds"], "oekraine OR poetin*")
    assert matches
    rows = list(lib.hit_records(matches, context=25))
    assert list(rows[0]) == list(lib.HIT_FIELDS)
    for r in rows:
        text = (in_root / r["file"]).read_text(encoding="utf-8")
        assert text[r["start"]:r["end"]] == r["match"]
        assert fold(r["match"]).startswith(("oekraine", "poetin"))
        assert len(r["left"]) <= 25 and len(r["right"]) <= 25
        assert text[r["start"] - len(r["left"]):r["start"]].replace("\n", " ") == r["left"]


def test_phrase_prefix_boolean_on_seeds(index, seeds):
    assert ids(run(index, [seeds], '"strategische locaties"')) == ["000_6886c8d2ffe8f8a4:0"]
    assert ids(run(index, [seeds], "Poetin AND China")) == ["002_87c820989f8bb488:0"]
    both = ids(run(index, [seeds], "ICE OR NAVO"))
    assert set(ids(run(index, [seeds], "ICE"))) | set(ids(run(index, [seeds], "NAVO"))) == set(both)
    ukraine = set(ids(run(index, [seeds], "Oekraïne")))
    no_russia = set(ids(run(index, [seeds], "Oekraïne NOT Rusland")))
    assert no_russia and no_russia < ukraine
    assert not no_russia & set(ids(run(index, [seeds], "Rusland")))
    hits = lambda q: sum(len(m.spans) for m in run(index, [seeds], q))  # noqa: E731
    assert hits("president*") == 21 and hits("president") == 19  # presidentschap, presidentsverkiezingen
    assert run(index, [seeds], "oekraine") == run(index, [seeds], "OEKRAÏNE")


def test_same_results_with_and_without_the_index(index, seeds):
    corpus = load_corpus([str(seeds)])
    for query in ["oekraine", '"de oorlog"', "poet*", "Trump NOT Poetin", "", "(ICE OR NAVO) AND de"]:
        with_index = [(m.rec.id, m.spans) for m in run(index, [seeds], query)]
        without = [(m.rec.id, m.spans) for m in lib.search_corpus(corpus, Matcher(query))]
        assert with_index == without, query


def test_filters(index, seeds):
    every = run(index, [seeds])
    assert len(every) == 40
    assert {m.rec.id for m in run(index, [seeds], place="kyiv")} == {
        m.rec.id for m in every if "KYIV" in m.rec.places}
    assert ids(run(index, [seeds], place="Belem")) == ["004_a67af5a38df70ef6:4"]
    afp = run(index, [seeds], agency="afp")
    assert afp and all("AFP" in m.rec.agencies for m in afp)
    leads = run(index, [seeds], kind="lead")
    assert [m.rec.story for m in leads] == [0] * 5
    assert len(run(index, [seeds], section="buitenland")) == 35
    assert run(index, [seeds], section="Sport") == []
    assert ids(run(index, [seeds], "Zelensky", place="Kyiv", agency="ANP", kind="item")) == [
        "001_e1118d4810dff467:7", "004_a67af5a38df70ef6:5", "004_a67af5a38df70ef6:7"]


def test_results_only_from_the_named_files(index, seeds, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("Kop\nMOSKOU (ANP) - Poetin sprak.\n", encoding="utf-8")
    assert ids(run(index, [other], "Poetin")) == ["x:0"]
    assert "x:0" not in ids(run(index, [seeds], "Poetin"))
    assert ids(run(index, [seeds / "002_87c820989f8bb488.txt"], "China")) == ["002_87c820989f8bb488:0"]


def test_incremental_refresh(index, corpus_copy, monkeypatch):
    first = index.refresh([str(corpus_copy)])
    assert (first.new, first.changed, first.unchanged, first.stories) == (5, 0, 0, 40)

    reads = []
    real_open = index_mod.open_regular
    monkeypatch.setattr(index_mod, "open_regular", lambda p: reads.append(p) or real_open(p))
    again = index.refresh([str(corpus_copy)])
    assert (again.new, again.changed, again.unchanged, reads) == (0, 0, 5, [])  # stat only

    page = corpus_copy / "003_a388d32138e33352.txt"
    os.utime(page, ns=(1, 1))  # touched, same content: read and hashed, not indexed again
    touched = index.refresh([str(corpus_copy)])
    assert (touched.changed, touched.unchanged, len(reads)) == (0, 5, 1)

    page.write_text("Zwartewatersklooster " + page.read_text(encoding="utf-8"), encoding="utf-8")
    changed = index.refresh([str(corpus_copy)])
    assert (changed.changed, changed.unchanged) == (1, 4)
    assert ids(index.search(changed.files, Matcher("zwartewatersklooster"))) == ["003_a388d32138e33352:0"]

    (corpus_copy / "004_a67af5a38df70ef6.txt").unlink()
    shutil.copy(page, corpus_copy / "new.txt")
    after = index.refresh([str(corpus_copy)])
    assert (after.new, after.removed, len(after.files)) == (1, 1, 5)
    assert not any(m.rec.file.endswith("004_a67af5a38df70ef6.txt")
                   for m in index.search(after.files, Matcher("")))
    assert ids(index.search(after.files, Matcher("zwartewatersklooster"))) == ["003_a388d32138e33352:0", "new:0"]
    status = index.status([str(corpus_copy)])
    assert (status["files"], status["up_to_date"], status["new"], status["removed"]) == (5, 5, 0, 0)
    # the FTS table holds exactly the stories left: deleted entries are really gone
    fts = index.conn.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'klimaattop'").fetchone()[0]
    assert fts == 0


# -- saved scopes and the walk beside the search ----------------------------------------

def _search_paths(index, paths, query):
    refreshed, matches = index.search_paths([str(p) for p in paths], Matcher(query))
    return refreshed, ids(matches)


@pytest.mark.parametrize("fork", [True, False])
def test_search_paths_answers_as_refresh_then_search(index, corpus_copy, monkeypatch, fork):
    monkeypatch.setattr(index_mod._Walk, "fork", fork)
    monkeypatch.setattr(index_mod, "_AHEAD", 3)  # the hits found ahead of the walk and those after it
    first, got = _search_paths(index, [corpus_copy], "Oekraïne")  # nothing saved yet: refresh first
    assert first.new == 5 and got == ids(run(index, [corpus_copy], "Oekraïne")) and len(got) == 11
    assert index._saved(index_mod._scope_key([str(corpus_copy)])) is not None

    again, got2 = _search_paths(index, [corpus_copy], "Oekraïne")  # saved scope, walk beside the search
    assert (again.new, again.changed, again.unchanged, again.stories) == (0, 0, 5, 40) and got2 == got

    page = corpus_copy / "003_a388d32138e33352.txt"
    page.write_text("Zwartewatersklooster " + page.read_text(encoding="utf-8"), encoding="utf-8")
    changed, got = _search_paths(index, [corpus_copy], "zwartewatersklooster")
    assert (changed.changed, got) == (1, ["003_a388d32138e33352:0"])

    (corpus_copy / "004_a67af5a38df70ef6.txt").unlink()
    removed, got = _search_paths(index, [corpus_copy], "")
    assert removed.removed == 1 and not any(i.startswith("004_") for i in got) and len(got) == 32

    sub = corpus_copy / "sub"
    sub.mkdir()
    shutil.copy(page, sub / "x.txt")
    assert _search_paths(index, [sub], "zwartewatersklooster")[1] == ["x:0"]
    assert _search_paths(index, [sub], "zwartewatersklooster")[1] == ["x:0"]
    shutil.rmtree(sub)
    with pytest.raises(InputError, match="no such file"):  # found by the walk, in the child where there is one
        index.search_paths([str(sub)], Matcher("x"))


def test_a_scope_is_not_trusted_after_the_index_changed_under_it(index, corpus_copy):
    """A file dropped through another scope and restored as it was (same size and mtime,
    as a backup restores it) is indexed again, not missed."""
    sub = corpus_copy / "sub"
    sub.mkdir()
    page = sub / "x.txt"
    page.write_text("Kop\nMOSKOU (ANP) - Zwartewatersklooster.\n", encoding="utf-8")
    st = page.stat()
    assert _search_paths(index, [corpus_copy], "zwartewatersklooster")[1] == ["x:0"]  # saves the scope
    data = page.read_bytes()
    page.unlink()
    assert _search_paths(index, [sub], "zwartewatersklooster")[0].removed == 1
    page.write_bytes(data)
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _search_paths(index, [corpus_copy], "zwartewatersklooster")[1] == ["x:0"]


def test_no_scope_is_saved_while_a_file_is_skipped(index, tmp_path, seeds):
    shutil.copy(seeds / "000_6886c8d2ffe8f8a4.txt", tmp_path / "a.txt")
    (tmp_path / "b.txt").write_bytes(b"\x00binary")
    for _ in range(2):  # the warning comes every time, as with the other commands
        refreshed, _ = index.search_paths([str(tmp_path)], Matcher("Almaty"))
        assert refreshed.skipped == 1 and len(refreshed.warnings) == 1
        assert index._saved(index_mod._scope_key([str(tmp_path)])) is None


def test_the_walk_falls_back_to_this_process(monkeypatch, corpus_copy):
    expected = [tuple(e) for e in lib.walk([str(corpus_copy)])]
    parent, real_walk = os.getpid(), lib.walk

    def broken_in_the_child(paths):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real_walk(paths)

    monkeypatch.setattr(index_mod, "walk", broken_in_the_child)
    assert index_mod._Walk([str(corpus_copy)], index_mod._pack_scope(expected)).result() is None
    assert index_mod._Walk([str(corpus_copy)], index_mod._pack_scope([])).result() == expected

    def no_fork():
        raise OSError("no fork here")

    monkeypatch.setattr(index_mod.os, "fork", no_fork)
    assert index_mod._Walk([str(corpus_copy)], index_mod._pack_scope(expected)).result() is None


def test_a_stopped_walk_leaves_no_child(corpus_copy):
    walker = index_mod._Walk([str(corpus_copy)], index_mod._pack_scope([]))
    pid = walker._pid
    walker.close()
    if pid is not None:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, 0)


def _refresh_many(store_path, corpus, rounds):
    with open_store(store_path) as st:
        index = SearchIndex(st.conn)
        for _ in range(rounds):
            index.refresh([corpus])


def test_concurrent_refreshes_agree(tmp_path, corpus_copy):
    import multiprocessing

    store_path = tmp_path / "shared.sqlite"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_refresh_many, args=(store_path, str(corpus_copy), 3)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with open_store(store_path) as st:
        index = SearchIndex(st.conn)
        assert index.status()["stories"] == 40
        assert st.conn.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'oekraine'").fetchone()[0] == 11


def test_a_schema_another_process_made_meanwhile_is_not_dropped_as_leftovers(tmp_path, seeds):
    """Process B read no schema key, then A made the tables and key: B's check inside its write
    transaction sees A's key, and leaves A's tables (they were dropped under A before)."""
    path = tmp_path / "shared.sqlite"
    with open_store(path) as a, open_store(path) as b:
        index_b = SearchIndex(b.conn)
        late = _LateKey(b.conn)  # B's first look at the key: from before A wrote it
        index_b.conn = late
        index_a = SearchIndex(a.conn)
        index_a.refresh([str(seeds)])
        index_b._ensure_schema()
        assert late.stale_reads == 1
        assert index_a.status()["stories"] == 40


class _LateKey(ConnectionStandIn):
    stale_reads = 0

    def before(self, sql):
        if sql.startswith("SELECT value FROM meta") and not self.stale_reads:
            self.stale_reads += 1
            return self._conn.execute("SELECT 1 WHERE 0")
        return None


def test_the_schema_statements_one_by_one_make_what_the_script_makes():
    import sqlite3

    from analysis.search.index import _DDL, _DDL_STATEMENTS

    one, each = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    one.executescript(_DDL)
    for statement in _DDL_STATEMENTS:
        each.execute(statement)
    master = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    assert each.execute(master).fetchall() == one.execute(master).fetchall()
    assert len(_DDL_STATEMENTS) == _DDL.count(";")


def test_files_outside_the_inputs_stay_until_pruned(index, corpus_copy):
    index.refresh([str(corpus_copy)])
    gone = corpus_copy / "000_6886c8d2ffe8f8a4.txt"
    gone.unlink()
    r = index.refresh([str(corpus_copy / "001_e1118d4810dff467.txt")])
    assert r.removed == 0 and index.status()["files"] == 5
    assert index.prune() == 1 and index.status()["files"] == 4


def test_unusable_files_are_skipped_and_dropped(index, tmp_path, seeds):
    shutil.copy(seeds / "000_6886c8d2ffe8f8a4.txt", tmp_path / "a.txt")
    (tmp_path / "b.txt").write_bytes("Kop\nBELÉM (ANP) - Café in Belém.\n".encode("latin-1"))
    r = index.refresh([str(tmp_path)])
    assert r.new == 2 and [w.path.endswith("b.txt") for w in r.warnings] == [True]
    assert ids(index.search(r.files, Matcher("cafe"))) == ["b:0"]
    (tmp_path / "b.txt").write_bytes(b"\x00binary")
    (tmp_path / "c.txt").symlink_to(tmp_path / "missing")
    r = index.refresh([str(tmp_path)])
    assert (r.skipped, r.unreadable) == (2, 1) and [f for f, _ in r.files] == [str(tmp_path / "a.txt")]
    assert index.status()["files"] == 1


def test_schema_change_rebuilds(store, seeds):
    SearchIndex(store.conn).refresh([str(seeds)])
    with store.conn:
        store.conn.execute("UPDATE meta SET value = 'old' WHERE key = 'search_schema'")
    index = SearchIndex(store.conn)
    assert index.status()["files"] == 0
    assert index.refresh([str(seeds)]).new == 5


def test_annotations_untouched_by_the_index(store, seeds):
    store.put_annotations("abc", "p", [], [])
    index = SearchIndex(store.conn)
    index.refresh([str(seeds)])
    index.rebuild()
    assert store.annotation_count() == 1
    assert {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")} >= {"annotated", "search_fts"}


def test_size_on_disk(index, seeds):
    index.refresh([str(seeds)])
    assert index.size_on_disk() > 0


# -- records ----------------------------------------------------------------------

def test_story_count_and_file_records(index, seeds):
    matches = run(index, [seeds], "oorlog")
    stories = list(lib.story_records(matches))
    assert list(stories[0]) == ["id", "file", "hits", "headline"]
    counts = list(lib.count_records(matches))
    assert sum(c["hits"] for c in counts) == sum(s["hits"] for s in stories)
    assert [c["file"] for c in counts] == list(lib.matching_files(matches))
    assert len(set(c["file"] for c in counts)) == len(counts)


def test_entity_story_keys():
    def mention(file, story, text, canonical, label):
        return Mention(f"{file}:{story}", file, story, 0, 0, len(text), text, label, "model", canonical)

    stories = [AnnotatedStory(None, None, mentions=[
        mention("a.txt", 0, "Poetin", "Vladimir Poetin", "PER"),
        mention("a.txt", 1, "Vladimir Poetin", "Vladimir Poetin", "PER"),
        mention("b.txt", 2, "NAVO", "NAVO", "ORG"),
        mention("b.txt", 3, "Oekraïne", "Oekraïne", "LOC"),
    ])]
    annotated = AnnotatedCorpus(None, stories)
    labels = {"Vladimir Poetin": "PER", "NAVO": "ORG", "Oekraïne": "LOC"}
    keys = lambda **kw: sorted(lib.entity_story_keys(annotated, labels, **kw))  # noqa: E731
    assert keys(entity="poetin") == [("a.txt", 0), ("a.txt", 1)]
    assert keys(entity="VLADIMIR  POETIN") == [("a.txt", 0), ("a.txt", 1)]
    assert keys(entity="oekraine") == [("b.txt", 3)]
    assert keys(labels=["ORG", "LOC"]) == [("b.txt", 2), ("b.txt", 3)]
    assert keys(entity="NAVO", labels=["PER"]) == []
    assert keys(entity="Rutte") == []


def test_library_never_imports_the_cli_or_spacy():
    from pathlib import Path

    modules = sorted(Path(lib.__file__).parent.glob("*.py"))
    assert len(modules) == 7  # __init__, fold, query, match, records, index, watch
    for module in modules:
        source = module.read_text(encoding="utf-8")
        for name in ("typer", "rich", "cli", "spacy"):
            assert f"import {name}" not in source and f"from {name}" not in source, module


def test_the_index_skips_what_is_not_a_regular_file(index, tmp_path):
    import signal

    (tmp_path / "a.txt").write_text("ALMATY (ANP) - Oekraïne\n", encoding="utf-8")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link.txt").symlink_to(tmp_path / "fifo")

    def hung(*_):
        raise KeyboardInterrupt("blocked on a FIFO")  # not an OSError: nothing may take it for a read error

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        r = index.refresh([str(tmp_path)])
    finally:
        signal.alarm(0)
    assert [f for f, _ in r.files] == [str(tmp_path / "a.txt")]
    assert (r.skipped, r.unreadable) == (1, 0)
    assert [(w.path, w.message) for w in r.warnings] == [
        (str(tmp_path / "link.txt"), "skipped: not a regular file (a FIFO)")]


# -- Unicode normalisation: NFD and NFC alike, the index and --no-cache agree ------------------

def test_nfd_text_is_found_by_an_nfc_query_with_offsets_into_the_file(index, tmp_path):
    nfd = "Oekrai\u0308ne"
    page = f"KOP\nKYIV (ANP) - In {nfd} en in Oekraïne, zei {nfd}.\n"
    (tmp_path / "p.txt").write_text(page, encoding="utf-8")
    for query in ("oekraine", "Oekraïne", nfd, "oekr*"):
        for matches in (run(index, [tmp_path], query), list(lib.search_corpus(load_corpus([str(tmp_path)]), Matcher(query)))):
            hits = [page[m.rec.start + s:m.rec.start + e] for m in matches for s, e in m.spans]
            assert hits == [nfd, "Oekraïne", nfd], query


def test_place_filter_ignores_the_normal_form():
    rec = lib.StoryRec("x:0", "x", 0, "lead", None, 0, 0, "", ("GENE\u0300VE", "Gene\u0300ve"), ())
    assert Filters(place="Genève").admits(rec) and Filters(place="geneve").admits(rec)


_WORDS = ["Oekraïne", "Oekrai\u0308ne", "oekraine", "Café", "Cafe\u0301", "Genève", "straße", "İstanbul",
          "ﬁnale", "한국", "\u1112\u1161\u11ab", "x\u0338y", "Ω\u2126"]
_CHARS = list("aeiouAEIOUnrst ,.-\n_") + list("éëïöüçßİﬁ–’") + [
    "\u0300", "\u0301", "\u0308", "\u0323", "\u0327", "\u0338",  # combining marks
    "\u1100", "\u1161", "\u11a8", "\uac00",  # Hangul jamo and a syllable
    "\u0378", "\u0530", "\U000e0080", "\U0003fffe",  # unassigned
    "\ue000", "\u0870", "\u2126", "\u0b47", "\u0b3e", "\u00a0",  # private use, new in Unicode 14, ...
]


def _agree_pages():
    from hypothesis import strategies as st

    piece = st.one_of(st.sampled_from(_CHARS), st.sampled_from(_WORDS).map(lambda w: f" {w} "))
    return st.lists(piece, min_size=1, max_size=80).map(lambda parts: "KOP\nKYIV (ANP) - " + "".join(parts))


def _queries(text, picks):
    words = [w for w in text.replace("\n", " ").split(" ") if w.strip(" ,.-_")] + _WORDS
    out = []
    for k, pick in enumerate(picks):
        a, b = words[pick % len(words)], words[(pick // 7) % len(words)]
        out += [a, a[:3] + "*", f'"{a} {b}"', f"{a} OR {b}", f"{a} NOT {b}", f"{a} AND {b}"]
    return out


def test_the_index_and_no_cache_agree_on_every_query(tmp_path_factory):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from analysis.errors import QueryError

    @settings(max_examples=60, deadline=None)
    @given(_agree_pages(), st.lists(st.integers(0, 10**6), min_size=1, max_size=3), st.booleans())
    def agree(text, picks, case_sensitive):
        root = tmp_path_factory.mktemp("agree")
        (root / "p.txt").write_text(text, encoding="utf-8")
        with open_store(root / "s.sqlite") as st_:
            index = SearchIndex(st_.conn)
            files = index.refresh([str(root)]).files
            corpus = load_corpus([str(root)])
            for query in _queries(text, picks):
                try:
                    matcher = Matcher(query, case_sensitive=case_sensitive)
                except QueryError:
                    continue
                indexed = [(m.rec.id, m.spans) for m in index.search(files, matcher)]
                direct = [(m.rec.id, m.spans) for m in lib.search_corpus(corpus, matcher)]
                assert indexed == direct, query

    agree()


# -- what the index stores ------------------------------------------------------------

def _pages(root, n, seeds):
    """``n`` pages in the seed format, their stories shuffled from the seed pages (deterministic)."""
    import random

    rng = random.Random(11)
    lines = [ln for p in sorted(seeds.glob("*.txt")) for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for k in range(n):
        (root / f"{k:04d}.txt").write_text("\n".join(rng.sample(lines, 12)) + "\n", encoding="utf-8")


def test_the_index_is_smaller_than_one_and_a_half_times_the_corpus(index, tmp_path, seeds):
    root = tmp_path / "pages"
    root.mkdir()
    _pages(root, 300, seeds)
    index.refresh([str(root)])
    status = index.status()
    assert status["index_bytes"] < 1.5 * status["corpus_bytes"], status


def test_texts_and_headlines_come_back_from_the_compressed_store(index, seeds):
    corpus = load_corpus([str(seeds)])
    direct = {(doc.path, s.index): (doc.text[s.start:s.end], s.headline) for doc, s in corpus.stories()}
    got = {(m.rec.file, m.rec.story): (m.rec.text, m.rec.headline) for m in run(index, [seeds])}
    assert got == direct


def test_listing_files_reads_no_text(index, seeds, monkeypatch):
    refreshed = index.refresh([str(seeds)])
    unpacked = []
    real = index_mod._unpack
    monkeypatch.setattr(index_mod, "_unpack", lambda data, zdicts: unpacked.append(1) or real(data, zdicts))
    files = list(lib.matching_files(index.search(refreshed.files, Matcher("Oekraïne OR poetin*"))))
    assert len(files) == 5 and unpacked == []  # the texts are read (a chunk at a time), not unpacked
    assert list(lib.hit_records(index.search(refreshed.files, Matcher("Oekraïne")))) and unpacked


def test_a_file_indexed_again_during_a_search_gives_no_stale_text(index, corpus_copy, monkeypatch):
    monkeypatch.setattr(index_mod, "_TEXT_CHUNK", 1)  # each file's text read when the search comes to it
    refreshed = index.refresh([str(corpus_copy)])
    matches = index.search(refreshed.files, Matcher("Oekraïne"))
    first = next(matches)
    page = corpus_copy / "003_a388d32138e33352.txt"
    page.write_text("Kop\nMOSKOU (ANP) - Iets heel anders.\n", encoding="utf-8")
    index.refresh([str(corpus_copy)])  # as another newsctl would, while the search runs
    rest = list(matches)
    assert first.spans and all(fold(m.rec.text[s:e]) == "oekraine" for m in rest for s, e in m.spans)
    assert not any(m.rec.file == str(page) for m in rest)  # its old stories are gone, and the new text is not theirs


def test_a_damaged_stored_text_is_a_store_error(index, seeds):
    from analysis.errors import StoreError

    refreshed = index.refresh([str(seeds)])
    index.conn.execute("UPDATE search_stories SET data = x'00112233'")
    index.conn.commit()
    with pytest.raises(StoreError, match="damaged"):
        list(lib.hit_records(index.search(refreshed.files, Matcher("Oekraïne"))))


@pytest.mark.parametrize("fork", [False, True])
def test_a_damaged_stored_text_is_a_store_error_in_the_lean_hits_too(index, seeds, monkeypatch, fork):
    from analysis.errors import StoreError

    monkeypatch.setattr(index_mod._Helper, "fork", fork and index_mod._Helper.fork)
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
    refreshed = index.refresh([str(seeds)])
    index.conn.execute("UPDATE search_stories SET data = x'00112233'")
    index.conn.commit()
    for read in (index.hit_rows, index.hit_lines):
        with pytest.raises(StoreError, match="damaged"):
            list(read(refreshed.files, Matcher("Oekraïne")))


def test_a_text_gone_before_it_is_read_is_an_error_not_a_wrong_text(index, corpus_copy):
    from analysis.errors import StoreError

    refreshed = index.refresh([str(corpus_copy)])
    first = next(index.search(refreshed.files, Matcher("Oekraïne")))  # found; its text not read yet
    page = corpus_copy / os.path.basename(first.rec.file)
    page.write_text("Kop\nMOSKOU (ANP) - Iets heel anders.\n", encoding="utf-8")
    index.refresh([str(corpus_copy)])
    with pytest.raises(StoreError, match="changed while this search read it"):
        first.rec.text


# -- the lean readings: matching_paths and hit_rows ------------------------------------

@pytest.mark.parametrize("query", ["Oekraïne", "poetin* OR navo", '"de regering"', "Poetin NOT China",
                                   "zwartewatersklooster", "oekraine"])
@pytest.mark.parametrize("context", [40, 0, 7])
def test_lean_readings_give_what_search_gives(index, seeds, tmp_path, query, context):
    nfd = tmp_path / "nfd.txt"  # decomposed diacritics: offsets must stay those of the text
    nfd.write_text("Kop\nKYIV (ANP) - Oekrai\u0308ne en\nPoetin, de regering.\n", encoding="utf-8")
    odd = tmp_path / "odd.txt"  # a tab, a backslash and a byte that is not UTF-8 near hits: fields escaped
    odd.write_bytes(b"Kop\nDe regering\tzegt \\ iets \xff over Poetin.\n\nOekraine en de regering.\n")
    paths = [str(seeds), str(nfd), str(odd), str(seeds / "000_6886c8d2ffe8f8a4.txt")]  # a file named twice
    files = index.refresh(paths).files
    matcher = Matcher(query)
    matches = list(index.search(files, matcher))
    assert index.matching_paths(files, matcher) == list(lib.matching_files(iter(matches)))
    records = [tuple(r.values()) for r in lib.hit_records(iter(list(index.search(files, matcher))), context=context)]
    assert list(index.hit_rows(files, matcher, context)) == records
    esc = lambda t: t.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    blocks = list(index.hit_lines(files, matcher, context, escape=esc, specials="\\\t\n"))
    assert sum(n for _, n in blocks) == len(records)
    assert "".join(b for b, _ in blocks) == "".join(
        "\t".join(esc(v) if isinstance(v, str) else str(v) for v in r) + "\n" for r in records)
    esc_all = lambda t: "<" + t + ">"
    lines = "".join(b for b, _ in index.hit_lines(files, matcher, context, escape=esc_all, specials="abcdefghijklmnop"))
    assert lines == "".join("\t".join(esc_all(v) if isinstance(v, str) else str(v) for v in r) + "\n" for r in records)


def test_lean_readings_leave_other_queries_to_search(index, seeds):
    files = index.refresh([str(seeds)]).files
    for matcher in (Matcher(""), Matcher("x", regex="Poetin"), Matcher("Poetin", case_sensitive=True)):
        assert index.matching_paths(files, matcher) is None and index.hit_rows(files, matcher) is None


_ZDICT = index_mod.make_zdict([("De regering van Oekraïne en België zegt dat de regering niets zegt. " * 40).encode()])


@pytest.mark.parametrize("zdict", [b"", _ZDICT])
@pytest.mark.parametrize("text", ["", "kort", "é" * 1000, "a" * 300 + "\U0001F600" * 500, "\udcff" * 10 + "x" * 900,
                                  "alleen ascii " * 200, "Oekraïne en België. " * 90, "De regering\nvan België"])
def test_a_story_comes_back_from_its_packed_bytes(text, zdict):
    packer = index_mod._Packer(1 if zdict else 0, zdict)
    data = packer.pack(text, "kop\twee")
    assert data[0] == (1 if zdict else 0)
    assert index_mod._unpack(data, {1: zdict}) == (text, "kop\twee")


def test_a_dictionary_is_trained_on_many_stories():
    import random

    rng = random.Random(1)
    words = "de regering van Oekraïne en België zegt dat niets kabinet minister premier Kyiv Brussel".split()
    samples = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 80))).encode() for _ in range(2000)]
    zdict = index_mod.make_zdict(samples)
    assert zdict[:4] == b"\x37\xa4\x30\xec" and len(zdict) <= index_mod._ZDICT_MAX  # zstd's magic: a trained dictionary
    text = samples[7].decode()
    data = index_mod._Packer(1, zdict).pack(text, "kop")
    assert index_mod._unpack(data, {1: zdict}) == (text, "kop")
    assert len(data) < len(index_mod._Packer().pack(text, "kop"))


def test_a_dictionary_is_made_from_small_files_too(tmp_path, seeds):
    """The files first sampled (spread over the refresh) may hold less than the minimum: those
    beside them are read too, up to the sample's size (a corpus of 3 KB pages got no dictionary)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt")))
    lines = text.splitlines()
    n = 4 * index_mod._ZDICT_FILES
    for k in range(n):
        page = "\n".join(lines[(7 * k) % len(lines):][:12]) + f"\nregel {k}\n"
        (tmp_path / f"p{k:04d}.txt").write_text(page[:1500], encoding="utf-8")
    sizes = sorted(p.stat().st_size for p in tmp_path.glob("p*.txt"))
    assert sum(sizes[-index_mod._ZDICT_FILES:]) < index_mod._ZDICT_MIN_TEXT < sum(sizes)
    st = open_store(tmp_path / "store.sqlite")
    try:
        SearchIndex(st.conn).refresh([str(tmp_path)])
        assert st.conn.execute("SELECT count(*) FROM search_dicts").fetchone()[0] == 1
        assert st.conn.execute("SELECT count(*) FROM search_stories WHERE substr(data, 1, 1) = x'00'").fetchone()[0] == 0
    finally:
        st.close()


def test_a_preset_dictionary_makes_stories_smaller():
    text = "De regering van Oekraïne en België zegt dat de regering niets zegt."
    assert 0 < len(_ZDICT) <= index_mod._ZDICT_MAX and b"regering" in _ZDICT
    assert len(index_mod._Packer(1, _ZDICT).pack(text, "")) < len(index_mod._Packer().pack(text, "")) / 2


@pytest.mark.parametrize("where", [0, 1, 3, 8, -2, -1])
def test_a_damaged_text_is_a_damaged_store(where):
    import sqlite3

    data = bytearray(index_mod._Packer(1, _ZDICT).pack("Oekraïne " * 300, "kop"))
    data[where] ^= 0x5A
    with pytest.raises(sqlite3.DatabaseError):
        index_mod._unpack(bytes(data), {1: _ZDICT})


def test_a_large_refresh_makes_one_preset_dictionary_and_packs_with_it(index, seeds, tmp_path, monkeypatch):
    monkeypatch.setattr(index_mod, "_ZDICT_MIN_TEXT", 1000)
    root = tmp_path / "many"
    root.mkdir()
    _pages(root, 20, seeds)
    files = index.refresh([str(root)]).files
    (zid, size), = index.conn.execute("SELECT id, length(data) FROM search_dicts")
    firsts = {row[0] for row in index.conn.execute("SELECT substr(data, 1, 1) FROM search_stories")}
    assert zid == 1 and 0 < size <= 32 * 1024 and firsts == {b"\x01"}
    (tmp_path / "more").mkdir()
    _pages(tmp_path / "more", 20, seeds)
    index.refresh([str(tmp_path / "more")])
    assert index.conn.execute("SELECT count(*) FROM search_dicts").fetchone()[0] == 1
    corpus = load_corpus([str(root)])
    direct = {(doc.path, s.index): (doc.text[s.start:s.end], s.headline) for doc, s in corpus.stories()}
    got = {(m.rec.file, m.rec.story): (m.rec.text, m.rec.headline) for m in index.search(files, Matcher(""))}
    assert got == direct


def test_a_small_refresh_reads_nothing_for_a_dictionary_and_packs_without(index, seeds):
    index.refresh([str(seeds)])
    assert index.conn.execute("SELECT count(*) FROM search_dicts").fetchone()[0] == 0
    assert {row[0] for row in index.conn.execute("SELECT substr(data, 1, 1) FROM search_stories")} == {b"\x00"}


def test_an_older_index_is_rebuilt_with_stories_packed_alone(store, seeds):
    """A schema-5 index (texts packed per file in search_texts) is dropped and built again."""
    old = SearchIndex(store.conn)
    old.refresh([str(seeds)])
    with store.conn:
        store.conn.execute("UPDATE meta SET value = '5/1/x/m4' WHERE key = 'search_schema'")
        store.conn.execute("CREATE TABLE search_texts (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    index = SearchIndex(store.conn)
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "search_texts" not in tables and "search_dicts" in tables
    assert index.conn.execute("SELECT count(*) FROM search_stories").fetchone()[0] == 0
    files = index.refresh([str(seeds)]).files
    assert list(lib.matching_files(index.search(files, Matcher("Oekraïne"))))


def test_the_kept_table_of_story_files_follows_changes(store, seeds, tmp_path):
    corpus = tmp_path / "c"
    shutil.copytree(seeds, corpus)
    kept, plain = SearchIndex(store.conn, keep_story_files=True), SearchIndex(store.conn)
    for step in range(3):
        files = kept.refresh([str(corpus)]).files
        for query in ("Oekraïne", "blauwvingerkrab", "poetin* OR navo"):
            assert kept.matching_paths(files, Matcher(query)) == plain.matching_paths(files, Matcher(query))
        page = corpus / "003_a388d32138e33352.txt"
        page.write_text("Kop\nKYIV (ANP) - Een blauwvingerkrab.\n" * (step + 1) + page.read_text(encoding="utf-8"),
                        encoding="utf-8")
        (corpus / f"new{step}.txt").write_text("Kop\nGENT (BELGA) - Blauwvingerkrab.\n", encoding="utf-8")


# -- hits of many stories at once (Matcher.joined_spans) -------------------------------

_TRICKY = ["De regering, REGERING en Regéring.", "regeringen regering-Rutte anti-regering", "l'regering d'regering",
           "Oekrai\u0308ne en Oekraïne", "OEKRAÏNE!", "xregering regeringx _regering regering_ 2regering",
           "straße STRASSE", "İstanbul ıstanbul ISTANBUL", "ΣΟΦΟΣ σοφος σοφός", "ﬁets fiets", "", "regering",
           "de regering van de regering", "de\nregering", "de - regering", "de_regering", "dé Regering",
           "rege ring", "régering\u00a0van", "regeringregering regering", "nananan nanan ananan nanan."]
_QUERIES = ["regering", "oekraine", "Oekraïne", "regering*", "rege*", '"de regering"', '"regering van"', "istanbul",
            "σοφος", "fiets", "strasse", "straße", "anti", "rutte", "de", '"de regering"*', "2regering", "nanan"]


def _joined_vs_each(matcher, texts):
    joined = lib.match.JOIN.join(texts)
    starts, ends, pos = [], [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t)
        ends.append(pos)
        pos += 1
    expected = [(s + b, e + b) for t, b in zip(texts, starts) for s, e in matcher.spans(t) or ()]
    return matcher.joined_spans(joined, ends), expected


@pytest.mark.parametrize("query", _QUERIES)
def test_hits_found_in_joined_texts_are_those_found_text_by_text(query):
    matcher = Matcher(query)
    nfc_texts = [t for t in _TRICKY if "\u0308" not in t]
    got, expected = _joined_vs_each(matcher, nfc_texts)
    assert got == expected
    got, expected = _joined_vs_each(matcher, list(reversed(nfc_texts)))
    assert got == expected


def test_joined_texts_and_random_tricky_text_agree_with_the_matcher():
    import random

    rng = random.Random(5)
    pieces = ["regering", "Regéring", "REGERING", "de", "De", " ", " ", "-", "'", "_", "\n", ".", "x", "2", "ë", "É",
              "İ", "ß", "Σ", "ς", "van", "\u00a0", "ﬁ", "é", "\u0301", "\u212a", "\u1161"]
    answered = 0
    for _ in range(300):
        texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12))) for _ in range(rng.randrange(1, 6))]
        for query in ("regering", '"de regering"', "regering*", "de", '"regering van"'):
            got, expected = _joined_vs_each(Matcher(query), texts)
            assert got is None or got == expected, (query, texts)
            answered += got is not None and bool(expected)
    assert answered > 80


def test_joined_hits_leave_what_they_cannot_say_to_the_matcher():
    assert _joined_vs_each(Matcher("Oekraïne"), ["Oekrai\u0308ne"])[0] is None  # NFD: offsets need a map
    assert _joined_vs_each(Matcher("regering OR kabinet"), ["regering"])[0] is None  # not one term
    assert _joined_vs_each(Matcher("x", regex="regering"), ["regering"])[0] is None
    assert _joined_vs_each(Matcher("regering", case_sensitive=True), ["regering"])[0] is None
    assert _joined_vs_each(Matcher("regering"), ["De regering", "Regéring!"]) == ([(3, 11), (12, 20)],) * 2


# -- the lean hits split with a forked helper --------------------------------------------

def _lines(index, files, matcher):
    return "".join(b for b, _ in index.hit_lines(files, matcher, 40)), sum(n for _, n in index.hit_lines(files, matcher))


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
@pytest.mark.parametrize("query", ["Oekraïne", "poetin* OR navo", "de"])
def test_hits_made_beside_a_forked_helper_come_in_order(index, seeds, monkeypatch, query):
    files = index.refresh([str(seeds)]).files
    alone = monkeypatch.setattr(index_mod._Helper, "fork", False) or _lines(index, files, Matcher(query))
    monkeypatch.setattr(index_mod._Helper, "fork", True)
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)  # a chunk a story: many chunks, half of them the helper's
    forked = []
    real = index_mod._Helper.__init__
    monkeypatch.setattr(index_mod._Helper, "__init__", lambda self, *a: forked.append(1) or real(self, *a))
    assert _lines(index, files, Matcher(query)) == alone and alone[1] > 4 and forked


def _break_helpers(monkeypatch):
    """A forked helper (or worker) fails after its third chunk: the chunks it did not send are left to the parent."""
    parent = os.getpid()
    real = index_mod._chunk_lines
    made = [0]

    def failing(hits, *args):
        if os.getpid() != parent:
            made[0] += 1  # the helper's own count (a fork's copy)
            if made[0] > 3:
                raise RuntimeError("the helper breaks down")
        return real(hits, *args)

    monkeypatch.setattr(index_mod, "_chunk_lines", failing)


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_a_helper_that_fails_leaves_its_chunks_to_this_process(index, seeds, monkeypatch):
    files = index.refresh([str(seeds)]).files
    monkeypatch.setattr(index_mod._Helper, "fork", False)
    alone = _lines(index, files, Matcher("Oekraïne"))
    monkeypatch.setattr(index_mod._Helper, "fork", True)
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
    _break_helpers(monkeypatch)
    assert _lines(index, files, Matcher("Oekraïne")) == alone


# -- the watcher's hits: its helper gets the texts down a pipe ------------------------------

@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
@pytest.mark.parametrize("query", ["de", "Oekraïne", "poetin*", '"de regering"', "poetin* OR navo"])
def test_the_watchers_piped_hits_are_the_lean_hits(store, seeds, monkeypatch, query):
    plain = SearchIndex(store.conn)
    files = plain.refresh([str(seeds), str(seeds / "000_6886c8d2ffe8f8a4.txt")]).files  # a file named twice
    expected = _lines(plain, files, Matcher(query))
    watcher = SearchIndex(store.conn, keep_story_files=True)
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)  # a chunk a story: many chunks, most of them the helper's
    piped = []
    real = index_mod._Pipe.__init__
    monkeypatch.setattr(index_mod._Pipe, "__init__", lambda self, *a: piped.append(1) or real(self, *a))
    assert _lines(watcher, files, Matcher(query)) == expected
    blocks = list(watcher.hit_lines(files, Matcher(query), 40, utf8=True))
    assert "".join(b.decode() if isinstance(b, bytes) else b for b, _ in blocks) == expected[0]
    if query == "de":
        assert piped and any(isinstance(b, bytes) for b, _ in blocks)


def _de_in_chunks_of_one(store, seeds, monkeypatch):
    """The seeds' files and the plain path's lines for "de"; the watcher's chunks then hold one story each."""
    plain = SearchIndex(store.conn)
    files = plain.refresh([str(seeds)]).files
    expected = _lines(plain, files, Matcher("de"))
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
    return files, expected


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_the_watcher_keeps_at_most_a_few_chunks_waiting_on_its_helper(store, seeds, monkeypatch):
    files, expected = _de_in_chunks_of_one(store, seeds, monkeypatch)
    waiting = []
    real = index_mod._Pipe.send
    monkeypatch.setattr(index_mod._Pipe, "send", lambda self, *a: waiting.append(self.backlog()) or real(self, *a))
    assert _lines(SearchIndex(store.conn, keep_story_files=True), files, Matcher("de")) == expected
    assert waiting and max(waiting) < index_mod._HELPER_AHEAD


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_a_piped_helper_that_fails_leaves_its_chunks_to_the_watcher(store, seeds, monkeypatch):
    files, expected = _de_in_chunks_of_one(store, seeds, monkeypatch)
    _break_helpers(monkeypatch)
    assert _lines(SearchIndex(store.conn, keep_story_files=True), files, Matcher("de")) == expected


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_a_damaged_text_is_a_store_error_in_the_watchers_hits(store, seeds, monkeypatch):
    from analysis.errors import StoreError

    watcher = SearchIndex(store.conn, keep_story_files=True)
    files = watcher.refresh([str(seeds)]).files
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
    store.conn.execute("UPDATE search_stories SET data = x'00112233' WHERE story = 3")
    store.conn.commit()
    with pytest.raises(StoreError, match="damaged"):
        list(watcher.hit_lines(files, Matcher("de")))


def test_a_chunks_texts_decoded_in_one_go_give_the_same_hits_as_text_by_text():
    import zstandard

    from analysis.search.match import JOIN

    pack = zstandard.ZstdCompressor().compress
    cases = [["de regering zei", "Regéring – “regering”", "geen"],
             ["een\x00regering", "regering\x00", "\x00"]]  # texts that hold a JOIN: read text by text
    for texts in cases:
        datas = [b"\x00" + pack(f"{t}\x00kop".encode()) for t in texts]
        assert (index_mod._joined_texts(datas, {}) is None) == (JOIN in "".join(texts))
        joined, starts, ends, _, spans, _ = index_mod._chunk_hits(datas, Matcher("regering"), {}, [])
        assert joined == JOIN.join(texts)
        assert [joined[s:e] for s, e in zip(starts, ends)] == texts
        assert [(s, e) for s, e in spans] == [
            (b + s, b + e) for t, b in zip(texts, starts) for s, e in Matcher("regering").spans(t) or ()]


def test_a_chunks_rows_come_in_the_order_asked_for(store, seeds):
    watcher = SearchIndex(store.conn, keep_story_files=True)
    watcher.refresh([str(seeds)])
    ids = [r[0] for r in store.conn.execute("SELECT id FROM search_stories ORDER BY id LIMIT 5")]
    starts, datas = watcher._chunk_rows(ids)
    back = watcher._chunk_rows(ids[::-1])
    assert back == (starts[::-1], datas[::-1]) and len(set(datas)) == 5


@pytest.mark.parametrize("latin1", [True, False])
def test_text_folds_to_one_byte_a_character(monkeypatch, latin1):
    from analysis.search import match as match_mod

    if not latin1:
        monkeypatch.setattr(match_mod, "_LATIN1", None)
    text = "".join(map(chr, range(1, 0x250))) + "“Regéring” – ḱ Σς €\u00a0"
    folded = match_mod._fold_bytes(text)
    expected = bytes(ord(f) if f.isascii() else 0x80 if f.isalnum() else 0x81 for f in map(fold, text))
    assert folded == expected
    assert match_mod._fold_bytes("Oekrai\u0308ne") is None and match_mod._fold_bytes("\u212a") is None


def test_a_rebuild_by_another_process_is_seen_by_a_watchers_tables(tmp_path, seeds):
    """The watcher's in-memory story table must not outlive a `newsctl index --rebuild`
    run beside it: the rebuilt index numbers its stories from 1 again."""
    import shutil

    a, b = tmp_path / "a", tmp_path / "b"
    names = sorted(p.name for p in seeds.glob("*.txt"))
    a.mkdir()
    b.mkdir()
    (a / "0.txt").write_text("Kop\n\nDEN HAAG (ANP) - De regering valt.\n", encoding="utf-8")  # one story
    for n in names[:2]:
        shutil.copy(seeds / n, a / n)
    for n in names[2:]:
        shutil.copy(seeds / n, b / n)
    path = tmp_path / "store.sqlite"
    st1, st2 = open_store(path), open_store(path)
    try:
        watcher = SearchIndex(st1.conn, keep_story_files=True)
        files = watcher.refresh([str(a), str(b)]).files
        assert watcher.matching_paths(files, Matcher("de"))
        _lines(watcher, files, Matcher("de"))  # the tables are filled
        other = SearchIndex(st2.conn)
        other.rebuild()
        other.refresh([str(b)])  # story ids from 1 again, now naming b's stories
        files = watcher.refresh([str(a)]).files
        plain = SearchIndex(open_store(tmp_path / "fresh.sqlite").conn)
        fresh = plain.refresh([str(a)]).files
        assert watcher.matching_paths(files, Matcher("de")) == plain.matching_paths(fresh, Matcher("de"))
        assert _lines(watcher, files, Matcher("de")) == _lines(plain, fresh, Matcher("de"))
    finally:
        st1.close()
        st2.close()


# -- the watcher's hits: ids read as one string, rows by ascending id, prefixes per chunk -------

def _tsv_field(text):
    """What cli's tsv renderer makes of a text field (cli.commands.search.tsv_field)."""
    from analysis.reader import display_name

    return display_name(text).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _tsv_bytes(index, files, matcher):
    """The hit lines as the CLI writes them (UTF-8), through the tsv escaping."""
    blocks = index.hit_lines(files, matcher, 40, escape=_tsv_field, specials="\\\t\r\n", utf8=True)
    return b"".join(b if isinstance(b, bytes) else b.encode("utf-8") for b, _ in blocks)


def _sorted(watcher, files, matcher):
    watcher.conn.execute("BEGIN")
    try:
        return watcher._sorted_hits(files, matcher)
    finally:
        watcher.conn.execute("COMMIT")


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_odd_file_names_and_texts_in_the_watchers_hits_are_escaped_as_the_plain_path_escapes_them(
        store, seeds, tmp_path, monkeypatch):
    odd = tmp_path / "odd"
    shutil.copytree(seeds, odd)
    story = "Kop\n\nDEN HAAG (ANP) - De regering\tzei: C:\\regering \\t en de regering.\n"
    (odd / "a\tb.txt").write_text(story, encoding="utf-8")
    (odd / "back\\slash.txt").write_text(story.replace("\t", " "), encoding="utf-8")
    with open(os.path.join(os.fsencode(odd), b"caf\xff.txt"), "wb") as fh:  # a name that is not UTF-8
        fh.write("Kop\n\nBRUSSEL (ANP) - Regering, regéring en REGERING.\n".encode())
    (odd / "plain.txt").write_text(story.replace("\t", " ").replace("\\", "/"), encoding="utf-8")
    files = SearchIndex(store.conn).refresh([str(odd)]).files
    for query in ("regering", "de", '"de regering"'):
        expected = _tsv_bytes(SearchIndex(store.conn), files, Matcher(query))
        monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)  # a chunk a story: most of them the helper's
        watcher = SearchIndex(store.conn, keep_story_files=True)
        got = _tsv_bytes(watcher, files, Matcher(query))
        monkeypatch.undo()
        assert got == expected
        assert watcher._worker is not None and watcher._worker.pid is not None  # made by the kept worker
        if query == "regering":
            assert rb"caf\\xff.txt" in got and rb"a\tb.txt" in got and rb"back\\slash.txt" in got


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_stories_whose_ids_are_not_in_output_order_come_out_in_order(store, corpus_copy, monkeypatch):
    watcher = SearchIndex(store.conn, keep_story_files=True)
    files = watcher.refresh([str(corpus_copy)]).files
    assert _sorted(watcher, files, Matcher("de"))[3]  # indexed in the order given: the ids ascend
    first = corpus_copy / sorted(os.listdir(corpus_copy))[0]
    first.write_text("Kop\n\nDEN HAAG (ANP) - De regering valt.\n\nKop 2\n\nMOSKOU (ANP) - De regering.\n",
                     encoding="utf-8")
    files = watcher.refresh([str(corpus_copy)]).files  # the first file's stories: the highest ids now
    ids, places, _, ascending = _sorted(watcher, files, Matcher("de"))
    assert not ascending and list(places) == sorted(places)
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
    plain = SearchIndex(store.conn)
    for query in ("de", "regering"):
        assert _tsv_bytes(watcher, files, Matcher(query)) == _tsv_bytes(plain, files, Matcher(query))


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_a_file_changed_between_chunks_leaves_the_watchers_answer_that_of_one_read(tmp_path, corpus_copy,
                                                                                   monkeypatch):
    path = tmp_path / "store.sqlite"
    st1, st2 = open_store(path), open_store(path)
    try:
        watcher = SearchIndex(st1.conn, keep_story_files=True)
        files = watcher.refresh([str(corpus_copy)]).files
        expected = _tsv_bytes(SearchIndex(st1.conn), files, Matcher("de"))
        monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
        blocks = watcher.hit_lines(files, Matcher("de"), 40, escape=_tsv_field, specials="\\\t\r\n", utf8=True)
        got = [next(blocks)]
        last = corpus_copy / sorted(os.listdir(corpus_copy))[-1]  # its chunks are still to come
        last.write_text("Kop\n\nDEN HAAG (ANP) - De nieuwe tekst van de regering.\n", encoding="utf-8")
        assert SearchIndex(st2.conn).refresh([str(corpus_copy)]).changed == 1  # committed meanwhile
        got += list(blocks)
        assert b"".join(b if isinstance(b, bytes) else b.encode() for b, _ in got) == expected
        now = watcher.refresh([str(corpus_copy)]).files  # the next search sees the change
        fresh = _tsv_bytes(watcher, now, Matcher("de"))
        assert b"De nieuwe tekst" in fresh and fresh == _tsv_bytes(SearchIndex(st2.conn), now, Matcher("de"))
    finally:
        st1.close()
        st2.close()


def test_a_chunks_rows_read_by_ascending_id_are_those_read_with_their_ids(store, seeds):
    from analysis.errors import StoreError

    watcher = SearchIndex(store.conn, keep_story_files=True)
    watcher.refresh([str(seeds)])
    ids = [r[0] for r in store.conn.execute("SELECT id FROM search_stories ORDER BY id LIMIT 6")]
    assert watcher._chunk_rows(ids, True) == watcher._chunk_rows(ids)
    store.conn.execute("DELETE FROM search_stories WHERE id = ?", (ids[2],))
    store.conn.commit()
    for ascending in (True, False):
        with pytest.raises(StoreError, match="changed while this search read it"):
            watcher._chunk_rows(ids, ascending)


@pytest.mark.skipif(not index_mod._Helper.fork, reason="no fork here")
def test_a_worker_that_fails_or_is_gone_leaves_its_chunks_to_the_watcher(store, seeds, monkeypatch):
    import signal

    files = SearchIndex(store.conn).refresh([str(seeds)]).files
    expected = _tsv_bytes(SearchIndex(store.conn), files, Matcher("de"))
    monkeypatch.setattr(index_mod, "_HIT_CHUNK", 1)
    watcher = SearchIndex(store.conn, keep_story_files=True)
    assert _tsv_bytes(watcher, files, Matcher("de")) == expected
    first = watcher._worker.pid
    os.kill(first, signal.SIGKILL)  # gone between two searches
    assert _tsv_bytes(watcher, files, Matcher("de")) == expected
    assert _tsv_bytes(watcher, files, Matcher("de")) == expected and watcher._worker.pid not in (None, first)
    _break_helpers(monkeypatch)  # the next worker fails in the middle of a search
    watcher._worker.stop()
    assert _tsv_bytes(watcher, files, Matcher("de")) == expected
    assert _tsv_bytes(watcher, files, Matcher("de")) == expected
