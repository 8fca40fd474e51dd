"""`make install DESTDIR=...`: the real install, into a staged root instead of this machine.

The venv is built for real (Debian's python3, pip install of this checkout) and rewritten
to its final path, so the staged tree is what a dock gets; a second run must change
nothing at all, and uninstall must leave the admin's configuration and the evidence.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

VENV = "opt/dockd/venv"
UNITS = (
    "dockd.service",
    "dockd-report.service",
    "dockd-report.timer",
    "dockd-verify.service",
    "dockd-verify.timer",
)
RULES = sorted(str(p.relative_to(REPO)) for p in (REPO / "rules").rglob("*.toml"))
# path in the staged root -> mode
LAID = {
    "etc/dockd/dockd.toml": 0o640,
    **{f"etc/dockd/{rule}": 0o644 for rule in RULES},
    **{f"etc/systemd/system/{unit}": 0o644 for unit in UNITS},
    "etc/tmpfiles.d/dockd.conf": 0o644,
    "etc/udev/rules.d/99-dockd.rules": 0o644,
    "usr/lib/systemd/catalog/dockd.catalog": 0o644,
    "usr/lib/systemd/catalog/dockd.zh_CN.catalog": 0o644,
    f"{VENV}/bin/dockd": 0o755,
    "opt/dockd/share/dockd-recorder-writes.conf": 0o644,
    "opt/dockd/share/dockd-unlock.conf": 0o644,
}
Snapshot = dict[str, tuple[int, int, int]]


def make(target: str, destdir: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        ["make", "-C", str(REPO), "--no-print-directory", target, f"DESTDIR={destdir}", *variables],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result


def snapshot(root: Path) -> Snapshot:
    """Every path with its mode, size and mtime: "changes nothing" in one comparison."""
    found: Snapshot = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        found[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("root")
    make("install", root)
    yield root


def test_install_lays_every_file_with_its_mode(staged: Path) -> None:
    for path, mode in LAID.items():
        assert (staged / path).is_file(), path
        assert (staged / path).stat().st_mode & 0o7777 == mode, path
    assert (staged / "etc/dockd/dockd.toml").read_text() == (
        REPO / "systemd/dockd.toml.example"
    ).read_text()
    for unit in UNITS:
        assert (staged / "etc/systemd/system" / unit).read_text() == (
            REPO / "systemd" / unit
        ).read_text()
    # the example config names the rules where install put them
    assert 'dir = "/etc/dockd/rules"' in (staged / "etc/dockd/dockd.toml").read_text()
    # the store is made by tmpfiles on the dock, never laid by an install
    assert not (staged / "var").exists()


def test_the_staged_venv_names_only_its_final_path(staged: Path) -> None:
    """Python venvs are not relocatable: nothing may still point into DESTDIR."""
    assert (staged / VENV / "bin/dockd").read_text().startswith("#!/opt/dockd/venv/bin/python")
    leaking = [
        str(path.relative_to(staged))
        for path in staged.rglob("*")
        if path.is_file() and not path.is_symlink() and str(staged).encode() in path.read_bytes()
    ]
    assert leaking == []


def test_the_installed_dockd_runs_from_the_staged_venv(staged: Path, tmp_path: Path) -> None:
    # its #! names /opt/dockd/venv, which exists only on the dock: start it with the
    # staged interpreter, which finds its own site-packages from where it is
    python = staged / VENV / "bin/python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(python), "-c", "import dockd; print(dockd.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    ).stdout
    assert where.startswith(str(staged / VENV / "lib")), where
    helped = subprocess.run(
        [str(python), str(staged / VENV / "bin/dockd"), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert helped.returncode == 0, helped.stderr
    # in the station's language (the default pack's: zh-CN), so the usage line itself
    assert "dockd [-h] [--config CONFIG]" in helped.stdout


def test_a_second_install_changes_nothing(staged: Path) -> None:
    before = snapshot(staged)
    again = make("install", staged)
    assert "dockd: /opt/dockd/venv is current" in again.stdout
    assert snapshot(staged) == before


def test_install_keeps_the_admins_files_and_uninstall_keeps_config_and_evidence(
    tmp_path: Path,
) -> None:
    """Another PREFIX, too: the units then name the venv where it is."""
    root = tmp_path / "root"
    make("install", root, "PREFIX=/srv/dockd")
    assert (root / "srv/dockd/venv/bin/dockd").is_file()
    service = (root / "etc/systemd/system/dockd.service").read_text()
    assert "ExecStart=/srv/dockd/venv/bin/dockd run\n" in service
    assert "/opt/dockd" not in service

    config = root / "etc/dockd/dockd.toml"
    config.write_text(config.read_text() + '\n[clock]\nntp_servers = ["ntp.example"]\n')
    mine = config.read_text()
    profile = root / "etc/dockd/rules/recorders/generic.toml"
    profile.write_text(profile.read_text() + "\n# the dock's own change\n")
    own_profile = profile.read_text()
    again = make("install", root, "PREFIX=/srv/dockd")
    assert config.read_text() == mine
    assert profile.read_text() == own_profile
    assert (root / "etc/dockd/rules/recorders/generic.toml.dist").read_text() == (
        REPO / "rules/recorders/generic.toml"
    ).read_text()
    assert "kept your /etc/dockd/rules/recorders/generic.toml" in again.stdout

    store = root / "var/lib/dockd/store"
    store.mkdir(parents=True)
    (store / "object").write_bytes(b"evidence")
    (root / "var/lib/dockd/ledger.sqlite3").write_bytes(b"ledger")
    (root / "var/lib/dockd/station.key").write_bytes(b"key")
    make("uninstall", root, "PREFIX=/srv/dockd")
    assert not (root / "srv/dockd").exists()
    for path in LAID:
        if not path.startswith("etc/dockd/"):
            assert not (root / path).exists(), path
    assert config.read_text() == mine
    assert profile.read_text() == own_profile
    assert (store / "object").read_bytes() == b"evidence"
    assert (root / "var/lib/dockd/ledger.sqlite3").read_bytes() == b"ledger"
    assert (root / "var/lib/dockd/station.key").read_bytes() == b"key"
