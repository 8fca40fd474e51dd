"""The status pages' server: uvicorn in a daemon thread of `dockd run`."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import structlog
import uvicorn
from starlette.types import ASGIApp

from dockd.core.access import Access
from dockd.errors import TlsError

log = structlog.get_logger("dockd.web")


def _bind(host: str, port: int) -> socket.socket:
    """Bind here, not in uvicorn, so that a taken port is an OSError for the caller (and port
    0 gives its real number at once)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def check_tls(access: Access) -> None:
    """Load the certificate and key now, so that a bad pair stops `dockd run` with its cause
    (TlsError) instead of a server that never answers."""
    if access.tls_cert is None or access.tls_key is None:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(access.tls_cert, access.tls_key)
    except FileNotFoundError as exc:
        raise TlsError("[web] TLS file {filename} does not exist", filename=exc.filename) from exc
    except PermissionError as exc:
        raise TlsError(
            "[web] TLS file {filename} cannot be read: permission denied", filename=exc.filename
        ) from exc
    except ssl.SSLError as exc:
        mismatch = "KEY_VALUES_MISMATCH" in str(exc) or "key values mismatch" in str(exc)
        what = (
            f"[web] tls_key {access.tls_key} is not the private key of tls_cert {access.tls_cert}"
            if mismatch
            else f"[web] tls_cert {access.tls_cert} / tls_key {access.tls_key} are not a "
            f"PEM certificate and key: {exc.reason or exc}"
        )
        raise TlsError(what) from exc


class WebServer:
    """The status pages in a daemon thread of `dockd run`.

    `dockd.app.build_web` checks access before building it (ConfigError: the daemon must
    refuse to start). `start()` never stops the dock: when the port cannot be had it logs
    `web-unavailable` and returns False, and recorders are still copied. `stop()` after the
    slots have finished."""

    def __init__(self, access: Access, asgi: ASGIApp) -> None:
        self.access = access
        self.asgi = asgi
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.access.host
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.access.https else "http"
        return f"{scheme}://{shown}:{self.port}/"

    def start(self, timeout: float = 10.0) -> bool:
        try:
            sock = _bind(self.access.host, self.access.port)
        except OSError as exc:
            log.error(
                "web-unavailable",
                listen=self.access.listen,
                message=f"cannot listen on {self.access.listen}: {exc.strerror or exc}",
                hint="Another program has the port, or the address is not on this machine: "
                "change [web] listen. Recorders are still copied.",
            )
            return False
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.asgi,
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            proxy_headers=False,
            server_header=False,
            limit_concurrency=64,
            timeout_graceful_shutdown=3,
            ssl_certfile=self.access.tls_cert,
            ssl_keyfile=self.access.tls_key,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="dockd-web", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            log.error("web-unavailable", listen=self.access.listen, message="did not start")
            self.stop()
            return False
        log.info("web-listening", url=self.url, login=self.access.login)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
