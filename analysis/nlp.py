"""Choosing and loading the NLP pipeline.

``auto`` picks ``nl_core_news_sm`` when that package is installed and the
bundled ensemble (``analysis/ner_model``, trained by ``make model``) otherwise.
Resolving a model reads only its ``meta.json``: spaCy is imported when a
pipeline is actually loaded, so cached runs never pay for it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelError
from .reader import NotRegularFileError, _not_regular, read_regular

BUNDLED_DIR = Path(__file__).resolve().parent / "ner_model"
BUNDLED_NAME = "bundled"
SPACY_PACKAGE = "nl_core_news_sm"
ENV_VAR = "NEWSCTL_MODEL"

# Bump when story splitting or what is fed to the model changes: stored
# annotations made by an older version are then recomputed.
ANNOTATION_VERSION = "3"  # 2: NFC text, ALL-CAPS runs truecased, long lines cut; 3: truecasing by word pairs, particles

LABELS = ("PER", "ORG", "LOC", "MISC")
LABEL_MAP = {
    "PER": "PER", "PERSON": "PER",
    "ORG": "ORG",
    "LOC": "LOC", "GPE": "LOC", "FAC": "LOC",
    "MISC": "MISC", "NORP": "MISC", "EVENT": "MISC", "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC",
}  # numeric and date labels (DATE, CARDINAL, MONEY, ...) are not entities here


def model_input(page: str, start: int, end: int) -> str:
    """The text the model reads for ``page[start:end]``: ALL-CAPS runs truecased, same length."""
    from .knowledge import truecase

    return truecase(page[start:end], page)


def map_label(label: str) -> str | None:
    """newsctl's label for a pipeline label, or None when it is not an entity."""
    return LABEL_MAP.get(label)


@dataclass(frozen=True)
class ModelRef:
    """A pipeline that can be loaded, described without importing spaCy."""

    name: str  # what the user asked for, resolved: "bundled", a package name or a path
    path: Path
    source: str  # "bundled", "package" or "path"
    meta: dict = field(hash=False, compare=False)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    @property
    def labels(self) -> list[str]:
        return list(self.meta.get("labels", {}).get("ner", []))

    @property
    def key(self) -> str:
        """Identifies the pipeline's output in the annotation store."""
        digest = hashlib.sha1(json.dumps(self.meta, sort_keys=True).encode()).hexdigest()[:12]
        lang_name = f"{self.meta.get('lang', '?')}_{self.meta.get('name', '?')}"
        return f"{lang_name}-{self.version}-{digest}-a{ANNOTATION_VERSION}"


def _read_meta(path: Path) -> dict:
    try:
        return json.loads(read_regular(str(path / "meta.json")).decode("utf-8"))
    except NotRegularFileError as exc:  # a FIFO would block the read forever
        raise ModelError(f"not a spaCy pipeline: {path / 'meta.json'} is {exc.strerror}") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"not a spaCy pipeline (no readable meta.json): {path}") from exc


def _check_files(path: Path) -> None:
    """Refuse a pipeline directory holding anything but regular files and directories.

    spaCy opens its files by name, and a FIFO (or a link to one) among them
    would block the load forever; a device could be read without end.
    """
    for root, dirs, files in os.walk(path):
        for name in files + dirs:
            p = os.path.join(root, name)
            try:
                mode = os.stat(p).st_mode
            except OSError:  # a dangling link: spaCy says so if it needs it
                continue
            why = "" if stat.S_ISDIR(mode) else _not_regular(mode)
            if why:
                raise ModelError(f"cannot load model {path}: {p} is {why}")


def _package_dir(package: str) -> Path | None:
    """The data directory of an installed spaCy model package, or None.

    Only a plain top-level name is looked up: ``find_spec("a.b")`` imports the
    package ``a`` (runs its code; ``--model this.x`` printed the Zen of Python),
    and spaCy's model packages are never dotted.
    """
    if not package.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    for meta in sorted(root.glob("*/meta.json")):
        return meta.parent
    if (root / "meta.json").exists():
        return root
    return None


def bundled_ref() -> ModelRef:
    if not (BUNDLED_DIR / "meta.json").exists():
        raise ModelError(f"the bundled model is missing from {BUNDLED_DIR}; run `make model`")
    return ModelRef(BUNDLED_NAME, BUNDLED_DIR, "bundled", _read_meta(BUNDLED_DIR))


