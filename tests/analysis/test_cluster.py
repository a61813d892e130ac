"""The NLP pass on a real Dask cluster: `dask scheduler` and two `dask worker` processes on localhost.

The fixture starts them as subprocesses (ports chosen by the scheduler, no
dashboard, no nanny: a killed worker stays dead) and stops them by their own
process ids. The tests run the client as a subprocess where it must be
interrupted from outside, and in-process otherwise; such a client is held
mid-run (:meth:`Cluster.held`) while the test acts on it, since the whole run
takes about a second.
"""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, invoke

pytest.importorskip("distributed")

DASK = Path(sys.executable).parent / "dask"
# One member of the bundled ensemble: the same code path, a third of the loading time.
MODEL = str(ROOT / "analysis" / "ner_model" / "m0_eff_base")
pytestmark = pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")

# Preloaded by every worker: while the file NEWSCTL_TEST_HOLD exists, each batch of a run but its
# first (the number in analysis.cluster's task keys) waits in the worker before it starts. (Dask may
# run a preload more than once in a worker: the batch function is wrapped once.)
HOLD_PRELOAD = """
import os, re, time

import distributed

from analysis import parallel

_annotate = parallel.__dict__.setdefault("_unheld_annotate_batch", parallel.annotate_batch)


def annotate_batch(spec, batch):
    key = distributed.get_worker().get_current_task()
    n = int(re.fullmatch(r"newsctl-batch-[0-9a-f]+-([0-9]+)", key).group(1))
    while n > 0 and os.path.exists(os.environ["NEWSCTL_TEST_HOLD"]):
        time.sleep(0.01)
    return _annotate(spec, batch)


parallel.annotate_batch = annotate_batch  # what a task's pickled reference finds
"""


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.file = tmp / "scheduler.json"
        self.hold = tmp / "hold"
        self.preload = tmp / "hold_preload.py"
        self.preload.write_text(HOLD_PRELOAD, encoding="utf-8")
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "NEWSCTL_TEST_HOLD": str(self.hold)}
        self.env.pop("NEWSCTL_SCHEDULER", None)
        self.start()

    def start(self) -> None:
        """The scheduler, then two workers."""
        self.file.unlink(missing_ok=True)  # a killed scheduler leaves its file
        self.scheduler = self._start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                                    "--no-dashboard", "--scheduler-file", str(self.file)])
        self.address = self._written_address()
        self.workers = [self.add_worker() for _ in range(2)]
        self.wait_for_workers(2)

    def _written_address(self) -> str:
        """The address in the scheduler file once it is written whole (Dask writes it in place)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return json.loads(self.file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline or self.scheduler.poll() is not None:
                    raise
            time.sleep(0.1)

    def _start(self, name, cmd, env=None):
        log = open(self.tmp / f"{name}-{time.monotonic_ns()}.log", "w")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env or self.env, cwd=self.tmp)

    def add_worker(self, **env):
        return self._start("worker", [str(DASK), "worker", "--scheduler-file", str(self.file), "--nworkers", "1",
                                      "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                                      "--preload", str(self.preload)],
                           env={**self.env, **env})

    def wait_for_workers(self, n):
        """Until the scheduler lists exactly ``n`` workers (one stopped a moment ago may still be listed)."""
        from distributed import Client

        with Client(self.address, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=60)
            deadline = time.monotonic() + 60
            while len(client.nthreads()) != n:
                assert time.monotonic() < deadline, f"the scheduler lists {len(client.nthreads())} workers, not {n}"
                time.sleep(0.05)

    @contextlib.contextmanager
    def held(self):
        """Inside: a run's batches after its first wait in the workers (HOLD_PRELOAD), so it stays mid-run."""
        self.hold.touch()
        try:
            yield
        finally:
            self.hold.unlink()

    def stop(self, proc):
        if proc.poll() is None:
            proc.kill()  # this process only, by its pid
        proc.wait(timeout=30)

    def close(self):
        for p in [*self.workers, self.scheduler]:
            self.stop(p)


@pytest.fixture(scope="module")
def _cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    yield c
    c.close()


