"""Evidence out of the store, by the pack's rules: who may export, copied and checked
against the ledger as it is written, with its written description, signed.

The order matters: the operators prove who they are and the pack's rule is applied before
anything is recorded or written; the intent is a custody event before the first byte;
the package appears under --out only once complete, and a failure leaves nothing there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockd.core.custody import CustodyEvent, by_station, interleaved
from dockd.core.export_description import (
    ExportDescription,
    ExportedFile,
    ExportIntent,
    Extractor,
    FileDigests,
    PackageCheck,
    custodian_at,
    file_format,
    payload_path,
)
from dockd.core.operators import Operator
from dockd.core.policy import PolicyPack
from dockd.core.views import ExportCreated, ExportView, RecordingView
from dockd.errors import DockdError, ExportObjectMismatch, ExportRefused, ExportUsageError
from dockd.ports import (
    Clock,
    ExportRecords,
    ExportSource,
    OperatorAuth,
    Packages,
    PackageSigner,
    PackageWriter,
    ReadAt,
    StationClockSource,
)


@dataclass(frozen=True, slots=True)
class ExportRequest:
    recordings: tuple[int, ...]
    session: str | None
    case: str
    purpose: str
    maker: str
    operators: tuple[tuple[str, str], ...]  # (badge, passphrase), in the order given
    out: Path
    iso: bool = False


class PackageChecks:
    """`dockd export verify`: a package checked by itself, anywhere, with nothing else."""

    def __init__(self, packages: Packages) -> None:
        self.packages = packages

    def verify(self, path: Path) -> PackageCheck:
        return self.packages.verify(path)


class Exports:
    def __init__(
        self,
        records: ExportRecords,
        store: ExportSource,
        packages: Packages,
        operators: OperatorAuth,
        signer: PackageSigner,
        station_clock: StationClockSource,
        clock: Clock,
        policy: PolicyPack,
        station: str,
        software: str,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.records = records
        self.store = store
        self.packages = packages
        self.operators = operators
        self.signer = signer
        self.station_clock = station_clock
        self.clock = clock
        self.policy = policy
        self.station = station
        self.software = software
        self.new_id = new_id

    def create(self, request: ExportRequest) -> ExportCreated:
        recordings = self._recordings(request)
        people = self._authorised(request)
        writer = self.packages.start(request.out)  # refuses an --out that exists
        export_id, at = self.new_id(), self.clock()
        intent = ExportIntent(
            export_id,
            at,
            request.case,
            request.purpose,
            request.maker,
            tuple(o.badge for o in people),
            tuple(r.id for r in recordings),
            str(request.out),
        )
        try:
            self.records.begin(intent)
        except BaseException:
            writer.abandon()
            raise
        try:
            nbytes, tag_sha256 = self._write(writer, export_id, request, recordings, people)
        except BaseException as exc:
            writer.abandon()
            code = exc.code if isinstance(exc, DockdError) else type(exc).__name__
            self.records.fail(export_id, self.clock(), code, str(exc))
            raise
        iso = str(request.out.with_name(request.out.name + ".iso")) if request.iso else None
        self.records.complete(export_id, self.clock(), nbytes, tag_sha256, iso)
        return ExportCreated(
            id=export_id,
            path=str(request.out),
            recordings=[r.id for r in recordings],
            bytes=nbytes,
        )

    def exports(self) -> list[ExportView]:
        return self.records.exports()

    # steps ---------------------------------------------------------------

    def _recordings(self, request: ExportRequest) -> list[RecordingView]:
        if bool(request.recordings) == bool(request.session):
            raise ExportUsageError("name either recordings (--recording) or one --session")
        if request.session:
            found = self.records.session_recordings(request.session)
            if not found:
                raise ExportUsageError(
                    "dock session {session} verified no recordings", session=request.session
                )
        else:
            found = self.records.recordings(request.recordings)
        gone = [str(r.id) for r in found if r.expired_at is not None]
        if gone:
            raise ExportUsageError(
                "recording {gone} expired: the store no longer has it", gone=", ".join(gone)
            )
        if not request.case.strip() or not request.purpose.strip() or not request.maker.strip():
            raise ExportUsageError("--case, --purpose and --maker must say something")
        return found

    def _authorised(self, request: ExportRequest) -> list[Operator]:
        """Every operator's passphrase, then the pack's rule; a refusal is recorded."""
        at = self.clock()
        people: list[Operator] = []
        try:
            for badge, passphrase in request.operators:
                people.append(self.operators.authenticate(badge, passphrase, at))
            why = self.policy.export.refusal(people)
            if why is not None:
                raise ExportRefused(why)
        except DockdError as exc:
            self.records.refused(
                at,
                {
                    "operators": [b for b, _ in request.operators],
                    "case": request.case,
                    "error_code": exc.code,
                    "reason": exc.message,
                },
            )
            raise
        return people

    def _write(
        self,
        writer: PackageWriter,
        export_id: str,
        request: ExportRequest,
        recordings: Sequence[RecordingView],
        people: Sequence[Operator],
    ) -> tuple[int, str]:
        clock = self.station_clock.measure()
        files = [self._copy(writer, r) for r in recordings]
        sessions = sorted({r.session for r in recordings})
        for session in sessions:
            self._copy_manifest(writer, session)
        subjects = {*(str(r.id) for r in recordings), *sessions}
        custody = interleaved(by_station(self.records.custody_concerning(subjects)).values())
        writer.add_tag("custody-events.json", _json([_event(e) for e in custody]))
        description = ExportDescription(
            export_id=export_id,
            case=request.case,
            purpose=request.purpose,
            maker=request.maker,
            extractors=tuple(Extractor(o.badge, o.name, o.unit) for o in people),
            extracted_at=clock.measured_at,
            station_offset_s=clock.offset_s,
            station_clock_detail=clock.detail,
            station=self.station,
            authority=self.policy.authority,
            pack=self.policy.id,
            files=tuple(files),
        )
        writer.add_tag("description.json", _json(description.to_json()))
        writer.add_tag("description.txt", description.to_text().encode("utf-8"))
        bag_info = {
            "Source-Organization": self.policy.authority,
            "Bagging-Date": clock.measured_at.date().isoformat(),
            "External-Identifier": export_id,
            "External-Description": f"{request.case}: {request.purpose}".replace("\n", " "),
            "Bag-Software-Agent": self.software,
        }
        return writer.finish(bag_info, self.signer, request.iso)

    def _copy(self, writer: PackageWriter, rec: RecordingView) -> ExportedFile:
        raw = bytes.fromhex(rec.path_raw_hex) if rec.path_raw_hex else rec.path.encode("utf-8")
        path = payload_path(rec.serial, rec.session, raw)
        with self.store.reader(rec.object) as read:
            got = writer.add_file(path, _chunks(read, rec.size, self.store.chunk_size))
        _check(f"recording {rec.id}", rec.object, got, rec.size, rec.sha256, rec.blake3)
        end = rec.corrected_end or rec.reported_end
        return ExportedFile(
            recording=rec.id,
            path=path,
            original_path=rec.path,
            original_path_hex=rec.path_raw_hex,
            format=file_format(raw),
            size=got.size,
            reported_start=rec.reported_start,
            reported_end=rec.reported_end,
            corrected_start=rec.corrected_start,
            corrected_end=rec.corrected_end,
            sha256=got.sha256,
            sha512=got.sha512,
            blake3=got.blake3,
            serial=rec.serial,
            session=rec.session,
            custodian=custodian_at(self.records.custodians_at(rec.serial), end),
        )

    def _copy_manifest(self, writer: PackageWriter, session: str) -> None:
        found = self.records.session_manifest(session)
        if found is None:
            return  # a session that died before its manifest: its custody events still go
        blake3, sha256, key, size = found
        with self.store.reader(key) as read:
            got = writer.add_file(
                f"dock-sessions/{session}.json", _chunks(read, size, self.store.chunk_size)
            )
        _check(f"the manifest of dock session {session}", key, got, size, sha256, blake3)


def _chunks(read: ReadAt, size: int, chunk: int) -> Iterator[bytes]:
    offset = 0
    while offset < size:
        data = read(offset, min(chunk, size - offset))
        if not data:
            return  # short object: the size check names it
        offset += len(data)
        yield data


def _check(what: str, key: str, got: FileDigests, size: int, sha256: str, blake3: str) -> None:
    """A store object must be what the ledger says, byte for byte."""
    wrong = [
        f"{name} {found} (the ledger says {want})"
        for name, found, want in (
            ("size", str(got.size), str(size)),
            ("SHA-256", got.sha256, sha256),
            ("BLAKE3", got.blake3, blake3),
        )
        if found != want
    ]
    if wrong:
        raise ExportObjectMismatch(
            "{what}: store object {key} has {wrong}", what=what, key=key, wrong="; ".join(wrong)
        )


def _event(e: CustodyEvent) -> dict[str, object]:
    """`seq` and the hashes are those of `station`'s chain: the excerpt merges several
    stations' chains by time, each in its own order."""
    return {
        "station": e.station,
        "seq": e.seq,
        "at": e.at,
        "kind": e.kind,
        "subject": e.subject,
        "actor": e.actor,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
