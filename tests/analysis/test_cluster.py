"""The NLP pass on a real Dask cluster: `dask scheduler` and two `dask worker` processes on localhost.

The fixture starts them as subprocesses (ports chosen by the scheduler, no
dashboard, no nanny: a killed worker stays dead) and stops them by their own
process ids. The tests run the client as a subprocess where it must be
interrupted from outside, and in-process otherwise.
"""

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


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.file = tmp / "scheduler.json"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.env.pop("NEWSCTL_SCHEDULER", None)
        self.scheduler = self._start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                                    "--no-dashboard", "--scheduler-file", str(self.file)])
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [self.add_worker() for _ in range(2)]
        self.wait_for_workers(2)

    def _start(self, name, cmd, env=None):
        log = open(self.tmp / f"{name}-{time.monotonic_ns()}.log", "w")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env or self.env, cwd=self.tmp)

    def add_worker(self, **env):
        return self._start("worker", [str(DASK), "worker", "--scheduler-file", str(self.file), "--nworkers", "1",
                                      "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
                           env={**self.env, **env})

    def wait_for_workers(self, n):
        from distributed import Client

        with Client(self.address, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=60)

    def stop(self, proc):
        if proc.poll() is None:
            proc.kill()  # this process only, by its pid
        proc.wait(timeout=30)

    def close(self):
        for p in [*self.workers, self.scheduler]:
            self.stop(p)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    yield c
    c.close()


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
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Dask worker tcp://127.0.0.1:")
    assert result.stderr.endswith(" runs newsctl 0.0.0-other, this client runs " + _version() + "\n")


def _version():
    from analysis.parallel import newsctl_version

    return newsctl_version()


def test_a_worker_killed_mid_run_changes_nothing(cluster, corpus, expected, tmp_path):
    store = tmp_path / "s.sqlite"
    proc = _client(["entities", corpus, "--mentions", "-f", "jsonl", "--store", store, "-m", MODEL,
                    "--scheduler", cluster.address],
                   cluster.env)
    _wait_until_stored(store, proc)
    assert proc.poll() is None and _stored(store) < 20  # mid-run
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
    proc = _client(["entities", corpus, "--mentions", "-f", "jsonl", "--store", store, "-m", MODEL], {
        **cluster.env, "NEWSCTL_SCHEDULER": cluster.address, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    _wait_until_stored(store, proc)
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

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "60s"}
    env.pop("NEWSCTL_SCHEDULER", None)
    start = time.monotonic()
    out = subprocess.run([str(Path(sys.executable).parent / "newsctl"), "entities", str(SEEDS), "--no-cache",
                          "--scheduler", f"tcp://127.0.0.1:{port}", "-m", MODEL], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 2
    assert out.stderr == f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: Connection refused\n"
    assert time.monotonic() - start < 20
