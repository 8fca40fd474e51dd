"""The console's tracebacks are still rich's, though structlog is imported without rich
(issue 17): the formatter imports it when there is a traceback to show."""

from __future__ import annotations

import io

from dockd.adapters.journal import ExcInfo, RichTraceback


def _fail(recorder: str) -> None:
    raise ValueError(f"cannot read {recorder}")


def _caught() -> ExcInfo:
    try:
        _fail("SN-4711")
    except ValueError as exc:
        return type(exc), exc, exc.__traceback__
    raise AssertionError("_fail returned")


def test_a_logged_exception_is_drawn_by_rich_with_its_locals() -> None:
    out = io.StringIO()
    RichTraceback(colors=False)(out, _caught())
    text = out.getvalue()
    assert "Traceback (most recent call last)" in text
    assert "recorder = 'SN-4711'" in text  # the locals box, as structlog's default shows
    assert "ValueError: cannot read SN-4711" in text
    assert "\x1b[" not in text  # no colour codes when stderr is no terminal


def test_colours_on_a_terminal() -> None:
    out = io.StringIO()
    RichTraceback(colors=True)(out, _caught())
    assert "\x1b[" in out.getvalue()