@pytest.fixture()
def cluster(_cluster):
    """The module's cluster, started again if a test before stopped its scheduler (whatever the order)."""
    if _cluster.scheduler.poll() is not None:
        _cluster.close()
        _cluster.start()
    return _cluster


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The seeds four times over, each copy its own content: 20 files, a dozen batches."""
    dest = tmp_path_factory.mktemp("corpus")
    for k in range(4):
        for f in sorted(SEEDS.glob("*.txt")):
            (dest / f"{k}_{f.name}").write_text(f.read_text(encoding="utf-8") + f"\nKopie {k}.\n", encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def expected(corpus):
    from typer.testing import CliRunner

    result = invoke(CliRunner(), ["entities", corpus, "--mentions", "-f", "jsonl", "--no-cache", "-j", "1", "-m", MODEL])
    assert result.exit_code == 0
    return result.stdout


def _client(args, env):
    return subprocess.Popen([sys.executable, "-c", "from cli.app import main; main()", *map(str, args)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stored(store: Path) -> int:
    try:
        with sqlite3.connect(store) as conn:
            return conn.execute("SELECT count(*) FROM annotated").fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_until_stored(store: Path, proc, n=1, timeout=120):
    deadline = time.monotonic() + timeout
    while _stored(store) < n and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def test_cluster_output_is_identical_to_one_process(cluster, corpus, expected, runner, monkeypatch):
    monkeypatch.setenv("NEWSCTL_SCHEDULER", cluster.address)
    result = invoke(runner, ["entities", corpus, "--mentions", "-f", "jsonl", "--no-cache", "-m", MODEL])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected


def test_a_worker_with_another_version_is_refused(cluster, runner, tmp_path):
    odd = cluster.add_worker(NEWSCTL_TEST_WORKER_VERSION="0.0.0-other")
    try:
        cluster.wait_for_workers(3)
        result = invoke(runner, ["entities", SEEDS, "-f", "tsv", "--no-cache", "-m", MODEL, "--scheduler", cluster.address])
    finally:
        cluster.stop(odd)
        cluster.wait_for_workers(2)  # gone from the scheduler too, for the tests after this one
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Dask worker tcp://127.0.0.1:")
    assert result.stderr.endswith(" runs newsctl 0.0.0-other, this client runs " + _version() + "\n")


def _version():
    from analysis.parallel import newsctl_version

    return newsctl_version()


def test_a_worker_killed_mid_run_changes_nothing(cluster, corpus, expected, tmp_path):
    store = tmp_path / "s.sqlite"
    with cluster.held():  # released once the worker is killed
        proc = _client(["entities", corpus, "--mentions", "-f", "jsonl", "--store", store, "-m", MODEL,
                        "--scheduler", cluster.address],
                       cluster.env)
        _wait_until_stored(store, proc)
        assert proc.poll() is None and 1 <= _stored(store) < 20  # mid-run
        victim = cluster.workers.pop(0)
        victim.send_signal(signal.SIGKILL)
        cluster.workers.append(cluster.add_worker())  # for the tests after this one
    out, err = proc.communicate(timeout=300)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert proc.returncode == 0, err
    assert err == ""
    assert out == expected
    assert _stored(store) == 20


def test_the_scheduler_going_away_is_one_line_error_and_the_next_run_resumes(cluster, corpus, expected, runner,
                                                                            tmp_path):
    from analysis.store import open_store

    store = tmp_path / "s.sqlite"
    with cluster.held():  # the run cannot end before the scheduler is gone
        proc = _client(["entities", corpus, "--mentions", "-f", "jsonl", "--store", store, "-m", MODEL], {
            **cluster.env, "NEWSCTL_SCHEDULER": cluster.address, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
        _wait_until_stored(store, proc)
        assert proc.poll() is None  # mid-run
        cluster.stop(cluster.scheduler)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err == f"Error: lost the Dask scheduler at {cluster.address}\n"
    assert out == ""
    kept = _stored(store)
    assert 1 <= kept < 20
    from analysis.corpus import load_corpus
    from analysis.entities import annotate
    from analysis.nlp import resolve_model

    with open_store(store) as st:
        resumed = annotate(load_corpus([str(corpus)]), model_ref=resolve_model(MODEL), store=st, jobs=1)
    assert (resumed.cached, resumed.processed) == (kept, 20 - kept)
    assert _stored(store) == 20
    result = invoke(runner, ["entities", corpus, "--mentions", "-f", "jsonl", "--store", store, "-m", MODEL])
    assert result.stdout == expected


@pytest.mark.parametrize("address", ["bogus", "tcp://[::1", "tcp://127.0.0.1", "foo://h:1", "inproc://x"])
def test_an_address_dask_cannot_parse_is_one_line_at_once(tmp_path, address):
    """No half-made Client: it made the process wait 60 s at exit and print a traceback after the error."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("NEWSCTL_SCHEDULER", None)
    start = time.monotonic()
    out = subprocess.run([str(Path(sys.executable).parent / "newsctl"), "entities", str(SEEDS), "--no-cache",
                          "--scheduler", address, "-m", MODEL], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 2
    assert out.stderr.startswith(f"Error: cannot reach the Dask scheduler at {address}: ")
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert time.monotonic() - start < 30


def test_a_port_where_nothing_listens_is_one_line_at_once(tmp_path):
    """Dask's Client tried a refused connection again for its whole connect timeout (30 s)."""
    import socket

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "60s"}
    env.pop("NEWSCTL_SCHEDULER", None)
    with socket.socket() as s:  # bound, never listening: no other process can listen on the port meanwhile
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        start = time.monotonic()
        out = subprocess.run([str(Path(sys.executable).parent / "newsctl"), "entities", str(SEEDS), "--no-cache",
                              "--scheduler", f"tcp://127.0.0.1:{port}", "-m", MODEL], capture_output=True, text=True,
                             env=env, timeout=120)
    assert out.returncode == 2
    assert out.stderr == f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: Connection refused\n"
    assert time.monotonic() - start < 20
