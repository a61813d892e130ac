#!/usr/bin/env python3
"""Train one Dutch NER pipeline from a config: a member of newsctl's bundled ensemble.

``make model`` runs this once per config in ``training/members/`` with
``--no-install`` and then ``scripts/build_ensemble.py``, which assembles the
members into ``analysis/ner_model/``. On its own::

    .venv/bin/python scripts/train_model.py --config training/ner.cfg   # best single model

Steps:

1. Read the CoNLL-2002 Dutch files (``ned.train`` for training, ``ned.testa``
   as the development set used for model selection; it is never trained on)
   and convert them to spaCy DocBins under ``build/training/corpus/``.
   Sentences are grouped into documents of at most ``--sents-per-doc``
   sentences, never crossing a ``-DOCSTART-`` article boundary.
   Optional case augmentation (``[newsctl] augment_upper`` /
   ``augment_title`` in the config): that fraction of training documents is
   added a second time in UPPER CASE / Title Case.
2. If the config has a filled ``[pretraining]`` section: ``spacy pretrain``
   the tok2vec layer (character objective) on raw Dutch text that is
   available locally -- the ned.train sentences and the UD Dutch ``# text =``
   sentences (never ned.testa) -- and initialise training from it.
   Then run ``spacy train`` with the committed config ``training/ner.cfg``
   and a fixed seed, single-threaded, into ``build/training/output/``.
   Training length is fixed by the config (max_steps), so the recipe is
   deterministic on a given machine.
3. Take ``model-best`` (best dev F1 during training), stamp the pipeline's
   meta (name, version, description, sources, labels), write it to a staging
   directory, evaluate it on ``ned.testa`` and write
   ``training_report.json`` into it, then swap it into ``--output``
   (default ``build/training/model/``) by renaming (the old model is only
   removed after the new one is in place).

Damaged tokens (see ``/work/shared/corpora/README.md``): in the original
files an accented letter and the character after it were mangled into
U+0081 followed by ``E``.  We *repair* them deterministically (``Repairer``):
two-field lines lose their fused POS tag, and each ``\\x81E`` is replaced by
the word found in a lexicon of correctly spelled Dutch words (the raw UD Dutch
sentences plus the undamaged ned.train tokens) that matches with one accented
letter (+ the lost character), the most frequent one if several, else by a single
accented letter (``ë`` after a vowel, else ``é``).  The NER tags are untouched.
The same repair is applied to the dev set, so tokens never contain U+0081,
which real input does not either.
"""
from __future__ import annotations

import os

# Single-threaded everything: must be set before numpy/thinc are imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import collections
import glob
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("NEWSCTL_CORPORA", REPO.parent / "shared" / "corpora"))
if not CORPORA.exists():
    CORPORA = Path("/work/shared/corpora")
DEFAULT_CONFIG = REPO / "training" / "ner.cfg"
BUILD = REPO / "build" / "training"
MODEL_DIR = REPO / "build" / "training" / "model"
LABELS = ("PER", "ORG", "LOC", "MISC")
MODEL_NAME = "newsctl_nl_ner"
MODEL_VERSION = "0.1.0"

DAMAGE = "\x81E"


# --------------------------------------------------------------------------
# Reading CoNLL-2002
# --------------------------------------------------------------------------

def read_conll(path: Path):
    """Yield articles; each article is a list of sentences [(tokens, tags)]."""
    article: list = []
    sent_toks: list[str] = []
    sent_tags: list[str] = []

    def flush_sent():
        nonlocal sent_toks, sent_tags
        if sent_toks:
            article.append((sent_toks, sent_tags))
        sent_toks, sent_tags = [], []

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            fields = line.split(" ")
            if not line.strip():
                flush_sent()
                continue
            if fields[0] == "-DOCSTART-":
                flush_sent()
                if article:
                    yield article
                article = []
                continue
            # Normally TOKEN POS TAG; ~600 damaged lines have TOKEN+POS TAG.
            token, tag = fields[0], fields[-1]
            sent_toks.append(token)
            sent_tags.append(tag)
    flush_sent()
    if article:
        yield article


# --------------------------------------------------------------------------
# Repairing U+0081 damage
# --------------------------------------------------------------------------

ACCENTED = "ëéèïüöäêáóúàçâôûíî"
POS_TAGS = ("Adj", "Adv", "Art", "Conj", "Int", "Misc", "N", "Num", "Prep", "Pron", "Punc", "V")


