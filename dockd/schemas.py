"""Generate schemas/ from the pydantic models: `python -m dockd.schemas DIR`.

The schemas are committed so that people and other tools can read the contract
without running dockd; tests/unit/test_schemas.py fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from dockd.config import Config
from dockd.core.audit import AuditReport
from dockd.core.forwarding_views import CentralVerifyReport, ForwardPassView
from dockd.core.policy import PolicyPack
from dockd.core.profiles import RecorderProfile
from dockd.core.status_document import SessionDocument, StatusDocument
from dockd.core.viewing import OperatorEntry, RegisterEntry, Requested
from dockd.core.views import (
    DeadlineReport,
    DeviceView,
    ExportCreated,
    ExportView,
    Manifest,
    RecordingView,
    SessionView,
    SpotCheckDraw,
    VerifyReport,
)

BASE = "https://dockd.invalid/schemas/"


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every document dockd reads or writes."""
    documents: dict[str, Any] = {
        "config.schema.json": TypeAdapter(Config),
        "recorder-profile.schema.json": TypeAdapter(RecorderProfile),
        "policy-pack.schema.json": TypeAdapter(PolicyPack),
        "manifest.schema.json": TypeAdapter(Manifest),
        "recordings.schema.json": TypeAdapter(list[RecordingView]),
        "sessions.schema.json": TypeAdapter(list[SessionView]),
        "verify.schema.json": TypeAdapter(VerifyReport),
        "audit.schema.json": TypeAdapter(AuditReport),
        "status.schema.json": TypeAdapter(StatusDocument),
        "session.schema.json": TypeAdapter(SessionDocument),
        "report.schema.json": TypeAdapter(DeadlineReport),
        "operators.schema.json": TypeAdapter(list[OperatorEntry]),
        "view-request.schema.json": TypeAdapter(Requested),
        "view-register.schema.json": TypeAdapter(list[RegisterEntry]),
        "exports.schema.json": TypeAdapter(list[ExportView]),
        "export.schema.json": TypeAdapter(ExportCreated),
        "forward.schema.json": TypeAdapter(ForwardPassView),
        "verify-central.schema.json": TypeAdapter(CentralVerifyReport),
        "spotcheck-draw.schema.json": TypeAdapter(SpotCheckDraw),
        "devices.schema.json": TypeAdapter(list[DeviceView]),
    }
    out = {}
    for name, adapter in documents.items():
        schema = adapter.json_schema(mode="serialization")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": BASE + name,
            **schema,
        }
        out[name] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, default=str) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in all_schemas().items():
        (target / name).write_text(render(schema), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
