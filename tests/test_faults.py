"""Fault trials (issue 13): kill -9 during store writes, writers side by side, mutated pages.

The quick forms run in `make test`; the long forms (`@pytest.mark.slow`,
`make test-slow`) repeat them many times. Every trial uses the rule-based
pipeline of tests/tinymodel.py, so the model costs next to nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, ConnectionStandIn, invoke

class PausingConnection(ConnectionStandIn):
    """A store connection that stops at the process's ``at``-th INSERT, inside its transaction.

    There it creates the file ``mark`` and waits for the kill -9, which so
    lands in the middle of the writing whatever the machine's speed.
    """

    inserts = 0  # in this process (a forked child)

    def __init__(self, conn, mark: str, at: int):
        super().__init__(conn)
        self._mark, self._at = mark, at

    def after(self, sql: str) -> None:
        if sql.lstrip().upper().startswith("INSERT"):
            PausingConnection.inserts += 1
            if PausingConnection.inserts == self._at:
                open(self._mark, "w").close()
                parent, deadline = os.getppid(), time.monotonic() + 300
                while os.getppid() == parent and time.monotonic() < deadline:  # not past the test's end
                    time.sleep(0.05)


def _run_cli(args, mark: str | None, at: int = 0) -> None:
    """In a forked child: run newsctl with ``args`` (stopping at the ``at``-th INSERT when ``mark``), then exit."""
    code = 3
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if mark:
            import analysis.store as store

            init = store.Store.__init__
            store.Store.__init__ = lambda self, conn, path: init(self, PausingConnection(conn, mark, at), path)
        from cli.app import app

        try:
            app(args=[str(a) for a in args], prog_name="newsctl")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os._exit(code)


def fork_newsctl(args, mark: Path | None = None, at: int = 0) -> int:
    """Run newsctl in a forked child (no start-up: spaCy is already imported here); its pid."""
    pid = os.fork()
    if pid == 0:
        _run_cli(args, str(mark) if mark else None, at)
    return pid


def wait(pid: int) -> int:
    """The child's exit status, or minus the signal that ended it (like Popen.returncode)."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def make_corpus(dest: Path, copies: int) -> Path:
    """``copies`` variants of every seed page (each with its own content, so its own store record)."""
    dest.mkdir(parents=True, exist_ok=True)
    seeds = sorted(SEEDS.glob("*.txt"))
    for k in range(copies):
        for s in seeds:
            text = s.read_text(encoding="utf-8")
            (dest / f"{k:03d}_{s.name}").write_text(text + f"\nBericht {k} van NAVO en Poetin.\n", encoding="utf-8")
    return dest


