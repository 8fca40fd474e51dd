"""Who may read the status pages, decided from `[web]`: anyone on a loopback address, else
only whoever shows the configured token or basic-auth password, over HTTPS only
(`[web] tls_cert`, `tls_key`): a credential, or an operator's passphrase, never crosses the
network in clear.

Here and not in `dockd.web` so that `dockd status` can tell whether the daemon can serve
its pages (and log in to them) without loading the web stack.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from dockd.core.net import is_loopback, parse_listen
from dockd.errors import ConfigError

MIN_TOKEN_CHARS = 16
MIN_PBKDF2_ITERATIONS = 100_000
PBKDF2_SCHEME = "pbkdf2_sha256"
HASH_COMMAND = "python -m dockd.web.access hash-password USER"


@dataclass(frozen=True)
class PasswordHash:
    iterations: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> PasswordHash:
        """`pbkdf2_sha256$iterations$salt_hex$hash_hex`; ValueError says what is wrong."""
        parts = text.split("$")
        if len(parts) != 4 or parts[0] != PBKDF2_SCHEME:
            raise ValueError(f"expected {PBKDF2_SCHEME}$iterations$salt_hex$hash_hex")
        if not parts[1].isdigit():
            raise ValueError("the iteration count is not a number")
        iterations = int(parts[1])
        if iterations < MIN_PBKDF2_ITERATIONS:
            raise ValueError(f"{iterations} iterations is too few (at least 100000)")
        try:
            salt, digest = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
        except ValueError:
            raise ValueError("the salt and the hash must be hexadecimal") from None
        if len(salt) < 8:
            raise ValueError("the salt must be at least 8 bytes (16 hex digits)")
        if len(digest) != 32:
            raise ValueError("the hash must be 32 bytes (64 hex digits) of PBKDF2-HMAC-SHA256")
        return cls(iterations, salt, digest)

    def matches(self, password: str) -> bool:
        found = hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt, self.iterations)
        return hmac.compare_digest(found, self.digest)


@dataclass(frozen=True)
class Access:
    """Who may read the pages: anyone (loopback) or whoever shows the configured credentials."""

    listen: str
    host: str
    port: int
    loopback: bool
    token: str | None = None
    user: str | None = None
    password: PasswordHash | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    @property
    def https(self) -> bool:
        return self.tls_cert is not None

    @property
    def login(self) -> str:
        if self.loopback:
            return "none (loopback)"
        return " or ".join(
            what
            for what, on in (("token", self.token), ("basic auth", self.password))
            if on is not None
        )


def configured_token(web: object) -> str | None:
    """`[web] token`, a plain string or a pydantic SecretStr; None when unset or empty."""
    token = getattr(web, "token", None)
    if token is not None and hasattr(token, "get_secret_value"):
        token = token.get_secret_value()
    return str(token) if token else None


def access_for(web: object) -> Access:
    """Read `[web]` (listen, and the optional token / basic_auth); ConfigError saying why when
    the pages would be open to the network without credentials, or the credentials are bad."""
    listen = str(getattr(web, "listen", "127.0.0.1:8470"))
    token = configured_token(web)
    basic: str | None = getattr(web, "basic_auth", None) or None
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ConfigError("[web] listen = {listen!r}: {exc}", listen=listen, exc=exc) from exc
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            "[web] token is {n_token} characters long; it must be at least {MIN_TOKEN_CHARS} so "
            "that it cannot be guessed",
            hint="Generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
            n_token=len(token),
            MIN_TOKEN_CHARS=MIN_TOKEN_CHARS,
        )
    user: str | None = None
    password: PasswordHash | None = None
    if basic is not None:
        user, sep, hashed = basic.partition(":")
        if not sep or not user:
            raise ConfigError(
                "[web] basic_auth must be 'user:pbkdf2_sha256$iterations$salt_hex$hash_hex'",
                hint="Make one with: {command}",
                command=HASH_COMMAND,
            )
        try:
            password = PasswordHash.parse(hashed)
        except ValueError as exc:
            raise ConfigError(
                "[web] basic_auth for user {user!r}: {exc}",
                hint="Make one with: {command}",
                command=HASH_COMMAND,
                user=user,
                exc=exc,
            ) from exc
    loopback = is_loopback(host)
    if not loopback and token is None and password is None:
        raise ConfigError(
            "[web] listen = {listen!r} is not a loopback address and [web] sets neither token "
            "nor basic_auth: the status pages would be open to the whole network",
            hint="Set [web] token (or basic_auth = 'user:pbkdf2_sha256$...', made with "
            "`{command}`), or listen on 127.0.0.1.",
            command=HASH_COMMAND,
            listen=listen,
        )
    cert, key = _tls_files(web)
    if not loopback and cert is None:
        raise ConfigError(
            "[web] listen = {listen!r} is not a loopback address and [web] sets no tls_cert: "
            "the login, and the operators' passphrases, would cross the network in clear",
            hint="Set [web] tls_cert and tls_key (PEM files; e.g. `openssl req -x509 -newkey "
            "ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -subj "
            "/CN=HOST -addext subjectAltName=DNS:HOST`), or listen on 127.0.0.1.",
            listen=listen,
        )
    return Access(listen, host, port, loopback, token, user, password, cert, key)


def _tls_files(web: object) -> tuple[str | None, str | None]:
    """`[web] tls_cert` and `tls_key`: both or neither (whether they can be read and belong
    together is checked where files may be opened, `dockd.web.server.check_tls`)."""
    cert, key = getattr(web, "tls_cert", None), getattr(web, "tls_key", None)
    if (cert is None) != (key is None):
        given, missing = ("tls_cert", "tls_key") if key is None else ("tls_key", "tls_cert")
        raise ConfigError(
            "[web] sets {given} but not {missing}: HTTPS needs both",
            hint="Set [web] tls_cert to the PEM certificate and tls_key to its private key.",
            given=given,
            missing=missing,
        )
    return (None, None) if cert is None else (str(cert), str(key))
