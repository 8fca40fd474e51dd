"""A command builds only its own group's arguments (`dockd.cli.main.OWNERS`), and anything
else the whole parser, so that `--help` and a typo read as they always did."""

from __future__ import annotations

import argparse
from importlib import import_module

import pytest

from dockd.cli.main import GROUPS, OWNERS, command_word, parser


def _words(group: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    import_module(f"dockd.cli.{group}").register(sub)
    return set(sub.choices)


def _choices(top: argparse.ArgumentParser) -> set[str]:
    (sub,) = (a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


@pytest.mark.parametrize("group", GROUPS)
def test_each_command_builds_its_group_and_only_it(group: str) -> None:
    for word in _words(group):
        assert _choices(parser(word)) == _words(group), word


def test_the_table_names_only_commands_of_their_group() -> None:
    assert all(word in _words(group) for word, group in OWNERS.items())


def test_no_command_or_an_unknown_one_builds_every_group() -> None:
    every = set().union(*(_words(group) for group in GROUPS))
    assert _choices(parser()) == every
    assert _choices(parser("inges")) == every
    assert _choices(parser("store")) == every  # a group's name, not a command's
    assert _choices(parser("udev")) == every


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["ingest", "/media/x", "--serial", "A"], "ingest"),
        (["--config", "ingest", "status"], "status"),  # a config file named like a command
        (["--config=c.toml", "--verbose", "sessions", "--json"], "sessions"),
        (["--verbose", "--help"], None),
        (["--version"], None),
        (["--config"], None),  # the whole parser says the value is missing
        (["--conf", "c.toml", "status"], None),  # abbreviated: the whole parser reads it
        ([], None),
    ],
)
def test_the_command_word_is_read_past_the_options_before_it(
    argv: list[str], word: str | None
) -> None:
    assert command_word(argv) == word
