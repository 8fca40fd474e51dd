"""Logging: structlog configured once, rendering for whoever reads it.

On a terminal: readable console lines on stderr (stdout is kept for `--json`).
Under systemd: native journal entries with structured fields, so an admin can ask
``journalctl DOCKD_SERIAL=ABC123`` or ``journalctl MESSAGE_ID=<id of safe-to-unplug>``
instead of grepping text, and ``journalctl -x`` can explain key events from
``systemd/dockd.catalog``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

Target = Literal["console", "journal", "auto"]

SYSLOG_IDENTIFIER: Final = "dockd"
FIELD_PREFIX: Final = "DOCKD_"

#: MESSAGE_ID of each key event the daemon logs. Fixed forever: admins filter and alert on
#: them and ``systemd/dockd.catalog`` explains them; a new event gets a new random id
#: (``python -c 'import uuid; print(uuid.uuid4().hex)'``), an id is never reused.
MESSAGE_IDS: Final[Mapping[str, str]] = {
    "docked": "fa26c4e6cf224977b8d2c94b2362db23",
    "copy-started": "7a3e445638764f1e979ef9481b3b485b",
    "recording-verified": "b024274232104515a48625504ec02d04",
    "problem": "a91a0266aa7a420f8eb90720c68f5263",
    "session-finished": "8dad97e2567e442daf8ad418a913081c",
    "safe-to-unplug": "a7985e5b272a41c18b651819fddea79c",
    "interrupted": "1aed2bacafa740889d14129c4edc1330",
    "recorder-cleared": "846f8b52981b4427b7d7c7546ace88a9",
    "recorder-writes-blocked": "38888fe2d0594dcb8254704838baf751",
    "unlock-blocked": "c4591483334e4de5ae1b9688cba9593a",
}

#: structlog level name -> syslog priority, as Python's SysLogHandler maps them.
PRIORITIES: Final[Mapping[str, int]] = {
    "debug": 7,
    "info": 6,
    "warning": 4,
    "warn": 4,
    "error": 3,
    "exception": 3,
    "critical": 2,
    "fatal": 2,
}

# Keys the journal renderer turns into dedicated fields rather than DOCKD_* fields.
_CODE_KEYS: Final = ("pathname", "lineno", "func_name")
_INVALID_FIELD_CHARS = re.compile(r"[^A-Z0-9_]")
# journald rejects longer field names; "DOCKD_" + 58 characters still fits.
_MAX_FIELD_NAME = 64

JournalSend = Callable[..., None]
# what structlog imports only to pretty-print tracebacks (rich, 50 ms of every start) or to
# colour a Windows console (colorama): a one-shot `dockd ingest` needs neither
_OPTIONAL_FOR_STRUCTLOG: Final = ("rich", "colorama")


def import_structlog() -> ModuleType:
    """structlog, imported without its optional rich and colorama.

    A name set to None in `sys.modules` makes its import fail, so structlog falls back
    as if they were not installed; they are importable again afterwards (`dockd status`
    draws with rich). On Linux colorama's colour codes are structlog's own; console
    tracebacks still come from rich, imported when one is shown (`RichTraceback`). If
    something imported structlog first, it is used as it is."""
    hidden = [name for name in _OPTIONAL_FOR_STRUCTLOG if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import structlog
    finally:
        for name in hidden:
            del sys.modules[name]
    return structlog


@dataclass(frozen=True)
class RichTraceback:
    """structlog's default console traceback (`structlog.dev.RichTracebackFormatter` with
    its defaults), importing rich only when there is a traceback to show."""

    colors: bool

    def __call__(self, sio: TextIO, exc_info: ExcInfo) -> None:
        from rich.console import Console
        from rich.traceback import Traceback

        sio.write("\n")
        console = Console(file=sio, color_system="truecolor" if self.colors else None)
        console.print(Traceback.from_exception(*exc_info, show_locals=True, word_wrap=True))


def configure_logging(verbose: bool = False, target: Target | str = "auto") -> None:
    """Configure structlog once for the whole process.

    ``target`` is ``"console"`` (human lines on stderr), ``"journal"`` (native journal
    entries) or ``"auto"``: the journal when stderr *is* the journal, which is how systemd
    starts a service with the default ``StandardError=journal``. Checking the stream rather
    than "are we under systemd" keeps ``dockd ingest`` on a terminal, in a pipe or under
    ``systemd-run --pty`` readable for the person watching it.
    """
    if target not in ("console", "journal", "auto"):
        raise ValueError(f"logging target must be console, journal or auto, not {target!r}")
    level = logging.DEBUG if verbose else logging.INFO
    send = None
    if target == "journal" or (target == "auto" and stderr_is_journal()):
        send = _load_journal_send(required=target == "journal")
    if send is None:
        _configure_console(level)
    else:
        _configure_journal(level, send)


def stderr_is_journal() -> bool:
    """True when stderr is the stream systemd connected to journald.

    systemd sets ``JOURNAL_STREAM=<st_dev>:<st_ino>`` of that stream; comparing it with our own
    stderr (systemd.exec(5)) tells a service apart from a child whose stderr was redirected,
    which inherits the variable but not the stream.
    """
    value = os.environ.get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not sep or not dev.isdigit() or not ino.isdigit():
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (AttributeError, ValueError, OSError):  # no stderr, or one without a descriptor
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def _load_journal_send(required: bool) -> JournalSend | None:
    """Import systemd-python only when the journal is wanted, so a console-only install of
    dockd (a laptop, CI) does not need libsystemd."""
    try:
        import systemd.journal
    except ImportError as exc:
        if not required:
            return None
        raise RuntimeError(
            "logging to the journal needs systemd-python: "
            "apt-get install libsystemd-dev pkg-config && pip install systemd-python"
        ) from exc
    send: JournalSend = systemd.journal.send
    return send


def _configure_console(level: int) -> None:
    structlog = import_structlog()
    colors = sys.stderr.isatty()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=RichTraceback(colors)),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _configure_journal(level: int, send: JournalSend) -> None:
    structlog = import_structlog()
    where = structlog.processors.CallsiteParameter
    # No timestamp processor: journald stamps every entry itself (realtime and monotonic).
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.CallsiteParameterAdder(
            [where.PATHNAME, where.LINENO, where.FUNC_NAME]
        ),
        render_journal_fields,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=JournalLoggerFactory(send),
        cache_logger_on_first_use=True,
    )


def render_journal_fields(_logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """Turn a structlog event into journal fields (the keyword arguments of ``journal.send``).

    Every bound key becomes ``DOCKD_<KEY>`` so that a daemon key such as ``message`` or
    ``priority`` can never overwrite a journal field with a meaning of its own.
    """
    fields = dict(event_dict)
    event = str(fields.pop("event", ""))
    level = str(fields.pop("level", method))
    exc_info = fields.pop("exc_info", None)
    code_file, code_line, code_func = (fields.pop(key, None) for key in _CODE_KEYS)
    tb = _format_traceback(exc_info)
    out: dict[str, Any] = {
        "PRIORITY": str(PRIORITIES.get(level, 6)),
        "SYSLOG_IDENTIFIER": SYSLOG_IDENTIFIER,
        "DOCKD_EVENT": event,
    }
    message_id = MESSAGE_IDS.get(event)
    if message_id is not None:
        out["MESSAGE_ID"] = message_id
    # The caller's location; without it journal.send would name JournalLogger.msg instead.
    if code_file is not None:
        out["CODE_FILE"] = str(code_file)
    if isinstance(code_line, int):
        out["CODE_LINE"] = code_line
    if code_func is not None:
        out["CODE_FUNC"] = str(code_func)
    pairs: list[str] = []
    for key, value in fields.items():
        if value is None:
            continue
        text = str(value)
        pairs.append(f"{key}={_quote(text)}")
        out[field_name(key)] = _field_value(text)
    message = " ".join([event, *pairs])
    if tb is not None:
        out["TRACEBACK"] = _field_value(tb)
        message += f" ({tb.rstrip().splitlines()[-1]})"
    out["MESSAGE"] = _printable(message)
    return out


def _printable(text: str) -> str:
    """MESSAGE must be valid UTF-8 even when a recorder gave us a non-UTF-8 file name: the raw
    bytes are shown as ``\\xff`` escapes (the exact name is in the DOCKD_* field)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def field_name(key: str) -> str:
    """``serial`` -> ``DOCKD_SERIAL``; journald field names are ``[A-Z0-9_]``, at most 64 long."""
    return (FIELD_PREFIX + _INVALID_FIELD_CHARS.sub("_", key.upper()))[:_MAX_FIELD_NAME]


