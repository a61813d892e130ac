"""The newsctl command-line application.

Each command lives in ``cli/commands/<name>.py`` as a function of that name.
A command's module is imported, and its options turned into a click command,
only when that command runs or when ``--help`` lists the commands: a
``newsctl search`` does not pay for the options of the other five.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Optional

import typer
import typer.main
from typer.core import TyperGroup

__version__ = "0.1.0"

COMMANDS = ("datelines", "entities", "cooccur", "models", "search", "index")

_SETTINGS = dict(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def command_function(name: str):
    """The function behind ``newsctl NAME`` (its signature declares the options)."""
    return getattr(importlib.import_module(f"{__package__}.commands.{name}"), name)


class _Commands(MutableMapping):
    """The group's commands by name, each built on first look-up."""

    def __init__(self) -> None:
        self._built: dict = {}

    def __getitem__(self, name: str):
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            single = typer.Typer(**_SETTINGS)
            single.command(name)(command_function(name))
            self._built[name] = typer.main.get_command(single)
        return self._built[name]

    def __setitem__(self, name: str, cmd) -> None:
        self._built[name] = cmd

    def __delitem__(self, name: str) -> None:
        raise TypeError("newsctl's commands are fixed")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS


class _LazyGroup(TyperGroup):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)


app = typer.Typer(
    name="newsctl",
    cls=_LazyGroup,
    help="Analyse Dutch news-wire pages: datelines, entities, co-occurrence and search.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    **_SETTINGS,
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


def main() -> None:
    app()
