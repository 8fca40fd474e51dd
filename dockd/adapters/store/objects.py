"""The write-once, content-addressed evidence store on a local filesystem.

Objects are written to a private staging folder, made durable (a recording's copy in
one syncfs(2) with the rest of its batch, a document by its own fsync), hard-linked into
``objects/blake3/<2 hex>/<64 hex>`` (a link never replaces an existing name),
the folder is fsynced, and the object is made read-only and, where the
capability allows, immutable. Nothing here overwrites an object, and only two paths
delete one: ``remove_expired``, which the retention service calls for an object whose
expiry it has already recorded on the custody chain, and a free of a copy the central
store holds (set aside first, deleted once the ledger recorded it: ``setaside``).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import itertools
import os
import shutil
import struct
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from blake3 import blake3

from dockd.adapters.store.copier import Copier
from dockd.adapters.store.durable import fsync_dir, sync_files, sync_folders
from dockd.adapters.store.flags import (
    FS_IMMUTABLE_FL,
    FS_IOC_GETFLAGS,
    lift_immutable,
    make_immutable,
)
from dockd.adapters.store.hashpipe import (
    Copied,
    DestinationWriteError,
    Progress,
    SourceReadError,
    copy_and_hash,
    hash_from_disk,
    write_all,
)
from dockd.adapters.store.setaside import FOLDER as SET_ASIDE
from dockd.adapters.store.setaside import SetAside, open_stored
from dockd.adapters.volume import translate_source_error
from dockd.core.layout import LAYOUT_VERSION, object_key
from dockd.core.model import Digests
from dockd.core.transfer import Published, ReadBack, Staged
from dockd.errors import ObjectMismatchError, StoreError, StoreFullError, StoreLayoutError
from dockd.ports import ReadAt, SourceStream
from dockd.ui.i18n import Said

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_LAYOUT_FILE = "DOCKD-STORE"
_GUARD_FILE = ".dockd-lock"
# Large-file streams in flight at once that still read the configured chunk. Each holds
# about four chunks in its pipeline; one recorder streams two files, four recorders
# eight, and at 1 MiB those held 32 MiB, which took the daemon past its 150 MiB budget.
# So beyond this many streams a starting one reads half (a quarter, ...) the chunk, never
# below _SMALLEST_CHUNK: what all the streams hold stays about 16 chunks.
_FULL_CHUNK_STREAMS = 4
_SMALLEST_CHUNK = 256 << 10
# what a store may hold before its marker exists; lost+found: a freshly made evidence disk
_OURS = frozenset(
    {"objects", "signatures", "tmp", SET_ASIDE, "README", _LAYOUT_FILE, _GUARD_FILE, "lost+found"}
)
_README = """\
This folder is a dockd evidence store (layout version {version}). Do not edit it.

objects/blake3/<first 2 hex>/<64 hex>   one recording (or manifest) per file, named by
                                        the BLAKE3 of its bytes; mode 0444, immutable
                                        where the filesystem and capabilities allow
signatures/blake3/<2 hex>/<64 hex>.sig  the station key's Ed25519 signature (64 raw bytes)
                                        of the manifest with that name; `dockd station key`
                                        prints the public key
tmp/                                    private staging of running copies; anything
                                        here is incomplete and removed at next start
.freeing/<64 hex>                       an object whose local copy is being freed (the
                                        central store holds it): deleted once the ledger
                                        recorded the free, else put back

