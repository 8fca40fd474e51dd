"""`--help` and argparse's own words (usage, its errors) in the station's language.

argparse says its words through the module-level `argparse._` and `argparse.ngettext`
(bound to the stdlib's gettext, which reads the process's locale, not dockd's config).
While a dockd parser parses, those two are dockd's catalog; the help texts dockd gives
are translated by the formatter when they are shown, so building the parser stays free.

The language is that of `[station] language` (default the pack's), found only when
argparse has something to say: a command line that parses cleanly never reads the
config for it. It is read as written (tomllib, without the config models, whose import
alone would triple the time `dockd --help` takes), so a bad value elsewhere in the file
does not turn the help English; a file that is not TOML, or a pack that cannot be read,
names no language: the full config is loaded, and English is what a config that cannot
be loaded gives. No config file at all is the embedded defaults: the default pack's
language (zh-CN for the shipped packs).
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from dockd.errors import DockdError
from dockd.ui.i18n import ENGLISH, LANGUAGES, Language, Locale

if TYPE_CHECKING:
    from dockd.app import App


class Speaker(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


def config_path(argv: Sequence[str]) -> Path | None:
    """`--config FILE` or `--config=FILE` before any `--`, as the parser will read it."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--config" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--config="):
            return Path(arg.partition("=")[2])
    return None


# dockd.config's defaults, which its import would cost (a unit test holds them equal)
DEFAULT_CONFIG = Path("/etc/dockd/dockd.toml")
DEFAULT_PACK = "dalian-jinpu-ocean"
SHIPPED_RULES = Path(__file__).resolve().parent.parent.parent / "rules"
# the DOCKD_* settings that bear on the language: with any of them, ask the full config
_SETTINGS = ("DOCKD_STATION__", "DOCKD_POLICY__", "DOCKD_RULES__")


def _table(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    found = data.get(name, {})
    return found if isinstance(found, Mapping) else {}


def _toml(path: Path) -> Mapping[str, object] | None:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def written_language(
    argv: Sequence[str], environ: Mapping[str, str] = os.environ
) -> Language | None:
    """`[station] language` as the config file writes it, else its pack's; None when
    it cannot be told this way (then the full config decides)."""
    if any(name.upper().startswith(_SETTINGS) for name in environ):
        return None
    path = config_path(argv)
    if path is None and not DEFAULT_CONFIG.exists():
        data: Mapping[str, object] | None = {}
    else:
        data = _toml(path or DEFAULT_CONFIG)
    if data is None:
        return None
    said = _table(data, "station").get("language")
    if said is None:
        pack = _table(data, "policy").get("pack", DEFAULT_PACK)
        rules = _table(data, "rules").get("dir")
        folder = Path(str(rules)) if rules else SHIPPED_RULES
        policy = _toml(folder / "policies" / f"{pack}.toml")
        if policy is None:
            return None
        said = _table(policy, "station").get("language", "en")
    return next((language for language in LANGUAGES if language == said), None)


def station_locale(app: App) -> Locale:
    """The station's language and zone; when those cannot be had (a bad pack, a bad
    [station] timezone: the error being reported may be that), an explicit `[station]
    language` still holds, else English."""
    try:
        return app.locale
    except DockdError:
        language = app.config.station.language
        return ENGLISH if language is None else Locale(language)


class StationLanguage:
    """The station's locale, resolved on the first word argparse translates."""

    def __init__(self, argv: Sequence[str]) -> None:
        self._argv = list(argv)

    @cached_property
    def locale(self) -> Locale:
        written = written_language(self._argv)
        if written is not None:
            return Locale(written)
        from dockd.app import build, load_config

        try:
            app = build(load_config(config_path(self._argv)))
        except DockdError:
            return ENGLISH
        try:
            return station_locale(app)
        finally:
            app.close()

    def gettext(self, message: str) -> str:
        return self.locale.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.locale.ngettext(singular, plural, n)


@contextmanager
def speaking(speaker: Speaker) -> Iterator[None]:
    """argparse's words from `speaker` for the duration (nested parsers restore in turn)."""
    module = vars(argparse)
    saved = module["_"], module["ngettext"]
    module["_"], module["ngettext"] = speaker.gettext, speaker.ngettext
    try:
        yield
    finally:
        module["_"], module["ngettext"] = saved


class Formatter(argparse.HelpFormatter):
    """Translates each text dockd gave the parser (help, descriptions, group titles) as
    it is laid out; values such as `%(default)s` are filled in after."""

    def __init__(self, prog: str, speaker: Speaker) -> None:
        super().__init__(prog)
        self._speaker = speaker

    def _say(self, text: str) -> str:
        return self._speaker.gettext(text) if text else text

    def start_section(self, heading: str | None) -> None:
        super().start_section(None if heading is None else self._say(heading))

    def add_text(self, text: str | None) -> None:
        if text is not None and text is not argparse.SUPPRESS:
            text = self._say(text)
        super().add_text(text)

    def add_usage(
        self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None
    ) -> None:
        if prefix is None:
            prefix = self._say("usage: ")
        super().add_usage(usage, actions, groups, prefix)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        return text if text is None or text is argparse.SUPPRESS else self._say(text)


class Parser(argparse.ArgumentParser):
    """dockd's parser: its subparsers are of the same class (argparse's default), so one
    speaker serves the whole tree."""

    speaker: ClassVar[Speaker] = ENGLISH

    def _get_formatter(self) -> argparse.HelpFormatter:
        return Formatter(self.prog, self.speaker)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        with speaking(self.speaker):
            return super().parse_known_args(args, namespace)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """`parse_args` words "unrecognized arguments" after `parse_known_args` is done."""
        with speaking(self.speaker):
            return super().parse_args(args, namespace)


def help_texts(top: argparse.ArgumentParser) -> Iterator[str]:
    """Every text a parser tree was given: descriptions, group titles, help (for the
    catalog; argparse keeps them in attributes it does not document)."""
    todo = [top]
    while todo:
        current = todo.pop()
        yield from (t for t in (current.description, current.epilog) if t)
        for group in current._action_groups:
            yield from (t for t in (group.title, group.description) if t)
        for action in current._actions:
            if action.help and action.help is not argparse.SUPPRESS:
                yield action.help
            if isinstance(action, argparse._SubParsersAction):
                yield from (c.help for c in action._choices_actions if c.help)
                todo.extend(action.choices.values())


def parser_class(speaker: Speaker) -> type[Parser]:
    return type("Parser", (Parser,), {"speaker": speaker})