def resolve_model(name: str | None = None) -> ModelRef:
    """Resolve ``--model`` / ``NEWSCTL_MODEL`` / ``auto`` to a loadable pipeline."""
    name = name or os.environ.get(ENV_VAR) or "auto"
    if name == "auto":
        pkg = _package_dir(SPACY_PACKAGE)
        if pkg is not None:
            return ModelRef(SPACY_PACKAGE, pkg, "package", _read_meta(pkg))
        return bundled_ref()
    if name == BUNDLED_NAME:
        return bundled_ref()
    path = Path(name).expanduser()
    if path.is_dir():
        return ModelRef(str(path), path, "path", _read_meta(path))
    pkg = _package_dir(name)
    if pkg is not None:
        return ModelRef(name, pkg, "package", _read_meta(pkg))
    raise ModelError(
        f"model not found: {name} (give 'auto', 'bundled', an installed spaCy package or a pipeline directory)"
    )


def available_models() -> list[tuple[ModelRef, bool]]:
    """Every pipeline newsctl can use here, with whether ``auto`` picks it."""
    auto = resolve_model("auto")
    found: list[ModelRef] = []
    pkg = _package_dir(SPACY_PACKAGE)
    if pkg is not None:
        found.append(ModelRef(SPACY_PACKAGE, pkg, "package", _read_meta(pkg)))
    try:
        found.append(bundled_ref())
    except ModelError:
        pass
    env = os.environ.get(ENV_VAR)
    if env and env not in ("auto", BUNDLED_NAME, SPACY_PACKAGE):
        found.append(resolve_model(env))
    return [(ref, ref.path == auto.path) for ref in found]


# -- loading ---------------------------------------------------------------

_LOADED: dict[Path, object] = {}
ENSEMBLE_FILE = "ensemble.json"


def load_pipeline(ref: ModelRef):
    """Load ``ref`` for newsctl: tokenizer + NER + a sentencizer, nothing else.

    Components such as a parser, tagger or lemmatizer are excluded; acronym
    compounds such as ``NAVO-chef`` are split so the acronym can be found. A
    directory with an ``ensemble.json`` (the bundled model) loads as a
    :class:`VotingPipeline` of its member pipelines.
    """
    if ref.path in _LOADED:
        return _LOADED[ref.path]
    _check_files(ref.path)
    if (ref.path / ENSEMBLE_FILE).exists():
        nlp = _load_ensemble(ref)
    else:
        nlp = _load_spacy(ref.path, ref.name, ref.meta, sentences=True)
    _LOADED[ref.path] = nlp
    return nlp


def _load_spacy(path: Path, name: str, meta: dict, *, sentences: bool, vocab=True):
    _check_files(path)
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy is a dependency
        raise ModelError("spaCy is not installed") from exc
    try:
        names = list(meta.get("pipeline", []))
        keep = {"ner", "tok2vec"}
        nlp = spacy.load(path, exclude=[n for n in names if n not in keep], vocab=vocab)
    except Exception as exc:  # spaCy raises many kinds of errors for broken pipelines
        raise ModelError(f"cannot load model {name}: {exc}") from exc
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"model {name} has no named-entity recogniser")
    if sentences and "sentencizer" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    _split_acronym_compounds(nlp)
    _as_float32(nlp)
    return nlp


def cast_weights(nlp, dtype, *, only_from=None) -> None:
    """Cast every weight array of ``nlp``'s components to ``dtype`` (optionally only arrays of ``only_from``)."""
    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            for p in node.param_names:
                if node.has_param(p):
                    arr = node.get_param(p)
                    if only_from is None or getattr(arr, "dtype", None) == only_from:
                        node.set_param(p, arr.astype(dtype))


def _as_float32(nlp) -> None:
    """Weights stored as float16 (the bundled members) are computed in float32."""
    import numpy

    cast_weights(nlp, numpy.float32, only_from=numpy.float16)


_INFIX_REGEX: dict[tuple, object] = {}


def _split_acronym_compounds(nlp) -> None:
    """Make ``NAVO-chef`` three tokens (``NAVO``, ``-``, ``chef``)."""
    from spacy.util import compile_infix_regex

    infixes = tuple(nlp.Defaults.infixes or []) + (r"(?<=[A-Z]{2})-(?=[a-z])",)
    if infixes not in _INFIX_REGEX:  # compiled once: the ensemble's members share the rules
        _INFIX_REGEX[infixes] = compile_infix_regex(infixes)
    nlp.tokenizer.infix_finditer = _INFIX_REGEX[infixes].finditer


