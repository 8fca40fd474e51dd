"""`make deb`: the Debian package, read with dpkg-deb, then installed, removed and purged.

The install goes into an empty root with `dpkg --root --force-script-chrootless`: the
maintainer scripts run for real on this machine with DPKG_ROOT set, and must touch
nothing outside that root (systemctl, systemd-tmpfiles and journalctl all take --root).
--force-depends only because the empty root has no python3 or systemd of its own.

Then the installed units run, unchanged, under a real PID-1 systemd in namespaces of
its own (as tests/e2e/test_systemd_boot.py runs the checkout's): the root's /opt/dockd,
/etc/dockd and /var/lib/dockd are bound over this machine's, in that namespace only.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, unfreeze
from tests.e2e.harness import Dock, fat32_recorder, require_udev, wait_for
from tests.support.pid1 import (
    MASKED,
    SYSTEMD,
    Systemd,
    booted_systemd,
    free_port,
    need_pid1_tools,
)

UNITS = (
    "dockd.service",
    "dockd-report.service",
    "dockd-report.timer",
    "dockd-verify.service",
    "dockd-verify.timer",
)
ENABLED = (
    "multi-user.target.wants/dockd.service",
    "timers.target.wants/dockd-report.timer",
    "timers.target.wants/dockd-verify.timer",
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=cwd
    )
    assert result.returncode == 0, " ".join(args) + "\n" + result.stdout + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    dist = tmp_path_factory.mktemp("dist")
    run("make", "-C", str(REPO), "--no-print-directory", "deb", f"DIST={dist}")
    [package] = dist.glob("dockd_*.deb")
    yield package


def test_the_package_declares_its_conffiles_scripts_and_dependencies(
    deb: Path, tmp_path: Path
) -> None:
    arch = run("dpkg", "--print-architecture").stdout.strip()
    assert deb.name == f"dockd_0.1.0_{arch}.deb"
    field = {
        name: run("dpkg-deb", "--field", str(deb), name).stdout.strip()
        for name in ("Package", "Architecture", "Depends")
    }
    assert field["Package"] == "dockd"
    assert field["Architecture"] == arch
    # the venv's lib/python3.X: this python3 minor version and no other
    assert "python3 (>= 3.11), python3 (<< 3.12)" in field["Depends"]
    info = run("dpkg-deb", "--info", str(deb)).stdout
    for script in ("postinst", "prerm", "postrm"):
        assert f"*  {script}" in info, info  # "*": executable
    control = tmp_path / "DEBIAN"
    run("dpkg-deb", "--control", str(deb), str(control))
    conffiles = (control / "conffiles").read_text().split()
    assert "/etc/dockd/dockd.toml" in conffiles
    assert "/etc/dockd/rules/recorders/generic.toml" in conffiles
    assert all(path.startswith("/etc/") for path in conffiles)


def test_the_package_holds_the_venv_and_units_but_never_the_state(deb: Path) -> None:
    listing = run("dpkg-deb", "--contents", str(deb)).stdout
    paths = {line.split()[5].removeprefix(".") for line in listing.splitlines()}
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}
    for unit in UNITS:
        assert f"/usr/lib/systemd/system/{unit}" in paths
    for path in (
        "/opt/dockd/venv/bin/dockd",
        "/usr/lib/tmpfiles.d/dockd.conf",
        "/usr/lib/udev/rules.d/99-dockd.rules",
        "/usr/lib/systemd/catalog/dockd.catalog",
        "/etc/dockd/dockd.toml",
    ):
        assert path in paths, path
    # dpkg must never own the evidence: it would remove it with the package
    assert not [p for p in paths if p.startswith("/var/lib/dockd")]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty dpkg root: a status database and nothing else."""
    dpkg = tmp_path / "root/var/lib/dpkg"
    for folder in ("info", "updates"):
        (dpkg / folder).mkdir(parents=True)
    for name in ("status", "available"):
        (dpkg / name).touch()
    return tmp_path / "root"


def dpkg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", *args)


