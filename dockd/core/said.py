"""English text that keeps its template and values, so that a reader's locale can say it
again in their language (`dockd.ui.i18n.Locale.say`).

It is a `str`: the tests, the journal and the JSON outputs read the English. It lives in
core because the words a reader sees are often chosen here (why a recorder is not cleared,
why a file was kept), where the translations cannot be reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


class Said(str):
    """What a use case tells the operator (a mail's fate, a slot's trouble), read in
    English by the tests and the journal, in Chinese at the station's terminal and page."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Said:
        """A `datetime` value reads as RFC 3339 in the English (as the ledger and the JSON
        outputs write times) and in the reader's zone when said again."""
        english = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
        said = super().__new__(cls, template.format(**english) if values else template)
        said.template, said.values = template, values
        return said

    @classmethod
    def error(cls, exc: Any) -> Said:
        """A DockdError's message (its template and values)."""
        return cls(exc.template, **exc.values)

    @classmethod
    def hint(cls, exc: Any) -> Said:
        """A DockdError's hint: the raise's template filled from the error's values, or the
        class's own (a fixed msgid)."""
        if exc.hint_template is None:
            return cls(exc.hint)
        return cls(exc.hint_template, **exc.values)

    def encoded(self) -> dict[str, Any]:
        """The values as JSON holds them, for a ledger to keep beside the English: a value
        that is itself a `Said` as its own template and values (so that it is said again
        too), a time as `{"time": RFC 3339}`, a number as a number, anything else as its
        text."""
        return {name: _encoded(value) for name, value in self.values.items()}

    @classmethod
    def kept(cls, english: str, template: str, values: Mapping[str, Any]) -> Said:
        """A `Said` read back from where it was kept (`encoded`): its English is the text
        kept, not the template filled again, so that the record reads as it was written."""
        said = super().__new__(cls, english)
        said.template = template
        said.values = {name: _decoded(value) for name, value in values.items()}
        return said


def _encoded(value: Any) -> Any:
    if isinstance(value, Said):
        return {"template": value.template, "values": value.encoded()}
    if isinstance(value, datetime):
        return {"time": value.isoformat()}
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _decoded(value: Any) -> Any:
    if isinstance(value, Mapping) and "time" in value:
        return datetime.fromisoformat(value["time"])
    if isinstance(value, Mapping):
        inner = {name: _decoded(v) for name, v in value["values"].items()}
        return Said(value["template"], **inner)
    return value
