"""Shared fixtures: a dockd configured on a temporary store and ledger, run as a real process."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import install

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Dockd:
    """A dockd installation in a temporary folder, driven through its command line."""

    config: Path
    store: Path
    ledger_url: str

    def run(
        self,
        *args: str,
        check: bool = False,
        timeout: float = 600,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "dockd.cli", "--config", str(self.config), *args]
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=REPO,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{cmd} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def ingest(
        self, path: Path, serial: str = "SN0001", *extra: str
    ) -> subprocess.CompletedProcess[str]:
        return self.run("ingest", str(path), "--serial", serial, *extra)

    def add_operator(
        self, badge: str, *roles: str, unit: str | None = None, passphrase: str | None = None
    ) -> str:
        """Register an operator; their passphrase (by default `pass-<badge>`)."""
        phrase = passphrase or f"passphrase-{badge}"
        args = ["operators", "add", badge, "--name", f"Operator {badge}", "--passphrase-stdin"]
        args += [a for role in roles for a in ("--role", role)]
        args += ["--unit", unit] if unit else []
        self.run(*args, input=phrase + "\n", check=True)
        return phrase

    def custody_events(self, kind: str) -> list[dict[str, Any]]:
        """Read straight from the ledger: what the CLI says is not proof of what it wrote."""
        query = "SELECT subject, actor, details FROM custody_events WHERE kind = ? ORDER BY seq"
        if self.ledger_url.startswith("sqlite:///"):
            db = self.ledger_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(db)) as con:
                rows = con.execute(query, (kind,)).fetchall()
        else:
            import sqlalchemy as sa

            engine = sa.create_engine(self.ledger_url)
            try:
                with engine.connect() as c:
                    found = c.execute(sa.text(query.replace("?", ":kind")), {"kind": kind})
                    rows = [tuple(r) for r in found]
            finally:
                engine.dispose()
        return [{"subject": s, "actor": a, "details": json.loads(d)} for s, a, d in rows]

    def objects(self) -> list[Path]:
        return sorted(p for p in (self.store / "objects").rglob("*") if p.is_file())

    def staging_files(self) -> list[Path]:
        return sorted(p for p in (self.store / "tmp").rglob("*.part"))


def with_language(extra: str, language: str) -> str:
    """`[station] language` added to a config's `extra` (into its [station] table if it has
    one): the shipped packs speak Chinese, and a test that reads English says so."""
    line = f'language = "{language}"\n'
    if "[station]\n" in extra:
        return extra.replace("[station]\n", "[station]\n" + line, 1)
    return f"{extra}\n[station]\n{line}"


def write_config(
    path: Path, store: Path, ledger_url: str, extra: str = "", language: str = "en"
) -> Path:
    text = f'[store]\nroot = "{store}"\n\n[ledger]\nurl = "{ledger_url}"\n'
    path.write_text(text + with_language(extra, language), "utf-8")
    return path


def unfreeze(path: Path) -> None:
    """Objects are immutable (chattr +i) where we are root; tests must lift that to clean up."""
    if path.exists():
        subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True, check=False)


@pytest.fixture
def dockd(tmp_path: Path) -> Iterator[Dockd]:
    store = tmp_path / "store"
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    yield Dockd(write_config(tmp_path / "dockd.toml", store, ledger), store, ledger)
    unfreeze(store)


@pytest.fixture(scope="session")
def installed_dockd() -> Iterator[Path]:
    """`dockd` pip-installed as on a real dock (tests/support/install.py), once per run."""
    with install.installed_dockd(REPO) as dockd:
        yield dockd