def test_install_remove_purge_in_a_clean_root_keeps_the_evidence(
    deb: Path, root: Path, tmp_path: Path
) -> None:
    dpkg(root, "-i", str(deb))
    # postinst: the state directories (tmpfiles), the units enabled, the catalog built
    for folder in ("var/lib/dockd", "var/lib/dockd/store", "run/dockd/mnt"):
        assert (root / folder).is_dir(), folder
        assert (root / folder).stat().st_mode & 0o777 == 0o750, folder
    for link in ENABLED:
        target = os.readlink(root / "etc/systemd/system" / link)
        assert target == f"/usr/lib/systemd/system/{Path(link).name}", link
    assert (root / "var/lib/systemd/catalog/database").stat().st_size > 0
    # the installed dockd runs (its #! names /opt/dockd, which is the root's)
    venv = root / "opt/dockd/venv"
    helped = run(str(venv / "bin/python"), str(venv / "bin/dockd"), "--help", cwd=tmp_path)
    # in the station's language (the default pack's: zh-CN), so the usage line itself
    assert "dockd [-h] [--config CONFIG]" in helped.stdout

    (root / "var/lib/dockd/store/object").write_bytes(b"evidence")
    (root / "var/lib/dockd/ledger.sqlite3").write_bytes(b"ledger")
    (root / "var/lib/dockd/station.key").write_bytes(b"key")
    config = root / "etc/dockd/dockd.toml"
    config.write_text(config.read_text() + '\n[clock]\nntp_servers = ["ntp.example"]\n')

    dpkg(root, "-r", "dockd")
    assert not (root / "opt/dockd").exists()
    assert not (root / "usr/lib/systemd/system/dockd.service").exists()
    for link in ENABLED:
        assert not (root / "etc/systemd/system" / link).is_symlink(), link
    assert "ntp.example" in config.read_text()  # remove keeps the configuration

    dpkg(root, "-P", "dockd")
    assert not (root / "etc/dockd").exists()  # purge: the conffiles, then the empty folders
    assert (root / "var/lib/dockd/store/object").read_bytes() == b"evidence"
    assert (root / "var/lib/dockd/ledger.sqlite3").read_bytes() == b"ledger"
    assert (root / "var/lib/dockd/station.key").read_bytes() == b"key"
    status = (root / "var/lib/dpkg/status").read_text()
    assert "Package: dockd" not in status


# The units are copied byte for byte from the installed root; the drop-ins only keep
# systemd from booting this host's sysinit (systemd-tmpfiles would clean its /tmp).
BOOT = """#!/bin/bash
set -euo pipefail
mount --make-rprivate /
for dir in opt/dockd etc/dockd var/lib/dockd; do mount --bind {root}/$dir /$dir; done
mount --bind /run/udev {udev}
mount -t tmpfs tmpfs /run
mkdir -p /run/udev /run/lock /run/systemd/system
mount --bind {udev} /run/udev
cp {root}/usr/lib/systemd/system/dockd* /run/systemd/system/
for unit in dockd.service dockd-verify.service; do
    mkdir -p /run/systemd/system/$unit.d
    printf '[Unit]\\nDefaultDependencies=no\\nAfter=systemd-journald.socket\\n' \\
        > /run/systemd/system/$unit.d/boot.conf
done
printf '[Unit]\\nDefaultDependencies=no\\nWants=systemd-journald.socket dockd.service\\n' \\
    > /run/systemd/system/dockd-boot.target
for unit in {masked}; do ln -sf /dev/null /run/systemd/system/$unit; done
exec env container=dockd-test {systemd} --system --unit=dockd-boot.target
"""


def _count(ledger: Path, query: str, *args: str) -> int:
    if not ledger.exists():
        return 0
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as db:
        return int(db.execute(query, args).fetchone()[0])


@pytest.fixture
def booted(deb: Path, root: Path, tmp_path: Path) -> Iterator[Systemd]:
    """The package installed into root, its units booted."""
    require_udev()
    need_pid1_tools()
    dpkg(root, "-i", str(deb))
    config = root / "etc/dockd/dockd.toml"
    config.write_text(
        config.read_text().replace(
            'listen = "127.0.0.1:8470"', f'listen = "127.0.0.1:{free_port()}"'
        )
    )
    made = [Path(d) for d in ("/opt/dockd", "/etc/dockd", "/var/lib/dockd")]
    made = [d for d in made if not d.exists()]
    for folder in made:
        folder.mkdir(parents=True)
    udev = tmp_path / "udev"
    udev.mkdir()
    script = tmp_path / "boot.sh"
    script.write_text(BOOT.format(root=root, udev=udev, masked=MASKED, systemd=SYSTEMD))
    try:
        with booted_systemd(script, tmp_path / "console.log") as system:
            yield system
    finally:
        unfreeze(root / "var/lib/dockd")
        for folder in made:
            folder.rmdir()


def test_the_installed_units_dock_a_recorder_and_scrub_under_systemd(
    booted: Systemd, root: Path, tmp_path: Path
) -> None:
    wait_for(
        lambda: booted.show("dockd", "ActiveState").get("ActiveState") == "active",
        60,
        "the installed dockd to be active",
    )
    ledger = root / "var/lib/dockd/ledger.sqlite3"
    image = fat32_recorder(
        tmp_path / "PK1.dockrec",
        "PK1",
        {"DCIM/100MEDIA/PK1_007_20261123080000_0001.MP4": os.urandom(1_000_000)},
    )
    dock = Dock()
    try:
        dock.plug(image)
        wait_for(
            lambda: _count(ledger, "SELECT count(*) FROM recordings WHERE serial = ?", "PK1"),
            120,
            "the recording to be verified",
        )
    finally:
        dock.close()

    # the weekly scrub, as its timer would start it: idle priority, no capability
    scrub = booted.ctl("systemctl", "start", "dockd-verify.service")
    assert scrub.returncode == 0, (
        scrub.stderr + booted.ctl("journalctl", "-u", "dockd-verify").stdout
    )
    ran = booted.show("dockd-verify", "Result", "ExecMainStatus")
    assert ran == {"Result": "success", "ExecMainStatus": "0"}
    query = "SELECT count(*) FROM custody_events WHERE kind = ?"
    assert _count(ledger, query, "store-verified") == 1
