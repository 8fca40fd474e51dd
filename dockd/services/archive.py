"""The archive index of 003/E:17-18, and the labels recordings are filed by.

The tree is written from the ledger's facts as they are now; each index written and each
label changed is a custody event, because both hand footage or its standing to people.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from dockd.core import archive
from dockd.errors import ConfigError
from dockd.ports import ArchiveRecords, CheckedCopies, OperatorAuth

INDEX_CSV = "存储信息明细表.csv"
INDEX_HTML = "存储信息明细表.html"


class Archive:
    def __init__(
        self,
        records: ArchiveRecords,
        auth: OperatorAuth,
        copies: CheckedCopies,
        clock: Callable[[], datetime],
    ) -> None:
        self.records = records
        self.auth = auth
        self.copies = copies
        self.clock = clock

    def classify(
        self,
        recording: int,
        level: str | None,
        subject: str | None,
        matter: str | None,
        by: str,
        passphrase: str,
    ) -> None:
        if level is None and subject is None and matter is None:
            raise ConfigError(
                "nothing to change", hint="Give --as LEVEL, --subject TEXT or --matter TEXT."
            )
        if level is not None:
            archive.check_level(level)
        at = self.clock()
        who = self.auth.authenticate(by, passphrase, at)
        self.records.label(recording, level, subject, matter, at, who.badge)

    def index(self, out: Path, link: bool, zone: tzinfo, by: str) -> int:
        """Write the tree and its table; how many recordings it files."""
        items = self.records.items()
        table = archive.rows(items, zone)
        documents = {
            INDEX_CSV: archive.index_csv(table),
            INDEX_HTML: archive.index_html(table, "存储信息明细表"),
        }
        files = [(row[-1], item.footage) for row, item in zip(table, items, strict=True)]
        self.copies.write_tree(out, files, documents, link)
        details: dict[str, object] = {
            "out": str(out),
            "recordings": [i.footage.recording for i in items],
            "as": "links" if link else "copies",
        }
        self.records.record_event(self.clock(), "archive-indexed", str(out), details, by)
        return len(items)
