"""`newsctl models`: which NLP pipelines are available and which one `auto` picks."""

from __future__ import annotations

from .. import common, output
from ..errors import boundary
from ..output import Column

COLUMNS = [
    Column("name"), Column("auto"), Column("source"), Column("version"),
    Column("labels"), Column("description", flex=True), Column("path", optional=True),
]


@boundary
def models(fmt: common.FormatOpt = None, no_header: common.NoHeaderOpt = False) -> None:
    """List the NLP pipelines newsctl can use and the one `--model auto` picks.

    nl_core_news_sm is used when it is installed (pip install it from a
    spaCy release where that host can be reached); otherwise the bundled
    pipeline trained by this project (`make model`).

    Example: newsctl models --format json
    """
    from analysis.nlp import available_models

    rows = [
        {
            "name": ref.name, "auto": "yes" if auto else "no", "source": ref.source,
            "version": ref.version, "labels": ref.labels,
            "description": ref.meta.get("description", ""), "path": str(ref.path),
        }
        for ref, auto in available_models()
    ]
    output.render(rows, COLUMNS, fmt, header=not no_header)
