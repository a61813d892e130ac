"""Full-text search over stories: query language, matching, the FTS5 index, records.

The package is split by concern:

- :mod:`.query`: the query language (lexer, parser, syntax tree, FTS5 expression);
- :mod:`.fold` and :mod:`.match`: diacritic folding and the exact hits in a text;
- :mod:`.index`: the FTS index in the store, its refresh and the forked stat walk;
- :mod:`.records`: what a search yields and the keyword-in-context, story and count rows;
- :mod:`.watch`: ``newsctl index --watch`` and when a search may trust it instead of the walk.

What other modules use is named here.
"""

from .fold import fold
from .index import Refresh, SearchIndex, fts_body, indexed_paths, walk
from .match import Matcher, entity_story_keys, search_corpus
from .query import And, Node, Not, Or, Term, fts_expression, parse_query
from .records import (
    COUNT_FIELDS,
    HIT_FIELDS,
    STORY_FIELDS,
    Filters,
    Match,
    Span,
    StoryRec,
    count_records,
    files_without_match,
    hit_records,
    matching_files,
    story_records,
    unique_stories,
)

__all__ = [
    "And", "COUNT_FIELDS", "Filters", "HIT_FIELDS", "Match", "Matcher", "Node", "Not", "Or", "Refresh",
    "STORY_FIELDS", "SearchIndex", "Span", "StoryRec", "Term", "count_records", "entity_story_keys",
    "files_without_match", "fold", "fts_body", "fts_expression", "hit_records", "indexed_paths",
    "matching_files", "parse_query", "search_corpus", "story_records", "unique_stories", "walk",
]
