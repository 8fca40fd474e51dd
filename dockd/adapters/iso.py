"""An export package as an ISO 9660 image, for the disc that goes with the case file
(000:27 and the others: "复制为光盘后附卷").

Rock Ridge carries the package's names exactly (what Linux and `export verify` read);
Joliet carries them for Windows, with the characters Joliet forbids replaced; the plain
ISO 9660 names are short generated ones, since they cannot hold the real ones.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pycdlib
from pycdlib.pycdlibexception import PyCdlibException

from dockd.errors import ExportError, PackageAltered

_JOLIET_FORBIDDEN = re.compile(r"[*/:;?\\\x00-\x1f]")
_JOLIET_MAX = 64


def _joliet(name: str, taken: set[str]) -> str:
    base = _JOLIET_FORBIDDEN.sub("_", name)[:_JOLIET_MAX]
    candidate, n = base, 1
    while candidate.lower() in taken:
        suffix = f"~{n}"
        candidate, n = base[: _JOLIET_MAX - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def write_image(bag: Path, target: Path, volume_id: str) -> None:
    """The folder `bag` as the root of a new image at `target`."""
    image = pycdlib.PyCdlib()
    # 16 characters: the Joliet volume name holds 32 bytes of UCS-2
    volume = re.sub(r"[^A-Z0-9_]", "_", volume_id.upper())[:16]
    image.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=volume)
    try:
        counter = 0
        places = {bag: ("", "")}  # folder -> (ISO 9660 path, Joliet path)
        for folder, dirs, files in os.walk(bag):
            here = Path(folder)
            iso_dir, joliet_dir = places[here]
            taken: set[str] = set()
            for name in sorted(dirs):
                counter += 1
                iso_path, joliet_path = (
                    f"{iso_dir}/D{counter:07d}",
                    (f"{joliet_dir}/{_joliet(name, taken)}"),
                )
                image.add_directory(iso_path, rr_name=name, joliet_path=joliet_path)
                places[here / name] = (iso_path, joliet_path)
            dirs.sort()
            for name in sorted(files):
                counter += 1
                image.add_file(
                    str(here / name),
                    f"{iso_dir}/F{counter:07d}.;1",
                    rr_name=name,
                    joliet_path=f"{joliet_dir}/{_joliet(name, taken)}",
                )
        image.write(str(target))
    except (PyCdlibException, OSError) as exc:
        target.unlink(missing_ok=True)
        raise ExportError("writing the ISO image {target}: {exc}", target=target, exc=exc) from exc
    finally:
        image.close()


def extract_image(source: Path, dest: Path) -> None:
    """Copy the Rock Ridge tree of an image into `dest` (which must not exist)."""
    image = pycdlib.PyCdlib()
    try:
        image.open(str(source))
    except (PyCdlibException, OSError) as exc:
        raise PackageAltered(
            "{source} is neither a package folder nor a readable ISO: {exc}", source=source, exc=exc
        ) from exc
    try:
        if not image.has_rock_ridge():
            raise PackageAltered("{source}: the image has no Rock Ridge names", source=source)
        dest.mkdir()
        for folder, dirs, files in image.walk(rr_path="/"):
            local = dest / folder.lstrip("/")
            for name in dirs:
                (local / name).mkdir()
            for name in files:
                rr = f"{folder.rstrip('/')}/{name}"
                image.get_file_from_iso(str(local / name), rr_path=rr)
    except PyCdlibException as exc:
        raise PackageAltered(
            "{source}: the image cannot be read: {exc}", source=source, exc=exc
        ) from exc
    finally:
        image.close()
