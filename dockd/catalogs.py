"""`make locale`: the message catalogs, extracted from where the strings are written.

A development tool at the top of the layers (beside `dockd.schemas`): it reads the CLI's
parser as well as the templates and the Python below it.

What a reader sees comes from these sources: the templates (`_()` in
`dockd/web/templates/`), the Python that marks its strings (`tr()`, `N_()`, and
`_alert(level, message)` in the status document), every error's `hint` in
`dockd/errors.py` and the literal message and `hint=` of each raise of a `DockdError`, the
CLI's help texts (read off the parser itself) and argparse's own words (`_()` and
`ngettext()` in the stdlib's `argparse.py`). `extract()` gathers them all (Babel's
extractors); `main()` merges them into each language's `.po`, keeping what translators
wrote, and compiles `.mo`.
`tests/unit/test_i18n.py` fails when a msgid has no translation or a `.mo` is stale.

Babel is a development tool here: at run time the stdlib's gettext reads the `.mo`.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from dockd import errors
from dockd.cli.language import help_texts
from dockd.cli.main import parser
from dockd.ui.i18n import DOMAIN, GETTEXT_NAMES, LANGUAGES, LOCALE_DIR, Language

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "web" / "templates"
# the Python whose marked strings a reader sees
PYTHON = ("ui/*.py", "web/*.py", "cli/*.py", "core/status.py")
KEYWORDS = {"_": None, "N_": None, "tr": None, "say": None, "Said": None, "_alert": (2,)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "1", "lstrip_blocks": "1"}


# argparse says its words through these
ARGPARSE_KEYWORDS: dict[str, object] = {"_": None, "ngettext": (1, 2)}
Message = str | tuple[str, str]


def _found(
    path: Path,
    method: object,
    options: dict[str, str] | None = None,
    keywords: dict[str, object] | None = None,
) -> Iterator[Message]:
    with path.open("rb") as fh, warnings.catch_warnings():
        # an f-string message is not extracted (and so not translated): Babel says so
        # for every one, which `make locale` need not repeat
        warnings.simplefilter("ignore")
        found = extract(method, fh, keywords or KEYWORDS, options=options)  # type: ignore[arg-type]
        for _, message, _, _ in found:
            if isinstance(message, str) and message:
                yield message
            elif isinstance(message, tuple) and all(message):
                yield message[0], message[1]


def error_keywords() -> dict[str, object]:
    """Each error class is a keyword: its first argument, when a literal, is the message."""
    found: dict[str, object] = {name: (1,) for name, _ in error_classes()}
    return {**KEYWORDS, **found}


def error_classes() -> Iterator[tuple[str, type[errors.DockdError]]]:
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.DockdError):
            yield name, cls


def raised_hints(path: Path, names: set[str]) -> Iterator[str]:
    """The literal `hint=` given where an error is raised (Babel reads positional
    arguments only): the admin acts on it as on a class's own hint."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id not in names:
                continue
            for keyword in node.keywords:
                given = keyword.value
                if keyword.arg == "hint" and isinstance(given, ast.Constant) and given.value:
                    yield str(given.value)


def hints() -> Iterator[tuple[str, str]]:
    """(code, hint) of every error class: the hint is what an admin acts on."""
    for _, cls in error_classes():
        if "hint" in vars(cls):
            yield cls.code, cls.hint


def extract_all() -> Catalog:
    """Every msgid a reader can meet, each with where it was found."""
    catalog = Catalog(domain=DOMAIN, project="dockd", fuzzy=False)
    for path in sorted(TEMPLATES.glob("*.html")):
        for message in _found(path, babel_extract, JINJA_OPTIONS):
            catalog.add(message, locations=[(str(path.relative_to(PACKAGE)), 0)])
    for pattern in PYTHON:
        for path in sorted(PACKAGE.glob(pattern)):
            for message in _found(path, "python"):
                catalog.add(message, locations=[(str(path.relative_to(PACKAGE)), 0)])
    for code, hint in hints():
        catalog.add(hint, locations=[(f"errors.py:{code}", 0)])
    raising = error_keywords()
    names = {name for name, _ in error_classes()}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = [(str(path.relative_to(PACKAGE)), 0)]
        for message in _found(path, "python", keywords=raising):
            catalog.add(message, locations=where)
        for hint in raised_hints(path, names):
            catalog.add(hint, locations=where)
    for text in help_texts(parser()):
        catalog.add(text, locations=[("cli (--help)", 0)])
    for message in _found(Path(argparse.__file__), "python", keywords=ARGPARSE_KEYWORDS):
        catalog.add(message, locations=[("argparse.py", 0)])
    return catalog


def translated(msgstr: object) -> bool:
    """A plural's msgstr is a tuple of forms: each must be written."""
    if isinstance(msgstr, str):
        return bool(msgstr)
    return isinstance(msgstr, tuple | list) and bool(msgstr) and all(msgstr)


def po_path(language: Language) -> Path:
    return LOCALE_DIR / GETTEXT_NAMES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(language: Language) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=GETTEXT_NAMES[language], domain=DOMAIN)
    with path.open("rb") as fh:
        return read_po(fh, locale=GETTEXT_NAMES[language], domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update(language: Language, template: Catalog) -> Catalog:
    """The language's catalog over the new msgids: obsolete ones dropped, new ones empty,
    and no fuzzy guesses (a wrong guess would be shown as if it were a translation)."""
    catalog = read(language)
    created = catalog.creation_date  # kept, so that only a change of text changes the file
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.creation_date = created
    catalog.revision_date = created
    catalog.fuzzy = False
    catalog.project, catalog.version = "dockd", ""
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "dockd"
    catalog.language_team = "dockd"
    catalog.header_comment = (
        f"# dockd in {language}: the status page, the nightly e-mail, the CLI, the error hints.\n"
        "# `make locale` re-extracts the msgids and compiles dockd.mo: fill each empty msgstr,\n"
        "# keep its {fields}, and write no literal per cent sign (the page's gettext formats %)."
    )
    return catalog


def main() -> int:
    template = extract_all()
    missing = 0
    for language in LANGUAGES:
        if language == "en":
            continue
        catalog = update(language, template)
        po = po_path(language)
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
        po.with_suffix(".mo").write_bytes(compiled(catalog))
        untranslated = [m.id for m in catalog if m.id and not translated(m.string)]
        missing += len(untranslated)
        for msgid in untranslated:
            print(f"{po}: untranslated: {msgid!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
