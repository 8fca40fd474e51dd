"""What `dockd forward --json` and `dockd verify --central --json` print: the contract
other tools read (schemas/forward.schema.json, schemas/verify-central.schema.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dockd.core.views import Hex64, Rfc3339, _View


class StoppedView(_View):
    """The server-wide error that ended a pass (unreachable, credentials, full)."""

    code: str
    message: str
    hint: str


class ForwardPassView(_View):
    """One `dockd forward` pass. Exit 0: every object confirmed. Exit 1: something is
    left or failed, or a server-wide fault (unreachable, unavailable, full) stopped the
    pass. Exit 2, the project's code for a configuration error: no [central] section,
    refused credentials (CENTRAL_AUTH_FAILED) or a bucket without Object Lock
    (CENTRAL_NO_OBJECT_LOCK); nothing is sent, and when the bucket check refuses before
    the pass, the error is on stderr and stdout has no document."""

    sent: int = Field(description="Objects put and confirmed by this pass.")
    adopted: int = Field(description="Identical objects found under their key and confirmed.")
    confirmed: int = Field(description="sent + adopted.")
    lock_updated: int = Field(description="Central retain-until extended or legal hold changed.")
    taken_over: int = Field(
        0,
        description="Of lock_updated: another station's central objects, whose lock upkeep "
        "was overdue ([central] upkeep_takeover_minutes).",
    )
    freed: int = Field(description="Local copies freed (confirmed, past local_retention_days).")
    failed: dict[str, int] = Field(description="Error code -> objects that failed with it.")
    left: int = Field(description="Objects this station holds that are not confirmed.")
    left_bytes: int
    bytes_sent: int
    aborted_uploads: list[str] = Field(
        description="Keys whose unfinished multipart uploads (a killed dock's) were aborted."
    )
    stopped: StoppedView | None
    lock_upkeep_overdue: int = Field(
        0,
        description="After the pass: objects of any station whose central lock still lags "
        "what the ledger wants (another station's within upkeep_takeover_minutes, or failed).",
    )
    lock_upkeep_oldest_s: float | None = Field(
        None, description="The longest of those lags, in seconds; null: none lags."
    )


class CentralFinding(_View):
    key: str
    blake3: Hex64
    problem: Literal["not-confirmed", "read-mismatch"]
    detail: str


class CentralVerifyReport(_View):
    checked: int = Field(description="Confirmed objects whose stored version was HEADed.")
    read_back: int = Field(description="Of them, read back in full and hashed (the sample).")
    findings: list[CentralFinding]
    at: Rfc3339
