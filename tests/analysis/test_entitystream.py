"""The streamed path of entities and cooccur gives what the in-memory path gives."""

import dataclasses

import numpy as np
import pytest

from analysis import cooccurrence as cx
from analysis import entitystream as es
from analysis.aliases import Aliases
from analysis.corpus import load_corpus
from analysis.entities import annotate, drop_adjectives, entity_records, resolve_names
from analysis.filters import StoryFilter, select_stories, variants_of
from analysis.nlp import resolve_model
from analysis.store import open_store
from tests.conftest import SEEDS


def _in_memory(store, aliases=None):
    with open_store(store) as st:
        annotated = annotate(load_corpus([str(SEEDS)]), model_ref=resolve_model(None), store=st)
    return annotated, resolve_names(annotated, aliases=aliases)


def _streamed(store, aliases=None, batch_files=3):
    with open_store(store) as st:
        tables = es.stream_annotations([str(SEEDS)], model_ref=resolve_model(None), store=st,
                                       batch_files=batch_files)
    return tables, es.canonical_names(tables, aliases)


ALIASES = Aliases(names={"poetin": "Wladimir Poetin", "vs": "Amerika"}, labels={"Amerika": "ORG"})


@pytest.mark.parametrize("aliases", [None, ALIASES], ids=["plain", "aliases"])
def test_names_and_entity_rows_match(seeds_store, aliases):
    annotated, labels_of = _in_memory(seeds_store, aliases)
    tables, nm = _streamed(seeds_store, aliases)
    assert nm.labels_of() == labels_of
    names = [m.canonical for m in annotated.mentions()]
    assert [nm.names[i] for i in nm.m_name.tolist()] == names
    everything = np.ones(len(nm.m_name), dtype=bool)
    assert es.variants(tables, nm, everything) == variants_of(annotated.mentions())
    kept = es.adjective_mask(tables, nm, False)
    drop_adjectives(annotated, labels_of)
    for keep_duplicates in (False, True):
        chosen = select_stories(annotated, StoryFilter(), keep_duplicates=keep_duplicates)
        mask = kept & es.story_mask(tables, keep_duplicates)
        assert es.entity_records(tables, nm, mask, min_count=2, top=40) == \
            entity_records(chosen, labels_of, min_count=2, top=40)


@pytest.mark.parametrize("unit", cx.UNITS)
def test_pairs_match(seeds_store, unit):
    annotated, labels_of = _in_memory(seeds_store)
    tables, nm = _streamed(seeds_store)
    drop_adjectives(annotated, labels_of)
    kept = es.adjective_mask(tables, nm, False)
    chosen = select_stories(annotated, StoryFilter(), keep_duplicates=False)
    old = cx.cooccurrence(chosen, labels_of, unit=unit)
    new = es.Cooccurrences(tables, nm, kept & es.story_mask(tables, False), unit=unit)
    assert (new.co.n_units, dict(new.co.entity_units), new.co.variants) == \
        (old.n_units, dict(old.entity_units), old.variants)
    names = dataclasses.replace(StoryFilter(entity=("Poetin",)), label=()).entity_names(old.variants, labels_of)
    for select in [dict(), dict(sort="npmi", top=5), dict(sort="llr", top=3, labels=["PER", "LOC"]),
                   dict(top=4, min_count=2), dict(names=names)]:
        assert cx.select_pairs(new.for_pairs(**select), **select) == cx.select_pairs(old, **select)
    ents = cx.top_entities(old, 8)
    assert cx.matrix(new.for_matrix(8), ents) == cx.matrix(old, ents)
