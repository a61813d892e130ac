"""`make bench-scale`, datelines part: time and peak memory of `newsctl datelines` as the corpus grows.

For each size (stories; 8 stories a page, as the seeds) a corpus is built
under a temporary directory (or --dir), then each command runs as its own
process and its wall time and peak RSS (``wait4``) are printed, beside a
bare Python pass that reads every file and runs one regular expression over
it (the yardstick of issue 11: datelines within 3x of it). The bare pass runs
once untimed first, so that every timed run finds the files in the page cache,
and is timed first and last; "x bare" divides by the faster of those two.
With --repeat N every command (the bare pass too) runs N times, in rounds
that take each command in turn, and the medians are printed: a machine whose
speed drifts (other jobs, a busy host) then weighs on the bare pass and on
datelines alike.

    python scripts/bench_scale_datelines.py                    # 10,000 and 100,000 stories
    python scripts/bench_scale_datelines.py 10000 100000 1000000
    BENCH_SIZES=100000,300000 python scripts/bench_scale_datelines.py --keep

Sizes come from the arguments, else BENCH_SIZES, else 10,000 and 100,000.
Corpora are deleted afterwards unless --keep; a corpus kept in --dir is used
again by the next run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWSCTL = str(Path(sys.executable).parent / "newsctl")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import _page  # noqa: E402  the page format bench_search builds, with seed sentences here

# The yardstick: read every file, decode it, one regular expression over it.
BARE = r"""
import os, re, sys
pattern = re.compile(r"^([A-Z][A-Z' .-]*) \(([A-Z/]+)\) [-\u2013\u2014] ", re.MULTILINE)
n = 0
for top, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        if name.endswith(".txt"):
            with open(os.path.join(top, name), "rb") as f:
                n += len(pattern.findall(f.read().decode("utf-8")))
print(n)
"""


def _sentences() -> list[str]:
    import re

    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4 and "(" not in s]


def build_corpus(directory: Path, stories: int, per_page: int = 8) -> int:
    """Pages of ``per_page`` stories in folders of 250; returns the bytes written."""
    rng = random.Random(20240601)
    sents = _sentences()
    total = 0
    for k in range(-(-stories // per_page)):
        sub = directory / f"{k // 250:04d}"
        if k % 250 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        data = _page(rng, sents, per_page).encode("utf-8")
        (sub / f"{k:07d}_bench.txt").write_bytes(data)
        total += len(data)
    return total


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command, its output thrown away."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()}")
    return seconds, usage.ru_maxrss / 1024  # KB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, help="corpus sizes in stories")
    ap.add_argument("--dir", type=Path, help="where to build the corpora (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the corpora")
    ap.add_argument("--jobs", default="1,2", help="--jobs values to run datelines with (default 1,2)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command, in rounds; medians (default 1)")
    args = ap.parse_args(argv)
    sizes = args.sizes or [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",") if s.strip()]
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    base = args.dir or Path(tempfile.mkdtemp(prefix="newsctl-bench-scale-"))
    runs_each = max(1, args.repeat)
    print(f"# datelines at scale; {os.cpu_count()} CPUs; {sys.version.split()[0]}; " + (
        "one run each, so figures on a busy machine are noisy" if runs_each == 1 else
        f"medians of {runs_each} runs each, taken in rounds"))
    print(f"{'stories':>9} {'MB':>6}  {'command':<34} {'seconds':>8} {'stories/s':>10} {'peak MB':>8} {'x bare':>7}")
    try:
        for n in sizes:
            directory = base / f"stories-{n}"
            marker = directory / ".complete"  # a corpus kept (--keep) from an earlier run is used again
            if marker.exists():
                nbytes = int(marker.read_text())
            else:
                if directory.exists():
                    shutil.rmtree(directory)
                nbytes = build_corpus(directory, n)
                marker.write_text(f"{nbytes}\n")
            d = str(directory)
            runs = [("bare read + one regex", [sys.executable, "-c", BARE, d])]
            for j in jobs:
                runs.append((f"datelines -j {j}", [NEWSCTL, "datelines", d, "-f", "tsv", "-j", j]))
                runs.append((f"datelines --summary -j {j}", [NEWSCTL, "datelines", d, "--summary", "-f", "tsv",
                                                             "-j", j]))
            runs.append(("bare read + one regex, again", runs[0][1]))  # the files stayed in the page cache
            measure(runs[0][1])  # untimed: reads the files into the page cache, which the timed runs all find
            # The yardstick is the faster of the two bare passes (a busy machine slows one now and then):
            # the rows are printed once both have run.
            if runs_each == 1:
                results = [(label, *measure(cmd)) for label, cmd in runs]
            else:
                from statistics import median

                runs = runs[:-1]  # the rounds time the bare pass throughout
                rounds = [[measure(cmd) for _, cmd in runs] for _ in range(runs_each)]
                results = [(label, median(r[i][0] for r in rounds), max(r[i][1] for r in rounds))
                           for i, (label, _) in enumerate(runs)]
            bare = min(seconds for label, seconds, _ in results if label.startswith("bare"))
            for label, seconds, peak in results:
                print(f"{n:>9,} {nbytes / 1e6:>6.0f}  {label:<34} {seconds:>8.2f} {n / seconds:>10,.0f} "
                      f"{peak:>8.0f} {seconds / bare:>7.1f}", flush=True)
            if not args.keep:
                shutil.rmtree(directory)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
