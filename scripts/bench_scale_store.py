"""`make bench-scale`, store part: `entities` and `cooccur` from a filled store as the corpus grows.

For each size (stories; 8 a page, as the seeds) a corpus is built with the
builder of ``bench_scale_datelines.py`` (pages of seed sentences), the
annotation store is filled, and then each command runs as its own process
from the filled store; its wall time and peak RSS (``wait4``) are printed.

Filling the store: running the model over 1,000,000 stories (about 73
million words at ~5,000 words/s per core) takes hours on two cores, so the
store is filled SYNTHETICALLY: the real model runs once over every distinct
piece of text (each seed sentence, each headline) and each file's record is
its pieces' sentences and mentions moved to the pieces' offsets in the file,
stored under the pipeline key the real run uses. The model reads a
paragraph of three sentences at once in a real run, so a few mentions
differ (``--check-real`` compares both on the smallest size). ``--real``
fills the store with the model instead and prints the time, which projects
the model fill of the larger sizes.

    python scripts/bench_scale_store.py --sizes 10000 100000 --dir /tmp/bss --keep
    python scripts/bench_scale_store.py --sizes 10000 --check-real --dir /tmp/bss --keep

The synthetic fill writes the model's output only, not the page rows (what
the page-level rules make of it, :mod:`analysis.pagecache`) that a real
fill by any newsctl command stores with it: a store filled synthetically is
what a newer newsctl (new rules or word lists, so no page rows) finds. The
``first run`` rows time that case, starting from an emptied ``pages``
table (on one core, and with the worker pool: ``-j auto``); the rows after
them read the page rows back, as every run does after a real fill.
``--check-real`` also counts the page rows the real fill left and times
``entities`` right after it.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
NEWSCTL = str(Path(sys.executable).parent / "newsctl")

from bench_scale_datelines import build_corpus, measure  # noqa: E402

_PIECE = re.compile(r"\S.*?(?:(?<=[.!?])(?=\s)|$)", re.S)  # the builder joins seed sentences with one space


def pieces(text: str):
    """``(offset, piece)`` for the seed sentences a paragraph is made of."""
    for m in _PIECE.finditer(text):
        yield m.start(), m.group()


def corpus_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.txt"))


def fill_synthetic(directory: Path, store_path: Path, *, model: str | None = None, batch_files: int = 2000) -> dict:
    """Fill the store for every file under ``directory`` (see the module's docstring); return counts."""
    from analysis.entities import _page_records, paragraphs
    from analysis.nlp import model_input, resolve_model
    from analysis.parallel import TextUnit, annotate_batch, worker_spec
    from analysis.reader import read_document
    from analysis.store import open_store
    from analysis.stories import split_page

    ref = resolve_model(model)
    spec = worker_spec(ref)
    memo: dict[str, tuple] = {}  # piece text -> (sentence spans, mention spans), offsets in the piece
    files = corpus_files(directory)
    store = open_store(store_path)
    conn = store.conn
    have = {sha for (sha,) in conn.execute("SELECT sha256 FROM annotated WHERE pipeline = ?", (ref.key,))}
    counts = {"files": 0, "skipped": 0, "pieces": 0, "model_pieces": 0, "sentences": 0, "mentions": 0}
    t0 = time.perf_counter()
    for k in range(0, len(files), batch_files):
        planned = []
        todo: dict[str, None] = {}
        for path in files[k:k + batch_files]:
            doc = read_document(str(path))
            if doc.sha256 in have:
                counts["skipped"] += 1
                continue
            have.add(doc.sha256)
            units = []
            for story in split_page(doc):
                for s, e in paragraphs(doc, story):
                    text = model_input(doc.text, s, e)
                    ps = [(s + o, p) for o, p in pieces(text)]
                    units.append((story.index, ps))
                    for _, p in ps:
                        if p not in memo:
                            todo[p] = None
            planned.append((doc.sha256, units))
        new = list(todo)
        for j in range(0, len(new), 32):
            chunk = new[j:j + 32]
            res = annotate_batch(spec, [TextUnit(0, 0, 0, len(p), p) for p in chunk])
            memo.update(zip(chunk, res))
        counts["model_pieces"] += len(new)
        rows_a, rows_s, rows_m = [], [], []
        with conn:
            for sha, units in planned:
                unit_results = []
                for story, ps in units:
                    sents, ments = [], []
                    for off, p in ps:
                        ss, mm = memo[p]
                        sents.extend((off + a, off + b) for a, b in ss)
                        ments.extend((off + a, off + b, lab) for a, b, lab in mm)
                        counts["pieces"] += 1
                    unit_results.append((story, (sents, ments)))
                s_rec, m_rec = _page_records(unit_results)
                aid = conn.execute("INSERT INTO annotated (sha256, pipeline, created) VALUES (?, ?, ?)",
                                   (sha, ref.key, time.time())).lastrowid
                rows_s.extend((aid, r.story, r.idx, r.start, r.end) for r in s_rec)
                rows_m.extend((aid, r.story, r.sentence, r.start, r.end, r.label) for r in m_rec)
                counts["files"] += 1
            conn.executemany("INSERT INTO sentences (annotated, story, idx, start, end) VALUES (?, ?, ?, ?, ?)", rows_s)
            conn.executemany("INSERT INTO mentions (annotated, story, sentence, start, end, label) "
                             "VALUES (?, ?, ?, ?, ?, ?)", rows_m)
        counts["sentences"] += len(rows_s)
        counts["mentions"] += len(rows_m)
        print(f"#   filled {k + len(planned):,} / {len(files):,} files ({time.perf_counter() - t0:.0f} s)",
              file=sys.stderr, flush=True)
    store.close()
    counts["seconds"] = time.perf_counter() - t0
    return counts


def run_out(cmd: list[str]) -> bytes:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout


def forget_pages(store: str) -> int:
    """Empty the store's ``pages`` table (what a new newsctl version finds); return the rows there were."""
    with sqlite3.connect(store) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'pages'").fetchone():
            return 0
        n = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        conn.execute("DELETE FROM pages")
    return n


def commands(corpus: str, store: str, out: Path) -> list[tuple[str, list[str]]]:
    base = ["--store", store, "-f", "tsv", "-j", "1"]
    return [
        # The first run after the synthetic fill applies the page-level rules and keeps their results in the
        # store; every later run reads those (unless newsctl's code or word lists change). Each "first run"
        # starts from an emptied pages table: on one core, then with the worker pool (-j auto).
        ("entities first run -j 1", [NEWSCTL, "entities", corpus, *base]),
        ("entities first run -j auto", [NEWSCTL, "entities", corpus, *base[:-2], "-j", "auto"]),
        ("entities -f tsv", [NEWSCTL, "entities", corpus, *base]),
        ("entities --top 20", [NEWSCTL, "entities", corpus, *base, "--top", "20"]),
        ("cooccur -f tsv", [NEWSCTL, "cooccur", corpus, *base]),
        ("cooccur --top 20", [NEWSCTL, "cooccur", corpus, *base, "--top", "20"]),
        ("cooccur --graph g.graphml", [NEWSCTL, "cooccur", corpus, *base, "--top", "200",
                                       "--graph", str(out / "g.graphml")]),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="*", type=int, default=None, help="corpus sizes in stories")
    ap.add_argument("--dir", type=Path, help="where corpora and stores go (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep corpora and stores (and reuse kept ones)")
    ap.add_argument("--fill-only", action="store_true", help="build and fill, measure nothing")
    ap.add_argument("--only", default="", help="comma list of command labels to run (default: all)")
    ap.add_argument("--check-real", action="store_true",
                    help="also fill a second store with the model itself (timed) and compare `entities` outputs")
    args = ap.parse_args(argv)
    sizes = args.sizes or [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",") if s.strip()]
    base = args.dir or Path(tempfile.mkdtemp(prefix="newsctl-bench-store-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"# entities and cooccur from a filled store; {os.cpu_count()} CPUs; {sys.version.split()[0]}; "
          "one run each; store filled synthetically (see the script)")
    print(f"{'stories':>9} {'MB':>6}  {'command':<28} {'seconds':>8} {'peak MB':>8}")
    try:
        for n in sizes:
            directory = base / f"stories-{n}"
            store = base / f"store-{n}.sqlite"
            marker = directory / ".complete"
            if not (args.keep and marker.exists()):
                if directory.exists():
                    shutil.rmtree(directory)
                for p in base.glob(f"store-{n}.sqlite*"):
                    p.unlink()
                t0 = time.perf_counter()
                build_corpus(directory, n)
                marker.write_text("ok\n")
                print(f"# built {n:,} stories in {time.perf_counter() - t0:.0f} s", flush=True)
            nbytes = sum(p.stat().st_size for p in corpus_files(directory))
            # The fill loads the model: it runs in a spawned process, so that this process stays small;
            # a child forked from a big parent would report the parent's peak RSS as its own (wait4).
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                c = pool.submit(fill_synthetic, directory, store).result()
            if c["files"]:
                print(f"# synthetic fill of {n:,} stories: {c['files']:,} files, {c['sentences']:,} sentences, "
                      f"{c['mentions']:,} mentions in {c['seconds']:.0f} s "
                      f"({c['model_pieces']:,} distinct pieces through the model)", flush=True)
            if args.check_real:
                real = base / f"store-{n}-real.sqlite"
                if not real.exists():
                    t0 = time.perf_counter()
                    seconds, peak = measure([NEWSCTL, "entities", str(directory), "--store", str(real), "-f", "tsv",
                                             "-j", "2"])
                    words = sum(len(p.read_text(encoding="utf-8").split()) for p in corpus_files(directory))
                    print(f"# REAL model fill of {n:,} stories ({words:,} words, -j 2): {seconds:.0f} s, "
                          f"{words / seconds:,.0f} words/s; projected for 1,000,000 stories: "
                          f"{seconds * 1_000_000 / n / 3600:.1f} h", flush=True)
                    with sqlite3.connect(real) as conn:
                        rows = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
                    print(f"# the real fill stored the page rows of {rows:,} of {len(corpus_files(directory)):,} "
                          "files (the synthetic fill stores none)", flush=True)
                    seconds, peak = measure([NEWSCTL, "entities", str(directory), "--store", str(real), "-f", "tsv",
                                             "-j", "1"])
                    print(f"# entities right after the real fill: {seconds:.2f} s, {peak:.0f} MB", flush=True)
                a = run_out([NEWSCTL, "entities", str(directory), "--store", str(store), "-f", "tsv"])
                b = run_out([NEWSCTL, "entities", str(directory), "--store", str(real), "-f", "tsv"])
                la, lb = a.decode().splitlines(), b.decode().splitlines()
                same = sum(1 for x, y in zip(la, lb) if x == y)
                print(f"# entities, synthetic vs real store: {len(la)} vs {len(lb)} rows, {same} identical "
                      f"in place, top-20 identical: {la[:21] == lb[:21]}", flush=True)
            if args.fill_only:
                continue
            wanted = {s.strip() for s in args.only.split(",") if s.strip()}
            with tempfile.TemporaryDirectory() as out:
                for label, cmd in commands(str(directory), str(store), Path(out)):
                    if wanted and label not in wanted:
                        continue
                    if label.startswith("entities first run"):
                        forget_pages(str(store))
                    seconds, peak = measure(cmd)
                    print(f"{n:>9,} {nbytes / 1e6:>6.0f}  {label:<28} {seconds:>8.2f} {peak:>8.0f}", flush=True)
            if not args.keep:
                shutil.rmtree(directory)
                for p in base.glob(f"store-{n}*.sqlite*"):
                    p.unlink()
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
