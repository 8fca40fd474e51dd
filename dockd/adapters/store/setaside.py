"""Freeing a local copy in two steps, so that a hold placed at the last instant still wins.

A free first moves the object out of `objects/` into `.freeing/<64 hex>` (one rename on
the same filesystem, durable once both folders are fsynced): it is no longer a published
object (nothing new links or counts it), and its bytes are still on the disk. Only once the
ledger's final transaction has recorded the free is the set-aside file deleted; if a hold
appeared, or the process died before the ledger said freed, the file is put back where it
was, immutable again. The immutable flag is lifted only for the rename and for the
deletion; meanwhile the set-aside file is immutable like any object.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from dockd.adapters.store.durable import fsync_dir
from dockd.adapters.store.flags import lift_immutable, make_immutable
from dockd.core.layout import object_key

FOLDER = ".freeing"


def open_stored(root: Path, key: str) -> int:
    """A read-only descriptor on the object's bytes, published or set aside mid-free. One
    rename moves it each way, so it is always under one of the two names: the published
    one is tried again last, for a copy put back between the first two tries. Gone from
    both only once its free is recorded (FileNotFoundError)."""
    published = root / key
    for path in (published, root / FOLDER / Path(key).name, published):
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(published))


class SetAside:
    """The store's `.freeing/` folder; keys are the store's object keys throughout."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / FOLDER

    def path(self, key: str) -> Path:
        return self.folder / Path(key).name

    def _published(self, key: str) -> Path:
        return self.root / object_key(Path(key).name)

    def set_aside(self, key: str) -> bool:
        """False when the object is not in the store. An object already set aside (a free
        cut short and not yet settled) counts as set aside."""
        published, aside = self._published(key), self.path(key)
        if not published.exists():
            return aside.exists()
        if not self.folder.is_dir():
            self.folder.mkdir(exist_ok=True)
            fsync_dir(self.root)  # the folder's own entry durable before anything lies in it
        lift_immutable(published)  # an immutable file cannot be renamed
        os.rename(published, aside)
        make_immutable(aside)
        fsync_dir(self.folder)  # the new name durable first, then the old one's removal
        fsync_dir(published.parent)
        return True

    def put_back(self, key: str) -> None:
        """The set-aside file back under its key, immutable again. Linked, never renamed:
        if the same bytes were docked again meanwhile, the object now published stays and
        the set-aside copy (the same content, by its name) is dropped."""
        published, aside = self._published(key), self.path(key)
        if not aside.exists():
            return
        lift_immutable(aside)
        published.parent.mkdir(exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.link(aside, published)
        fsync_dir(published.parent)
        aside.unlink()  # before the flag: both names are one inode, and +i forbids unlinking
        fsync_dir(self.folder)
        make_immutable(published)

    def delete(self, key: str) -> bool:
        """Delete a set-aside file whose free the ledger recorded; False when it was gone."""
        aside = self.path(key)
        if not aside.exists():
            return False
        lift_immutable(aside)
        aside.unlink()
        fsync_dir(self.folder)
        return True

    def keys(self) -> dict[str, str]:
        """Every set-aside object: its object key, and its path from the store's root."""
        if not self.folder.is_dir():
            return {}
        return {
            object_key(p.name): f"{FOLDER}/{p.name}"
            for p in sorted(self.folder.iterdir())
            if p.is_file()
        }
