"""One dock session per recorder: the lock is a `recorder_locks` row in the ledger.

The lock lives in the ledger rather than in a process because two `dockd ingest`,
the daemon and a CLI, or two stations on one PostgreSQL ledger must all see it.
It is taken in the transaction that starts the session and dropped in the one that
closes it. A holder that is provably dead (this host: another boot, or the same
boot and its pid gone) loses it; any other holder keeps it, so the second session
is refused and writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from blake3 import blake3
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import RecorderLockRow
from dockd.errors import RecorderBusyError


def _takers_lock(serial: str) -> int:
    """The PostgreSQL advisory lock that serialises the takers of one recorder's lock
    (SQLite: BEGIN IMMEDIATE). Keyed by the serial, so stations docking different
    recorders at shift change never queue on each other (the taker then waits for its
    own station's chain lock while holding it)."""
    digest = blake3(b"dockd recorder lock\n" + serial.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who would hold a recorder's lock: enough to tell later whether it is still alive."""

    session_id: str
    station: str
    host: str
    boot_id: str
    pid: int


def pid_alive(pid: int) -> bool:
    """A process with this pid exists on this host (not necessarily a dockd)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_is_dead(lock: RecorderLockRow, me: Holder, alive: Callable[[int], bool]) -> bool:
    """Only this host can tell: another boot of it ended every process, and within this
    boot a pid that is gone is gone. A holder on another host is taken to be alive."""
    if lock.host != me.host:
        return False
    return lock.boot_id != me.boot_id or not alive(lock.pid)


def clear_lock(
    session: Session, serial: str, me: Holder, alive: Callable[[int], bool]
) -> str | None:
    """Make sure nobody alive holds the recorder's lock, in the caller's transaction (which
    then holds it with `hold_lock`): the session id of a dead holder whose lock was
    dropped (its session must be closed), else None.

    RecorderBusyError when a live session holds it."""
    if session.get_bind().dialect.name == "postgresql":
        # without it two takers both see no row under READ COMMITTED and one dies on the key
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _takers_lock(serial)})
    lock = session.get(RecorderLockRow, serial, populate_existing=True)
    if lock is None:
        return None
    if not holder_is_dead(lock, me, alive):
        raise RecorderBusyError(
            "recorder {serial} is being copied by dock session {session} (station {station}, "
            "host {host}, pid {pid}, since {taken_at}); this ingest wrote nothing",
            session_id=lock.session_id,
            serial=serial,
            session=lock.session_id,
            station=lock.station,
            host=lock.host,
            pid=lock.pid,
            taken_at=lock.taken_at.isoformat(),
        )
    session.delete(lock)
    session.flush()
    return lock.session_id


def hold_lock(session: Session, serial: str, me: Holder, at: datetime) -> None:
    """After `clear_lock`, once `me`'s dock session row is written (the lock names it)."""
    session.add(
        RecorderLockRow(
            serial=serial,
            session_id=me.session_id,
            station=me.station,
            host=me.host,
            boot_id=me.boot_id,
            pid=me.pid,
            taken_at=at,
        )
    )


def release_lock(session: Session, session_id: str) -> None:
    """Drop whatever lock this session holds (none after a takeover: then nothing happens)."""
    session.execute(delete(RecorderLockRow).where(RecorderLockRow.session_id == session_id))
