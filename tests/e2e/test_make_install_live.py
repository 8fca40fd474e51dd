"""`make install` on a running dock (no DESTDIR): its live branch under a PID-1 systemd,
on the overlay of this machine's root that tests/e2e/test_deb_apt.py boots, with this
machine's udevd. The staged installs are tests/integration/test_make_install.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import REPO
from tests.e2e.harness import require_udev
from tests.e2e.test_deb_apt import EARLY_RULE, EARLY_RULE_TEXT, dock, recorder, run, station


def test_make_install_re_runs_the_rules_on_a_recorder_plugged_before_it(tmp_path: Path) -> None:
    """Plugged before the install, a recorder was probed without 99-dockd.rules: install
    must send it a change event (as postinst does), and send none to a non-USB disk."""
    require_udev()  # before the reload below: a udevd to reload
    EARLY_RULE.parent.mkdir(parents=True, exist_ok=True)
    EARLY_RULE.write_text(EARLY_RULE_TEXT)
    run("udevadm", "control", "--reload")
    try:
        with station(tmp_path) as dock_, dock() as bay:
            early = bay.plug(recorder(tmp_path, "EARLY2"))
            plain = bay.plug(recorder(tmp_path, "PLAIN2"))  # not USB to udev
            monitor = subprocess.Popen(
                ["udevadm", "monitor", "--udev", "--subsystem-match=block"],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                installed = dock_.sh(f"make -C {REPO} --no-print-directory install").stdout
            finally:
                monitor.terminate()
                events = monitor.communicate(timeout=10)[0]
            assert "dockd: built /opt/dockd/venv" in installed, installed
            assert (dock_.root / "etc/udev/rules.d/99-dockd.rules").is_file()
            changed = re.findall(r"UDEV .* change +/devices/virtual/block/(\S+) ", events)
            assert Path(early).name in changed, events
            assert Path(plain).name not in changed, events
    finally:
        EARLY_RULE.unlink(missing_ok=True)
        run("udevadm", "control", "--reload")