def _load_ensemble(ref: ModelRef) -> "VotingPipeline":
    try:
        spec = json.loads(read_regular(str(ref.path / ENSEMBLE_FILE)).decode("utf-8"))
        members = [ref.path / m for m in spec["members"]]
        min_votes = int(spec["min_votes"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"broken ensemble description in {ref.path}: {exc}") from exc
    pipelines: list = []
    for k, p in enumerate(members):
        # One Vocab for all: the members share the tokenizer rules and lexeme attributes
        # (no lookups, no vectors), so one tokenization serves them all.
        vocab = pipelines[0].vocab if pipelines else True
        pipelines.append(_load_spacy(p, f"{ref.name}/{p.name}", _read_meta(p), sentences=(k == 0), vocab=vocab))
    return VotingPipeline(pipelines, min_votes)


def vote_spans(candidates, min_votes: int) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, label)`` proposed by at least ``min_votes`` members.

    ``candidates`` holds one collection of spans per member. Spans with more
    votes win, then longer ones, then earlier ones; chosen spans never overlap.
    """
    from collections import Counter

    votes = Counter(span for member in candidates for span in set(member))
    chosen: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for (start, end, label), n in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0][0] - kv[0][1], kv[0])):
        if n < min_votes:
            break
        if any(start < e and s < end for s, e in taken):
            continue
        chosen.append((start, end, label))
        taken.append((start, end))
    return sorted(chosen)


def decided(proposals, n_members: int, min_votes: int) -> bool:
    """Whether the vote on one text is settled by the proposals of the members that ran.

    When at least ``min_votes`` members proposed exactly the same spans and
    fewer than ``min_votes`` members are left, :func:`vote_spans` returns those
    spans whatever the others say: each of them has ``min_votes`` votes or more
    and they do not overlap (a member's spans never do), while any other span
    can get fewer than ``min_votes`` votes.
    """
    ran = len(proposals)
    if ran < min_votes or n_members - ran >= min_votes:
        return False
    first = set(proposals[0])
    return all(set(p) == first for p in proposals[1:])


class VotingPipeline:
    """Several NER pipelines voting on every entity span.

    Offers the part of spaCy's ``Language`` API newsctl uses (``pipe``,
    ``pipe_names``, ``meta``); the docs come from the first member (which
    also sets sentence boundaries) with ``doc.ents`` replaced by the spans at
    least ``min_votes`` members agree on, label included. Members share one
    Vocab and the Dutch tokenizer rules: each text is tokenized once, by the
    first member's tokenizer, and every member reads its own copy of that Doc.
    Members run in order, each only on the texts whose vote is not
    :func:`decided` yet (with 2 of 3, the third runs where the first two
    disagree), so the slowest member goes last.
    """

    def __init__(self, members: list, min_votes: int) -> None:
        self.members = members
        self.min_votes = min_votes
        self.meta = dict(members[0].meta)
        self.runs = [0] * len(members)  # texts each member has read (for measuring the skip)

    @property
    def pipe_names(self) -> list[str]:
        return self.members[0].pipe_names

    def __call__(self, text: str):
        return next(iter(self.pipe([text])))

    def pipe(self, texts, *, as_tuples: bool = False, batch_size: int = 128):
        from itertools import islice

        it = iter(texts)
        while True:
            chunk = list(islice(it, batch_size))
            if not chunk:
                return
            plain = [t for t, _ in chunk] if as_tuples else chunk
            for k, doc in enumerate(self._vote(plain, batch_size)):
                yield (doc, chunk[k][1]) if as_tuples else doc

    def _vote(self, texts: list[str], batch_size: int) -> list:
        tokenizer = self.members[0].tokenizer
        docs = [tokenizer(t) for t in texts]
        spare: list = [d.copy() for d in docs] if len(self.members) > 1 else []  # untouched input for the next member
        proposals: list[list] = [[] for _ in texts]
        todo = list(range(len(texts)))
        for k, member in enumerate(self.members):
            if k == 0:
                inputs = docs
            else:
                inputs = [spare[i] if spare[i] is not None else tokenizer(texts[i]) for i in todo]
                for i in todo:
                    spare[i] = None
            self.runs[k] += len(todo)
            for i, doc in zip(todo, member.pipe(inputs, batch_size=batch_size)):
                proposals[i].append([(e.start_char, e.end_char, e.label_) for e in doc.ents])
            todo = [i for i in todo if not decided(proposals[i], len(self.members), self.min_votes)]
        for doc, props in zip(docs, proposals):
            spans = [doc.char_span(s, e, label=lab) for s, e, lab in vote_spans(props, self.min_votes)]
            doc.ents = [sp for sp in spans if sp is not None]
        return docs
