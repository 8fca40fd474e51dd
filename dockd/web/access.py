"""Access to the status pages: the login check and the ASGI guard every request passes.

Bound to a loopback address, no login (and a Host check against DNS rebinding), except
for the admin's pages (`ADMIN_PATHS`: the nightly report), which ask the configured login
everywhere and are refused (403) where none is configured. Bound to
any other address, `[web] token` or `[web] basic_auth` and HTTPS must be set, else the
daemon refuses to start (ConfigError, exit 2; the rules are in `dockd.core.access`).

    python -m dockd.web.access hash-password USER   # prints a [web] basic_auth value
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import secrets
import sys
import threading
import time

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockd.core.access import PBKDF2_SCHEME, Access
from dockd.core.net import is_loopback

log = structlog.get_logger("dockd.web")

DEFAULT_PBKDF2_ITERATIONS = 600_000
CREDENTIAL_CACHE_S = 600.0
POLL_HEADER = "x-dockd-poll"
POST_PREFIX = "/view/"  # the viewing forms; each POST carries its CSRF token
#: Pages for the admin alone: a login is asked even on loopback, where the status is open
ADMIN_PATHS = frozenset({"/report"})
HSTS = "max-age=31536000"


def hash_password(
    password: str, iterations: int = DEFAULT_PBKDF2_ITERATIONS, salt: bytes | None = None
) -> str:
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{PBKDF2_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


class Credentials:
    """Checks an Authorization header against the Access. Successful basic-auth checks are
    remembered for a while (keyed by an HMAC under a per-process key, never the password)
    so that a page polling every 2 s does not cost a PBKDF2 each time."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._key = secrets.token_bytes(32)
        self._good: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def check(self, authorization: str | None) -> str | None:
        """The user name (or 'token') when the header holds good credentials, else None."""
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        token = self.access.token
        if scheme.lower() == "bearer":
            if token is not None and hmac.compare_digest(value.encode(), token.encode()):
                return "token"
            return None
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        if token is not None and hmac.compare_digest(password.encode(), token.encode()):
            return user or "token"
        if self.access.password is None or self.access.user is None:
            return None
        if not hmac.compare_digest(user.encode(), self.access.user.encode()):
            return None
        key = hmac.new(self._key, decoded.encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            if self._good.get(key, 0.0) > now:
                return user
        if not self.access.password.matches(password):
            return None
        with self._lock:
            self._good = {k: t for k, t in self._good.items() if t > now}
            self._good[key] = now + CREDENTIAL_CACHE_S
        return user

    @staticmethod
    def presented(authorization: str | None) -> str | None:
        """The user name a request tried, for the log (never the secret)."""
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                return "(undecodable)"
        return f"({scheme.lower()})"


def _host_of(header: str) -> str:
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def _local_host_header(header: str) -> bool:
    """A page bound to loopback is only for this machine: a foreign Host is a DNS-rebinding
    attempt (a web page that made its own name point at 127.0.0.1)."""
    return is_loopback(_host_of(header))


SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'",
    ),
)


class Guard:
    """ASGI middleware: read-only methods, Host check (loopback), login (elsewhere), security
    headers, and one `http-request` log event per request (`login-failed` for bad logins).
    The page's own 2 s polls are logged at debug level so they do not flood the journal."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access
        self.credentials = Credentials(access)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        method: str = scope["method"]
        path: str = scope["path"]
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else None
        status = 500
        user: str | None = None
        https = scope.get("scheme") == "https"
        posting = method == "POST" and path.startswith(POST_PREFIX)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in out:
                        out[name] = value
                if https:
                    out["strict-transport-security"] = HSTS
            await send(message)

        try:
            refusal: Response | None = None
            if self.access.loopback and not _local_host_header(headers.get("host", "")):
                refusal = PlainTextResponse("This page is only served to this machine.", 421)
            elif method not in ("GET", "HEAD") and not posting:
                refusal = PlainTextResponse(
                    "The status pages are read-only.", 405, headers={"Allow": "GET, HEAD"}
                )
            elif not self.access.loopback and not https:
                # build_web refuses such a start; this guards any other way of serving
                log.warning("plain-http-refused", client=peer, path=path)
                refusal = PlainTextResponse(
                    "Off this machine the pages are served over HTTPS only: no login or "
                    "passphrase is accepted over plain HTTP.",
                    403,
                )
            elif path in ADMIN_PATHS and not (self.access.token or self.access.password):
                refusal = PlainTextResponse(
                    "This page is for the admin: set [web] basic_auth or [web] token, then log in.",
                    403,
                )
            elif not self.access.loopback or path in ADMIN_PATHS:
                authorization = headers.get("authorization")
                user = await run_in_threadpool(self.credentials.check, authorization)
                if user is None:
                    if authorization:
                        log.warning(
                            "login-failed",
                            client=peer,
                            user=Credentials.presented(authorization),
                            path=path,
                        )
                    refusal = PlainTextResponse(
                        "Log in to see the dock's status.",
                        401,
                        headers={"WWW-Authenticate": 'Basic realm="dockd", charset="UTF-8"'},
                    )
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            poll = headers.get(POLL_HEADER) is not None and status == 200
            (log.debug if poll else log.info)(
                "http-request",
                method=method,
                path=path,
                status=status,
                client=peer,
                user=user,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )


# --- python -m dockd.web.access hash-password USER ------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "hash-password" or ":" in argv[1] or not argv[1]:
        sys.stderr.write("usage: python -m dockd.web.access hash-password USER\n")
        return 2
    first = getpass.getpass(f"password for {argv[1]}: ")
    if len(first) < 12:
        sys.stderr.write("use at least 12 characters\n")
        return 2
    if getpass.getpass("again: ") != first:
        sys.stderr.write("the two passwords differ\n")
        return 2
    print(f'basic_auth = "{argv[1]}:{hash_password(first)}"')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
