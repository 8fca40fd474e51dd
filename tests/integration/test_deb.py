"""`make deb`: the Debian package as debhelper builds it, read with dpkg-deb and lintian,
then installed, removed, installed again and purged offline.

The install goes into an empty root with `dpkg --root --force-script-chrootless`: the
maintainer scripts run for real on this machine with DPKG_ROOT set, and must touch
nothing outside that root (systemctl, systemd-tmpfiles and journalctl all take --root).
--force-depends only because the empty root has no python3 or systemd of its own.
The live install (apt-get, Depends resolved, the units started under a PID-1 systemd, a
dock, removal with dockd running, purge, an upgrade) is tests/e2e/test_deb_apt.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

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


def test_debhelper_builds_it_and_the_build_leaves_its_records_in_dist(deb: Path) -> None:
    """dpkg-buildpackage's .buildinfo and .changes come along (it writes them, with the
    .deb, into the parent of a temporary source tree), and the build ran dh (compat 13)."""
    stem = deb.name.removesuffix(".deb")
    buildinfo = (deb.parent / f"{stem}.buildinfo").read_text()
    assert re.search(r"^ debhelper \(= 13\.", buildinfo, re.MULTILINE), buildinfo
    changes = (deb.parent / f"{stem}.changes").read_text()
    assert re.search(rf"^ \S+ \d+ \S+ \S+ {re.escape(deb.name)}$", changes, re.MULTILINE), changes
    assert sorted(path.name for path in deb.parent.iterdir()) == sorted(
        (deb.name, f"{stem}.buildinfo", f"{stem}.changes")
    )
    # the source tree's own folder gets nothing (no build/, no debian/, no dockd_*)
    assert not (REPO / "debian").exists()
    assert not list(REPO.parent.glob("dockd_*"))


def test_the_maintainer_is_pyprojects(deb: Path, tmp_path: Path) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [first, *_] = project["maintainers"]
    expected = f"{first['name']} <{first['email']}>"
    assert run("dpkg-deb", "--field", str(deb), "Maintainer").stdout.strip() == expected
    run("dpkg-deb", "--extract", str(deb), str(tmp_path))
    changelog = run("zcat", str(tmp_path / "usr/share/doc/dockd/changelog.gz")).stdout
    assert f" -- {expected}  " in changelog


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


# Known, and not the package's to override: this machine's pip wheelhouse (find-links)
# holds a systemd-python built under pyenv, whose RUNPATH names it (pip on CI builds it
# from source against Debian's python3).
NOT_OVERRIDDEN = (re.compile(r"E: dockd: custom-library-search-path RUNPATH /root/\.pyenv/\S+ \["),)


def test_lintian_reports_nothing_but_the_overrides_it_states(deb: Path) -> None:
    """Every override is in packaging/debian/lintian-overrides, with its reason."""
    checked = subprocess.run(
        ["lintian", "--tag-display-limit", "0", "--show-overrides", str(deb)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = checked.stdout.splitlines()
    tags = [line for line in lines if re.match(r"[EW]: ", line)]
    left = [tag for tag in tags if not any(known.match(tag) for known in NOT_OVERRIDDEN)]
    assert left == [], "\n".join(left)
    # and every override still silences something (a stale one would hide the next case)
    overrides = (REPO / "packaging/debian/lintian-overrides").read_text()
    stated = set(re.findall(r"^dockd: (\S+)", overrides, re.MULTILINE))
    used = {line.split()[2] for line in lines if line.startswith("O: dockd: ")}
    assert stated and stated == used, checked.stdout[-3000:] + checked.stderr


def test_the_package_holds_the_venv_and_units_but_never_the_state(deb: Path) -> None:
    listing = run("dpkg-deb", "--contents", str(deb)).stdout
    paths = {line.split()[5].removeprefix(".") for line in listing.splitlines()}
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}
    for unit in UNITS:
        assert f"/lib/systemd/system/{unit}" in paths  # where bookworm's debhelper has them
    for path in (
        "/opt/dockd/venv/bin/dockd",
        "/usr/lib/tmpfiles.d/dockd.conf",
        "/lib/udev/rules.d/99-dockd.rules",
        "/usr/lib/systemd/catalog/dockd.catalog",
        "/etc/dockd/dockd.toml",
        "/usr/share/doc/dockd/copyright",
        "/usr/share/doc/dockd/changelog.gz",
        "/usr/share/lintian/overrides/dockd",
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


def enabled(root: Path) -> tuple[str, ...]:
    """The units' links under the root's /etc/systemd/system, each checked to name the
    package's unit."""
    links = []
    for link in ENABLED:
        path = root / "etc/systemd/system" / link
        if path.is_symlink():
            assert os.readlink(path) == f"/lib/systemd/system/{path.name}", link
            links.append(link)
    return tuple(links)


def test_reinstalled_after_a_remove_its_units_are_enabled_again(deb: Path, root: Path) -> None:
    """`dpkg -r` leaves the package "rc" (config kept); installing it again reaches postinst
    as `configure` with the old version, which is no first install, and still the units
    must come back enabled."""
    dpkg(root, "-i", str(deb))
    dpkg(root, "-r", "dockd")
    status = (root / "var/lib/dpkg/status").read_text()
    assert "Status: deinstall ok config-files" in status
    dpkg(root, "-i", str(deb))
    assert enabled(root) == ENABLED
    assert (root / "opt/dockd/venv/bin/dockd").exists()


def test_install_remove_purge_in_a_clean_root_keeps_the_evidence(
    deb: Path, root: Path, tmp_path: Path
) -> None:
    dpkg(root, "-i", str(deb))
    # postinst: the state directories (tmpfiles), the units enabled, the catalog built
    for folder in ("var/lib/dockd", "var/lib/dockd/store", "run/dockd/mnt"):
        assert (root / folder).is_dir(), folder
        assert (root / folder).stat().st_mode & 0o777 == 0o750, folder
    assert enabled(root) == ENABLED
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
    assert not (root / "lib/systemd/system/dockd.service").exists()
    assert "ntp.example" in config.read_text()  # remove keeps the configuration
    # and the units' enablement, as Debian keeps it until a purge (deb-systemd-helper's
    # state): the package coming back finds its units enabled again
    assert enabled(root) == ENABLED

    dpkg(root, "-P", "dockd")
    assert not (root / "etc/dockd").exists()  # purge: the conffiles, then the empty folders
    assert enabled(root) == ()
    assert (root / "var/lib/dockd/store/object").read_bytes() == b"evidence"
    assert (root / "var/lib/dockd/ledger.sqlite3").read_bytes() == b"ledger"
    assert (root / "var/lib/dockd/station.key").read_bytes() == b"key"
    status = (root / "var/lib/dpkg/status").read_text()
    assert "Package: dockd" not in status
