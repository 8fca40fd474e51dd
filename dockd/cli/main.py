"""The `dockd` command. Exit 0 = fine, 1 = something is wrong, 2 = usage or configuration."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dockd import __version__
from dockd.cli import (
    activities,
    archive,
    attest,
    devices,
    excuse,
    exemptions,
    export,
    forward,
    holds,
    ingest,
    interruptions,
    operators,
    policy,
    recordings,
    report,
    retention,
    run,
    spotcheck,
    station,
    store,
    udev,
    view,
)
from dockd.cli.common import Handler
from dockd.cli.language import Speaker, StationLanguage, parser_class, station_locale
from dockd.errors import DockdError
from dockd.ui.i18n import ENGLISH, Locale

# one module per group of commands, in the order of `dockd --help`
GROUPS = (
    run,
    ingest,
    store,
    recordings,
    policy,
    udev,
    devices,
    excuse,
    exemptions,
    interruptions,
    spotcheck,
    activities,
    holds,
    retention,
    forward,
    attest,
    operators,
    view,
    archive,
    export,
    report,
    station,
)


def parser(speaker: Speaker = ENGLISH) -> argparse.ArgumentParser:
    """Every command's arguments; building it imports no command's dependencies. Its help
    and argparse's own words are in `speaker`'s language."""
    top = parser_class(speaker)(prog="dockd", description=__doc__)
    top.add_argument("--config", type=Path, help="TOML config (default /etc/dockd/dockd.toml)")
    top.add_argument("--verbose", action="store_true", help="debug logging")
    top.add_argument("--version", action="version", version=f"dockd {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(StationLanguage(argv)).parse_args(argv)
    from dockd.app import build, configure_logging, load_config

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
    hint are in the reader's language. A hint given where the error was raised
    is translated only if the catalog has it."""
    sys.stderr.write(
        tr("dockd: {code}: {message}", code=exc.code, message=tr.message(exc))
        + "\n  "
        + tr("hint: {hint}", hint=tr(exc.hint))
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
