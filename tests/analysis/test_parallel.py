import json

import pytest

from analysis import parallel
from analysis.corpus import load_corpus
from analysis.entities import annotate, mention_records, resolve_names, text_units
from analysis.errors import StoreFullError
from analysis.nlp import resolve_model
from analysis.parallel import (
    AUTO_MIN_WORDS, Executor, TextUnit, WorkerMismatchError, annotate_batch, batches, cgroup_cpu_quota,
    choose_jobs, parse_jobs, worker_spec,
)
from analysis.store import open_store


@pytest.fixture(scope="session")
def model_ref():
    return resolve_model("bundled")


def _unit(k, text="x"):
    return TextUnit(0, 0, k, k + len(text), text)


def test_batches_cut_by_units_and_characters():
    units = [_unit(k) for k in range(10)]
    assert [len(b) for b in batches(units, max_units=4)] == [4, 4, 2]
    long = [_unit(0, "a" * 30), _unit(1, "b" * 30), _unit(2, "c" * 5), _unit(3, "d" * 100)]
    assert [len(b) for b in batches(long, max_units=10, max_chars=64)] == [2, 1, 1]
    assert list(batches([], max_units=4)) == []


class Deferred:
    def __init__(self, run):
        self.run = run


class ReverseExecutor(Executor):
    """Completes the newest batch first: the worst order for putting results back."""

    window = 3

    def __init__(self):
        self.outstanding = 0
        self.peak = 0

    def submit(self, fn, spec, batch):
        self.outstanding += 1
        self.peak = max(self.peak, self.outstanding)
        return Deferred(lambda: fn(spec, batch))

    def wait_any(self, futures):
        return [futures[-1]]

    def result(self, future):
        return future.run()

    def map_ordered(self, fn, spec, items):
        for r in super().map_ordered(fn, spec, items):
            self.outstanding -= 1
            yield r


def test_results_come_back_in_order_with_a_bounded_window():
    ex = ReverseExecutor()
    out = list(ex.map_ordered(lambda spec, b: b * 10, None, iter(range(20))))
    assert out == [k * 10 for k in range(20)]
    assert ex.peak <= ex.window


def test_parse_and_choose_jobs():
    assert parse_jobs("auto") is None and parse_jobs(None) is None and parse_jobs("3") == 3
    for bad in ("0", "-1", "many"):
        with pytest.raises(Exception, match="--jobs"):
            parse_jobs(bad)
    assert choose_jobs(3, words=10) == 3
    assert choose_jobs(None, words=AUTO_MIN_WORDS - 1, cpus=8) == 1
    assert choose_jobs(None, words=2 * AUTO_MIN_WORDS, cpus=8) == 2
    assert choose_jobs(None, words=100 * AUTO_MIN_WORDS, cpus=4) == 4
    assert choose_jobs(None, words=100 * AUTO_MIN_WORDS, cpus=1) == 1


