"""What the command modules share: argument types, `--by`, JSON output.

Imported for every command, so it imports nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dockd.app import App

Handler = Callable[["App", argparse.Namespace], int]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Subparsers(Protocol):
    """What `ArgumentParser.add_subparsers()` returns, as far as the commands use it."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def add_by(parser: argparse.ArgumentParser) -> None:
    """`--by`: each change is a custody event, and the ledger must say who made it."""
    parser.add_argument(
        "--by", default=getpass.getuser(), help="who does this (recorded in the custody log)"
    )


def say(message: str, **values: str) -> str:
    """A usage error in argparse's current words: while a dockd parser parses, those are
    the station's language (`dockd.cli.language`), so an argument's type speaks it too."""
    translate: Callable[[str], str] = vars(argparse)["_"]
    return translate(message).format(**values)


def duration(text: str) -> timedelta:
    """'24h', '90m', '7d' -> timedelta; anything else is a usage error."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(
            say("{text} is not a duration like 24h, 90m or 7d", text=repr(text))
        )
    return timedelta(seconds=float(found[1]) * _UNITS[found[2]])


def instant(text: str) -> datetime:
    """An RFC 3339 time with an offset: a time without one is ambiguous evidence."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            say("{text} is not an RFC 3339 time", text=repr(text))
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            say("{text} has no UTC offset (e.g. +08:00)", text=repr(text))
        )
    return value


def print_json(value: Any) -> None:
    """A pydantic model or a list of them as its schema says; anything else as plain JSON."""
    if hasattr(value, "model_dump_json"):
        sys.stdout.write(value.model_dump_json(indent=2) + "\n")
    elif isinstance(value, list) and value and hasattr(value[0], "model_dump_json"):
        from pydantic import TypeAdapter

        sys.stdout.write(TypeAdapter(type(value)).dump_json(value, indent=2).decode() + "\n")
    else:
        print(json.dumps(value, ensure_ascii=False, indent=2, default=str))