def build_lexicon(conll_paths) -> collections.Counter:
    lex: collections.Counter = collections.Counter()
    for path in sorted(glob.glob(str(CORPORA / "ud-dutch" / "*.conllu"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("# text = "):
                    lex.update(re.findall(r"[^\W\d_][\w'-]*", line[9:]))
    for p in conll_paths:
        for article in read_conll(p):
            for toks, _ in article:
                lex.update(t for t in toks if "\x81" not in t)
    return lex


class Repairer:
    def __init__(self, lexicon: collections.Counter):
        self.lex = lexicon
        self.lower = collections.Counter()
        for w, n in lexicon.items():
            self.lower[w.lower()] += n
        self.cache: dict[tuple[str, bool], str] = {}

    def _lookup(self, pattern: str):
        rx = re.compile(pattern, re.IGNORECASE)
        hits = []
        for w, n in self.lower.items():
            m = rx.fullmatch(w)
            if m:
                hits.append((n, w, m.groups()))
        if not hits:
            return None
        hits.sort(reverse=True)
        return hits[0][2]

    def repair(self, token: str, two_field: bool) -> str:
        key = (token, two_field)
        if key in self.cache:
            return self.cache[key]
        tok = token
        if two_field:
            # The fused POS tag follows the last damage mark: "Belgi\x81EN".
            idx = tok.rfind(DAMAGE)
            if idx >= 0:
                rest = tok[idx + len(DAMAGE):]
                if rest in POS_TAGS:
                    tok = tok[: idx + len(DAMAGE)]
        fixed = self._repair_word(tok, two_field)
        self.cache[key] = fixed
        return fixed

    def _repair_word(self, tok: str, two_field: bool) -> str:
        if DAMAGE not in tok:
            return tok.replace("\x81", "")
        parts = tok.split(DAMAGE)
        # Build a regex: every damage mark = one accented letter + maybe one
        # lost character (not lost when the mark ends a two-field token,
        # there the lost character was the space before the POS tag).
        rx = ""
        for i, part in enumerate(parts):
            rx += re.escape(part)
            if i < len(parts) - 1:
                at_end = i == len(parts) - 2 and parts[-1] == ""
                rx += f"([{ACCENTED}]" + (")" if (two_field and at_end) else ".?)")
        groups = self._lookup(rx)
        if groups is not None:
            # Keep the token's own letters (and case); fill in only the
            # letters the damage destroyed, taken from the lexicon word.
            out = parts[0]
            for fill, part in zip(groups, parts[1:]):
                if part[:1].isupper() or (out.isupper() and len(out) > 1):
                    fill = fill.upper()
                out += fill + part
            return out
        out = parts[0]
        for part in parts[1:]:
            prev = out[-1:].lower()
            out += ("ë" if prev and prev in "aeiou" else "é") + part
        return out


# --------------------------------------------------------------------------
# DocBins
# --------------------------------------------------------------------------

def load_sentences(path: Path, repairer: Repairer):
    """Articles of repaired sentences plus repair statistics."""
    articles = []
    n_fixed = 0
    examples = collections.Counter()
    for article in read_conll(path):
        new_article = []
        for toks, tags in article:
            new_toks = []
            for t in toks:
                if "\x81" in t:
                    two_field = any(t.endswith(DAMAGE + p) for p in POS_TAGS)
                    r = repairer.repair(t, two_field)
                    examples[(t, r)] += 1
                    n_fixed += 1
                    t = r
                new_toks.append(t)
            new_article.append((new_toks, tags))
        articles.append(new_article)
    return articles, n_fixed, examples


def chunk_docs(articles, sents_per_doc: int):
    for article in articles:
        for i in range(0, len(article), sents_per_doc):
            yield article[i : i + sents_per_doc]


def case_variant(word: str, mode: str) -> str:
    if mode == "upper":
        return word.upper()
    if mode == "title":
        return word[:1].upper() + word[1:].lower() if word[:1].isalpha() else word
    if mode == "lower":
        return word.lower()
    return word


def make_docbin(nlp, docs_sents, augment: dict | None = None, seed: int = 0):
    from spacy.tokens import Doc, DocBin

    rng = random.Random(seed)
    db = DocBin(store_user_data=False)
    n_docs = 0
    for sents in docs_sents:
        variants = [None]
        if augment:
            for mode, frac in augment.items():
                if frac > 0 and rng.random() < frac:
                    variants.append(mode)
        for mode in variants:
            words, tags, starts = [], [], []
            for toks, stags in sents:
                for j, (t, g) in enumerate(zip(toks, stags)):
                    words.append(case_variant(t, mode) if mode else t)
                    tags.append(g)
                    starts.append(j == 0)
            doc = Doc(nlp.vocab, words=words, spaces=[True] * len(words),
                      ents=tags, sent_starts=starts)
            db.add(doc)
            n_docs += 1
    return db, n_docs


def doc_text(sents) -> str:
    return "\n".join(" ".join(toks) for toks, _ in sents)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def evaluate(model_path: Path, dev_path: Path, dev_texts: list[str], wps_rounds: int = 3):
    import spacy
    from spacy.tokens import DocBin
    from spacy.training import Example

    nlp = spacy.load(model_path)
    gold_docs = list(DocBin().from_disk(dev_path).get_docs(nlp.vocab))
    # Score on the gold tokenisation (CoNLL tokens), exact spans, micro.
    examples = []
    for gold in gold_docs:
        pred = spacy.tokens.Doc(nlp.vocab, words=[t.text for t in gold],
                                spaces=[t.whitespace_ != "" for t in gold])
        examples.append(Example(pred, gold))
    scores = nlp.evaluate(examples, batch_size=64)
    per_type = {
        lab: {k: round(v, 4) for k, v in scores["ents_per_type"].get(lab, {}).items()}
        for lab in LABELS
    }
    # Throughput: raw dev texts through the full pipeline (tokenizer incl.),
    # one process, one thread. Best of a few rounds after a warm-up.
    list(nlp.pipe(dev_texts[:20]))
    best = 0.0
    n_words = 0
    for _ in range(wps_rounds):
        t0 = time.perf_counter()
        n_words = sum(len(d) for d in nlp.pipe(dev_texts, batch_size=64))
        dt = time.perf_counter() - t0
        best = max(best, n_words / dt)
    return {
        "precision": round(scores["ents_p"], 4),
        "recall": round(scores["ents_r"], 4),
        "f1": round(scores["ents_f"], 4),
        "per_label": per_type,
    }, round(best), n_words


def dir_size_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return round(total / 1e6, 2)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                    help="spaCy training config (default: training/ner.cfg)")
    ap.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop training after this many minutes (0 = let the "
                         "config's max_steps/patience decide); the best "
                         "checkpoint so far is used")
    ap.add_argument("--sents-per-doc", type=int, default=10)
    ap.add_argument("--augment-upper", type=float, default=None,
                    help="fraction of training docs added again in UPPER CASE "
                         "(default: [newsctl] augment_upper in the config, else 0)")
    ap.add_argument("--augment-title", type=float, default=None,
                    help="fraction of training docs added again in Title Case "
                         "(default: from the config, else 0)")
    ap.add_argument("--build-dir", type=Path, default=BUILD)
    ap.add_argument("--output", type=Path, default=MODEL_DIR,
                    help="where the final pipeline goes (default build/training/model)")
    ap.add_argument("--no-install", action="store_true",
                    help="train and evaluate, but leave --output untouched "
                         "(report written next to model-best)")
    ap.add_argument("--skip-train", action="store_true",
                    help="reuse an existing build-dir/output/model-best")
    ap.add_argument("--tag", default=None, help="name of this run (default: config stem)")
    return ap.parse_args(argv)


def read_newsctl_section(config_path: Path) -> dict:
    """Optional [newsctl] section in the config holding recipe settings
    that spaCy itself does not know about (data augmentation)."""
    import configparser

    cp = configparser.ConfigParser(interpolation=None)
    cp.read(config_path, encoding="utf-8")
    if not cp.has_section("newsctl"):
        return {}
    return {k: json.loads(v) for k, v in cp.items("newsctl")}


def has_pretraining(config_path: Path) -> bool:
    from thinc.api import Config

    cfg = Config().from_disk(config_path, interpolate=False)
    return bool(cfg.get("pretraining"))


def pretrain_key(config_path: Path, raw_path: Path, seed: int) -> str:
    import hashlib

    from thinc.api import Config

    cfg = Config().from_disk(config_path, interpolate=False)
    h = hashlib.sha256()
    for section in ("pretraining", "components"):
        h.update(json.dumps(cfg.get(section, {}).get("tok2vec", {}) if section == "components"
                            else cfg.get(section, {}), sort_keys=True).encode())
    h.update(raw_path.read_bytes())
    h.update(str(seed).encode())
    return h.hexdigest()[:16]


def write_raw_text(path: Path, train_articles) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for article in train_articles:
            for toks, _ in article:
                fh.write(json.dumps({"text": " ".join(toks)}, ensure_ascii=False) + "\n")
                n += 1
        for conllu in sorted(glob.glob(str(CORPORA / "ud-dutch" / "*.conllu"))):
            with open(conllu, encoding="utf-8") as src:
                for line in src:
                    if line.startswith("# text = "):
                        fh.write(json.dumps({"text": line[9:].strip()}, ensure_ascii=False) + "\n")
                        n += 1
    return n


def main(argv=None) -> int:
    args = parse_args(argv)
    import spacy

    config_path = args.config.resolve()
    tag = args.tag or config_path.stem
    build = args.build_dir.resolve()
    corpus_dir = build / "corpus"
    out_dir = build / "output" / tag
    corpus_dir.mkdir(parents=True, exist_ok=True)
    recipe = read_newsctl_section(config_path)
    aug_upper = args.augment_upper if args.augment_upper is not None else recipe.get("augment_upper", 0.0)
    aug_title = args.augment_title if args.augment_title is not None else recipe.get("augment_title", 0.0)

    train_file = CORPORA / "conll2002" / "ned.train"
    dev_file = CORPORA / "conll2002" / "ned.testa"
    print(f"[data] corpora: {CORPORA}", flush=True)
    # Spelling lexicon from UD Dutch text + undamaged ned.train tokens only.
    repairer = Repairer(build_lexicon([train_file]))
    train_articles, n_fix_train, ex_train = load_sentences(train_file, repairer)
    dev_articles, n_fix_dev, ex_dev = load_sentences(dev_file, repairer)
    n_train_sents = sum(len(a) for a in train_articles)
    n_dev_sents = sum(len(a) for a in dev_articles)
    print(f"[data] train: {len(train_articles)} articles, {n_train_sents} sentences, "
          f"{n_fix_train} repaired tokens; dev: {len(dev_articles)} articles, "
          f"{n_dev_sents} sentences, {n_fix_dev} repaired tokens", flush=True)
    with open(corpus_dir / "repairs.tsv", "w", encoding="utf-8") as fh:
        for (src, dst), n in (ex_train + ex_dev).most_common():
            fh.write(f"{src.encode('unicode_escape').decode()}\t{dst}\t{n}\n")

    blank = spacy.blank("nl")
    train_docs = list(chunk_docs(train_articles, args.sents_per_doc))
    dev_docs = list(chunk_docs(dev_articles, args.sents_per_doc))
    augment = {"upper": aug_upper, "title": aug_title}
    aug_tag = f"u{aug_upper:g}_t{aug_title:g}_s{args.sents_per_doc}"
    train_path = corpus_dir / f"train_{aug_tag}.spacy"
    dev_path = corpus_dir / f"dev_s{args.sents_per_doc}.spacy"
    db, n_train_docs = make_docbin(blank, train_docs, augment, seed=args.seed)
    db.to_disk(train_path)
    db, n_dev_docs = make_docbin(blank, dev_docs)
    db.to_disk(dev_path)
    dev_texts = [doc_text(s) for s in dev_docs]
    print(f"[data] {n_train_docs} train docs (augment {augment}), {n_dev_docs} dev docs", flush=True)

    train_seconds = None
    pretrain_seconds = None
    init_tok2vec = None
    if has_pretraining(config_path):
        # Optional: pretrain the tok2vec layer (spaCy's character objective)
        # on raw Dutch text available locally: the ned.train sentences and
        # the UD Dutch "# text =" sentences. ned.testa is not used.
        raw_path = corpus_dir / "pretrain_raw.jsonl"
        write_raw_text(raw_path, train_articles)
        # Cached by content: same tok2vec/pretraining settings, raw text and
        # seed give the same (deterministic) weights, so reuse them.
        pt_dir = build / "pretrain" / pretrain_key(config_path, raw_path, args.seed)
        init_tok2vec = pt_dir / "model-last.bin"
        if init_tok2vec.exists():
            print(f"[pretrain] reusing {init_tok2vec}", flush=True)
        elif not args.skip_train:
            if pt_dir.exists():
                shutil.rmtree(pt_dir)
            cmd = [sys.executable, "-m", "spacy", "pretrain", str(config_path), str(pt_dir),
                   "--paths.raw_text", str(raw_path), "--system.seed", str(args.seed)]
            print("[pretrain] " + " ".join(cmd), flush=True)
            t0 = time.time()
            subprocess.run(cmd, check=True)
            pretrain_seconds = round(time.time() - t0, 1)

    if not args.skip_train:
        if out_dir.exists():
            shutil.rmtree(out_dir)
        cmd = [sys.executable, "-m", "spacy", "train", str(config_path),
               "--output", str(out_dir),
               "--paths.train", str(train_path), "--paths.dev", str(dev_path),
               "--system.seed", str(args.seed), "--gpu-id", "-1"]
        if init_tok2vec is not None:
            cmd += ["--paths.init_tok2vec", str(init_tok2vec)]
        print("[train] " + " ".join(cmd), flush=True)
        t0 = time.time()
        proc = subprocess.Popen(cmd, start_new_session=True)
        try:
            proc.wait(timeout=args.max_minutes * 60 if args.max_minutes else None)
        except subprocess.TimeoutExpired:
            print(f"[train] --max-minutes {args.max_minutes} reached, stopping", flush=True)
            # Let a checkpoint being written finish: wait until model-best is
            # stable, then stop the trainer.
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
        train_seconds = round(time.time() - t0, 1)
        if not (out_dir / "model-best" / "meta.json").exists():
            print("[train] no model-best produced", file=sys.stderr)
            return 1

    best = out_dir / "model-best"
    nlp = spacy.load(best)
    labels = sorted(nlp.get_pipe("ner").labels)
    assert set(labels) == set(LABELS), labels
    nlp.meta.update({
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "description": "newsctl's small Dutch named-entity recogniser (PER, ORG, LOC, MISC): "
                       "nl tokenizer + tok2vec-based transition NER, trained from scratch on "
                       "CoNLL-2002 Dutch ned.train, selected on ned.testa. CPU, no vectors.",
        "author": "newsctl",
        "license": "research use (CoNLL-2002 data)",
        "sources": [
            {"name": "CoNLL-2002 shared task, Dutch (De Morgen, 2000; University of Antwerp)",
             "url": "https://www.clips.uantwerpen.be/conll2002/ner/",
             "author": "Erik F. Tjong Kim Sang",
             "license": "freely available for research use"},
        ],
        "labels": {"ner": labels},
    })
    stage = build / "stage" / tag
    if stage.exists():
        shutil.rmtree(stage)
    stage.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(stage)

    print("[eval] evaluating on ned.testa ...", flush=True)
    scores, wps, n_words = evaluate(stage, dev_path, dev_texts)
    size_mb = dir_size_mb(stage)
    train_info = {}
    meta_best = json.loads((best / "meta.json").read_text())
    if "performance" in meta_best:
        train_info["spacy_dev_scores"] = meta_best["performance"]
    report = {
        "model": MODEL_NAME,
        "version": MODEL_VERSION,
        "spacy_version": spacy.__version__,
        "pipeline": nlp.pipe_names,
        "labels": labels,
        "config": str(config_path.relative_to(REPO)) if config_path.is_relative_to(REPO) else str(config_path),
        "run": tag,
        "seed": args.seed,
        "augmentation": {"upper_fraction": aug_upper, "title_fraction": aug_title},
        "sentences_per_doc": args.sents_per_doc,
        "train_sentences": n_train_sents,
        "train_docs": n_train_docs,
        "dev_sentences": n_dev_sents,
        "dev_docs": n_dev_docs,
        "damaged_tokens_repaired": {"train": n_fix_train, "dev": n_fix_dev},
        "training_seconds": train_seconds,
        "training_minutes": round(train_seconds / 60, 1) if train_seconds else None,
        "pretraining_seconds": pretrain_seconds,
        "pretrained_tok2vec": init_tok2vec is not None,
        "dev": scores,
        "dev_scoring": "ned.testa, gold CoNLL tokenisation, exact entity spans, micro-averaged",
        "words_per_second_cpu_1thread": wps,
        "wps_measurement": f"nlp.pipe over {len(dev_texts)} raw dev texts ({n_words} tokens incl. "
                           "tokenizer), OMP/MKL/OPENBLAS_NUM_THREADS=1, best of 3",
        "size_mb": size_mb,
    }
    (stage / "training_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: report[k] for k in ("dev", "words_per_second_cpu_1thread", "size_mb", "training_minutes")}, indent=1), flush=True)

    if args.no_install:
        dest = out_dir / "final"
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(stage, dest)
        print(f"[done] model (not installed) at {dest}")
        return 0
    # Atomic-ish swap into place: rename old away, rename staged in.
    dest = args.output.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = build / "stage" / (tag + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        os.rename(dest, old)
    os.rename(stage, dest)
    if old.exists():
        shutil.rmtree(old)
    print(f"[done] installed model at {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
