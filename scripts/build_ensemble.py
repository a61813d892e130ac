"""Assemble the bundled NER model from trained member pipelines and report its accuracy.

Usage: python scripts/build_ensemble.py [--min-votes N] [--dest DIR] MEMBER_DIR...

Each member (a spaCy pipeline trained by scripts/train_model.py from a config
in training/members/) is copied with its weights stored as float16 (half the
size; newsctl computes in float32). The result, `analysis/ner_model/` by
default, holds `ensemble.json`, `meta.json`, the members, and
`training_report.json`: dev (ned.testa) precision/recall/F1, overall and per
label, for the ensemble and each member, words per second and size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT / "build" / "training" / "corpus" / "dev_s10.spacy"
DEST = ROOT / "analysis" / "ner_model"
VERSION = "0.2.0"


def dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 2)


def score(examples) -> dict:
    from spacy.scorer import Scorer

    s = Scorer.score_spans(examples, "ents")
    per = {lab: {"p": round(v["p"], 4), "r": round(v["r"], 4), "f": round(v["f"], 4)}
           for lab, v in sorted(s["ents_per_type"].items())}
    return {"precision": round(s["ents_p"], 4), "recall": round(s["ents_r"], 4), "f1": round(s["ents_f"], 4),
            "per_label": per}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("members", nargs="+", type=Path)
    ap.add_argument("--min-votes", type=int, default=2)
    ap.add_argument("--dest", type=Path, default=DEST)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy
    import spacy
    from spacy.tokens import Doc, DocBin, Span
    from spacy.training import Example

    from analysis.nlp import ModelRef, cast_weights, load_pipeline, vote_spans

    dest = args.dest.resolve()
    stage = dest.with_name(dest.name + ".new")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    names = []
    for k, src in enumerate(args.members):
        name = f"m{k}_{src.parent.name if src.name in ('model-best', 'final') else src.name}"
        nlp = spacy.load(src)
        cast_weights(nlp, numpy.float16)
        nlp.to_disk(stage / name)
        names.append(name)
    (stage / "ensemble.json").write_text(json.dumps({"members": names, "min_votes": args.min_votes}, indent=2) + "\n")
    labels = sorted(spacy.load(stage / names[0]).get_pipe("ner").labels)
    meta = {
        "lang": "nl", "name": "newsctl_nl_ner", "version": VERSION, "spacy_version": f">={spacy.about.__version__}",
        "description": f"newsctl's Dutch named-entity recogniser (PER, ORG, LOC, MISC): {len(names)} small "
                       f"tok2vec + transition-based NER pipelines trained from scratch on CoNLL-2002 Dutch "
                       f"(ned.train, selected on ned.testa) voting on every span (at least {args.min_votes} "
                       "must agree). CPU, no vectors.",
        "pipeline": ["ner"], "labels": {"ner": labels},
        "sources": [{"name": "CoNLL-2002 Dutch (De Morgen, 2000)", "author": "Tjong Kim Sang, 2002"}],
        "members": names, "min_votes": args.min_votes,
    }
    (stage / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    # Accuracy on ned.testa with its gold tokenisation, exact spans, micro-averaged.
    ref = ModelRef("bundled", stage, "bundled", meta)
    ensemble = load_pipeline(ref)
    gold = list(DocBin().from_disk(DEV).get_docs(ensemble.members[0].vocab))

    def predict(nlp, g):
        d = Doc(nlp.vocab, words=[t.text for t in g], spaces=[bool(t.whitespace_) for t in g])
        for _, proc in nlp.pipeline:
            if proc.__class__.__name__ != "Sentencizer":
                d = proc(d)
        return [(e.start, e.end, e.label_) for e in d.ents]

    preds = [[predict(m, g) for g in gold] for m in ensemble.members]

    def examples(spans_per_doc):
        out = []
        for g, spans in zip(gold, spans_per_doc):
            d = Doc(g.vocab, words=[t.text for t in g], spaces=[bool(t.whitespace_) for t in g])
            d.ents = [Span(d, s, e, label=lab) for s, e, lab in spans]
            out.append(Example(d, g))
        return out

    members_report = {n: score(examples(p)) for n, p in zip(names, preds)}
    dev = score(examples([vote_spans([p[i] for p in preds], args.min_votes) for i in range(len(gold))]))
    texts = [g.text for g in gold]
    n_words = sum(len(t.split()) for t in texts)
    best = None
    for _ in range(2):
        t0 = time.perf_counter()
        for _ in ensemble.pipe(texts):
            pass
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    report = {
        "model": meta["name"], "version": VERSION, "spacy_version": spacy.about.__version__,
        "members": {n: {"source": str(src), "dev": members_report[n]} for n, src in zip(names, args.members)},
        "min_votes": args.min_votes,
        "dev_scoring": "ned.testa, gold CoNLL tokenisation, exact entity spans, micro-averaged",
        "dev_sentences": sum(1 for g in gold for _ in g.sents) if gold and gold[0].has_annotation("SENT_START") else None,
        "dev": dev,
        "words_per_second_cpu_1thread": round(n_words / best),
        "wps_measurement": f"VotingPipeline.pipe over {len(texts)} raw dev texts ({n_words} words), OMP_NUM_THREADS=1, best of 2",
        "size_mb": dir_mb(stage),
    }
    (stage / "training_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    stage.rename(dest)
    print(json.dumps({k: report[k] for k in ("dev", "words_per_second_cpu_1thread", "size_mb")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
