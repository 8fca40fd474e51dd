"""Ledger rows as evidence facts: the one encoding both the custody chain and the audit use.

Every write that creates or changes an evidence row puts the whole row, encoded here,
into the custody event of the same transaction; `dockd audit verify` encodes the rows
it reads with the same function and compares (`dockd.core.audit`). The encoding is
driven by the column types, so a value reads back exactly as it was written, on SQLite
and PostgreSQL alike, and a column added to a table is covered without a second list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary, Table
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from dockd.adapters.ledger.schema import (
    ActivityRecordingRow,
    ActivityRow,
    AssignmentRow,
    AttestationRow,
    CentralCopyRow,
    DeviceChangeRow,
    DeviceRow,
    DockSessionRow,
    DutyReturnRow,
    ExportRow,
    HoldRow,
    InterruptionReviewRow,
    InterruptionRow,
    ObjectLocationRow,
    ObjectRow,
    RecorderRow,
    RecorderUnplugRow,
    RecordingRow,
    SessionProblemRow,
    SpotCheckDrawRow,
    SpotCheckItemRow,
    StationRow,
    UTCDateTime,
    ViewingApprovalRow,
    ViewingRecordingRow,
    ViewingRequestRow,
    ViewingRow,
    WorkRecordRow,
)
from dockd.core.audit import RowFact

EVIDENCE_TABLES: tuple[type[DeclarativeBase], ...] = (
    RecorderRow,
    DockSessionRow,
    SessionProblemRow,
    ObjectRow,
    ObjectLocationRow,
    RecordingRow,
    HoldRow,
    DeviceRow,
    AssignmentRow,
    DutyReturnRow,
    AttestationRow,
    InterruptionRow,
    ViewingRequestRow,
    ViewingRecordingRow,
    ViewingApprovalRow,
    ViewingRow,
    ExportRow,
    SpotCheckDrawRow,
    SpotCheckItemRow,
    InterruptionReviewRow,
    WorkRecordRow,
    DeviceChangeRow,
    RecorderUnplugRow,
    ActivityRow,
    ActivityRecordingRow,
    CentralCopyRow,
    StationRow,
)
"""Every table whose rows are evidence; each row must be vouched for by the chain."""


def _utc(value: Any) -> str:
    assert isinstance(value, datetime)
    return value.astimezone(UTC).isoformat()


def _hex(value: Any) -> str:
    return bytes(value).hex()


def _encoder(kind: object) -> Callable[[Any], Any]:
    """How a column's values are encoded (None stays None)."""
    if isinstance(kind, UTCDateTime):
        return _utc
    if isinstance(kind, LargeBinary):
        return _hex
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Integer | BigInteger):
        return int
    if isinstance(kind, Float):
        return float
    return str


@cache
def _columns(table: Table) -> tuple[tuple[tuple[str, str, Callable[[Any], Any]], ...], list[str]]:
    """Each column's name, key and encoder, and the key's column names: worked out once
    per table, not once per row (a batch of recordings encodes tens of thousands)."""
    columns = tuple((col.name, col.key, _encoder(col.type)) for col in table.columns)
    return columns, [col.name for col in table.primary_key.columns]


@cache
def _defaults(table: Table) -> tuple[tuple[str, Any], ...]:
    """Each column's insert value when none is given, the autoincrement key left out."""
    return tuple(
        (col.key, col.default.arg if isinstance(col.default, ScalarElementColumnDefault) else None)
        for col in table.columns
        if col is not table.autoincrement_column
    )


def row_fact(row: DeclarativeBase) -> RowFact:
    """The whole row as the chain carries it: its table, its key, every column."""
    table = row.__table__
    assert isinstance(table, Table)
    return _fact(table, {col.key: getattr(row, col.key) for col in table.columns})


def _fact(table: Table, values: dict[str, Any]) -> RowFact:
    columns, key_names = _columns(table)
    fields = {
        name: None if (value := values[key]) is None else encode(value)
        for name, key, encode in columns
    }
    key = "/".join(str(fields[name]) for name in key_names)
    return RowFact(table=table.name, id=key, fields=fields)


def complete(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with every other column as the ORM would insert it (its scalar default, else
    None; the autoincrement key left to the database): a row inserted in bulk is then
    exactly the row its chain fact describes."""
    out = dict(values)
    for key, default in _defaults(table):
        if key not in out:
            out[key] = default
    return out


def values_fact(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The chain fact of a row inserted in bulk, from its `complete` values."""
    return _fact(table, values).as_json()


def facts(*rows: DeclarativeBase) -> dict[str, list[dict[str, Any]]]:
    """The `rows` entry of a custody event's details: the rows it created or changed."""
    return {"rows": [row_fact(row).as_json() for row in rows]}
