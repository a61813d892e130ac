"""A tiny spaCy pipeline for tests: a blank Dutch tokenizer, a sentencizer and rules.

It tags a fixed list of names (an ``entity_ruler`` saved under the name
``ner``, which is what newsctl asks of a pipeline), so tests that need to know
exactly what the model finds, or that push a lot of text through it, run in
milliseconds instead of loading the bundled ensemble. Pass the directory with
``--model PATH``.
"""

from __future__ import annotations

from pathlib import Path

# Script payloads from issue 13, tagged as person names (after a title, so the
# canonical name differs from the text: "PER · <canonical>" reaches the page).
PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</title><script>")

PATTERNS = [
    {"label": "PER", "pattern": "Kassym-Jomart Tokajev"},
    {"label": "PER", "pattern": "Tokajev"},
    {"label": "PER", "pattern": "Vladimir Poetin"},
    {"label": "PER", "pattern": "Poetin"},
    {"label": "PER", "pattern": "Mark Rutte"},
    {"label": "ORG", "pattern": "NAVO"},
    {"label": "ORG", "pattern": "CSTO"},
    {"label": "LOC", "pattern": "Kazachstan"},
    {"label": "LOC", "pattern": "Oekraïne"},
    {"label": "LOC", "pattern": "Den Haag"},
    *({"label": "PER", "pattern": f"president {p}"} for p in PAYLOADS),
    *({"label": "ORG", "pattern": p} for p in PAYLOADS),
]


def build(path: Path) -> Path:
    """Write the pipeline to ``path`` (a directory) and return it."""
    import spacy

    nlp = spacy.blank("nl")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns(PATTERNS)
    nlp.meta["name"] = "newsctl_test_rules"
    nlp.meta["version"] = "0.0.1"
    nlp.meta["description"] = "test pipeline: fixed names tagged by rules"
    nlp.to_disk(path)
    return path
