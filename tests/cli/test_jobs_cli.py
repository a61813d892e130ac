"""-j/--jobs and --scheduler on the commands that run the model; a full store disk."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, invoke


def _run(runner, *args):
    result = invoke(runner, ["entities", "seeds", "-f", "jsonl", "--no-cache", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("extra", [["--mentions"], ["--model", "analysis/ner_model/m0_eff_base"]],
                         ids=["mentions-bundled", "entities-one-member"])  # one member: a quicker pool
def test_output_is_byte_identical_whatever_the_jobs(runner, in_root, extra):
    one = _run(runner, "--jobs", "1", *extra)
    assert one.count("\n") > 50
    assert _run(runner, "-j", "2", *extra) == one
    assert _run(runner, "--jobs", "auto", *extra) == one


def test_jobs_and_scheduler_on_every_model_command():
    from cli.app import command_function
    import inspect

    for name in ("entities", "cooccur", "search"):
        params = inspect.signature(command_function(name)).parameters
        assert {"jobs", "scheduler"} <= set(params), name
    assert "jobs" not in inspect.signature(command_function("index")).parameters  # index never runs the model


def test_bad_jobs_is_one_line_error(runner, in_root):
    result = invoke(runner, ["entities", "seeds", "--jobs", "none"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --jobs must be a positive number or 'auto', not 'none'\n"


def test_worker_version_mismatch_is_one_line_error(runner, in_root, monkeypatch):
    monkeypatch.setenv("NEWSCTL_TEST_WORKER_VERSION", "0.0.0-other")
    result = invoke(runner, ["cooccur", "seeds", "-f", "tsv", "--no-cache", "-j", "2"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: worker process ") and result.stderr.count("\n") == 1
    assert "runs newsctl 0.0.0-other, this client runs" in result.stderr


def test_unreachable_scheduler_is_one_line_error(runner, in_root, monkeypatch):
    pytest.importorskip("distributed")
    import dask

    monkeypatch.setenv("NEWSCTL_SCHEDULER", "tcp://127.0.0.1:9")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = invoke(runner, ["search", "Tokajev", "seeds", "--label", "PER", "--no-cache", "-f", "tsv"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert result.stderr.count("\n") == 1


class _FullAfter:
    """open_store() stand-in: a real store whose disk fills up after ``room`` files."""

    def __init__(self, path, room):
        from analysis.store import open_store

        self.store = open_store(path)
        self.room = room

    def __call__(self, path=None):
        from analysis.errors import StoreFullError

        st, room = self.store, self.room
        put = st.put_annotations

        def put_until_full(sha, *args):
            if st.annotation_count() >= room:
                raise StoreFullError(f"the disk holding the store {st.path} is full")
            put(sha, *args)

        st.put_annotations = put_until_full
        return st


def test_full_disk_prints_everything_then_fails(runner, in_root, monkeypatch, tmp_path):
    import analysis.store

    expected = _run(runner, "--jobs", "1")
    monkeypatch.setattr(analysis.store, "open_store", _FullAfter(tmp_path / "s.sqlite", room=2))
    result = invoke(runner, ["entities", "seeds", "-f", "jsonl", "--jobs", "1"])
    assert result.exit_code == 2
    assert result.stdout == expected
    assert result.stderr == (f"Error: the disk holding the store {tmp_path / 's.sqlite'} is full: 3 of 5 files "
                             "were annotated but not stored (the next run does them again)\n")


def _imports_after(args, tmp_path) -> set:
    code = (
        "import sys\nfrom cli.app import app\n"
        f"sys.argv = ['newsctl', *{args!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('dask', 'distributed', 'multiprocessing', 'concurrent.futures') "
        "if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("NEWSCTL_SCHEDULER", None)
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    return set(eval(res.stderr.strip().splitlines()[-1]))


def test_dask_is_not_imported_unless_asked_for(tmp_path):
    store = str(tmp_path / "s.sqlite")
    assert not _imports_after(["datelines", "seeds", "-f", "tsv"], tmp_path)
    assert not _imports_after(["search", "Tokajev", "seeds", "-f", "tsv", "--store", store], tmp_path) & {
        "dask", "distributed"}
    subprocess.run([sys.executable, "-c", "from cli.app import main; main()", "entities", "seeds", "-f", "tsv",
                    "-j", "1", "--store", store], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   check=True, capture_output=True)
    assert not _imports_after(["entities", "seeds", "-f", "tsv", "--store", store], tmp_path)  # cached


def test_ctrl_c_stops_the_workers_and_exits_130(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for k in range(20):  # far more than a run can do before the Ctrl-C, however the machine's load falls
        for f in sorted((ROOT / "seeds").glob("*.txt")):
            (corpus / f"{k}_{f.name}").write_bytes(f.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli.app import main; main()", "entities", str(corpus), "-f", "tsv",
         "--no-cache", "-j", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while len(_started_workers(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_started_workers(proc.pid)) == 2 and proc.poll() is None
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err == "Interrupted.\n"
    deadline = time.monotonic() + 30
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group(proc.pid) == []


def _group(pgid: int) -> list[str]:
    """The processes of the group ``pgid`` but zombies (an exited worker waits there until init reaps it)."""
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if not line.split()[1].startswith("Z")]


def _started_workers(client: int) -> list[str]:
    """The client's pool workers that run their initializer (its thread that watches the client has started)."""
    # -ww: whole command lines; ps cuts them at $COLUMNS (100 in the tests), which a longer checkout
    # path than this one made cut "spawn_main" off in CI
    out = subprocess.run(["ps", "-ww", "-o", "pid=,ppid=,nlwp=,args=", "-g", str(client)], capture_output=True,
                         text=True).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    return [pid for pid, ppid, threads, args in rows
            if int(ppid) == client and int(threads) > 1 and "spawn_main" in args]
