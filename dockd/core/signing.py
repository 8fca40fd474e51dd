"""What the station key signs, and how a signed chain is checked against outside copies.

Pure: the key itself stays in its adapter; the checks take a `verify` function, so
`audit verify` and a unit test apply the same rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dockd.core.custody import CustodyEvent, canonical_json
from dockd.core.layout import object_key

CHECKPOINT = "chain-checkpoint"
#: The custody kinds that end a dock session; each is followed by a signed checkpoint.
SESSION_END_KINDS = frozenset({"session-finished", "session-interrupted"})
CHECKPOINT_INTERVAL = timedelta(hours=1)
_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")

Verify = Callable[[bytes, bytes], bool]


@dataclass(frozen=True, slots=True)
class ManifestSignature:
    """A manifest's Ed25519 signature, and the fingerprint of the key that made it."""

    signature: bytes
    key: str


def fingerprint(public_key: bytes) -> str:
    """`sha256:` and the hex SHA-256 of the raw 32-byte Ed25519 public key; anyone can
    recompute it from the PEM (`openssl pkey -pubin -outform DER | tail -c 32 | sha256sum`)."""
    return "sha256:" + hashlib.sha256(public_key).hexdigest()


def signature_key(blake3_hex: str) -> str:
    """Store-relative path of the signature of the object with this BLAKE3, beside the
    objects: signatures/blake3/<2 hex>/<64 hex>.sig (raw 64-byte Ed25519)."""
    return "signatures/" + object_key(blake3_hex).removeprefix("objects/") + ".sig"


def checkpoint_body(seq: int, head_hash: str, at: str) -> bytes:
    """The bytes a checkpoint's signature covers: the head it names and when."""
    return canonical_json({"kind": CHECKPOINT, "seq": seq, "hash": head_hash, "at": at})


def checkpoint_due(kind: str, at: datetime, last: datetime | None) -> bool:
    """A checkpoint follows every session end, and any event an hour after the last one."""
    if kind == CHECKPOINT:
        return False
    return kind in SESSION_END_KINDS or last is None or at - last >= CHECKPOINT_INTERVAL


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as the journal and the nightly report print it."""
    found = _HEAD.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not SEQ:HASH (a number, a colon, 64 lower-case hex)")
    return int(found[1]), found[2]


def head_findings(events: Iterable[CustodyEvent], seq: int, head_hash: str) -> list[str]:
    """Why the ledger does not hold the head an outside copy recorded, or nothing."""
    for event in events:
        if event.seq == seq:
            if event.hash == head_hash:
                return []
            return [f"event {seq} has hash {event.hash}, the recorded head says {head_hash}"]
    return [f"the ledger has no event {seq}: the recorded head {seq}:{head_hash} was cut off"]


def checkpoint_findings(
    events: Iterable[CustodyEvent], keys: Mapping[str, Verify], required: str | None
) -> list[str]:
    """Every checkpoint must be signed over the head it names by `required` (the chain's
    station key; None: any key in `keys`, for the legacy chain of a box before stations
    had names), and the chain must still hold that head. `keys` maps fingerprints to
    their signature checks. Once the chain has a checkpoint, every session end after it
    must be followed by its own: a chain rewritten without the key cannot forge them, so
    dropping them is a finding rather than an escape."""
    chain = list(events)
    hashes = {e.seq: e.hash for e in chain}
    findings = _unanchored_session_ends(chain)
    for event in (e for e in chain if e.kind == CHECKPOINT):
        details = event.details
        try:
            seq, head, at = int(details["seq"]), str(details["hash"]), str(details["at"])
            signature = bytes.fromhex(str(details["signature"]))
        except (KeyError, ValueError, TypeError):
            findings.append(f"checkpoint event {event.seq} is malformed")
            continue
        where = f"checkpoint event {event.seq} (head {seq})"
        named = str(details.get("key"))
        verify = keys.get(named)
        if required is not None and named != required:
            findings.append(f"{where} is signed by key {named}, this station's key is {required}")
        elif verify is None:
            findings.append(f"{where} is signed by key {named}, which no station registered")
        elif not verify(checkpoint_body(seq, head, at), signature):
            findings.append(f"{where}: the signature does not match its head (edited?)")
        if hashes.get(seq) != head:
            findings.append(f"{where} names hash {head}, the chain's event {seq} differs")
    return findings


def _unanchored_session_ends(chain: list[CustodyEvent]) -> list[str]:
    """Session ends after the first checkpoint that no checkpoint names right after them
    (a ledger written before checkpoints existed has none before its first)."""
    first = next((i for i, e in enumerate(chain) if e.kind == CHECKPOINT), None)
    if first is None:
        return []
    findings = []
    for event, after in zip(chain[first:], [*chain[first + 1 :], None], strict=True):
        if event.kind not in SESSION_END_KINDS:
            continue
        if after is None or after.kind != CHECKPOINT or after.details.get("seq") != event.seq:
            findings.append(
                f"session end event {event.seq} is not followed by a signed checkpoint of it "
                "(checkpoints removed, or events written without the station key)"
            )
    return findings
