"""The newsctl command-line application.

Each command lives in ``cli/commands/<name>.py`` as a function of that name.
A command's module is imported, and its options turned into a click command,
only when that command runs or when ``--help`` lists the commands: a
``newsctl search`` does not pay for the options of the other five.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Optional

import typer
import typer.main
from typer.core import TyperGroup

__version__ = "0.1.0"

COMMANDS = ("datelines", "entities", "cooccur", "models", "search", "index", "show")

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
            fn = command_function(name)
            single.command(name)(fn)
            cmd = typer.main.get_command(single)
            _guard_arguments(cmd, getattr(importlib.import_module(fn.__module__), "FOREIGN_OPTIONS", {}))
            self._built[name] = cmd
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


def _guard_arguments(cmd, foreign: dict[str, str]) -> None:
    """Make ``cmd`` refuse, with a clear message, an option of another tool and a repeated single option.

    click keeps only the last value of an option given twice; newsctl's
    options that take several values say so (they are lists), every other
    one refuses a repeat instead of dropping a value silently. ``foreign``
    maps options of other tools (grep's ``-r``) to what to do instead.
    """
    try:  # newer typer carries its own copy of click
        from typer._click.exceptions import UsageError
    except ImportError:  # pragma: no cover - older typer
        from click.exceptions import UsageError

    single: dict[str, str] = {}  # option string -> its first long name, for options taking one value
    takes_value: set[str] = set()
    flags: set[str] = set()
    for p in cmd.params:
        if getattr(p, "param_type_name", "") != "option":
            continue
        names = [*p.opts, *p.secondary_opts]
        if p.is_flag or p.count:
            flags.update(names)
            continue
        takes_value.update(names)
        if not p.multiple:
            for n in names:
                single[n] = max(p.opts, key=len)
    original = cmd.parse_args

    def parse_args(ctx, args):
        seen: dict[str, int] = {}
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                break
            if not arg.startswith("-") or arg == "-":
                continue
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg[:2]
            if name in foreign and name not in takes_value and name not in flags:
                raise UsageError(f"{name} is a grep option newsctl {cmd.name} does not take: {foreign[name]}", ctx)
            if name in single:
                seen[single[name]] = seen.get(single[name], 0) + 1
                if seen[single[name]] > 1:
                    raise UsageError(f"{single[name]} given more than once; it takes one value", ctx)
            if name in takes_value and arg == name:
                i += 1  # its value follows
            elif not arg.startswith("--") and name in flags and len(arg) > 2:
                for ch in arg[2:]:  # bundled short flags: -lc
                    short = "-" + ch
                    if short in foreign and short not in flags:
                        raise UsageError(f"{short} is a grep option newsctl {cmd.name} does not take: {foreign[short]}", ctx)
                    if short in takes_value:
                        break
        return original(ctx, args)

    cmd.parse_args = parse_args


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
    # --install-completion / --show-completion; typer imports its completion code at start-up
    # anyway, and completing builds only the commands it needs.
    **{**_SETTINGS, "add_completion": True},
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
    from .errors import flush_stdout, report, write_failed

    try:
        try:
            app()
        except SystemExit:  # --help, --version, a usage error: what they wrote must reach its file now
            flush_stdout()
            raise
    except OSError as exc:
        if not write_failed(exc) and not isinstance(exc, BrokenPipeError):
            raise
        status = report(exc)
        usage = exc.__context__  # a usage error whose message met a closed stderr keeps its status (2)
        if isinstance(getattr(usage, "exit_code", None), int):
            status = usage.exit_code
        sys.exit(status)
