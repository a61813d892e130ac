"""The newsctl command-line application."""

from __future__ import annotations

from typing import Optional

import typer
from typing import Annotated

from .commands import datelines as _datelines
from .commands import cooccur as _cooccur
from .commands import entities as _entities
from .commands import models as _models
from .commands import search as _search
from .commands import index as _index

__version__ = "0.1.0"

app = typer.Typer(
    name="newsctl",
    help="Analyse Dutch news-wire pages: datelines, entities, co-occurrence and search.",
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"newsctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Analyse Dutch news-wire pages: datelines, entities, co-occurrence and search.

    Example: newsctl datelines seeds/ | head
    """


app.command("datelines")(_datelines.datelines)
app.command("entities")(_entities.entities)
app.command("cooccur")(_cooccur.cooccur)
app.command("models")(_models.models)
app.command("search")(_search.search)
app.command("index")(_index.index)


def main() -> None:
    app()
