"""Benchmark `newsctl search` against `grep -r` on a synthetic corpus of >= 100,000 stories.

Usage: python scripts/bench_search.py [--dir DIR] [--stories N] [--repeat K] [--keep-index]

Builds (once; reused when it is already there) a corpus of wire pages in the
seed format under DIR (default: $TMPDIR/newsctl-bench/search-N), 8 stories a
page and about the size of the seed pages (3.5 KB), from the sentences of ../shared/corpora/conll2002/ned.train
(or the seed pages when that is absent). Then, in one run:

1. indexes it from scratch with `newsctl index` (unless --keep-index),
2. times warm queries (word, phrase, prefix, boolean) as an in-process call
   and as the whole CLI in a subprocess, side by side with the matching
   `grep -r -i` command over the same files (median of --repeat runs),
3. times the refresh after one file changed and after one was deleted,
4. prints the index size relative to the corpus size.

It never writes into the repository and uses its own store file.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CONLL = ROOT.parent / "shared" / "corpora" / "conll2002" / "ned.train"
NEWSCTL = str(Path(sys.executable).parent / "newsctl")

PLACES = ["AMSTERDAM", "BRUSSEL", "ANTWERPEN", "GENT", "DEN HAAG", "ROTTERDAM", "PARIJS", "BERLIJN",
          "LONDEN", "MOSKOU", "WASHINGTON", "KYIV", "'S-HERTOGENBOSCH", "BELÉM", "LUIK", "BRUGGE"]
AGENCIES = ["ANP", "ANP/RTR", "ANP/AFP", "BELGA", "ANP/DPA", "ANP/AFP/RTR"]
SECTIONS = ["Buitenland", "Binnenland", "Economie", "Sport"]
AGES = ["3 minuten geleden", "13 minuten geleden", "1 uur geleden", "5 uur geleden", "2 dagen geleden"]

# (label, newsctl query, grep command for the same files: '{dir}' is replaced)
QUERIES = [
    ("word", "regering", ["grep", "-r", "-i", "-l", "-w", "regering", "{dir}"]),
    ("phrase", '"de regering"', ["grep", "-r", "-i", "-l", "-w", "de regering", "{dir}"]),
    ("prefix", "voetbal*", ["grep", "-r", "-i", "-l", "-E", r"\bvoetbal", "{dir}"]),
    ("boolean", "Antwerpen AND Gent", ["sh", "-c", "grep -r -i -l -w Antwerpen {dir} | xargs -r grep -i -l -w Gent"]),
    ("diacritics", "belgie", ["grep", "-r", "-i", "-l", "-E", r"\bbelgi[eë]\b", "{dir}"]),
]
COUNT_GREP = ["grep", "-r", "-i", "-c", "-w", "regering", "{dir}"]


# -- the corpus -------------------------------------------------------------------

def _sentences() -> list[str]:
    if CONLL.exists():
        out, words = [], []
        for line in CONLL.read_text(encoding="utf-8", errors="replace").splitlines() + [""]:
            if not line.strip():
                if len(words) >= 4:
                    out.append(_detokenise(words))
                words = []
            elif not line.startswith("-DOCSTART-"):
                words.append(line.split(" ", 1)[0])
        return out
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]


def _detokenise(words: list[str]) -> str:
    s = " ".join(words)
    s = re.sub(r" ([.,:;!?)])", r"\1", s)
    s = re.sub(r"\( ", "(", s)
    s = re.sub(r"(?<=[a-z])iE(?![a-z])", "ië", s)  # CoNLL spells België as BelgiE
    return re.sub(r"(?<=[a-z])E(?=[a-z])", "é", s)  # and privévliegtuig as privEvliegtuig


def _page(rng: random.Random, sents: list[str], per_page: int) -> str:
    pick = lambda n: " ".join(rng.choice(sents) for _ in range(n))  # noqa: E731
    lines = [rng.choice(sents).rstrip(". "),
             f"{rng.choice(PLACES)} ({rng.choice(AGENCIES)}) - {pick(3)}", pick(3), pick(3), pick(3)]
    lines.append(f"Meer uit {rng.choice(SECTIONS)}")
    items = [f"{rng.choice(PLACES)} ({rng.choice(AGENCIES)}) - {pick(rng.randint(2, 4))}"
             for _ in range(per_page - 1)]
    lines.append(items[0])
    for item in items[1:]:
        lines.append(rng.choice(AGES) + item)
    lines.append(rng.choice(AGES))
    return "\n".join(lines) + "\n"


def build_corpus(directory: Path, stories: int, per_page: int = 8) -> None:
    marker = directory / ".complete-v2"
    if marker.exists():
        return
    if directory.exists():
        shutil.rmtree(directory)
    rng = random.Random(20240601)
    sents = _sentences()
    pages = -(-stories // per_page)
    for k in range(pages):
        sub = directory / f"{k // 250:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{k:06d}_bench.txt").write_text(_page(rng, sents, per_page), encoding="utf-8")
    marker.write_text("ok\n")


# -- timing -------------------------------------------------------------------------

def _time(fn, repeat: int) -> tuple[float, float, object]:
    """``(best, median, last result)`` over ``repeat`` runs (other jobs on the machine add noise)."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _in_process(store: Path, directory: Path, query: str):
    from analysis.search import Matcher, SearchIndex, hit_records
    from analysis.store import open_store

    with open_store(store) as st:
        index = SearchIndex(st.conn)
        refreshed = index.refresh([str(directory)])
        return sum(1 for _ in hit_records(index.search(refreshed.files, Matcher(query))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stories", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep-index", action="store_true", help="reuse the index of an earlier run")
    args = ap.parse_args(argv)
    base = args.dir or Path(tempfile.gettempdir()) / "newsctl-bench" / f"search-{args.stories}"
    corpus, store = base / "corpus", base / "store.sqlite"

    t0 = time.perf_counter()
    build_corpus(corpus, args.stories)
    files = sorted(corpus.rglob("*.txt"))
    corpus_bytes = sum(f.stat().st_size for f in files)
    print(f"corpus: {corpus} ({len(files)} files, {corpus_bytes / 1e6:.1f} MB, ready in {time.perf_counter() - t0:.1f} s)")

    if not args.keep_index:
        for p in base.glob("store.sqlite*"):
            p.unlink()
    t0 = time.perf_counter()
    out = _run([NEWSCTL, "index", str(corpus), "--store", str(store), "-f", "tsv", "--no-header"])
    build = time.perf_counter() - t0
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return 1
    stories = int(out.stdout.split("\t")[-1])
    print(f"index: {stories} stories, built/refreshed in {build:.1f} s ({'kept' if args.keep_index else 'from scratch'})")
    _in_process(store, corpus, "warmup")
    _run(["grep", "-r", "-l", "warmup", str(corpus)])  # page cache warm for both sides

    t_start, _, _ = _time(lambda: _run([NEWSCTL, "--version"]), args.repeat)
    print(f"\nwarm queries, best of {args.repeat} runs in seconds (median in the summary); "
          f"ratio = grep time / newsctl time; CLI start-up alone (newsctl --version): {t_start:.3f} s")
    print(f"{'query':<30}{'hits':>7}{'in-proc':>9}{'CLI':>8}{'CLI -l':>8}{'grep -l':>9}{'grep/in-proc':>14}{'grep/CLI -l':>13}")
    best, median = [], []
    for label, query, grep in QUERIES:
        cli = [NEWSCTL, "search", query, str(corpus), "--store", str(store), "-f", "tsv"]
        t_in, m_in, hits = _time(lambda: _in_process(store, corpus, query), args.repeat)
        t_cli, m_cli, res = _time(lambda: _run(cli), args.repeat)
        t_l, m_l, res_l = _time(lambda: _run(cli + ["-l"]), args.repeat)
        t_grep, m_grep, res_g = _time(lambda: _run([a.replace("{dir}", str(corpus)) for a in grep]), args.repeat)
        assert res.returncode == 0, res.stderr
        best.append((t_grep / t_in, t_grep / t_l))
        median.append((m_grep / m_in, m_grep / m_l))
        print(f"{label + ' ' + query:<30}{hits:>7}{t_in:>9.3f}{t_cli:>8.3f}{t_l:>8.3f}{t_grep:>9.3f}"
              f"{t_grep / t_in:>13.1f}x{t_grep / t_l:>12.1f}x"
              f"   (files: newsctl {len(res_l.stdout.splitlines())}, grep {len(res_g.stdout.splitlines())})")
    t_c, m_c, _ = _time(lambda: _run([NEWSCTL, "search", "regering", str(corpus), "--store", str(store), "-c"]), args.repeat)
    t_gc, m_gc, _ = _time(lambda: _run([a.replace("{dir}", str(corpus)) for a in COUNT_GREP]), args.repeat)
    print(f"{'count regering (CLI -c)':<30}{'':>7}{'':>9}{t_c:>8.3f}{'':>8}{t_gc:>9.3f}{'':>14}{t_gc / t_c:>12.1f}x  (grep -rc)")
    for name, ratios in (("best", best), ("median", median)):
        print(f"ratio grep/newsctl ({name}): in-process {min(r[0] for r in ratios):.1f}x to {max(r[0] for r in ratios):.1f}x, "
              f"CLI -l {min(r[1] for r in ratios):.1f}x to {max(r[1] for r in ratios):.1f}x")

    victim = files[len(files) // 2]
    original = victim.read_bytes()
    cli = [NEWSCTL, "search", "zzbenchmarker", str(corpus), "--store", str(store), "-l"]
    try:
        victim.write_bytes(original + "zzbenchmarker (ANP) - Een nieuw bericht.\n".encode())
        t_changed, _, res = _time(lambda: _run(cli), 1)
        assert res.stdout.strip() == str(victim), res.stdout
        victim.unlink()
        t_deleted, _, res = _time(lambda: _run(cli), 1)
        assert res.returncode == 1 and not res.stdout
    finally:
        victim.write_bytes(original)
    _run(cli)
    print(f"\nincremental: search after 1 file changed {t_changed:.3f} s, after 1 file deleted {t_deleted:.3f} s")

    from analysis.search import SearchIndex
    from analysis.store import open_store

    with open_store(store) as st:
        index_bytes = SearchIndex(st.conn).size_on_disk()
    store_bytes = sum(p.stat().st_size for p in base.glob("store.sqlite*"))
    print(f"index size: {index_bytes / 1e6:.1f} MB = {index_bytes / corpus_bytes:.2f}x the corpus "
          f"({corpus_bytes / 1e6:.1f} MB; store file {store_bytes / 1e6:.1f} MB; the index keeps the story texts for KWIC)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
