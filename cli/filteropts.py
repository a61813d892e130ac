"""The story filters of every command, defined once: ``--place``, ``--agency``,
``--section``, ``--kind``, ``--entity``, ``--label`` and ``--keep-duplicates``.

Each filter may be repeated or take a comma list; the values are OR-ed, the
filters AND-ed. :func:`build` turns the options into one
:class:`analysis.filters.StoryFilter`; :func:`warn_unmatched` prints the
one-line hints for values the corpus does not have.
"""

from __future__ import annotations

from typing import List, Optional

import typer
from typing import Annotated

from . import output

_MANY = " Repeat it or give a comma list for either of several."

PlaceOpt = Annotated[Optional[List[str]], typer.Option(
    "--place", metavar="NAME", show_default=False,
    help="Only stories with this dateline place (any case and diacritics)." + _MANY)]
AgencyOpt = Annotated[Optional[List[str]], typer.Option(
    "--agency", metavar="CODE", show_default=False,
    help="Only stories credited to this agency (ANP, RTR, ...)." + _MANY)]
SectionOpt = Annotated[Optional[List[str]], typer.Option(
    "--section", metavar="NAME", show_default=False,
    help="Only digest items of this section (Buitenland, ...)." + _MANY)]
KindOpt = Annotated[Optional[List[str]], typer.Option(
    "--kind", metavar="lead|item", show_default=False, help="Only leads or only digest items.")]
EntityOpt = Annotated[Optional[List[str]], typer.Option(
    "--entity", metavar="NAME", show_default=False,
    help="Only this entity: canonical name, any variant or the last words of the name, any case "
    "(datelines, search: the stories mentioning it); runs the NLP model if needed." + _MANY)]
LabelOpt = Annotated[Optional[List[str]], typer.Option(
    "--label", metavar="LABELS", show_default=False,
    help="Only entities with these labels: PER,ORG,LOC,MISC (datelines, search: the stories mentioning one).")]
KeepDuplicatesOpt = Annotated[bool, typer.Option(
    "--keep-duplicates", help="Count the stories marked duplicate_of too (left out by default).")]


def build(*, place=None, agency=None, section=None, kind=None, entity=None, label=None):
    """The one :class:`~analysis.filters.StoryFilter` of a command's filter options."""
    from analysis.errors import InputError
    from analysis.filters import StoryFilter, split_values

    for option, given in (("--place", place), ("--agency", agency), ("--section", section), ("--kind", kind),
                          ("--entity", entity), ("--label", label)):
        if given and not split_values(given):  # --entity "$NAME" with NAME unset: not "no filter"
            raise InputError(f"{option} was given an empty value")
    return StoryFilter(place=split_values(place), agency=split_values(agency), section=split_values(section),
                       kind=split_values(kind), entity=split_values(entity), label=split_values(label))


def warn_unmatched(filt, present) -> bool:
    """Print a hint for each filter value the corpus lacks; True when there was one."""
    from analysis.filters import hints

    said = False
    for line in hints(filt, present):
        output.warn(line)
        said = True
    return said


def corpus_hints(filt, corpus, annotated=None, labels_of=None) -> bool:
    """:func:`warn_unmatched` against a corpus read into memory (and its entities, when annotated)."""
    if not filt:
        return False
    from analysis.filters import corpus_values

    present: dict = corpus_values(s for _, s in corpus.stories()) if filt.has_dateline_filters else {}
    if annotated is not None and filt.entity:
        from analysis.filters import variants_of

        present["entity"] = variants_of(annotated.mentions())  # suggest canonical names, match any form
    if labels_of is not None and filt.label:
        present["label"] = set(labels_of.values())
    return warn_unmatched(filt, present)


def entity_hints(filt, variants, labels_of) -> bool:
    """:func:`warn_unmatched` for ``--entity`` and ``--label``; ``variants()`` gives entity -> surface forms."""
    if not filt:
        return False
    present: dict = {}
    if filt.entity:
        present["entity"] = variants()
    if filt.label:
        present["label"] = set(labels_of.values())
    return warn_unmatched(filt, present)
