"""Keeping a copy here of recordings only another station's store holds (see
`dockd.core.safeguard`): the same staged, durable, published and read-back path as a
recording's first copy, but no second recording row, deadline or retention: the
recording stays the one the other station verified, and gains this station's location,
a custody event (`recording-copy-kept`) that names both."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import structlog

from dockd.core.model import Problem, SourceFile, display_path
from dockd.core.safeguard import held_only_elsewhere
from dockd.core.said import Said
from dockd.errors import DockdError
from dockd.ports import Clock, EvidenceStore, SafeguardRecords, Volume

log = structlog.get_logger("dockd.safeguard")


class SafeguardCopies:
    def __init__(
        self,
        volume: Volume,
        store: EvidenceStore,
        records: SafeguardRecords,
        clock: Clock,
    ) -> None:
        self.volume, self.store, self.records, self.clock = volume, store, records, clock

    def keep(
        self, root: Path, on_recorder: Sequence[SourceFile], serial: str, session_id: str
    ) -> tuple[int, list[Problem]]:
        """Copies kept, and each one that could not be kept as a problem of the session
        (the recording is still on the recorder and in the other station's store)."""
        present = {f.identity: f for f in on_recorder}
        kept, problems = 0, []
        for wanted in held_only_elsewhere(self.records.verified(serial)):
            file = present.get((wanted.path, wanted.size, wanted.mtime_ns))
            if file is None:
                continue  # no longer on the recorder: nothing to copy from
            try:
                problem = self._keep_one(root, file, wanted.recording, wanted.blake3, session_id)
            except DockdError as exc:
                problem = Problem(display_path(file.path), exc.code, Said.error(exc))
            if problem is None:
                kept += 1
            else:
                problems.append(problem)
        if kept or problems:
            log.info("copies-kept-here", serial=serial, session=session_id, kept=kept)
        return kept, problems

    def _keep_one(
        self, root: Path, file: SourceFile, recording: int, blake3: str, session_id: str
    ) -> Problem | None:
        source = self.volume.open(root, file)
        try:
            staged = self.store.copy_in(source, file.size)
        finally:
            source.close()
        if staged.digests.blake3 != blake3:
            self.store.discard(staged)
            return Problem(
                display_path(file.path),
                "copy-kept-mismatch",
                Said(
                    "reads as {read}, not as recording {recording} was verified ({blake3}) at "
                    "another station: no copy kept here",
                    read=staged.digests.blake3,
                    recording=recording,
                    blake3=blake3,
                ),
            )
        self.store.make_durable([staged])
        published = self.store.publish(staged)
        self.store.verify_published(published)
        self.records.add_copy(session_id, recording, blake3, self.clock())
        return None
