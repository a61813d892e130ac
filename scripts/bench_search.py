"""Benchmark `newsctl search` against `grep -r` on a synthetic corpus of >= 100,000 stories.

Usage: python scripts/bench_search.py [--dir DIR] [--stories N] [--repeat K] [--keep-index]

Builds (once; reused when it is already there) a corpus of wire pages in the
seed format under DIR (default: $TMPDIR/newsctl-bench/search-N), 8 stories a
page and about the size of the seed pages (3.5 KB), from the sentences of ../shared/corpora/conll2002/ned.train
(or the seed pages when that is absent). Then, in one run:

1. indexes it from scratch with `newsctl index` (unless --keep-index),
2. times warm queries (word, phrase, prefix, boolean, diacritics) as an
   in-process call and as the whole CLI in a subprocess, side by side with
   the matching `grep -r -i` command over the same files: every contender
   runs once per round, and the figures are medians over --repeat rounds,
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

def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _interleaved(fns: dict, repeat: int) -> tuple[dict, dict]:
    """Run every function once per round, round after round: ``(median seconds, last result)`` by name.

    Interleaving spreads the machine's drift (other jobs, caches) over every
    contender alike instead of over whichever ran during a slow spell.
    """
    times: dict = {k: [] for k in fns}
    results: dict = {}
    for _ in range(repeat):
        for k, fn in fns.items():
            t, results[k] = _timed(fn)
            times[k].append(t)
    return {k: statistics.median(v) for k, v in times.items()}, results


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _in_process(store: Path, directory: Path, query: str) -> int:
    """What `newsctl search QUERY DIR` does after start-up: refresh (stat every file) and search."""
    from analysis.search import Matcher, SearchIndex, hit_records
    from analysis.store import open_store

    with open_store(store) as st:
        _, matches = SearchIndex(st.conn).search_paths([str(directory)], Matcher(query))
        return sum(1 for _ in hit_records(matches))


def _walk_only(directory: Path) -> int:
    from analysis.search import walk

    return len(walk([str(directory)]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stories", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=7)
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

    fixed, _ = _interleaved({"start-up": lambda: _run([NEWSCTL, "--version"]),
                             "walk": lambda: _walk_only(corpus)}, args.repeat)
    print(f"\nwarm queries: median of {args.repeat} rounds, each round running every contender once; "
          f"ratio = grep time / newsctl time")
    print(f"fixed costs: CLI start-up (newsctl --version) {fixed['start-up']:.3f} s; "
          f"stat of every file to keep the index current {fixed['walk']:.3f} s")
    print(f"{'query':<30}{'hits':>7}{'in-proc':>9}{'CLI':>8}{'CLI -l':>8}{'grep':>8}{'grep -l':>9}"
          f"{'grep/in-proc':>14}{'grep/CLI':>10}{'grep -l/CLI -l':>16}")
    ratios = []
    for label, query, grep in QUERIES:
        cli = [NEWSCTL, "search", query, str(corpus), "--store", str(store), "-f", "tsv"]
        grep_l = [a.replace("{dir}", str(corpus)) for a in grep]
        grep_lines = [a for a in grep_l if a != "-l"] if grep[0] == "grep" else None
        fns = {
            "in": lambda: _in_process(store, corpus, query),
            "cli": lambda: _run(cli),
            "cli_l": lambda: _run(cli + ["-l"]),
            "grep_l": lambda: _run(grep_l),
        }
        if grep_lines:
            fns["grep"] = lambda: _run(grep_lines)
        m, res = _interleaved(fns, args.repeat)
        assert res["cli"].returncode == 0, res["cli"].stderr
        g = m.get("grep")
        row = (m["grep_l"] / m["in"], g / m["cli"] if g else None, m["grep_l"] / m["cli_l"])
        ratios.append(row)
        print(f"{label + ' ' + query:<30}{res['in']:>7}{m['in']:>9.3f}{m['cli']:>8.3f}{m['cli_l']:>8.3f}"
              f"{(f'{g:.3f}' if g else '-'):>8}{m['grep_l']:>9.3f}{row[0]:>13.1f}x"
              f"{(f'{row[1]:.1f}x' if g else '-'):>10}{row[2]:>15.1f}x"
              f"   (files: newsctl {len(res['cli_l'].stdout.splitlines())}, grep {len(res['grep_l'].stdout.splitlines())})")
    m, _ = _interleaved({"cli": lambda: _run([NEWSCTL, "search", "regering", str(corpus), "--store", str(store), "-c"]),
                         "grep": lambda: _run([a.replace("{dir}", str(corpus)) for a in COUNT_GREP])}, args.repeat)
    print(f"{'count regering (-c)':<30}{'':>7}{'':>9}{m['cli']:>8.3f}{'':>8}{m['grep']:>8.3f}{'':>9}{'':>14}"
          f"{m['grep'] / m['cli']:>9.1f}x  (grep -r -c)")
    cols = list(zip(*ratios))
    print(f"ratio grep/newsctl, medians: in-process {min(cols[0]):.1f}x to {max(cols[0]):.1f}x; "
          f"CLI -l {min(cols[2]):.1f}x to {max(cols[2]):.1f}x; "
          f"CLI hits vs grep lines {min(r for r in cols[1] if r):.1f}x to {max(r for r in cols[1] if r):.1f}x")

    victim = files[len(files) // 2]
    original = victim.read_bytes()
    cli = [NEWSCTL, "search", "zzbenchmarker", str(corpus), "--store", str(store), "-l"]
    try:
        victim.write_bytes(original + "zzbenchmarker (ANP) - Een nieuw bericht.\n".encode())
        t_changed, res = _timed(lambda: _run(cli))
        assert res.stdout.strip() == str(victim), res.stdout
        victim.unlink()
        t_deleted, res = _timed(lambda: _run(cli))
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
