"""Host names, addresses and ports as the configuration writes them: pure parsing.

One `is_loopback` for every place that must know whether traffic stays on this machine
(SMTP in clear, a status page without credentials). It answers from the text alone and
never resolves a name: a name that merely resolves to 127.0.0.1 today may not tomorrow.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Final, NamedTuple

DEFAULT_NTP_PORT: Final = 123

_HOST_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?", re.ASCII)
_BRACKETED = re.compile(r"\[(?P<host>[^\[\]]+)\](?::(?P<port>[^:]*))?")


def is_loopback(host: str) -> bool:
    """Whether `host` (a name, an address, or `[v6]`) names this machine only."""
    name = host.strip("[]").casefold().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def parse_listen(listen: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` -> (host, port); ValueError when it is neither."""
    if listen.startswith("["):
        host, sep, rest = listen[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError("expected [address]:port")
        port_text = rest[1:]
    else:
        host, sep, port_text = listen.rpartition(":")
        if not sep or ":" in host:
            raise ValueError("expected host:port (IPv6 as [address]:port)")
    if not host:
        raise ValueError("the host is missing (use 127.0.0.1 for this machine only)")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"{port_text!r} is not a port number")
    return host, int(port_text)


class ServerAddress(NamedTuple):
    """One configured NTP server; ``str()`` is the canonical ``host:port`` label."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _parse_port(entry: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(f"invalid NTP server {entry!r}: port must be a number 1-65535")
    return int(text)


def parse_server(entry: str) -> ServerAddress:
    """Parse ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address.

    Raises ValueError naming the entry, so that a typo in the configuration stops the
    service at start instead of silently measuring against fewer servers.
    """
    text = entry.strip()
    if not text:
        raise ValueError(f"invalid NTP server {entry!r}: empty")
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        host = bracketed["host"]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(
                f"invalid NTP server {entry!r}: {host!r} in brackets is not an IPv6 address"
            ) from None
        port_text = bracketed["port"]
        port = DEFAULT_NTP_PORT if port_text is None else _parse_port(entry, port_text)
        return ServerAddress(host, port)
    if text.count(":") > 1:  # more than one colon: only an unbracketed IPv6 address fits
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError(
                f"invalid NTP server {entry!r}: write an IPv6 address with a port as [addr]:port"
            ) from None
        return ServerAddress(text, DEFAULT_NTP_PORT)
    host, sep, port_text = text.partition(":")
    if not _HOSTNAME.fullmatch(host):
        raise ValueError(f"invalid NTP server {entry!r}: {host!r} is not a host name or address")
    return ServerAddress(host, _parse_port(entry, port_text) if sep else DEFAULT_NTP_PORT)


def parse_servers(entries: Sequence[str]) -> list[ServerAddress]:
    """Parse every entry; a server listed twice is an error, as it would bias the median."""
    servers: list[ServerAddress] = []
    for entry in entries:
        server = parse_server(entry)
        if server in servers:
            raise ValueError(f"invalid NTP server {entry!r}: {server} is listed twice")
        servers.append(server)
    return servers
