"""What `audit verify` says of one station's custody chain (part of `AuditReport`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ChainBreak(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    reason: str


class ChainReport(BaseModel):
    """One station's custody chain: continuity from its genesis, and its signed checkpoints
    against the key the station registered in the ledger."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    station: str = Field(description="The station whose chain this is ('local': before names).")
    events: int
    broken: ChainBreak | None = Field(description="The first event that does not chain.")
    key: str | None = Field(description="The key fingerprint the station registered, if any.")
    findings: list[str] = Field(
        description="Checkpoints that do not hold against that key; key changes; a head lost."
    )

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.findings
