"""udev/99-dockd.rules, generated from the recorder profiles so the two cannot disagree.

`dockd udev-rules` prints it; `make udev-rules` writes it; a test fails when the
committed file differs from what the profiles say.
"""

from __future__ import annotations

from dockd.core.profiles import RecorderProfile

HEADER = """\
# dockd: tag USB mass-storage body-worn recorders for the dock daemon.
# Generated from rules/recorders/*.toml by `dockd udev-rules`; do not edit by hand:
# add the recorder's USB vendor/model id to its profile ([[usb]]) and regenerate.
#
# The daemon acts only on block devices with DOCKD_RECORDER=1. DOCKD_SERIAL and
# DOCKD_SLOT may be set by a local rule (e.g. 98-dockd-local.rules, per USB port path);
# otherwise the serial comes from the USB descriptor and the slot from ID_PATH.
# UDISKS_IGNORE/UDISKS_AUTO keep desktop automounters off the evidence.
ACTION=="remove", GOTO="dockd_end"
SUBSYSTEM!="block", GOTO="dockd_end"
ENV{ID_BUS}!="usb", GOTO="dockd_end"
"""


def render_rules(profiles: dict[str, RecorderProfile]) -> str:
    lines = [HEADER]
    for profile in sorted(profiles.values(), key=lambda p: p.id):
        if not profile.usb:
            lines.append(f"# {profile.id}: no USB ids declared; tag such recorders locally\n")
            continue
        lines.append(f"# {profile.id}: {profile.description}\n")
        for usb in profile.usb:
            lines.append(
                f'ENV{{ID_VENDOR_ID}}=="{usb.vendor_id}", ENV{{ID_MODEL_ID}}=="{usb.model_id}", '
                f'ENV{{DOCKD_RECORDER}}="1", ENV{{DOCKD_PROFILE}}="{profile.id}", '
                'ENV{UDISKS_IGNORE}="1", ENV{UDISKS_AUTO}="0"\n'
            )
    lines.append('LABEL="dockd_end"\n')
    return "".join(lines)