def test_cgroup_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(str(tmp_path)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(str(tmp_path)) is None
    (tmp_path / "cpu.max").unlink()
    v1 = tmp_path / "cpu"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("200000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(str(tmp_path)) == 2.0
    assert parallel.available_cpus() >= 1


def test_batch_function_returns_plain_tuples_in_file_offsets(model_ref):
    text = "Kop\nVladimir Poetin sprak in Moskou. Daarna niet."
    unit = TextUnit(3, 1, 4, len(text), text[4:])
    [(sents, ments)] = annotate_batch(worker_spec(model_ref), [unit])
    assert [text[s:e] for s, e in sents] == ["Vladimir Poetin sprak in Moskou.", "Daarna niet."]
    assert ("Vladimir Poetin", "PER") in [(text[s:e], lab) for s, e, lab in ments]
    assert all(type(m) is tuple and isinstance(m[2], str) for m in ments)


def test_text_units_cover_every_paragraph(seeds):
    corpus = load_corpus([str(seeds)])
    doc, stories = corpus.pages[0]
    units = text_units(0, doc, stories)
    assert units and all(doc.text[u.start:u.end] == u.text for u in units)
    assert [u.story for u in units] == sorted(u.story for u in units)


def _mentions_jsonl(annotated):
    resolve_names(annotated)
    return [json.dumps(r, ensure_ascii=False) for r in mention_records(annotated)]


def test_out_of_order_batches_are_stored_and_returned_in_order(seeds, model_ref, monkeypatch, tmp_path):
    import analysis.entities

    reference = annotate(load_corpus([str(seeds)]), model_ref=model_ref, store=None, jobs=1)
    monkeypatch.setattr(analysis.entities, "open_executor", lambda spec, **kw: ReverseExecutor())
    written = []
    with open_store(tmp_path / "s.sqlite") as st:
        put = st.put_annotations
        st.put_annotations = lambda sha, *a: (written.append(sha), put(sha, *a))
        shuffled = annotate(load_corpus([str(seeds)]), model_ref=model_ref, store=st, batch_size=4)
    assert written == [doc.sha256 for doc, _ in shuffled.corpus.pages]
    assert _mentions_jsonl(shuffled) == _mentions_jsonl(reference)


def test_a_worker_with_another_version_is_refused(seeds, model_ref, monkeypatch):
    monkeypatch.setenv(parallel.FAKE_VERSION_ENV, "0.0.0-other")
    one = annotate(load_corpus([str(seeds)]), model_ref=model_ref, store=None, jobs=1)  # not a worker: no check
    assert one.processed == 5
    with pytest.raises(WorkerMismatchError, match="runs newsctl 0.0.0-other"):
        annotate(load_corpus([str(seeds)]), model_ref=model_ref, store=None, jobs=2)


class FillingStore:
    """A store whose disk fills up after ``room`` files."""

    path = "fake.sqlite"

    def __init__(self, room):
        self.room = room
        self.kept = []

    def get_many(self, sha256s, pipeline):
        return {}

    def put_annotations(self, sha256, pipeline, sentences, mentions):
        if len(self.kept) >= self.room:
            raise StoreFullError(f"the disk holding the store {self.path} is full")
        self.kept.append(sha256)


def test_a_full_disk_stops_the_writes_but_not_the_run(seeds, model_ref):
    full = FillingStore(room=2)
    calls = []
    corpus = load_corpus([str(seeds)])
    annotated = annotate(corpus, model_ref=model_ref, store=full, progress=lambda d, t: calls.append((d, t)))
    words = sum(len(doc.text.split()) for doc, _ in corpus.pages)
    assert calls[0] == (0, words) and calls[-1] == (words, words) and len(calls) == 6  # words, per file
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    reference = annotate(load_corpus([str(seeds)]), model_ref=model_ref, store=None)
    assert len(full.kept) == 2
    assert annotated.unstored == 3 and isinstance(annotated.store_error, StoreFullError)
    assert _mentions_jsonl(annotated) == _mentions_jsonl(reference)


def test_sqlite_full_becomes_store_full_error(tmp_path):
    from analysis.store import StoredSentence

    with open_store(tmp_path / "s.sqlite") as st:
        pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
        st.conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreFullError, match="s.sqlite is full"):
            st.put_annotations("abc", "p", [StoredSentence(0, k, k, k + 1) for k in range(5000)], [])
        assert st.get_annotations("abc", "p") is None


def test_pages_without_text_are_stored_in_their_place(seeds, model_ref, monkeypatch, tmp_path):
    import analysis.entities

    src = sorted(seeds.glob("*.txt"))
    corpus_dir = tmp_path / "c"
    corpus_dir.mkdir()
    (corpus_dir / "0_empty.txt").write_text("\n\n", encoding="utf-8")
    (corpus_dir / "1.txt").write_bytes(src[0].read_bytes())
    (corpus_dir / "2_empty.txt").write_text(" \n", encoding="utf-8")
    (corpus_dir / "3.txt").write_bytes(src[1].read_bytes())
    (corpus_dir / "4_empty.txt").write_text("\n", encoding="utf-8")
    monkeypatch.setattr(analysis.entities, "open_executor", lambda spec, **kw: ReverseExecutor())
    written = []

    class Recorder(FillingStore):
        def put_annotations(self, sha256, pipeline, sentences, mentions):
            written.append((sha256, len(sentences)))

    corpus = load_corpus([str(corpus_dir)])
    annotated = annotate(corpus, model_ref=model_ref, store=Recorder(room=99), batch_size=3)
    assert [sha for sha, _ in written] == [doc.sha256 for doc, _ in corpus.pages]
    assert [n > 0 for _, n in written] == [False, True, False, True, False]
    assert annotated.processed == 5


def test_scheduler_without_dask_installed_says_what_to_install(monkeypatch, model_ref):
    import sys

    from analysis.parallel import ClusterError, open_executor

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.delitem(sys.modules, "analysis.cluster", raising=False)
    with pytest.raises(ClusterError, match=r"pip install 'newsctl\[cluster\]'"):
        open_executor(worker_spec(model_ref), scheduler="tcp://127.0.0.1:8786")


def test_workers_leave_when_the_client_is_killed(tmp_path):
    """A client killed with SIGKILL cannot close its pool: the workers see their parent gone and exit."""
    import os
    import signal
    import time

    from tests.conftest import killed_client

    script = tmp_path / "client.py"
    script.write_text("import os, time\nfrom analysis.parallel import LocalExecutor\n"
                      "from tests.analysis.test_parallel import worker_pid\n"
                      "if __name__ == '__main__':\n"
                      "    ex = LocalExecutor(None, 1)\n"
                      "    print(ex.submit(worker_pid, None, None).result(), flush=True)\n"
                      "    time.sleep(60)\n", encoding="utf-8")
    worker = int(killed_client(script))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return  # gone
        if _zombie(worker):
            return  # exited: it waits there until init, its parent now, reaps it
        try:  # reap it if it was ours (it is not: it is the killed client's child, now init's)
            os.waitpid(worker, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the worker outlived its client")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"  # the state, after the command's name
    except (OSError, IndexError):
        return False


def worker_pid(spec, item):
    import os

    return os.getpid()


_MARK = {"set": False}  # set in the client before the pool starts: a forked worker has it, a spawned one not


def _marked(spec, item):
    import gc
    import sys

    return _MARK["set"], item, gc.isenabled(), sys.modules.get("analysis.scan") is not None


def test_a_fork_pool_starts_its_workers_with_the_client_s_state():
    from analysis.parallel import LocalExecutor

    _MARK["set"] = True
    try:
        for fork, inherited, start in ((True, True, True), (False, False, True), (False, False, False)):
            # Every worker has imported the modules before its first task, whichever worker ran
            # which of start()'s tasks (a CI run once saw a spawned worker that had run none).
            with LocalExecutor(None, 2, fork=fork, modules=("analysis.scan",)) as ex:
                if start:
                    ex.start()
                got = list(ex.map_ordered(_marked, None, range(6)))
            assert got == [(inherited, i, True, True) for i in range(6)]
        import gc

        assert gc.get_freeze_count() == 0  # frozen for the fork only
    finally:
        _MARK["set"] = False