To check an object by hand:  b3sum objects/blake3/ab/ab... (the output equals the name).
Each dock session's manifest (itself an object, its BLAKE3 is in the ledger) lists
every recording with its path on the recorder, BLAKE3, SHA-256 and object path.
"""


def translate_store_error(exc: OSError, what: Said) -> StoreError:
    if exc.errno in _FULL:
        return StoreFullError("{what}: {reason}", what=what, reason=exc.strerror)
    return StoreError("{what}: {reason}", what=what, reason=exc.strerror or exc)


_FALLOC_FL_KEEP_SIZE = 0x01
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)


def stream_chunk(configured: int, streams: int) -> int:
    """The chunk of a large-file stream that starts while `streams` (itself included) run."""
    halvings = ((streams - 1) // _FULL_CHUNK_STREAMS).bit_length()
    return min(configured, max(_SMALLEST_CHUNK, configured >> halvings))


def _reserve(fd: int, size: int) -> None:
    """fallocate(2) itself, not posix_fallocate: where the filesystem cannot reserve space
    glibc would emulate it by writing into every block, which costs more than it saves.
    The file's size stays what has been written (KEEP_SIZE): a staged file is never longer
    than the bytes it holds. A copy that ends shorter than reserved means the source
    changed, and its staged file is discarded, reservation and all."""
    if _libc.fallocate(fd, _FALLOC_FL_KEEP_SIZE, 0, size) == 0:
        return
    err = ctypes.get_errno()
    if err not in (errno.EOPNOTSUPP, errno.ENOSYS):
        raise OSError(err, os.strerror(err))


def _protections_of(path: Path) -> tuple[str, ...]:
    applied = []
    if path.stat().st_mode & 0o777 == 0o444:
        applied.append("mode-0444")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        flags = struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 4))[0]
        if flags & FS_IMMUTABLE_FL:
            applied.append("immutable")
    except OSError:
        pass
    finally:
        os.close(fd)
    return tuple(applied)


def _prepare_layout(root: Path) -> None:
    """Check the layout marker, or lay out an empty folder as a store."""
    marker = root / _LAYOUT_FILE
    if marker.exists():
        found = marker.read_text("utf-8").strip()
        if found != f"layout {LAYOUT_VERSION}":
            raise StoreLayoutError(
                "{marker} says {found!r}, this dockd needs 'layout 1'", marker=marker, found=found
            )
    elif any(p.name not in _OURS for p in root.iterdir()):
        raise StoreLayoutError("{root} is not empty and not a dockd store", root=root)
    (root / "objects" / "blake3").mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir(exist_ok=True)
    if not marker.exists():
        (root / "README").write_text(_README.format(version=LAYOUT_VERSION), "utf-8")
        marker.write_text(f"layout {LAYOUT_VERSION}\n", "utf-8")
        fsync_dir(root)


def _claim_staging(root: Path) -> tuple[Path, int]:
    """Take a private staging folder, removing those whose owner died (killed mid-copy)."""
    tmp = root / "tmp"
    for folder in tmp.iterdir():
        lock = folder / "lock"
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)
    mine = tmp / uuid.uuid4().hex
    mine.mkdir()
    fd = os.open(mine / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return mine, fd


class ObjectStore:
    """One process's handle on the store; safe to share between its copy threads."""

    def __init__(self, root: Path, chunk_size: int, *, helpers: bool = False) -> None:
        self.root = root
        self.chunk_size = chunk_size
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._syncing = threading.Lock()
        self._dirty: set[Path] = set()
        self._streams = 0
        self._fanout: set[Path] = set()
        self._aside = SetAside(root)
        self._copier = Copier(chunk_size) if helpers else None
        try:
            root.mkdir(parents=True, exist_ok=True)
            guard = os.open(root / _GUARD_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                # another dockd (the daemon beside a CLI ingest) may be starting on this store
                fcntl.flock(guard, fcntl.LOCK_EX)
                _prepare_layout(root)
                self._staging, self._staging_lock = _claim_staging(root)
            finally:
                os.close(guard)
        except OSError as exc:
            raise translate_store_error(
                exc, Said("cannot prepare the store at {root}", root=root)
            ) from exc

    def close(self) -> None:
        if self._copier is not None:
            self._copier.close()
        shutil.rmtree(self._staging, ignore_errors=True)
        os.close(self._staging_lock)

    def path_of(self, key: str) -> Path:
        return self.root / key

    @contextmanager
    def reader(self, key: str) -> Iterator[ReadAt]:
        """Random access to a stored object (an export, container metadata of a verified
        copy), also while it is set aside mid-free."""
        try:
            fd = open_stored(self.root, key)
        except OSError as exc:
            raise StoreError("reading {key}: {reason}", key=key, reason=exc.strerror) from exc
        try:
            yield lambda offset, length: os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def copy_in(
        self, source: SourceStream, expected_size: int, progress: Progress | None = None
    ) -> Staged:
        """Stream src into staging, hashing on the way; the staged file is 0444, and
        durable only after `make_durable`.

        The staging file is first given `expected_size` bytes of disk: a full store fails
        before anything is read rather than after most of a long recording was, and
        recordings copied side by side get contiguous space instead of interleaved
        fragments (which make every later verify, and whatever reuses the space after
        expiry, read slower). A file of one chunk or less is written in one write, which
        fails as soon as a reservation would and lands in one piece anyway: no
        reservation (a syscall that, on 10,000 short clips, costs more than it saves);
        with `helpers`, it is copied by a helper process (`copier`), off this process's
        interpreter lock."""

        def fill(fd: int) -> Copied:
            if expected_size <= self.chunk_size and self._copier is not None:
                try:
                    copied = self._copier.copy(source.fileno(), fd, expected_size)
                except SourceReadError as exc:
                    raise translate_source_error(exc.cause, "read failed") from exc
                if progress:
                    progress(copied.size)
                return copied
            if expected_size <= self.chunk_size:
                return stream(fd, self.chunk_size)
            try:
                _reserve(fd, expected_size)
            except OSError as exc:
                what = Said("reserving {size} bytes for a recording", size=expected_size)
                raise translate_store_error(exc, what) from exc
            with self._stream_chunk() as chunk:
                return stream(fd, chunk)

        def stream(fd: int, chunk: int) -> Copied:
            try:
                return copy_and_hash(source.fileno(), fd, chunk, progress, expected=expected_size)
            except SourceReadError as exc:
                raise translate_source_error(exc.cause, "read failed") from exc

        return self._stage(fill, durable=False)

    @contextmanager
    def _stream_chunk(self) -> Iterator[int]:
        """The chunk for one more large-file stream of the dock (see stream_chunk)."""
        with self._lock:
            self._streams += 1
            streams = self._streams
        try:
            yield stream_chunk(self.chunk_size, streams)
        finally:
            with self._lock:
                self._streams -= 1

    def make_durable(self, staged: Sequence[Staged]) -> None:
        """The bytes of these staged files on the disk, before any of them is linked:
        one syncfs for a batch (`durable`), not a journal commit per file."""
        try:
            sync_files([one.path for one in staged], self._staging)
        except OSError as exc:
            raise translate_store_error(exc, Said("making the copies durable")) from exc

    def _stage(self, fill: Callable[[int], Copied], *, durable: bool) -> Staged:
        with self._lock:
            path = self._staging / f"{next(self._counter)}.part"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise translate_store_error(exc, Said("creating a staging file")) from exc
        try:
            copied = fill(fd)
            os.fchmod(fd, 0o444)
            if durable:
                os.fsync(fd)
        except DestinationWriteError as exc:
            self._discard_path(path)
            raise translate_store_error(exc.cause, Said("writing to the store")) from exc
        except OSError as exc:
            self._discard_path(path)
            raise translate_store_error(exc, Said("writing to the store")) from exc
        except BaseException:
            self._discard_path(path)
            raise
        finally:
            os.close(fd)
        return Staged(path, copied.digests, copied.size)

    def _discard_path(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def discard(self, staged: Staged) -> None:
        self._discard_path(staged.path)

    def _mark_dirty(self, folder: Path) -> None:
        with self._lock:
            self._dirty.add(folder)

    def sync(self) -> None:
        """Make the links of everything published so far durable: once per batch, before
        the ledger calls those recordings verified (one syncfs for its folders).

        Sessions side by side share the store: one sync at a time, so a sync that finds
        its folders taken by another returns only once that other sync has finished."""
        with self._syncing:
            with self._lock:
                folders, self._dirty = self._dirty, set()
            try:
                sync_folders(folders, self.root)
            except OSError as exc:
                with self._lock:
                    self._dirty |= folders
                raise translate_store_error(exc, Said("syncing the store")) from exc

    def publish(self, staged: Staged) -> Published:
        """Link the staged file into place; an existing object is kept, never replaced.
        The link is durable only after sync(): the folders are marked once the link (or
        the object another session linked) is there, and the fan-out folder's own entry
        each time, as another session may have made it and not synced it yet."""
        key = object_key(staged.digests.blake3)
        final = self.root / key
        try:
            if final.parent not in self._fanout:  # 256 folders, never removed: made once
                final.parent.mkdir(exist_ok=True)
                self._fanout.add(final.parent)
            try:
                os.link(staged.path, final)
                duplicate = False
            except FileExistsError:
                duplicate = True
            self._mark_dirty(final.parent.parent)
            self._mark_dirty(final.parent)
            staged.path.unlink()
        except OSError as exc:
            self._discard_path(staged.path)
            raise translate_store_error(exc, Said("publishing {key}", key=key)) from exc
        if duplicate:
            return Published(key, staged.digests, staged.size, _protections_of(final), True)
        protections = ("mode-0444", "immutable") if make_immutable(final) else ("mode-0444",)
        return Published(key, staged.digests, staged.size, protections, False)

    def remove_expired(self, key: str) -> bool:
        """Delete an object whose retention expired: the one way anything leaves the store.

        Only `dockd.services.retention` calls it, after the retention rule allowed it and
        the intent is committed to the custody chain. False when it was already gone
        (a run that crashed after deleting it is being finished)."""
        return self._remove(key, Said("expiring {key}", key=key))

    def set_aside(self, key: str) -> bool:
        """The first step of freeing a local copy the central store holds locked (only
        `dockd.services.forward` calls it, after the final HEAD and with the intent on the
        custody chain): the object leaves `objects/` for `.freeing/`, its bytes kept until
        the ledger has recorded the free. False when it is not in the store."""
        try:
            return self._aside.set_aside(key)
        except OSError as exc:
            raise translate_store_error(exc, Said("freeing {key}", key=key)) from exc

    def put_back(self, key: str) -> None:
        """A set-aside object back in place: its free was abandoned, or never recorded."""
        try:
            self._aside.put_back(key)
        except OSError as exc:
            raise translate_store_error(exc, Said("freeing {key}", key=key)) from exc

    def delete_set_aside(self, key: str) -> bool:
        """The last step of a free the ledger recorded; False when it was already gone."""
        try:
            return self._aside.delete(key)
        except OSError as exc:
            raise translate_store_error(exc, Said("freeing {key}", key=key)) from exc

    def set_aside_keys(self) -> dict[str, str]:
        """Each set-aside object's key and its path from the root (`dockd verify` reads it
        there; a free that a crash cut short is settled from this list)."""
        return self._aside.keys()

    def _remove(self, key: str, doing: Said) -> bool:
        path = self.root / object_key(Path(key).name)
        if not path.exists():
            return False
        try:
            lift_immutable(path)
            path.unlink()
            fsync_dir(path.parent)
        except OSError as exc:
            raise translate_store_error(exc, doing) from exc
        return True

    def read_back(self, key: str, expected: int | None = None) -> ReadBack:
        """BLAKE3 of the object as the disk holds it (not the page cache); with the size
        it should have, a small object's bytes too (`ReadBack.whole`)."""
        path = str(self.root / key)
        try:
            if self._copier is not None and expected is not None and expected < self.chunk_size:
                back = self._copier.read_back(path, expected)
            else:
                back = hash_from_disk(
                    path,
                    self.chunk_size,
                    with_sha256=False,
                    expected=expected,
                    keep=expected is not None,
                )
        except OSError as exc:
            raise StoreError("reading back {key}: {reason}", key=key, reason=exc.strerror) from exc
        return ReadBack(back.digests.blake3, back.size, back.method, back.whole)

    def verify_published(self, published: Published) -> ReadBack:
        """Prove the object equals what was read from the source, or raise."""
        back = self.read_back(published.key, published.size)
        if back.blake3 != published.digests.blake3 or back.size != published.size:
            what = Said("the existing object") if published.duplicate else Said("the copy")
            raise ObjectMismatchError(
                "{what} {key} reads back as {blake3} ({size} bytes)",
                what=what,
                key=published.key,
                blake3=back.blake3,
                size=back.size,
            )
        return back

    def rehash(self, key: str) -> tuple[Digests, int] | None:
        """Both digests of a stored object from disk, or None when it is missing."""
        path = self.root / key
        if not path.exists():
            return None
        try:
            back = hash_from_disk(str(path), self.chunk_size, with_sha256=True)
        except OSError as exc:
            raise StoreError("reading {key}: {reason}", key=key, reason=exc.strerror) from exc
        return back.digests, back.size

    def put_bytes(self, data: bytes) -> tuple[Published, ReadBack]:
        """Store a small document (a manifest) as an object, through the same publish path."""

        def fill(fd: int) -> Copied:
            try:
                write_all(fd, data)
            except OSError as exc:
                raise DestinationWriteError(exc) from exc
            return Copied(
                Digests(blake3(data).hexdigest(), hashlib.sha256(data).hexdigest()), len(data)
            )

        published = self.publish(self._stage(fill, durable=True))
        back = self.verify_published(published)
        self.sync()
        return published, back

    def size_of(self, key: str) -> int | None:
        """The stored object's size on disk, or None when it is missing (clearing's check
        before a recorder file is deleted)."""
        try:
            return os.stat(self.path_of(key), follow_symlinks=False).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError("reading {key}: {reason}", key=key, reason=exc.strerror) from exc
