"""The package as an admin installs it: `apt-get install ./dockd_*.deb` under a real PID-1
systemd, its maintainer scripts' live branch, a dock through the installed unit, then
`dpkg -r` with dockd running, the package installed again (its units enabled and running
again), removed and purged; and an upgrade over a docked station.

The root is this machine's own, seen through an overlay whose upper layer is a tmpfs of
the namespace: apt resolves the Depends line against this machine's installed packages
(nothing is forced), and whatever apt, dpkg, the maintainer scripts and dockd write lands
in that layer and vanishes with the namespace. udevd is this machine's (its control
socket and database are bound in), so postinst's `udevadm control --reload` and
`udevadm trigger` reach the real one. The only test-only files are the drop-ins that
keep systemd from booting this host's sysinit and move the status page to a free port.
One file goes from the overlay: this machine is a Docker image, whose
/usr/sbin/policy-rc.d (exit 101) tells every package's maintainer scripts not to start
services (deb-systemd-invoke asks it); a dock has none.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.harness import Dock, fat32_recorder, require_udev, wait_for
from tests.support.pid1 import MASKED, SYSTEMD, Systemd, booted_systemd, free_port

BOOT = """#!/bin/bash
set -euo pipefail
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs {layer}
mkdir {layer}/upper {layer}/work
mount -t overlay overlay -o lowerdir=/,upperdir={layer}/upper,workdir={layer}/work {new}
mount --rbind /dev {new}/dev
mount --rbind /sys {new}/sys
mount -t proc proc {new}/proc
mount -t tmpfs -o mode=0755 tmpfs {new}/run
mkdir -p {new}/run/udev {new}/run/lock {new}/run/systemd/system {new}/.host
mount --bind /run/udev {new}/run/udev
mount --bind {work} {new}{work}
cd {new}
pivot_root . .host
umount -l /.host
rm -f /usr/sbin/policy-rc.d
for unit in dockd.service dockd-verify.service; do
    mkdir -p /run/systemd/system/$unit.d
    printf '[Unit]\\nDefaultDependencies=no\\nAfter=systemd-journald.socket\\n' \\
        > /run/systemd/system/$unit.d/boot.conf
done
printf '[Service]\\nEnvironment=DOCKD_WEB__LISTEN="127.0.0.1:{port}"\\n' \\
    >> /run/systemd/system/dockd.service.d/boot.conf
printf '[Unit]\\nDefaultDependencies=no\\nWants=systemd-journald.socket\\n' \\
    > /run/systemd/system/dockd-boot.target
for unit in {masked}; do ln -sf /dev/null /run/systemd/system/$unit; done
exec env container=dockd-test {systemd} --system --unit=dockd-boot.target
"""
# A recorder plugged before the install is USB to udev (as a real one is), so that
# postinst's trigger, which re-runs the rules on USB disks only, reaches it.
EARLY_RULE = Path("/run/udev/rules.d/98-dockd-deb-test.rules")
EARLY_RULE_TEXT = (
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/EARLY*.dockrec", '
    'ENV{ID_BUS}="usb"\n'
)


# The units the package enables (the report and the scrub run from their timers).
ENABLED = ("dockd.service", "dockd-report.timer", "dockd-verify.timer")

# As the dock's shell has it: not this test run's PYTHONPATH (the checkout's dockd).
CLEAN_ENV = ("env", "-u", "PYTHONPATH")
COUNT = """
import sqlite3, sys
from pathlib import Path
ledger = Path("/var/lib/dockd/ledger.sqlite3")
try:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5) as db:
        print(db.execute(sys.argv[1], sys.argv[2:]).fetchone()[0])
except sqlite3.OperationalError:  # not created, or not migrated, yet
    print(0)
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=cwd
    )
    assert result.returncode == 0, " ".join(args) + "\n" + result.stdout + result.stderr[-3000:]
    return result


