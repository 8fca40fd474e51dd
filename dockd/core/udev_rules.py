"""udev/99-dockd.rules, generated from the recorder profiles so the two cannot disagree.

`dockd udev-rules` prints it; `make udev-rules` writes it; a test fails when the
committed file differs from what the profiles say.
"""

from __future__ import annotations

from dockd.core.profiles import RecorderProfile

HEADER = """\
# dockd: every USB mass-storage disk is a recorder; this machine is a dock.
# Generated from rules/recorders/*.toml by `dockd udev-rules`; do not edit by hand.
#
# The daemon acts only on block devices with DOCKD_RECORDER=1, on the ports
# [daemon] ports names (ID_PATH globs), and never on the disk holding / or the store.
# A profile's [[usb]] ids only set DOCKD_PROFILE: the volume's content decides first.
# DOCKD_SERIAL and DOCKD_SLOT may be set by a local rule (e.g. 98-dockd-local.rules,
# per USB port path); otherwise the serial comes from the USB descriptor and the slot
# from ID_PATH. UDISKS_IGNORE/UDISKS_AUTO keep desktop automounters off the evidence.
ACTION=="remove", GOTO="dockd_end"
"""

BLOCK = """\
SUBSYSTEM!="block", GOTO="dockd_end"
ENV{ID_BUS}!="usb", GOTO="dockd_end"
ENV{DEVTYPE}!="disk|partition", GOTO="dockd_end"
ENV{ID_CDROM}=="1", GOTO="dockd_end"
ENV{DOCKD_RECORDER}="1", ENV{UDISKS_IGNORE}="1", ENV{UDISKS_AUTO}="0"
"""


def render_rules(profiles: dict[str, RecorderProfile]) -> str:
    ordered = sorted(profiles.values(), key=lambda p: p.id)
    lines = [HEADER]
    for profile in ordered:
        if profile.unlock:
            lines.append(f"# {profile.id}: its vendor command switches it to mass storage\n")
            lines.extend(
                f'SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", '
                f'ATTR{{idVendor}}=="{usb.vendor_id}", ATTR{{idProduct}}=="{usb.model_id}", '
                f'ENV{{DOCKD_UNLOCK}}="{profile.id}"\n'
                for usb in profile.usb
            )
    lines.append(BLOCK)
    for profile in ordered:
        if not profile.usb:
            lines.append(f"# {profile.id}: no USB ids declared\n")
            continue
        lines.append(f"# {profile.id}: {profile.description}\n")
        lines.extend(
            f'ENV{{ID_VENDOR_ID}}=="{usb.vendor_id}", ENV{{ID_MODEL_ID}}=="{usb.model_id}", '
            f'ENV{{DOCKD_PROFILE}}="{profile.id}"\n'
            for usb in profile.usb
        )
    lines.append('LABEL="dockd_end"\n')
    return "".join(lines)