def _field_value(text: str) -> str | bytes:
    """Field values go to the journal as bytes when they are not valid UTF-8 (a surrogate-escaped
    file name), so that the exact name survives instead of the log call failing."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


def _quote(text: str) -> str:
    """Quote a value in MESSAGE only when needed to keep ``key=value`` pairs unambiguous."""
    if text and not any(c.isspace() or c in "\"'=\\" for c in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _format_traceback(exc_info: object) -> str | None:
    """``log.exception`` passes ``exc_info=True``; callers may also pass an exception or tuple."""
    if exc_info is None or exc_info is False:
        return None
    info: ExcInfo | tuple[None, None, None]
    if isinstance(exc_info, BaseException):
        info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        info = exc_info
    else:
        info = sys.exc_info()
    if info[1] is None:
        return None
    return "".join(traceback.format_exception(info[1]))


class JournalLogger:
    """The structlog "wrapped logger" for journald: every method sends one journal entry.

    Losing a log line must never abort copying evidence, so when journald cannot take the entry
    (socket gone during a journald restart) the message goes to stderr instead, which systemd
    also forwards to the journal.
    """

    def __init__(self, send: JournalSend) -> None:
        self._send = send

    def msg(self, **fields: Any) -> None:
        try:
            self._send(**fields)
        except OSError as exc:
            sys.stderr.write(f"dockd: journal unavailable ({exc}): {fields.get('MESSAGE', '')}\n")

    debug = info = warning = warn = error = critical = fatal = exception = msg


class JournalLoggerFactory:
    """One ``JournalLogger`` for any ``structlog.get_logger(name)``; the name is not needed
    because ``CODE_FILE``/``CODE_FUNC`` already say where an entry comes from."""

    def __init__(self, send: JournalSend) -> None:
        self._logger = JournalLogger(send)

    def __call__(self, *args: Any) -> JournalLogger:
        return self._logger
