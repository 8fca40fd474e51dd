"""Write-blocking a docked recorder before anything mounts it.

BLKROSET is what forensic write-blockers in software use: once set, the block
layer refuses writes to the device whatever a filesystem driver tries.
"""

from __future__ import annotations

import fcntl
import os
import struct

from dockd.errors import SourceError

BLKROSET = 0x125D
BLKROGET = 0x125E


def set_read_only(devnode: str, read_only: bool = True) -> None:
    """Write-block the device (or, for the one sanctioned write, lift the block)."""
    wanted = 1 if read_only else 0
    try:
        fd = os.open(devnode, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise SourceError(
            "cannot open {devnode}: {strerror}", devnode=devnode, strerror=exc.strerror
        ) from exc
    try:
        fcntl.ioctl(fd, BLKROSET, struct.pack("i", wanted))
        flag = struct.unpack("i", fcntl.ioctl(fd, BLKROGET, b"\0" * 4))[0]
    except OSError as exc:
        if read_only:
            raise SourceError(
                "cannot set {devnode} read-only: {strerror}",
                hint="dockd needs CAP_SYS_ADMIN to set devices read-only.",
                devnode=devnode,
                strerror=exc.strerror,
            ) from exc
        raise SourceError(
            "cannot set {devnode} writable: {strerror}",
            hint="dockd needs CAP_SYS_ADMIN to set devices read-only.",
            devnode=devnode,
            strerror=exc.strerror,
        ) from exc
    finally:
        os.close(fd)
    if flag != wanted:
        raise SourceError(
            "{devnode}: the read-only flag is {flag} after BLKROSET {wanted}",
            devnode=devnode,
            flag=flag,
            wanted=wanted,
        )
