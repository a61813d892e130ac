#!/usr/bin/env python3
"""Score newsctl's entity pipeline, as shipped, on CoNLL-2002 Dutch ned.testa.

Usage: python scripts/eval_ner.py [--upper | --both | --gold] [--disable FEATURES] [--member NAME] [--json FILE]

Every ned.testa article becomes an in-memory page (one sentence per line,
tokens joined by spaces) and goes through exactly what ``newsctl entities``
runs: ``analysis.entities.annotate`` (model input preparation, the bundled
ensemble, one sense per page, the knowledge post-processing) and
``resolve_names`` (canonical names, one label per entity across the corpus).
Predicted mentions are compared with the gold entities as character spans:

* labelled: exact span and label, micro-averaged, with P/R/F1 per label;
* span only: exact span whatever the label (how many points are lost to
  wrong labels);
* ``--upper``: the same on the dev set with every token upper-cased.

``--gold`` scores the hand-written pages of current news in
``tests/data/gold_news.txt`` instead: the share of marked names found with
the right span and label.

``--member`` scores one member of the bundled ensemble alone (its directory
name in ``analysis/ner_model``, e.g. ``m2_w128_d6_lead``) with the same
post-processing: the single-model route.

``--disable`` switches knowledge features off by name (see
``analysis.knowledge.FEATURES``) to measure what each one buys. Model output
is cached in ``build/eval/store.sqlite`` (keyed like the product's store), so
a rerun with other post-processing costs seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import tempfile
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
BUILD = ROOT / "build" / "eval"
LABELS = ("PER", "ORG", "LOC", "MISC")


def dev_articles():
    """ned.testa articles as lists of (tokens, tags), damaged tokens repaired as in training."""
    import train_model as tm

    cache = BUILD / "testa_repaired.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    train_file = tm.CORPORA / "conll2002" / "ned.train"
    dev_file = tm.CORPORA / "conll2002" / "ned.testa"
    repairer = tm.Repairer(tm.build_lexicon([train_file]))
    articles, _, _ = tm.load_sentences(dev_file, repairer)
    BUILD.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    return articles


def gold_page(article, upper: bool):
    """Page text and gold ``(start, end, label)`` spans."""
    lines, spans = [], []
    pos = 0
    for toks, tags in article:
        offsets = []
        for k, t in enumerate(toks):
            if upper:
                up = t.upper()
                t = up if len(up) == len(t) else t
            offsets.append((pos, pos + len(t)))
            pos += len(t) + 1
            toks[k] = t
        lines.append(" ".join(toks))
        cur = None
        for (s, e), tag in zip(offsets, tags):
            if tag.startswith("B-") or (tag.startswith("I-") and (cur is None or cur[2] != tag[2:])):
                if cur:
                    spans.append(tuple(cur))
                cur = [s, e, tag[2:]]
            elif tag.startswith("I-"):
                cur[1] = e
            else:
                if cur:
                    spans.append(tuple(cur))
                cur = None
        if cur:
            spans.append(tuple(cur))
    return "\n".join(lines) + "\n", spans


def make_corpus(articles, upper: bool):
    from analysis.corpus import Corpus
    from analysis.reader import Document
    from analysis.stories import LEAD, Story

    corpus = Corpus()
    gold = {}
    for i, art in enumerate(articles):
        art = [(list(t), list(g)) for t, g in art]
        text, spans = gold_page(art, upper)
        path = f"testa/{i:03d}.txt"
        doc = Document(path, text, "utf-8", hashlib.sha256(text.encode()).hexdigest())
        story = Story(f"testa{i:03d}", path, 0, LEAD, None, 0, len(text), text.split("\n", 1)[0], 0)
        corpus.pages.append((doc, [story]))
        gold[path] = spans
    return corpus, gold


def prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f": round(f, 4)}


def score(pred: dict, gold: dict) -> dict:
    tp = Counter()
    npred = Counter()
    ngold = Counter()
    span_tp = 0
    for path, g in gold.items():
        p = set(pred.get(path, ()))
        g = set(g)
        for s in p:
            npred[s[2]] += 1
        for s in g:
            ngold[s[2]] += 1
        for s in p & g:
            tp[s[2]] += 1
        span_tp += len({(s, e) for s, e, _ in p} & {(s, e) for s, e, _ in g})
    total = prf(sum(tp.values()), sum(npred.values()), sum(ngold.values()))
    span = prf(span_tp, sum(npred.values()), sum(ngold.values()))
    return {
        "labelled": total,
        "span_only": span,
        "right_span_wrong_label": span_tp - sum(tp.values()),
        "per_label": {lab: prf(tp[lab], npred[lab], ngold[lab]) for lab in LABELS},
        "gold": sum(ngold.values()),
        "predicted": sum(npred.values()),
    }


MEMBER: str | None = None


def model_ref():
    """The bundled ensemble, or one of its members with ``--member``."""
    from analysis.nlp import BUNDLED_DIR, bundled_ref, resolve_model

    return resolve_model(str(BUNDLED_DIR / MEMBER)) if MEMBER else bundled_ref()


def run(upper: bool, store_path: Path | None) -> tuple[dict, float, int]:
    from analysis.entities import annotate, resolve_names
    from analysis.store import open_store

    corpus, gold = make_corpus(dev_articles(), upper)
    store = open_store(store_path) if store_path else None
    t0 = time.perf_counter()
    try:
        annotated = annotate(corpus, model_ref=model_ref(), store=store)
    finally:
        if store is not None:
            store.close()
    resolve_names(annotated)
    seconds = time.perf_counter() - t0
    pred: dict[str, set] = {}
    for m in annotated.mentions():
        if m.source == "model":
            pred.setdefault(m.file, set()).add((m.start, m.end, m.label))
    words = sum(len(d.text.split()) for d, _ in corpus.pages)
    return score(pred, gold), seconds, words


GOLD = ROOT / "tests" / "data" / "gold_news.txt"
_MARK = re.compile(r"\{([^{}|]+)\|(PER|ORG|LOC)\}")


def gold_pages(path: Path = GOLD) -> list[tuple[str, str, list[tuple[int, int, str]]]]:
    """``(name, text, gold spans)`` per page of the gold news file."""
    pages = []
    name, lines = None, []
    for line in path.read_text(encoding="utf-8").splitlines() + ["=== end"]:
        if line.startswith("#"):
            continue
        if line.startswith("=== "):
            if name is not None:
                raw = "\n\n".join(lines) + "\n"
                spans, out, pos = [], [], 0
                for m in _MARK.finditer(raw):
                    out.append(raw[pos:m.start()])
                    start = sum(len(x) for x in out)
                    out.append(m.group(1))
                    spans.append((start, start + len(m.group(1)), m.group(2)))
                    pos = m.end()
                out.append(raw[pos:])
                pages.append((name, "".join(out), spans))
            name, lines = line[4:].strip(), []
        elif line.strip():
            lines.append(line)
    return pages


def score_gold(tmp: Path, path: Path = GOLD) -> dict:
    """Run ``newsctl entities``' pipeline on the gold pages; share of gold names found with the right label."""
    from analysis.corpus import load_corpus
    from analysis.entities import annotate, resolve_names

    pages = gold_pages(path)
    files = []
    for name, text, _ in pages:
        f = tmp / f"{name}.txt"
        f.write_text(text, encoding="utf-8")
        files.append(str(f))
    annotated = annotate(load_corpus(files), model_ref=model_ref(), store=None)
    resolve_names(annotated)
    found: dict[str, dict[tuple[int, int], str]] = {}
    for m in annotated.mentions():
        found.setdefault(Path(m.file).stem, {})[(m.start, m.end)] = m.label
    total = right = span = 0
    misses = []
    by_label = Counter()
    right_by_label = Counter()
    for name, text, spans in pages:
        got = found.get(name, {})
        for s, e, label in spans:
            total += 1
            by_label[label] += 1
            if (s, e) in got:
                span += 1
                if got[(s, e)] == label:
                    right += 1
                    right_by_label[label] += 1
                    continue
            misses.append(f"{text[s:e]} ({label}: {got.get((s, e), 'missed')})")
    return {"names": total, "right_label": round(right / total, 3), "right_span": round(span / total, 3),
            "per_label": {k: f"{right_by_label[k]}/{by_label[k]}" for k in ("PER", "ORG", "LOC")},
            "misses": misses}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upper", action="store_true", help="only the upper-cased dev set")
    ap.add_argument("--both", action="store_true", help="the dev set and its upper-cased copy")
    ap.add_argument("--disable", default="", help="knowledge features to switch off, comma-separated")
    ap.add_argument("--no-cache", action="store_true", help="run the model (no store); reports words/s")
    ap.add_argument("--json", type=Path, help="write the scores here")
    ap.add_argument("--gold", action="store_true", help="only the gold news pages in tests/data/gold_news.txt")
    ap.add_argument("--member", help="score one member of the bundled ensemble alone (e.g. m2_w128_d6_lead)")
    args = ap.parse_args()
    global MEMBER
    MEMBER = args.member
    if args.gold:
        for name in filter(None, args.disable.split(",")):
            from analysis import knowledge

            knowledge.disable(name)
        with tempfile.TemporaryDirectory() as tmp:
            result = score_gold(Path(tmp))
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    for name in filter(None, args.disable.split(",")):
        from analysis import knowledge

        knowledge.disable(name)
    store = None if args.no_cache else BUILD / "store.sqlite"
    BUILD.mkdir(parents=True, exist_ok=True)
    out = {}
    variants = [True] if args.upper else ([False, True] if args.both else [False])
    for upper in variants:
        key = "dev_upper" if upper else "dev"
        scores, seconds, words = run(upper, store)
        scores["seconds"] = round(seconds, 1)
        if args.no_cache:
            scores["words_per_second"] = round(words / seconds)
        out[key] = scores
        lab = scores["labelled"]
        print(f"{key}: F1 {lab['f']:.4f} (P {lab['p']:.4f} R {lab['r']:.4f}); span-only F1 "
              f"{scores['span_only']['f']:.4f}; right span wrong label {scores['right_span_wrong_label']}; "
              f"{seconds:.1f} s")
        print("   " + "  ".join(f"{k} {v['p']:.3f}/{v['r']:.3f}/{v['f']:.3f}" for k, v in scores["per_label"].items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
