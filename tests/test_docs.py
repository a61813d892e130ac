"""Docs cannot drift: every command has help with an example and a README section."""

import re

import pytest

from cli.app import COMMANDS, command_function
from tests.conftest import ROOT


def test_commands_are_registered():
    assert {"datelines", "entities", "cooccur", "models", "search", "index"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_with_example(name):
    doc = command_function(name).__doc__ or ""
    assert doc.strip(), f"{name} has no docstring"
    assert re.search(rf"Example: newsctl {name}\b", doc), f"{name} help has no example"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_readme(name):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`newsctl {name}" in readme
