"""`make bench`: throughput and cache numbers for newsctl (not a test).

Builds a corpus of >= 200,000 words from the CoNLL-2002 sentences in
../shared (or reuses build/bench/corpus), then measures, in one run:

* `newsctl entities --no-cache` end to end, against a bare `nlp.pipe` over the
  same paragraph texts with the same model (both as fresh processes, both
  paying for Python, spaCy and model loading);
* a first run filling a fresh store and a second, cached run;
* `newsctl cooccur` over the cached store;
* `newsctl search` (scripts/bench_search.py), when present;
* how often the ensemble's last member is skipped (its first two agreed);
* `--jobs N` side by side for N = 1 .. the CPUs this process may use, on a
  corpus of >= 300,000 words (build/bench/corpus-jobs), with the start-up cost
  of the local executor and the store's write rate (see ``jobs_scaling``).
* with `--memory`, the peak memory of `newsctl datelines` on a single 100 MB
  and 500 MB file (:func:`datelines_memory`; minutes).

Results go to stdout and build/bench/report.json. ``--jobs-only`` runs the
last part alone; NEWSCTL_BENCH_JOBS_WORDS sets its corpus size (a tiny size
checks that the script works, its figures mean nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
OUT = ROOT / "build" / "bench"
SHARED = ROOT.parent / "shared" / "corpora" / "conll2002"
EXE = str(Path(sys.executable).parent / "newsctl")

BARE = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import spacy
path = Path(sys.argv[1])
texts = json.load(open(sys.argv[2], encoding="utf-8"))
# The bundled model is an ensemble: the bare baseline runs each member's own
# nlp.pipe over the texts (no voting, no sentencizer, no newsctl).
if (path / "ensemble.json").exists():
    members = [path / m for m in json.loads((path / "ensemble.json").read_text())["members"]]
else:
    members = [path]
n = 0
import numpy
for member in members:
    nlp = spacy.load(member)
    for _, proc in nlp.pipeline:  # the bundled members store float16 weights
        for node in proc.model.walk():
            for p in node.param_names:
                if node.has_param(p) and node.get_param(p).dtype == numpy.float16:
                    node.set_param(p, node.get_param(p).astype(numpy.float32))
    for doc in nlp.pipe(texts, batch_size=128):
        n += len(doc.ents)
print(json.dumps({"seconds": time.perf_counter() - t0, "ents": n}))
"""

def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def best_of(n: int, fn) -> float:
    return min(fn() for _ in range(n))


def cooccur_scaling(n_stories: int = 100_000, vocab: int = 20_000, seed: int = 3) -> dict:
    """Time the pair counting alone on 100,000 synthetic stories (Zipf-distributed entities)."""
    import random

    from analysis.cooccurrence import count_cooccurrence, select_pairs

    rng = random.Random(seed)
    names = [f"E{i}" for i in range(vocab)]
    weights = [1 / (i + 1) for i in range(vocab)]
    units = [(f"s{k}", set(rng.choices(names, weights, k=rng.randint(2, 14)))) for k in range(n_stories)]
    labels = {n: "PER" for n in names}
    t0 = time.perf_counter()
    co = count_cooccurrence(iter(units), labels)
    rows = select_pairs(co, min_count=2)
    seconds = time.perf_counter() - t0
    return {"cooccur_100k_stories_s": round(seconds, 2), "cooccur_100k_pairs": len(co.pair_units),
            "cooccur_100k_pairs_min2": len(rows)}


def store_write_rate(files: int = 2_000, sentences: int = 25, mentions: int = 40) -> dict:
    """Files and rows per second that Store.put_annotations takes (one transaction per file).

    Defaults are about one bench page: 7 stories, 25 sentences, 40 mentions.
    """
    import tempfile

    from analysis.store import StoredMention, StoredSentence, open_store

    sents = [StoredSentence(k % 7, k, 100 * k, 100 * k + 90) for k in range(sentences)]
    ments = [StoredMention(k % 7, k % sentences, 60 * k, 60 * k + 12, "PER") for k in range(mentions)]
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "s.sqlite") as st:
        t0 = time.perf_counter()
        for k in range(files):
            st.put_annotations(f"{k:064x}", "bench", sents, ments)
        seconds = time.perf_counter() - t0
    return {"store_files_per_s": round(files / seconds), "store_rows_per_s": round(files * (1 + sentences + mentions) / seconds)}


