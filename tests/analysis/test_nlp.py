"""The bundled ensemble's voting: skipping members whose vote cannot matter, one tokenization."""

import os
import shutil
import signal

import pytest
from hypothesis import given, settings, strategies as st

from analysis.errors import ModelError
from analysis.nlp import decided, load_pipeline, resolve_model, vote_spans


@st.composite
def member_spans(draw, length: int = 30):
    """One member's proposal: non-overlapping (start, end, label) spans, as doc.ents are."""
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=8)))
    spans = []
    for s, e in zip(cuts[::2], cuts[1::2]):
        spans.append((s, e, draw(st.sampled_from(["PER", "ORG", "LOC"]))))
    return spans


@st.composite
def ensembles(draw):
    n = draw(st.integers(2, 5))
    min_votes = draw(st.integers(1, n))
    proposals = [draw(member_spans())]
    for _ in range(n - 1):  # often a copy of the first member, so that votes get decided early
        proposals.append(list(proposals[0]) if draw(st.booleans()) else draw(member_spans()))
    return proposals, min_votes


@settings(max_examples=400, deadline=None)
@given(ensembles())
def test_a_decided_vote_is_the_vote_of_all_members(case):
    proposals, min_votes = case
    n = len(proposals)
    full = vote_spans(proposals, min_votes)
    for ran in range(1, n + 1):
        if decided(proposals[:ran], n, min_votes):
            assert full == sorted(set(proposals[0])) == vote_spans(proposals[:ran], min_votes)


def test_two_of_three_is_decided_when_the_first_two_agree():
    a = [(0, 5, "PER"), (10, 14, "ORG")]
    assert decided([a, list(reversed(a))], 3, 2)
    assert not decided([a, a[:1]], 3, 2)
    assert not decided([a], 3, 2)  # one vote never decides 2 of 3
    assert not decided([a, a], 4, 2)  # two members left could still outvote
    assert vote_spans([a, a, [(0, 14, "LOC")]], 2) == a


def _seed_texts(seeds):
    from analysis.corpus import load_corpus
    from analysis.entities import text_units
    from analysis.textnorm import nfc

    corpus = load_corpus([str(seeds)])
    return [nfc(u.text)[0] for i, (d, s) in enumerate(corpus.pages) for u in text_units(i, d, s)]


def test_ensemble_output_is_the_plain_vote_of_every_member(seeds):
    """Skipping the third member and tokenizing once change nothing on the seeds."""
    from analysis.nlp import bundled_ref, load_pipeline

    nlp = load_pipeline(bundled_ref())
    texts = _seed_texts(seeds)
    before = list(nlp.runs)
    got = [([(e.start_char, e.end_char, e.label_) for e in d.ents], [(s.start_char, s.end_char) for s in d.sents])
           for d in nlp.pipe(texts, batch_size=32)]
    runs = [a - b for a, b in zip(nlp.runs, before)]
    want = []
    for t in texts:
        own = [m(t) for m in nlp.members]  # each member on its own, tokenizing the text itself
        votes = vote_spans([[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in own], nlp.min_votes)
        want.append((votes, [(s.start_char, s.end_char) for s in own[0].sents]))
    assert got == want
    assert runs[0] == runs[1] == len(texts) and 0 < runs[2] < len(texts)


def test_shared_vocab_gives_the_features_of_a_member_loaded_alone(seeds):
    """The tok2vec layers read the same NORM/PREFIX/SUFFIX/SHAPE as with each member's own Vocab."""
    from spacy.attrs import NORM, PREFIX, SHAPE, SUFFIX

    from analysis.nlp import _load_spacy, _read_meta, bundled_ref, load_pipeline

    nlp = load_pipeline(bundled_ref())
    assert all(m.vocab is nlp.members[0].vocab for m in nlp.members)
    path = bundled_ref().path / "m2_w128_d6_lead"
    alone = _load_spacy(path, "m2", _read_meta(path), sentences=False)
    assert alone.vocab is not nlp.members[0].vocab
    attrs = [NORM, PREFIX, SUFFIX, SHAPE]
    for t in _seed_texts(seeds):
        shared, own = nlp.members[0].tokenizer(t), alone.tokenizer(t)
        assert [x.text for x in shared] == [x.text for x in own]
        assert (shared.to_array(attrs) == own.to_array(attrs)).all()


@pytest.fixture()
def no_hang():
    """Fail a test whose open() blocks (a FIFO with no writer) instead of hanging the run."""
    def fail(*_):
        pytest.fail("blocked on a non-regular file")  # not an OSError: nothing catches it on the way

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_a_fifo_for_meta_json_is_refused_not_read(tmp_path, no_hang):
    model = tmp_path / "model"
    model.mkdir()
    os.mkfifo(model / "meta.json")
    with pytest.raises(ModelError, match=r"meta.json is not a regular file \(a FIFO\)"):
        resolve_model(str(model))


def test_a_fifo_anywhere_in_the_model_directory_is_refused_before_spacy_opens_it(tmp_path, tiny_model, no_hang):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    ref = resolve_model(str(model))
    (model / "config.cfg").unlink()
    os.mkfifo(model / "config.cfg")
    with pytest.raises(ModelError, match=r"config.cfg is not a regular file \(a FIFO\)"):
        load_pipeline(ref)


def test_a_dotted_model_name_imports_nothing(capsys):
    import sys

    sys.modules.pop("this", None)
    with pytest.raises(ModelError, match="model not found: this.x"):
        resolve_model("this.x")  # find_spec("this.x") imports `this`, which prints the Zen of Python
    assert "this" not in sys.modules and capsys.readouterr().out == ""
