"""`newsctl index --watch`: runs until Ctrl-C, refuses what it cannot watch, and says what it needs."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, SEEDS, invoke


def _default_sigint() -> None:
    """Ctrl-C's default in the child: a job started in the background by a shell ignores SIGINT, and so would it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)



def test_watch_needs_directories(runner, tmp_path):
    result = invoke(runner, ["index", "--watch", SEEDS / "000_6886c8d2ffe8f8a4.txt", "--store", tmp_path / "s.sqlite"])
    assert result.exit_code == 2 and "--watch takes directories" in result.stderr


def test_watch_without_watchdog_says_what_to_install(runner, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "watchdog.observers", None)  # import fails as if it were not installed
    monkeypatch.setitem(sys.modules, "watchdog.observers.inotify_c", None)
    result = invoke(runner, ["index", "--watch", SEEDS, "--store", tmp_path / "s.sqlite"])
    assert result.exit_code == 2 and "newsctl[watch]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_watch_runs_until_ctrl_c(tmp_path):
    pytest.importorskip("watchdog.observers.inotify_c")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]), "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", "from cli.app import main; main()", "index", "--watch", str(corpus)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_default_sigint)
    line = proc.stderr.readline()
    assert line.startswith("watching 5 files in "), line
    (corpus / "new.txt").write_text("Kop\nMOSKOU (ANP) - Blauwvingerkrab.\n", encoding="utf-8")
    search = [sys.executable, "-c", "from cli.app import main; main()", "search", "blauwvingerkrab", str(corpus), "-l"]
    done = subprocess.run(search, capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout == f"{corpus / 'new.txt'}\n", done.stderr
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip() == "Interrupted."