def jobs_scaling(env: dict) -> dict:
    """`newsctl entities --no-cache -j N` for N = 1 .. CPUs, side by side on >= 300,000 words."""
    from benchcorpus import make_corpus

    from analysis.corpus import load_corpus
    from analysis.nlp import resolve_model
    from analysis.parallel import available_cpus, measure_local_start, worker_spec

    min_words = int(os.environ.get("NEWSCTL_BENCH_JOBS_WORDS", "300000"))
    corpus_dir = OUT / f"corpus-jobs-{min_words}"
    if not corpus_dir.exists():
        if not SHARED.exists():
            print("needs ../shared/corpora/conll2002 to build the benchmark corpus", file=sys.stderr)
            return {}
        make_corpus(corpus_dir, [SHARED / "ned.train", SHARED / "ned.testa"], min_words=min_words)
    corpus = load_corpus([str(corpus_dir)])
    words = sum(len(d.text.split()) for d, _ in corpus.pages)
    ref = resolve_model(os.environ.get("NEWSCTL_MODEL"))
    cpus = available_cpus()
    print(f"--jobs corpus: {len(corpus.pages)} files, {words} words; {cpus} CPUs; model {ref.name}")

    # Start-up: a fresh process loading the model, against a pool of N workers all holding it.
    load = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from analysis.nlp import "
            "resolve_model, load_pipeline; load_pipeline(resolve_model(sys.argv[2]))", str(ROOT), str(ref.path)]
    in_process = best_of(2, lambda: timed(load, env=env))
    spec = worker_spec(ref)
    report: dict = {"jobs_corpus_words": words, "cpus": cpus, "model_load_fresh_process_s": round(in_process, 2)}
    for n in range(1, cpus + 1):
        report[f"local_pool_{n}_ready_s"] = round(min(measure_local_start(spec, n) for _ in range(2)), 2)

    outputs = {}

    def run(n: int) -> float:
        cmd = [EXE, "entities", str(corpus_dir), "--no-cache", "-f", "tsv", "-m", str(ref.path), "-j", str(n)]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, check=True, capture_output=True, env=env)
        outputs[n] = res.stdout
        return time.perf_counter() - t0

    runs = int(os.environ.get("NEWSCTL_BENCH_REPEAT", "2"))
    seconds = {n: [] for n in range(1, cpus + 1)}
    for r in range(runs):  # interleaved, alternating direction: drift hits every N alike
        order = range(1, cpus + 1) if r % 2 == 0 else range(cpus, 0, -1)
        for n in order:
            seconds[n].append(run(n))
    best = {n: min(v) for n, v in seconds.items()}
    print(f"{'--jobs':>6} {'seconds':>8} {'words/s':>8} {'vs -j 1':>8}")
    for n in best:
        ratio = best[1] / best[n]
        print(f"{n:>6} {best[n]:8.1f} {words / best[n]:8.0f} {ratio:7.2f}x")
        report[f"jobs_{n}_s"] = round(best[n], 2)
        report[f"jobs_{n}_wps"] = round(words / best[n])
        report[f"jobs_{n}_speedup"] = round(ratio, 2)
    report["jobs_outputs_identical"] = len(set(outputs.values())) == 1
    report.update(store_write_rate())
    return report


def ensemble_skips(corpus, ref) -> dict:
    """Texts each member of an ensemble read over the bench paragraphs, in newsctl's batches of 32.

    The last member runs only where the first ones disagree (``analysis.nlp.decided``);
    measured in this process with the model loaded, after the timings.
    """
    from analysis.entities import text_units
    from analysis.nlp import load_pipeline
    from analysis.parallel import BATCH_UNITS
    from analysis.textnorm import nfc

    nlp = load_pipeline(ref)
    if not hasattr(nlp, "runs"):
        return {}
    texts = [nfc(u.text)[0] for i, (d, st) in enumerate(corpus.pages) for u in text_units(i, d, st)]
    before = list(nlp.runs)
    for _ in nlp.pipe(texts, batch_size=BATCH_UNITS):
        pass
    runs = [a - b for a, b in zip(nlp.runs, before)]
    return {"ensemble_member_texts": runs, "ensemble_last_member_skipped": round(1 - runs[-1] / runs[0], 3)}


PEAK_RSS = r"""
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux
"""


def datelines_memory(sizes_mb=(100, 500)) -> dict:
    """Peak RSS of `newsctl datelines` on one file of each size (seed pages repeated), in MiB.

    Optional (`scripts/bench.py --memory`): it writes each file under the
    system's temporary directory, takes minutes at 500 MB, and deletes the files.
    """
    import tempfile

    page = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))) + "\n"
    out = {}
    with tempfile.TemporaryDirectory(prefix="newsctl-bench-") as tmp:
        for mb in sizes_mb:
            path = Path(tmp) / f"single_{mb}mb.txt"
            with open(path, "w", encoding="utf-8") as fh:
                for _ in range(mb * 1_000_000 // len(page.encode()) + 1):
                    fh.write(page)
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", PEAK_RSS, EXE, "datelines", str(path), "-f", "tsv"],
                                 check=True, capture_output=True, text=True)
            out[f"datelines_{mb}mb_peak_rss_mib"] = round(int(res.stdout.split()[-1]) / 1024)
            out[f"datelines_{mb}mb_s"] = round(time.perf_counter() - t0, 1)
            path.unlink()
    return out


