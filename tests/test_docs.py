"""Docs cannot drift: every command has help with an example and a README section."""

import re

import pytest

from cli.app import app
from tests.conftest import ROOT

COMMANDS = [c.name for c in app.registered_commands]


def test_commands_are_registered():
    assert {"datelines", "entities", "cooccur", "models"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_with_example(name):
    cmd = next(c for c in app.registered_commands if c.name == name)
    doc = cmd.callback.__doc__ or ""
    assert doc.strip(), f"{name} has no docstring"
    assert re.search(rf"Example: newsctl {name}\b", doc), f"{name} help has no example"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_readme(name):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`newsctl {name}" in readme
