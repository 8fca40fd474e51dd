"""Chinese and English: which language a reader gets, and the catalogs that say it.

The status page follows the browser (`Accept-Language`); the e-mail and the CLI follow
`[station] language`, which defaults from the pack (the shipped packs say zh-CN) and,
without one, is English. The catalogs are gettext's: `dockd/locale/<lang>/LC_MESSAGES/
dockd.po` is the source, `dockd.mo` is compiled from it (`make locale`; a test fails when
they disagree). A msgid is the English text itself, so English needs no catalog.

Times for a reader are shown in the station's zone (`[station] timezone`, by default the
pack's), with the offset written out: the ledger and the JSON outputs keep RFC 3339.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, Literal

from dockd.core.said import Said

Language = Literal["en", "zh-CN"]
LANGUAGES: tuple[Language, ...] = ("en", "zh-CN")
DEFAULT_LANGUAGE: Language = "en"
DOMAIN = "dockd"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# gettext's folder name for each language (a POSIX locale name, not a BCP 47 tag)
GETTEXT_NAMES: dict[Language, str] = {"en": "en", "zh-CN": "zh_CN"}


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where shown."""
    return message


def language_of(tag: str) -> Language | None:
    """A BCP 47 tag as a browser sends it -> the language dockd has for it, if any: every
    Chinese that is written in simplified characters (zh, zh-CN, zh-Hans, zh-SG) is zh-CN;
    Traditional (zh-TW, zh-HK, zh-Hant) is not: it is a different script."""
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    rest = set(parts[1:])
    if rest & {"hant", "tw", "hk", "mo"}:
        return None
    return "zh-CN"


def negotiate(accept_language: str | None) -> Language:
    """The language of the page for an `Accept-Language` header (RFC 9110 12.5.4): the
    ranges by q-value, highest first, ties in the order sent; q=0 means "not this"; the
    first one dockd has wins; else English."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        if not tag:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, index, tag))
    for _, _, tag in sorted(ranked):
        found = DEFAULT_LANGUAGE if tag == "*" else language_of(tag)
        if found is not None:
            return found
    return DEFAULT_LANGUAGE


@cache
def catalog(language: Language) -> gettext.NullTranslations:
    """The compiled catalog; English is the msgids themselves."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, [GETTEXT_NAMES[language]])


@dataclass(frozen=True)
class Locale:
    """What a reader's text is made with: the language and the station's zone (None: the
    host's own zone)."""

    language: Language = DEFAULT_LANGUAGE
    zone: tzinfo | None = None
    _catalog: gettext.NullTranslations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_catalog", catalog(self.language))

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def __call__(self, message: str, /, **values: Any) -> str:
        """The translation of `message`, its `{name}` fields filled from `values`."""
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def say(self, text: str) -> str:
        """`text` in this language when it is a `Said` (its values too), else as it is."""
        if not isinstance(text, Said):
            return text
        values = {k: self._value(v) for k, v in text.values.items()}
        return self(text.template, **values)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.say(value)
        if isinstance(value, datetime):  # 2026-11-26 08:10:05 +08:00 in Qidong
            shown = value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %z")
            return f"{shown[:-2]}:{shown[-2:]}"
        return value

    def message(self, exc: Any) -> str:
        """A DockdError's message in this language, its `Said` values too."""
        return self.say(Said.error(exc))

    def hint(self, exc: Any) -> str:
        """A DockdError's hint in this language: the class's, or the raise's template filled
        from the error's values."""
        return self.say(Said.hint(exc))

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.zone)


ENGLISH = Locale()