def main() -> int:
    from benchcorpus import make_corpus

    if "--jobs-only" in sys.argv:
        report = jobs_scaling({**os.environ, "OMP_NUM_THREADS": "1"})
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "report-jobs.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        for k, v in report.items():
            print(f"{k:36} {v}")
        return 0 if report else 2

    from analysis.corpus import load_corpus
    from analysis.entities import paragraphs
    from analysis.nlp import resolve_model

    corpus_dir = OUT / "corpus"
    if not corpus_dir.exists():
        if not SHARED.exists():
            print("needs ../shared/corpora/conll2002 to build the benchmark corpus", file=sys.stderr)
            return 2
        files, stories, words = make_corpus(corpus_dir, [SHARED / "ned.train", SHARED / "ned.testa"])
    corpus = load_corpus([str(corpus_dir)])
    texts = [d.text[s:e] for d, st in corpus.pages for story in st for s, e in paragraphs(d, story)]
    words = sum(len(d.text.split()) for d, _ in corpus.pages)
    n_stories = sum(len(st) for _, st in corpus.pages)
    OUT.mkdir(parents=True, exist_ok=True)
    texts_file = OUT / "paragraphs.json"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    ref = resolve_model(os.environ.get("NEWSCTL_MODEL"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    print(f"corpus: {len(corpus.pages)} files, {n_stories} stories, {words} words; model {ref.name} ({ref.path})")

    bare_wall = best_of(2, lambda: timed([sys.executable, "-c", BARE, str(ref.path), str(texts_file)], env=env))
    # -j 1: one process, as the bare pipe (the --jobs scaling is measured on its own below)
    nocache = best_of(2, lambda: timed([EXE, "entities", str(corpus_dir), "--no-cache", "-f", "tsv", "-m", str(ref.path), "-j", "1"], env=env))
    store = OUT / "store.sqlite"
    for p in OUT.glob("store.sqlite*"):
        p.unlink()
    fill = timed([EXE, "entities", str(corpus_dir), "--store", str(store), "-f", "tsv", "-m", str(ref.path), "-j", "1"], env=env)
    cached = best_of(3, lambda: timed([EXE, "entities", str(corpus_dir), "--store", str(store), "-f", "tsv", "-m", str(ref.path)], env=env))
    cooc = best_of(3, lambda: timed([EXE, "cooccur", str(corpus_dir), "--store", str(store), "-f", "tsv", "-m", str(ref.path)], env=env))
    baseline = best_of(3, lambda: timed([sys.executable, "-c", "import typer, rich.console, rich.table"]))
    datelines = best_of(3, lambda: timed([EXE, "datelines", str(ROOT / "seeds"), "-f", "tsv"]))
    report = {
        "corpus": {"files": len(corpus.pages), "stories": n_stories, "words": words, "paragraphs": len(texts)},
        "model": {"name": ref.name, "key": ref.key},
        "bare_pipe_wall_s": round(bare_wall, 2),
        "bare_pipe_wps": round(words / bare_wall),
        "entities_nocache_s": round(nocache, 2),
        "entities_nocache_wps": round(words / nocache),
        "entities_vs_bare_slowdown": round(nocache / bare_wall - 1, 3),
        "entities_first_run_with_store_s": round(fill, 2),
        "entities_cached_s": round(cached, 3),
        "cache_speedup_vs_nocache": round(nocache / cached, 1),
        "cooccur_cached_s": round(cooc, 3),
        "datelines_seeds_s": round(datelines, 3),
        "import_typer_rich_s": round(baseline, 3),
        "datelines_vs_import_ratio": round(datelines / baseline, 2),
    }
    report.update(cooccur_scaling())
    report.update(jobs_scaling(env))
    report.update(ensemble_skips(corpus, ref))
    if "--memory" in sys.argv:
        report.update(datelines_memory())
    search_bench = ROOT / "scripts" / "bench_search.py"
    if search_bench.exists() and "--no-search" not in sys.argv:
        res = subprocess.run([sys.executable, str(search_bench)], capture_output=True, text=True)
        print(res.stdout)
        report["search_output_tail"] = res.stdout[-2000:]
    (OUT / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for k, v in report.items():
        if k != "search_output_tail":
            print(f"{k:36} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
