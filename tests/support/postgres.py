"""A throw-away PostgreSQL 15 server for integration tests.

dockd's evidence index relies on PostgreSQL semantics (transactions, locking,
constraint errors) that SQLite would only pretend to have, so tests get a real
private cluster, isolated from any system instance and removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("DOCKD_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
_OS_USER = "postgres"
_DB_NAME = "dockd"
_TIMEOUT = 120
# Durability is pointless for a cluster that is deleted after the test.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _run(cmd: list[str | Path], *, as_postgres: bool, cwd: Path) -> None:
    """Run as the postgres OS user where PostgreSQL refuses root.

    The tool's stderr goes into the exception; CalledProcessError hides it.
    """
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(cwd)},
        user=_OS_USER if as_postgres else None,
        group=_OS_USER if as_postgres else None,
        extra_groups=[] if as_postgres else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}: "
            f"{proc.stderr.strip() or proc.stdout.strip()}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open_path_for(uid: int, target: Path) -> None:
    """Let the postgres user reach ``target`` through root-only parents.

    pytest's tmp_path sits under 0700 directories; granting search-only (o+x)
    permission lets postgres traverse them without being able to list them.
    """
    for d in [target, *target.parents]:
        st = d.stat()
        if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
            d.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


def _kill_leftover(pidfile: Path) -> None:
    """Last resort when pg_ctl cannot stop the server: never leak a postmaster."""
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


@contextmanager
def running_postgres(base_dir: Path) -> Iterator[str]:
    """Yield an SQLAlchemy URL to a fresh cluster with an empty ``dockd`` database.

    Data and socket live in ``base_dir`` (socket dir ``s`` is kept short for the
    107-byte unix socket path limit); the postgres log stays there for
    post-mortems. Only TCP on 127.0.0.1 with trust auth is used by clients.
    """
    missing = [b for b in ("initdb", "pg_ctl", "createdb") if not (PG_BIN / b).exists()]
    if missing:
        pytest.skip("apt-get install -y postgresql-15")
    if os.geteuid() != 0:
        pytest.skip("run as root (initdb/pg_ctl are run as the postgres OS user)")
    try:
        pg = pwd.getpwnam(_OS_USER)
    except KeyError:
        pytest.skip("apt-get install -y postgresql-15  (creates the postgres OS user)")

    base_dir = base_dir.resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    _open_path_for(pg.pw_uid, base_dir)
    data, sock, log = base_dir / "pgdata", base_dir / "s", base_dir / "postgres.log"
    for d in (data, sock):
        d.mkdir(mode=0o700)
        os.chown(d, pg.pw_uid, pg.pw_gid)
    log.touch()
    os.chown(log, pg.pw_uid, pg.pw_gid)
    sock_ok = len(str(sock / ".s.PGSQL.65535")) < 107

    pg_ctl: list[str | Path] = [PG_BIN / "pg_ctl", "-D", data, "-w", "-t", "60"]
    try:
        _run(
            [
                PG_BIN / "initdb",
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            as_postgres=True,
            cwd=base_dir,
        )
        settings = {**_SETTINGS, "unix_socket_directories": f"'{sock if sock_ok else ''}'"}
        # A free port may be taken between probing and binding; retry a few.
        for attempt in range(5):
            port = _free_port()
            with open(data / "postgresql.conf", "a") as conf:
                conf.writelines(f"{k} = {v}\n" for k, v in {**settings, "port": port}.items())
            try:
                _run([*pg_ctl, "-l", log, "start"], as_postgres=True, cwd=base_dir)
                break
            except RuntimeError as exc:
                if attempt == 4:
                    raise RuntimeError(f"{exc}\n--- postgres.log ---\n{log.read_text()}") from exc
        _run(
            [PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", _DB_NAME],
            as_postgres=False,
            cwd=base_dir,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{_DB_NAME}"
    finally:
        try:
            # Keyed on the pid file, not on success: a timed-out start may live.
            if (data / "postmaster.pid").exists():
                _run([*pg_ctl, "-m", "immediate", "stop"], as_postgres=True, cwd=base_dir)
        except RuntimeError:
            _kill_leftover(data / "postmaster.pid")
            raise
        finally:
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(sock, ignore_errors=True)