def newsctl(args) -> subprocess.Popen:
    """newsctl as a fresh process (pays for Python and spaCy start-up: the long trials only)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", "from cli.app import main; main()", *map(str, args)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_while_writing(args, mark: Path, rng: random.Random, timeout: float = 120) -> int:
    """Start newsctl, kill -9 it at one of its first 20 INSERTs (drawn from ``rng``); its exit status."""
    mark.unlink(missing_ok=True)
    pid = fork_newsctl(args, mark, at=rng.randint(1, 20))
    deadline = time.monotonic() + timeout
    while not mark.exists() and time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return 0  # ended before that INSERT (less or nothing to write)
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    return wait(pid)


def store_is_sound(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def mentions_out(runner, corpus, model, *extra):
    res = invoke(runner, ["entities", corpus, "--mentions", "-m", model, "-f", "tsv", *extra])
    assert res.exit_code == 0, res.stderr
    return res.stdout


def search_out(runner, corpus, *extra):
    res = invoke(runner, ["search", "Poetin OR NAVO OR Bericht", corpus, "-f", "tsv", *extra])
    assert res.exit_code == 0, res.stderr
    return res.stdout


# -- kill -9 in the middle of a store write ---------------------------------------

def entities_kill_trial(runner, tmp_path, tiny_model, trials: int, copies: int, seed: int):
    corpus = make_corpus(tmp_path / "corpus", copies)
    store = tmp_path / "store.sqlite"
    expected = mentions_out(runner, corpus, tiny_model, "--no-cache")
    rng = random.Random(seed)
    killed = 0
    for _ in range(trials):
        store.unlink(missing_ok=True) if rng.random() < 0.3 else None
        rc = kill_while_writing(["entities", corpus, "--store", store, "-m", tiny_model, "-f", "tsv"],
                                tmp_path / "mark", rng)
        killed += rc == -signal.SIGKILL
        store_is_sound(store)
        assert mentions_out(runner, corpus, tiny_model, "--store", store) == expected
    assert killed  # at least one trial did die mid-run


def index_kill_trial(runner, tmp_path, trials: int, copies: int, seed: int):
    corpus = make_corpus(tmp_path / "corpus", copies)
    store = tmp_path / "store.sqlite"
    expected = search_out(runner, corpus, "--no-cache")
    rng = random.Random(seed)
    killed = 0
    for k in range(trials):
        if k and rng.random() < 0.5:  # a changed file: the rerun must replace its stories
            victim = sorted(corpus.glob("*.txt"))[rng.randrange(copies * 5)]
            victim.write_text(victim.read_text(encoding="utf-8") + "Nog een Bericht.\n", encoding="utf-8")
            expected = search_out(runner, corpus, "--no-cache")
        rc = kill_while_writing(["index", corpus, "--store", store, "-f", "tsv"], tmp_path / "mark", rng)
        killed += rc == -signal.SIGKILL
        store_is_sound(store)
        assert search_out(runner, corpus, "--store", store) == expected
        res = invoke(runner, ["index", corpus, "--store", store, "-f", "jsonl"])
        row = json.loads(res.stdout)
        assert (row["new"], row["changed"], row["removed"], row["skipped"]) == (0, 0, 0, 0)
    assert killed


def test_kill_during_entities_then_rerun(runner, tmp_path, tiny_model):
    entities_kill_trial(runner, tmp_path, tiny_model, trials=3, copies=4, seed=1)


def test_kill_during_index_then_rerun(runner, tmp_path):
    index_kill_trial(runner, tmp_path, trials=1, copies=30, seed=2)


@pytest.mark.slow
def test_kill_during_entities_many_times(runner, tmp_path, tiny_model):
    entities_kill_trial(runner, tmp_path, tiny_model, trials=10, copies=40, seed=11)


@pytest.mark.slow
def test_kill_during_index_many_times(runner, tmp_path):
    index_kill_trial(runner, tmp_path, trials=10, copies=80, seed=12)


# -- writers side by side --------------------------------------------------------

def writers_trial(runner, tmp_path, tiny_model, writers: int, copies: int, fresh_processes: bool = False):
    corpus = make_corpus(tmp_path / "corpus", copies)
    store = tmp_path / "store.sqlite"
    commands = [["entities", corpus, "--store", store, "-m", tiny_model, "-f", "tsv"],
                ["index", corpus, "--store", store, "-f", "tsv"],
                ["cooccur", corpus, "--store", store, "-m", tiny_model, "-f", "tsv"],
                ["search", "Poetin", corpus, "--store", store, "-f", "tsv"]]
    if fresh_processes:
        procs = [newsctl(commands[k % len(commands)]) for k in range(writers)]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            assert "Error" not in err and "Traceback" not in err
    else:
        pids = [fork_newsctl(commands[k % len(commands)]) for k in range(writers)]
        assert [wait(pid) for pid in pids] == [0] * writers
    store_is_sound(store)
    assert mentions_out(runner, corpus, tiny_model, "--store", store) == \
        mentions_out(runner, corpus, tiny_model, "--no-cache")
    assert search_out(runner, corpus, "--store", store) == search_out(runner, corpus, "--no-cache")


def test_two_writers_on_one_store(runner, tmp_path, tiny_model):
    writers_trial(runner, tmp_path, tiny_model, writers=2, copies=8)
    writers_trial(runner, tmp_path / "again", tiny_model, writers=4, copies=8)


@pytest.mark.slow
def test_four_writers_on_one_store(runner, tmp_path, tiny_model):
    writers_trial(runner, tmp_path, tiny_model, writers=4, copies=60, fresh_processes=True)


# -- mutated pages through every command's API -----------------------------------

HOSTILE = [
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</title><script>", "<b>vet</b> & &amp;",
    "=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1:A9)", "\t=1", "[bold]x[/bold]", "foo[/bar]",
    "\x00", "\r", "\r\n", "\ufeff", "\u200b", "\u202e", "\u2028", "e\u0301", "O\u0308kraine", "\U0001f600",
    "\udcff", "\x85", "Meer uit Buitenland\n", "\nMOSKOU (ANP) - ", "AMSTERDAM (ANP/RTR) -", "13 minuten geleden",
    "zojuistKYIV (ANP) - ", "(", ")", " - ", "\n\n\n", "ALMATY", "Poetin's", "NAVO-chef", "president Poetin",
]


def mutate(data: bytes, rng: random.Random, *, huge: bool) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        op = rng.random()
        pos = rng.randint(0, len(b))
        if op < 0.25 and b:
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op < 0.4 and b:
            del b[pos: pos + rng.randint(1, 40)]
        elif op < 0.55 and b:
            s = rng.randint(0, len(b) - 1)
            b[pos:pos] = b[s: s + rng.randint(1, 200)]
        else:
            b[pos:pos] = rng.choice(HOSTILE).encode("utf-8", "surrogateescape" if rng.random() < 0.5 else "surrogatepass")
    if huge and rng.random() < 0.1:
        pos = rng.randint(0, len(b))
        b[pos:pos] = (rng.choice(["Poetin en NAVO. ", "x", "woord ", "é"]) * rng.randint(5_000, 40_000)).encode()
    return bytes(b)


def fuzz_corpus(dest: Path, n: int, seed: int, *, huge: bool) -> Path:
    rng = random.Random(seed)
    seeds = [p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))]
    dest.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        (dest / f"m{k:04d}.txt").write_bytes(mutate(rng.choice(seeds), rng, huge=huge))
    return dest


def run_every_api(corpus_dir: Path, model: Path, store_path: Path) -> int:
    """Every command's library path over ``corpus_dir``; checks offsets and agreement. Returns mentions seen."""
    import io

    from analysis import cooccurrence as cx
    from analysis.corpus import dateline_records, dateline_summary, load_corpus
    from analysis.entities import annotate, entity_records, mention_records, resolve_names
    from analysis.nlp import resolve_model
    from analysis.render import story_entities_page
    from analysis.search import Filters, Matcher, SearchIndex, count_records, hit_records, search_corpus
    from analysis.store import open_store
    from cli import output
    from cli.output import Column, Format

    def render_all(rows):
        rows = list(rows)
        if not rows:
            return
        cols = [Column(k) for k in rows[0]]
        for fmt in (Format.tsv, Format.csv, Format.json, Format.jsonl):
            output.render(rows, cols, fmt, out=io.StringIO())

    corpus = load_corpus([str(corpus_dir)])
    render_all(dateline_records(corpus))
    render_all(dateline_summary(corpus))
    for doc, s in corpus.stories():
        assert 0 <= s.start <= s.end <= len(doc.text)
        if s.dateline:
            for a, b in s.dateline.place_spans:
                assert doc.text[a:b].strip()

    ref = resolve_model(str(model))
    with open_store(store_path) as st:
        annotated = annotate(corpus, model_ref=ref, store=st)
        again = annotate(corpus, model_ref=ref, store=st)  # read back from the store
    fresh = [(m.file, m.start, m.end, m.label) for m in annotated.mentions()]
    assert fresh == [(m.file, m.start, m.end, m.label) for m in again.mentions()]
    labels = resolve_names(annotated)
    n = 0
    for ann in annotated.stories:
        for m in ann.mentions:
            assert ann.doc.text[m.start: m.end] == m.text and ann.story.start <= m.start <= m.end <= ann.story.end
            n += 1
    render_all(entity_records(annotated, labels))
    render_all(mention_records(annotated))
    story_entities_page(annotated)
    for unit in ("story", "sentence", "file"):
        co = cx.cooccurrence(annotated, labels, unit=unit)
        pairs = cx.select_pairs(co, min_count=1)
        render_all(pairs)
        render_all(cx.matrix(co, cx.top_entities(co, 10)))
        cx.to_graph(co, pairs)

    for query in ("Poetin", "NAVO OR Kazachstan", "president NOT Poetin", "oekr*", ""):
        matcher = Matcher(query)
        direct = list(search_corpus(corpus, matcher, Filters()))
        with open_store(store_path) as st:
            _, matches = SearchIndex(st.conn).search_paths([str(corpus_dir)], matcher, Filters())
            indexed = list(matches)  # texts are read lazily from the store: compare while it is open
            assert [(m.rec.id, m.spans) for m in indexed] == [(m.rec.id, m.spans) for m in direct], query
        for m in direct:
            assert all(0 <= a <= b <= len(m.rec.text) for a, b in m.spans)
        render_all(hit_records(direct))
        render_all(count_records(direct))
    return n


