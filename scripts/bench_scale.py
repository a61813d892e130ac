"""How `newsctl index` and `newsctl search` grow with the corpus, beside grep and ripgrep (`make bench-scale`).

Usage: python scripts/bench_scale.py [--sizes 10000 100000 [1000000]] [--dir DIR] [--repeat K] [--word WORD] [--keep-index]

For each size (stories; 8 a page), builds the corpus once with
scripts/bench_search.py's builder under DIR (default: $TMPDIR/newsctl-bench),
then in one run prints wall time and peak RSS of each command, each a fresh
process:

- `newsctl index` from scratch (unless --keep-index finds one built), and the
  index size against the corpus size;
- warm `newsctl search WORD -l` and `newsctl search WORD` (hits with their
  context, tsv into a pipe), the stat walk included, then the same with
  `newsctl index --watch` running: the watcher answers them over its socket
  (cli/client.py); its own peak RSS is shown too;
- `grep -r -i -w [-l] WORD` and `rg -i -w [-l] WORD` over the same files
  (ripgrep: `pip install --only-binary=:all: ripgrep` in the venv; left out
  when absent).

The search-type commands run once per round, round after round (--repeat,
default 5), and the figures are medians; peak RSS is the largest seen. It
checks that newsctl, grep and rg list the same files. Not run in CI; the
1,000,000 size needs ~520 MB of disk for the corpus and several minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import bench_search  # noqa: E402  (the corpus builder)

NEWSCTL = [sys.executable, "-c", "import sys\nfrom cli.launch import main\nsys.exit(main())"]


def _env() -> dict:
    path = os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)
    return {**os.environ, "PYTHONPATH": path, "NO_COLOR": "1"}


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time: the child's own peak RSS


def measure(cmd: list[str], *, cwd: Path | None = None) -> tuple[float, int, bytes, int]:
    """``(seconds, peak RSS in KB, stdout, exit status)`` of one run of ``cmd``.

    The peak RSS comes from GNU time when there is one: a child forked from
    this Python process would otherwise count this process's pages as its own.
    """
    with tempfile.NamedTemporaryFile("r") as report:
        wrapped = [TIME, "-f", "%M", "-o", report.name, *cmd] if TIME else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(), cwd=cwd)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        lines = report.read().split()
    rss = int(lines[-1]) if TIME and lines and lines[-1].isdigit() else usage.ru_maxrss
    return elapsed, rss, out, os.waitstatus_to_exitcode(status)


def _ripgrep() -> str | None:
    near = Path(sys.executable).parent / "rg"
    return str(near) if near.exists() else shutil.which("rg")


def _files(out: bytes, base: Path) -> set[str]:
    return {os.path.relpath(os.path.join(str(base), line.decode(errors="surrogateescape")), base)
            for line in out.splitlines() if line}


def _hit_files(out: bytes, base: Path, tsv: bool) -> set[str]:
    """The files of hit lines: newsctl's tsv `file` column, or grep's and rg's `path:` prefix."""
    lines = out.splitlines()[1:] if tsv else out.splitlines()
    cut = (lambda line: line.split(b"\t")[1]) if tsv else (lambda line: line.split(b":", 1)[0])
    return _files(b"\n".join(cut(line) for line in lines if line), base)


def _row(name: str, times: list[float], rss: list[int], note: str = "") -> None:
    print(f"| {name} | {statistics.median(times):.3f} s | {max(rss) / 1024:.0f} MB | {note} |", flush=True)