def build(source: Path, dist: Path) -> Path:
    run("make", "-C", str(source), "--no-print-directory", "deb", f"DIST={dist}")
    [package] = dist.glob("dockd_*.deb")
    return package


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(REPO, tmp_path_factory.mktemp("dist"))


class Station:
    """The booted namespace, as the admin's shell on the dock sees it."""

    def __init__(self, system: Systemd) -> None:
        self.system = system
        self.root = Path(f"/proc/{system.pid}/root")

    def sh(self, command: str, *, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = self.system.ctl(*CLEAN_ENV, "DEBIAN_FRONTEND=noninteractive", "sh", "-c", command)
        if ok:
            assert done.returncode == 0, command + "\n" + done.stdout + done.stderr[-3000:]
        return done

    def active(self, unit: str) -> str:
        return self.system.show(unit, "ActiveState")["ActiveState"]

    def started(self, what: str) -> None:
        """dockd active; if not, its journal says why."""
        try:
            wait_for(lambda: self.active("dockd") == "active", 60, what)
        except AssertionError as error:
            journal = self.system.ctl("journalctl", "-u", "dockd", "--no-pager", "-n", "60")
            raise AssertionError(f"{error}\n{journal.stdout}") from None

    def main_pid(self) -> int:
        return int(self.system.show("dockd", "MainPID")["MainPID"])

    def count(self, query: str, *args: str) -> int:
        """Asked inside the namespace, where dockd's WAL and its lock are."""
        done = self.system.ctl(*CLEAN_ENV, "python3", "-c", COUNT, query, *args)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    def verified(self, serial: str) -> int:
        return self.count("SELECT count(*) FROM recordings WHERE serial = ?", serial)

    def store(self) -> dict[str, tuple[int, int, bytes]]:
        """Every file in the store but dockd's scratch space (tmp/, a running dockd's):
        size, mtime and bytes (the recordings are small)."""
        top = self.root / "var/lib/dockd/store"
        return {
            str(path.relative_to(top)): (
                path.stat().st_size,
                path.stat().st_mtime_ns,
                path.read_bytes(),
            )
            for path in sorted(top.rglob("*"))
            if path.is_file() and path.relative_to(top).parts[0] != "tmp"
        }


@contextlib.contextmanager
def station(tmp_path: Path) -> Iterator[Station]:
    require_udev()
    layer, new = tmp_path / "layer", tmp_path / "root"
    layer.mkdir()
    new.mkdir()
    script = tmp_path / "boot.sh"
    script.write_text(
        BOOT.format(
            layer=layer, new=new, work=tmp_path, port=free_port(), masked=MASKED, systemd=SYSTEMD
        )
    )
    with booted_systemd(script, tmp_path / "console.log") as system:
        wait_for(
            lambda: system.show("dockd-boot.target", "ActiveState").get("ActiveState") == "active",
            60,
            "systemd to boot in its namespace",
        )
        yield Station(system)


@contextlib.contextmanager
def dock() -> Iterator[Dock]:
    plugged = Dock()
    try:
        yield plugged
    finally:
        plugged.close()


def recorder(tmp_path: Path, serial: str) -> Path:
    return fat32_recorder(
        tmp_path / f"{serial}.dockrec",
        serial,
        {f"DCIM/100MEDIA/{serial}_007_20261123080000_0001.MP4": os.urandom(300_000)},
    )


def test_apt_installs_the_package_docks_then_removes_it_running_and_purges(
    deb: Path, tmp_path: Path
) -> None:
    require_udev()  # before the reload below: a udevd to reload
    EARLY_RULE.parent.mkdir(parents=True, exist_ok=True)
    EARLY_RULE.write_text(EARLY_RULE_TEXT)
    run("udevadm", "control", "--reload")
    try:
        with station(tmp_path) as dock_, dock() as bay:
            early = bay.plug(recorder(tmp_path, "EARLY1"))
            monitor = subprocess.Popen(
                ["udevadm", "monitor", "--udev", "--subsystem-match=block"],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                installed = dock_.sh(f"apt-get install -y --no-install-recommends {deb}").stdout
            finally:
                monitor.terminate()
                events = monitor.communicate(timeout=10)[0]
            # Depends resolved by apt from this machine's packages: only dockd is new
            assert re.search(r"\b0 upgraded, 1 newly installed, 0 to remove\b", installed), (
                installed
            )
            # postinst's live branch: enabled, started, udev reloaded and re-triggered,
            # the catalog updated
            assert dock_.sh("systemctl is-enabled dockd.service").stdout.strip() == "enabled"
            dock_.started("dockd started by postinst")
            for timer in ("dockd-report.timer", "dockd-verify.timer"):
                assert dock_.active(timer) == "active", timer
            assert re.search(
                rf"UDEV .* change +/devices/virtual/block/{Path(early).name} ", events
            ), events
            assert "dockd" in dock_.sh("journalctl --list-catalog | grep -i dockd").stdout
            wait_for(
                lambda: dock_.verified("EARLY1"), 120, "the recorder plugged before the install"
            )

            bay.plug(recorder(tmp_path, "LATE1"))
            wait_for(lambda: dock_.verified("LATE1"), 120, "a recorder plugged afterwards")
            # the weekly scrub, as its timer would start it: idle priority, no capability
            dock_.sh("systemctl start dockd-verify.service")
            ran = dock_.system.show("dockd-verify", "Result", "ExecMainStatus")
            assert ran == {"Result": "success", "ExecMainStatus": "0"}
            scrubbed = "SELECT count(*) FROM custody_events WHERE kind = ?"
            assert dock_.count(scrubbed, "store-verified") == 1

            pid = dock_.main_pid()
            kept = dock_.store()
            assert kept

            # dpkg -r with dockd running: prerm stops it before its files go
            removed = dock_.sh("dpkg -r dockd")
            assert dock_.active("dockd") == "inactive", removed.stdout
            assert not (dock_.root / f"proc/{pid}").exists()
            assert not (dock_.root / "opt/dockd").exists()
            assert not (dock_.root / "lib/systemd/system/dockd.service").exists()
            assert (dock_.root / "etc/dockd/dockd.toml").exists()  # remove keeps conffiles
            assert dock_.store() == kept

            # installed again from "rc" (configuration kept): postinst runs `configure`
            # with the removed version, as on an upgrade, and the units still come back
            # enabled and running
            dock_.sh(f"apt-get install -y --no-install-recommends {deb}")
            status = dock_.sh("dpkg-query -W -f='${Status}' dockd").stdout
            assert status == "install ok installed", status
            for unit in ENABLED:
                enabled = dock_.sh(f"systemctl is-enabled {unit}", ok=False).stdout.strip()
                assert enabled == "enabled", unit
            dock_.started("dockd started again by postinst")
            for timer in ("dockd-report.timer", "dockd-verify.timer"):
                assert dock_.active(timer) == "active", timer
            dock_.sh("dpkg -r dockd")
            assert dock_.active("dockd") == "inactive"
            # the evidence as it was; the started dockd only adds an object and its signature
            after = dock_.store()
            assert {path: after.get(path) for path in kept} == kept
            assert {path.split("/")[0] for path in after.keys() - kept.keys()} <= {
                "objects",
                "signatures",
            }
            kept = after

            # purge: the configuration goes, the evidence stays, and says so
            purged = dock_.sh("dpkg -P dockd").stdout
            assert not (dock_.root / "etc/dockd").exists()
            assert dock_.store() == kept
            assert dock_.verified("LATE1") == 1
            assert "kept /var/lib/dockd" in purged, purged
            assert "Package: dockd\n" not in (dock_.root / "var/lib/dpkg/status").read_text()
    finally:
        EARLY_RULE.unlink(missing_ok=True)
        run("udevadm", "control", "--reload")


PROBE = '''"""A table only the next version has: its start must migrate the ledger.

Revision ID: 9999
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("upgrade_probe", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("upgrade_probe")
'''


@pytest.fixture(scope="module")
def next_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tree one patch version on, with one more ledger migration."""
    from alembic.script import ScriptDirectory

    copy = tmp_path_factory.mktemp("next")
    tar = subprocess.run(
        [
            "tar",
            "-C",
            str(REPO),
            "--exclude=.git",
            "--exclude=.venv",
            "--exclude=dist",
            "--exclude=var",
            "--exclude=__pycache__",
            "-cf",
            "-",
            ".",
        ],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-C", str(copy), "-xf", "-"], input=tar.stdout, check=True)
    project = copy / "pyproject.toml"
    text = project.read_text()
    major, minor, patch = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"', text, re.M).groups()  # type: ignore[union-attr]
    bumped = f"{major}.{minor}.{int(patch) + 1}"
    project.write_text(
        text.replace(f'version = "{major}.{minor}.{patch}"', f'version = "{bumped}"', 1)
    )
    migrations = copy / "dockd/adapters/migrations"
    head = ScriptDirectory(str(migrations)).get_current_head()
    (migrations / "versions/9999_upgrade_probe.py").write_text(PROBE.format(head=head))
    engine = copy / "dockd/adapters/ledger/engine.py"  # the revision dockd expects
    text = engine.read_text()
    assert f'SCHEMA_REVISION = "{head}"' in text
    engine.write_text(text.replace(f'SCHEMA_REVISION = "{head}"', 'SCHEMA_REVISION = "9999"'))
    package = build(copy, tmp_path_factory.mktemp("next-dist"))
    assert package.name.startswith(f"dockd_{bumped}_")
    return package


def test_an_upgrade_keeps_the_admins_edits_restarts_dockd_migrates_and_leaves_the_store(
    deb: Path, next_deb: Path, tmp_path: Path
) -> None:
    with station(tmp_path) as dock_, dock() as bay:
        dock_.sh(f"apt-get install -y --no-install-recommends {deb}")
        dock_.started("dockd started by postinst")
        config = dock_.root / "etc/dockd/dockd.toml"
        edited = config.read_text() + "\n# the admin's own line\n"
        config.write_text(edited)
        bay.plug(recorder(tmp_path, "UPG1"))
        wait_for(lambda: dock_.verified("UPG1"), 120, "the recording to be verified")
        before = dock_.main_pid()
        kept = dock_.store()

        upgraded = dock_.sh(f"apt-get install -y --no-install-recommends {next_deb}").stdout
        assert re.search(r"\b1 upgraded, 0 newly installed, 0 to remove\b", upgraded), upgraded
        version = dock_.sh("dpkg-query -W -f='${Version}' dockd").stdout
        assert next_deb.name == f"dockd_{version}_{next_deb.name.rsplit('_', 1)[1]}"

        # the conffile the admin edited is kept as edited, with nothing beside it
        assert config.read_text() == edited
        assert not list(config.parent.glob("dockd.toml.dpkg-*"))
        # prerm stopped the old dockd, postinst started the new one, which migrated
        dock_.started("the new dockd to start")
        assert dock_.main_pid() not in (0, before)
        migrated = "SELECT count(*) FROM alembic_version WHERE version_num = ?"
        wait_for(lambda: dock_.count(migrated, "9999"), 60, "the ledger migrated")
        # the evidence: every file as it was (the new dockd only adds an object of its
        # own and its signature), the recording still there, the whole store verifying
        after = dock_.store()
        assert {path: after.get(path) for path in kept} == kept
        added = after.keys() - kept.keys()
        assert {path.split("/")[0] for path in added} <= {"objects", "signatures"}, added
        assert dock_.verified("UPG1") == 1
        dock_.sh("/opt/dockd/venv/bin/dockd verify")
