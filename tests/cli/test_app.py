"""The application: options given twice, shell completion, start-up weight."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import invoke

NEWSCTL = str(Path(sys.executable).parent / "newsctl")


@pytest.mark.parametrize("args, name", [
    (["datelines", "seeds", "-f", "tsv", "--format", "csv"], "--format"),
    (["entities", "seeds", "--top", "3", "--top=5"], "--top"),
    (["search", "x", "seeds", "-C", "3", "-C", "5"], "--context"),
    (["cooccur", "seeds", "--sort", "npmi", "--sort", "llr"], "--sort"),
])
def test_a_single_value_option_given_twice_is_refused(runner, in_root, args, name):
    result = invoke(runner, args)
    assert result.exit_code == 2 and f"{name} given more than once" in result.stderr


def test_a_value_that_looks_like_an_option_is_not_counted(runner, in_root):
    result = invoke(runner, ["search", "-e", "-C", "seeds", "-C", "3", "-f", "tsv"])
    assert result.exit_code in (0, 1), result.stderr


def test_shell_completion(in_root):
    env = {**os.environ, "_NEWSCTL_COMPLETE": "complete_bash", "COMP_WORDS": "newsctl sea", "COMP_CWORD": "1"}
    out = subprocess.run([NEWSCTL], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["search"]
    env.update(COMP_WORDS="newsctl search --pla", COMP_CWORD="2")
    out = subprocess.run([NEWSCTL], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["--place"]
    # the shell named, not guessed from the parent processes (under make or sh the guess is an unsupported
    # shell); Typer's own switch makes --show-completion take the shell's name
    out = subprocess.run([NEWSCTL, "--show-completion", "bash"], capture_output=True, text=True,
                         env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert out.returncode == 0 and "_NEWSCTL_COMPLETE" in out.stdout
    out = subprocess.run([NEWSCTL, "-h"], capture_output=True, text=True)
    assert "--install-completion" in out.stdout
