"""Unit tests are pure: no process, no socket, no change to the environment.

What needs a real process or server is an integration or end-to-end test. This is checked
on every unit test rather than trusted, so a fixture or helper that starts something (an NTP
responder, a dockd) fails here instead of quietly making the unit tests slow and order-bound.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest


def _refuse(what: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"a unit test {what}: make it an integration test")

    return refuse


def _environment() -> dict[str, str]:
    """pytest itself keeps PYTEST_CURRENT_TEST up to date."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


@pytest.fixture(autouse=True)
def pure() -> Iterator[None]:
    """Autouse, so it is set up before and torn down after a test's own monkeypatch: an
    environment variable set with monkeypatch.setenv is restored before the check."""
    environment = _environment()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", _refuse("started a subprocess"))
        for name in ("system", "fork", "posix_spawn", "posix_spawnp"):
            patch.setattr(os, name, _refuse("started a process"))
        for name in ("bind", "listen", "connect"):
            patch.setattr(socket.socket, name, _refuse(f"used a socket ({name})"))
        yield
    assert _environment() == environment, "a unit test changed the environment"