def test_mutated_pages_through_every_api(tmp_path, tiny_model):
    corpus = fuzz_corpus(tmp_path / "fuzz", 40, seed=13, huge=False)
    assert run_every_api(corpus, tiny_model, tmp_path / "store.sqlite") > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_mutated_pages_many(tmp_path, tiny_model, seed):
    corpus = fuzz_corpus(tmp_path / "fuzz", 300, seed=100 + seed, huge=True)
    assert run_every_api(corpus, tiny_model, tmp_path / "store.sqlite") > 0


def split_mutated(n: int, seed: int) -> int:
    """``n`` mutated pages through decoding, story splitting and the dateline records, in memory."""
    from analysis.corpus import Corpus, dateline_records
    from analysis.reader import DecodeError, Document, decode
    from analysis.stories import StorySplitter

    rng = random.Random(seed)
    seeds = [p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))]
    docs = []
    for k in range(n):
        data = mutate(rng.choice(seeds), rng, huge=False)
        try:
            text, enc = decode(data)
        except DecodeError:
            continue
        docs.append(Document(f"m{k}.txt", text, enc, str(k)))
    corpus = Corpus(pages=list(StorySplitter().split(docs)))
    stories = 0
    for doc, s in corpus.stories():
        assert 0 <= s.body_start <= s.end <= len(doc.text) and s.start < s.end
        if s.dateline:
            assert [doc.text[a:b] for a, b in s.dateline.place_spans] == list(s.dateline.places_raw)
        stories += 1
    assert sum(1 for _ in dateline_records(corpus)) == stories
    return stories


def test_mutated_pages_through_the_story_splitter():
    assert split_mutated(400, seed=21) > 1000


@pytest.mark.slow
def test_many_mutated_pages_through_the_story_splitter():
    assert split_mutated(25_000, seed=22) > 50_000
