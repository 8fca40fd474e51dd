"""The browser's session and its CSRF token, and the short-lived viewing cookie.

All are HMACs under a key made when the daemon starts: a restart logs every browser out,
which is what a station that lost its state should do. The CSRF token is derived from the
session cookie, so a form posted from another site (which cannot read the cookie) cannot
carry it; it is compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

SESSION_COOKIE = "dockd_session"
CSRF_FIELD = "csrf"
VIEWING_COOKIE_TTL_S = 900


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Signer:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = secrets.token_bytes(32) if key is None else key

    def _mac(self, purpose: str, value: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest())

    def new_session(self) -> str:
        sid = _b64(secrets.token_bytes(18))
        return f"{sid}.{self._mac('session', sid)}"

    def session_valid(self, cookie: str | None) -> bool:
        if not cookie or "." not in cookie:
            return False
        sid, _, mac = cookie.partition(".")
        return hmac.compare_digest(mac.encode(), self._mac("session", sid).encode())

    def csrf(self, cookie: str) -> str:
        return self._mac("csrf", cookie)

    def csrf_valid(self, cookie: str | None, token: str | None) -> bool:
        if not token or not self.session_valid(cookie):
            return False
        assert cookie is not None
        return hmac.compare_digest(token.encode(), self.csrf(cookie).encode())

    def viewing(self, request_id: int, viewer: str, until: datetime, session: str) -> str:
        """A viewer's right to stream request `request_id` until `until`, in this session."""
        value = f"{request_id}|{viewer}|{int(until.timestamp())}"
        return f"{value}|{self._mac('viewing', value + '|' + session)}"

    def viewing_valid(
        self, cookie: str | None, request_id: int, session: str | None, now: datetime
    ) -> str | None:
        """The viewer's badge when the cookie is this session's grant for the request, unexpired."""
        if not cookie or not session or cookie.count("|") != 3:
            return None
        rid, viewer, until, mac = cookie.split("|")
        good = self._mac("viewing", f"{rid}|{viewer}|{until}|{session}")
        if not hmac.compare_digest(mac.encode(), good.encode()):
            return None
        if rid != str(request_id) or not until.isdigit() or now.timestamp() >= int(until):
            return None
        return viewer