def _ctrl_c_stops() -> None:
    """In the watcher's child process: Ctrl-C (SIGINT) stops it, even when this script runs in the background.

    (A shell starts a background job with SIGINT ignored, and Python then never
    turns it into KeyboardInterrupt.)
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _peak_rss(pid: int) -> int | None:
    """A running process's peak RSS in KB (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def bench_size(stories: int, base: Path, repeat: int, word: str, keep: bool = False) -> None:
    directory = base / f"scale-{stories}"
    corpus, store = directory / "corpus", directory / "store.sqlite"
    t0 = time.perf_counter()
    bench_search.build_corpus(corpus, stories)
    files = sorted(corpus.rglob("*.txt"))
    corpus_bytes = sum(f.stat().st_size for f in files)
    print(f"\n### {stories:,} stories: {len(files):,} files, {corpus_bytes / 1e6:.1f} MB "
          f"(corpus ready in {time.perf_counter() - t0:.0f} s)\n")
    print("| command | time | peak RSS | notes |\n|---|---|---|---|")
    kept = keep and store.exists()
    if not kept:
        for p in directory.glob("store.sqlite*"):
            p.unlink()
        t, rss, out, code = measure([*NEWSCTL, "index", "corpus", "--store", str(store), "-f", "tsv", "--no-header"],
                                    cwd=directory)
        assert code == 0, out
    size = subprocess.run([*NEWSCTL, "index", "--status", "--store", str(store), "-f", "tsv", "--no-header"],
                          capture_output=True, text=True, env=_env()).stdout
    index_bytes = int(dict(line.split("\t", 1) for line in size.splitlines())["index_bytes"])
    if kept:
        print(f"| `newsctl index` (kept from an earlier run) | | | "
              f"index {index_bytes / 1e6:.1f} MB = {index_bytes / corpus_bytes:.2f}x the corpus |")
    else:
        _row("`newsctl index` (from scratch)", [t], [rss],
             f"index {index_bytes / 1e6:.1f} MB = {index_bytes / corpus_bytes:.2f}x the corpus")

    rg = _ripgrep()
    contenders = {
        "`newsctl search W -l`": [*NEWSCTL, "search", word, "corpus", "-l", "--store", str(store)],
        "`newsctl search W`": [*NEWSCTL, "search", word, "corpus", "--store", str(store)],
        "`grep -r -i -w -l W`": ["grep", "-r", "-i", "-w", "-l", word, "corpus"],
        "`grep -r -i -w W`": ["grep", "-r", "-i", "-w", word, "corpus"],
    }
    if rg:
        contenders["`rg -i -w -l W`"] = [rg, "-i", "-w", "-l", word, "corpus"]
        contenders["`rg -i -w W`"] = [rg, "-i", "-w", word, "corpus"]
    for cmd in contenders.values():  # warm: page cache, index scope
        measure(cmd, cwd=directory)
    times: dict = {k: [] for k in contenders}
    rss: dict = {k: [] for k in contenders}
    outs: dict = {}
    for _ in range(repeat):
        for name, cmd in contenders.items():
            t, r, outs[name], _ = measure(cmd, cwd=directory)
            times[name].append(t)
            rss[name].append(r)

    watcher = subprocess.Popen([*NEWSCTL, "index", "--watch", "corpus", "--store", str(store)], cwd=directory,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
                               preexec_fn=_ctrl_c_stops)
    line = watcher.stderr.readline()
    watched = {}
    if line.startswith("watching"):
        watched = {"`newsctl search W -l`, watched": contenders["`newsctl search W -l`"],
                   "`newsctl search W`, watched": contenders["`newsctl search W`"]}
        for cmd in watched.values():
            measure(cmd, cwd=directory)  # tags the scope with the watcher's count
            measure(cmd, cwd=directory)
        for name in watched:
            times[name], rss[name] = [], []
        for _ in range(repeat):
            for name, cmd in watched.items():
                t, r, outs[name], _ = measure(cmd, cwd=directory)
                times[name].append(t)
                rss[name].append(r)
    else:
        print(f"(no watcher: {line.strip() or watcher.stderr.read().strip()})")
    watcher_rss = _peak_rss(watcher.pid)
    watcher.send_signal(signal.SIGINT)
    watcher.wait(timeout=60)

    listed = {name: _files(out, directory) for name, out in outs.items() if " -l" in name}
    hits = {name: len(out.splitlines()) for name, out in outs.items()}
    for name in [*contenders, *watched]:
        note = f"{len(listed[name])} files" if name in listed else f"{hits[name]} lines"
        _row(name, times[name], rss[name], note)
    if watcher_rss:
        print(f"| `newsctl index --watch` (the watcher, answering) | | {watcher_rss / 1024:.0f} MB | peak RSS |")
    sets = list(listed.values())
    same = all(s == sets[0] for s in sets)
    print(f"\nsame files listed by {', '.join(listed)}: {'yes' if same else 'NO'}")
    if not same:
        for name, s in listed.items():
            print(f"  {name}: {len(s)} files; differs from the first in {len(s ^ sets[0])}")
    same_hits = {name: outs[name].count(b"\n") for name in outs if name.startswith("`newsctl search W`")}
    print(f"hit lines (header included) of newsctl, walked and watched: {sorted(set(same_hits.values()))}")
    hit_files = {name: _hit_files(out, directory, name.startswith("`newsctl"))
                 for name, out in outs.items() if " -l" not in name}
    first = next(iter(hit_files.values()))
    print(f"same files in the hits of {', '.join(hit_files)}: "
          f"{'yes' if all(f == first for f in hit_files.values()) else 'NO'} ({len(first)} files)")
    print("\nspeed-up of newsctl over grep and rg (their time / newsctl's; > 1: newsctl is faster):\n")
    print("| form | vs grep, walked | vs grep, watched | vs rg, walked | vs rg, watched |\n|---|---|---|---|---|")
    for form, suffix in (("`search W -l`", " -l"), ("`search W`", "")):
        mine = statistics.median(times[f"`newsctl search W{suffix}`"])
        watched_t = statistics.median(times.get(f"`newsctl search W{suffix}`, watched", [float("nan")]))
        cells = []
        for other in (f"`grep -r -i -w{suffix} W`", f"`rg -i -w{suffix} W`"):
            theirs = statistics.median(times[other]) if other in times else float("nan")
            cells += [f"{theirs / mine:.2f}x", f"{theirs / watched_t:.2f}x"]
        print(f"| {form} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "newsctl-bench")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--word", default="regering")
    ap.add_argument("--keep-index", action="store_true",
                    help="reuse a store an earlier run built for a size (no `newsctl index` from scratch)")
    ap.add_argument("--conll", type=Path, default=bench_search.CONLL,
                    help="CoNLL-2002 Dutch training file for the sentences (else the seed pages)")
    args = ap.parse_args(argv)
    bench_search.CONLL = args.conll
    print(f"# newsctl bench-scale: W = {args.word!r}, medians of {args.repeat} interleaved rounds; "
          f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M')}")
    for n in args.sizes:
        bench_size(n, args.dir, args.repeat, args.word, args.keep_index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
