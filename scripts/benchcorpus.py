"""Make a benchmark corpus in the seed page format from CoNLL-2002 Dutch sentences.

Each page: a headline, a lead with a dateline and a few paragraphs, and a
"Meer uit Buitenland" digest of items with datelines and glued ages.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

PLACES = ["AMSTERDAM", "DEN HAAG", "BRUSSEL", "ANTWERPEN", "PARIJS", "BERLIJN", "LONDEN", "WASHINGTON",
          "MOSKOU", "KYIV", "ROTTERDAM", "'S-HERTOGENBOSCH", "MEXICO-STAD", "FORT WORTH", "GENÈVE", "NEW YORK"]
AGENCIES = ["ANP", "ANP/RTR", "ANP/AFP", "ANP/DPA", "ANP/AFP/RTR", "ANP/BELGA"]
AGES = ["1 minuut geleden", "13 minuten geleden", "1 uur geleden", "5 uur geleden", "2 dagen geleden"]


def conll_sentences(path: Path) -> list[str]:
    sents, words = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if words:
                sents.append(detokenise(words))
                words = []
            continue
        if parts[0] == "-DOCSTART-":
            continue
        words.append(parts[0].replace("\x81", "é"))
    if words:
        sents.append(detokenise(words))
    return [s for s in sents if len(s.split()) >= 3]


def detokenise(words: list[str]) -> str:
    text = " ".join(words)
    text = re.sub(r" ([.,:;!?)%])", r"\1", text)
    text = re.sub(r"([(]) ", r"\1", text)
    return text


def make_corpus(dest: Path, sources: list[Path], *, min_words: int = 200_000, seed: int = 1) -> tuple[int, int, int]:
    """Write pages under ``dest``; return (files, stories, words)."""
    rng = random.Random(seed)
    sents: list[str] = []
    for src in sources:
        sents.extend(conll_sentences(src))
    dest.mkdir(parents=True, exist_ok=True)
    i = files = stories = words = 0
    while words < min_words:
        def take(n: int) -> list[str]:
            nonlocal i
            out = [sents[(i + k) % len(sents)] for k in range(n)]
            i += n
            return out

        headline = take(1)[0].rstrip(".")
        lead = take(rng.randint(3, 6))
        paras = [" ".join(lead[k:k + 2]) for k in range(0, len(lead), 2)]
        page = [headline, f"{rng.choice(PLACES)} ({rng.choice(AGENCIES)}) - {paras[0]}", *paras[1:], "Meer uit Buitenland"]
        items = []
        for _ in range(rng.randint(4, 8)):
            body = " ".join(take(rng.randint(1, 3)))
            items.append(f"{rng.choice(PLACES)} ({rng.choice(AGENCIES)}) - {body}\n{rng.choice(AGES)}")
        text = "\n".join(page) + "\n" + "".join(items)
        (dest / f"{files:05d}_bench.txt").write_text(text, encoding="utf-8")
        files += 1
        stories += 1 + len(items)
        words += len(text.split())
    return files, stories, words
