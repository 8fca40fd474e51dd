"""In-memory twins of the export ports: the ledger's exports, the store read for one, the
packages written, and a station key that is a real Ed25519 key never put on disk."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dockd.core.custody import CustodyEvent
from dockd.core.export_description import ExportIntent, FileDigests, PackageCheck
from dockd.core.registry import CustodyStretch
from dockd.core.views import ExportView, RecordingView
from dockd.errors import ExportUsageError
from dockd.ports import PackageSigner, ReadAt


class FakeSigner:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.signed: list[bytes] = []

    def sign(self, data: bytes) -> bytes:
        self.signed.append(data)
        return self.key.sign(data)

    def public_pem(self) -> str:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode("ascii")


@dataclass
class FakeExportStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    chunk_size: int = 7

    @contextmanager
    def reader(self, key: str) -> Iterator[ReadAt]:
        data = self.objects[key]
        yield lambda offset, length: data[offset : offset + length]


@dataclass
class FakeExportRecords:
    known: dict[int, RecordingView] = field(default_factory=dict)
    manifests: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    events: list[CustodyEvent] = field(default_factory=list)
    custodians: dict[str, list[CustodyStretch]] = field(default_factory=dict)
    log: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    rows: dict[str, ExportView] = field(default_factory=dict)

    def recordings(self, ids: Sequence[int]) -> list[RecordingView]:
        missing = [i for i in ids if i not in self.known]
        if missing:
            raise ExportUsageError(f"no recording {missing}")
        return [self.known[i] for i in ids]

    def session_recordings(self, session_id: str) -> list[RecordingView]:
        return [r for r in self.known.values() if r.session == session_id]

    def session_manifest(self, session_id: str) -> tuple[str, str, str, int] | None:
        return self.manifests.get(session_id)

    def custody_concerning(self, subjects: Collection[str]) -> list[CustodyEvent]:
        found = [e for e in self.events if e.subject in subjects]
        return sorted(found, key=lambda e: (e.station, e.seq))

    def custodians_at(self, serial: str) -> list[CustodyStretch]:
        return self.custodians.get(serial, [])

    def begin(self, intent: ExportIntent) -> None:
        self.log.append(("export-started", intent.export_id, {"operators": intent.operators}))
        self.rows[intent.export_id] = ExportView(
            id=intent.export_id,
            state="started",
            started_at=intent.at,
            finished_at=None,
            case=intent.case,
            purpose=intent.purpose,
            maker=intent.maker,
            operators=list(intent.operators),
            recordings=list(intent.recordings),
            path=intent.path,
            iso=None,
            bytes=None,
            tag_manifest_sha256=None,
            error_code=None,
        )

    def complete(
        self, export_id: str, at: datetime, nbytes: int, tag_sha256: str, iso: str | None
    ) -> None:
        self.log.append(("export-completed", export_id, {"bytes": nbytes}))
        row = self.rows[export_id]
        self.rows[export_id] = row.model_copy(
            update={
                "state": "completed",
                "finished_at": at,
                "bytes": nbytes,
                "iso": iso,
                "tag_manifest_sha256": tag_sha256,
            }
        )

    def fail(self, export_id: str, at: datetime, code: str, message: str) -> None:
        self.log.append(("export-failed", export_id, {"error_code": code}))
        row = self.rows[export_id]
        self.rows[export_id] = row.model_copy(
            update={"state": "failed", "finished_at": at, "error_code": code}
        )

    def refused(self, at: datetime, details: dict[str, Any]) -> None:
        self.log.append(("export-refused", "-", details))

    def exports(self) -> list[ExportView]:
        return list(self.rows.values())


@dataclass
class FakePackage:
    out: Path
    files: dict[str, bytes] = field(default_factory=dict)
    bag_info: dict[str, str] = field(default_factory=dict)
    signature: bytes | None = None
    state: str = "open"

    def add_file(self, path: str, chunks: Iterable[bytes]) -> FileDigests:
        data = b"".join(chunks)
        self.files[path] = data
        return FileDigests(
            len(data),
            hashlib.sha256(data).hexdigest(),
            hashlib.sha512(data).hexdigest(),
            blake3.blake3(data).hexdigest(),
        )

    def add_tag(self, path: str, data: bytes) -> None:
        self.files[path] = data

    def finish(self, bag_info: dict[str, str], signer: PackageSigner, iso: bool) -> tuple[int, str]:
        self.bag_info = bag_info
        manifest = b"".join(
            hashlib.sha256(d).hexdigest().encode() + b"  " + p.encode() + b"\n"
            for p, d in sorted(self.files.items())
        )
        self.signature = signer.sign(manifest)
        self.state = "finished"
        return sum(len(d) for d in self.files.values()), hashlib.sha256(manifest).hexdigest()

    def abandon(self) -> None:
        self.state = "abandoned"


@dataclass
class FakePackages:
    made: list[FakePackage] = field(default_factory=list)

    def start(self, out: Path) -> FakePackage:
        if any(p.out == out and p.state == "finished" for p in self.made):
            raise ExportUsageError(f"{out} already exists")
        self.made.append(FakePackage(out))
        return self.made[-1]

    def verify(self, path: Path) -> PackageCheck:
        return PackageCheck(str(path), None, 0, None, ())
