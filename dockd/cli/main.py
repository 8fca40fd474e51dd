"""The `dockd` command. Exit 0 = fine, 1 = something is wrong, 2 = usage or configuration."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from dockd import __version__
from dockd.cli.language import Speaker, StationLanguage, parser_class, station_locale
from dockd.errors import DockdError
from dockd.ui.i18n import ENGLISH, Locale

if TYPE_CHECKING:
    from dockd.cli.common import Handler

# one module of dockd.cli per group of commands, in the order of `dockd --help`
GROUPS = (
    "run",
    "ingest",
    "store",
    "recordings",
    "policy",
    "udev",
    "devices",
    "excuse",
    "exemptions",
    "interruptions",
    "spotcheck",
    "activities",
    "holds",
    "retention",
    "forward",
    "attest",
    "operators",
    "view",
    "archive",
    "export",
    "report",
    "station",
)
# the group of each command whose word is not its group's name: a command imports and
# builds only its own group's arguments (tests/unit/test_cli_dispatch.py keeps this true)
OWNERS = {
    "status": "run",
    "verify": "store",
    "audit": "store",
    "sessions": "recordings",
    "udev-rules": "udev",
}
# the options before the command, to find its word; anything else (an abbreviation, a
# missing value) leaves the word unknown, and the whole parser says what is wrong
_top_options = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
_top_options.add_argument("--config")
_top_options.add_argument("--verbose", action="store_true")


def parser(command: str | None = None, speaker: Speaker = ENGLISH) -> argparse.ArgumentParser:
    """`command`'s group's arguments, or every command's when it names none (`--help`, a
    typo): building it imports no command's dependencies. Its help and argparse's own
    words are in `speaker`'s language."""
    top = parser_class(speaker)(prog="dockd", description=__doc__)
    top.add_argument("--config", type=Path, help="TOML config (default /etc/dockd/dockd.toml)")
    top.add_argument("--verbose", action="store_true", help="debug logging")
    top.add_argument("--version", action="version", version=f"dockd {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    group = OWNERS.get(command or "", command)
    if command is not None and group in GROUPS:
        import_module(f"dockd.cli.{group}").register(sub)
        # a group's name that is no command ("store", "udev") is a typo like any other
        return top if command in sub.choices else parser(None, speaker)
    for name in GROUPS:
        import_module(f"dockd.cli.{name}").register(sub)
    return top


def command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, read past the options before it; None when it starts with
    another option (`--help`, `--version`) or has none."""
    try:
        _, rest = _top_options.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    return rest[0] if rest and not rest[0].startswith("-") else None


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = parser(command_word(words), StationLanguage(words)).parse_args(words)
    from dockd.app import build, configure_logging, load_config, start_up

    with start_up():
        if getattr(args, "logs", False):
            configure_logging(args.verbose)
        try:
            app = build(load_config(args.config))
        except DockdError as exc:
            _report(exc, ENGLISH)  # no config, no language: English
            return exc.exit_code
    try:
        handler: Handler = args.handler
        return handler(app, args)
    except DockdError as exc:
        _report(exc, station_locale(app))
        return exc.exit_code
    finally:
        app.close()


def _report(exc: DockdError, tr: Locale) -> None:
    """The code stays as it is (the journal and scripts key on it); the message and the
    hint are in the reader's language."""
    sys.stderr.write(
        tr("dockd: {code}: {message}", code=exc.code, message=tr.message(exc))
        + "\n  "
        + tr("hint: {hint}", hint=tr.hint(exc))
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
