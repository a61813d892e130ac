import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
GOLDEN = Path(__file__).resolve().parent / "golden"

# Deterministic rich output: fixed width, no colour.
os.environ["COLUMNS"] = "100"
os.environ["NO_COLOR"] = "1"
os.environ.pop("FORCE_COLOR", None)


@pytest.fixture(scope="session")
def seeds() -> Path:
    return SEEDS


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def in_root(monkeypatch):
    """Run with the repository root as working directory (paths print as seeds/...)."""
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture()
def corpus_copy(tmp_path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(SEEDS, dest)
    return dest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own annotation store unless it sets one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))  # no user aliases file


def invoke(runner, args, **kwargs):
    from cli.app import app

    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)


def killed_client(script, *args) -> str:
    """Run the Python file ``script`` (with the repository importable), read the first line it prints,
    then kill it with SIGKILL, as a client that cannot clean up after itself; returns that line."""
    import signal
    import subprocess
    import sys

    client = subprocess.Popen([sys.executable, str(script), *map(str, args)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        return client.stdout.readline().strip()
    finally:
        client.send_signal(signal.SIGKILL)
        client.wait()


@pytest.fixture(scope="session")
def seeds_store(tmp_path_factory) -> Path:
    """One annotation store with the seeds already annotated by the default model.

    Filled once per test run (the model's ~20 s); tests pass it with --store so
    the entity commands only read it.
    """
    from analysis.corpus import load_corpus
    from analysis.entities import annotate
    from analysis.nlp import resolve_model
    from analysis.store import open_store

    store = tmp_path_factory.mktemp("seeds-store") / "store.sqlite"
    with open_store(store) as st:
        annotate(load_corpus([str(SEEDS)]), model_ref=resolve_model(None), store=st)
    return store


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A rule-based pipeline directory (tests/tinymodel.py): fast, and tags known names only."""
    from tests.tinymodel import build

    return build(tmp_path_factory.mktemp("tiny_model"))


class ConnectionStandIn:
    """A store connection that a test watches: everything goes to the real one, ``execute`` by way
    of :meth:`before` and :meth:`after` (which a test overrides to interrupt, pause or lie)."""

    def __init__(self, conn) -> None:
        self._conn = conn

    def before(self, sql: str):
        """Called before ``sql`` runs; a cursor returned here stands for its result."""
        return None

    def after(self, sql: str) -> None:
        """Called once ``sql`` has run."""

    def execute(self, sql, *args):
        cur = self.before(sql)
        if cur is None:
            cur = self._conn.execute(sql, *args)
        self.after(sql)
        return cur

    def executemany(self, sql, *args):
        cur = self._conn.executemany(sql, *args)
        self.after(sql)
        return cur

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def __enter__(self):
        self._conn.__enter__()
        return self

    def __exit__(self, *exc):
        return self._conn.__exit__(*exc)

