"""The agency's S3 bucket with Object Lock, through one boto3 client.

Every put is create-only (``If-None-Match: *``), carries the ledger's SHA-256 as the S3
checksum (the server refuses bytes that hash otherwise) and sets COMPLIANCE retention and
the legal hold in the same request, so no version ever exists unlocked. Nothing here
deletes or overwrites. botocore's exceptions stop at this module: each becomes a
`CentralError` subclass naming the endpoint, the bucket and the key.

Keys: `CentralPut.key` is the local store's key (``objects/blake3/ab/…``); this adapter
prepends ``[central] prefix``, and every key it returns or takes afterwards is the full
bucket key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from dockd.adapters.central_errors import central_error, version_unreadable
from dockd.adapters.central_multipart import (
    MultipartUpload,
    b64,
    composite,
    open_local,
    unreadable,
)
from dockd.config import CentralConfig
from dockd.core.forwarding import LOCK_MODE, CentralHead, CentralPut, CentralUpload
from dockd.errors import (
    CentralChecksumError,
    CentralError,
    CentralNoObjectLockError,
    CentralUnavailableError,
    CentralUnreachableError,
    ConfigError,
)
from dockd.ports import Stopping, never_stopping
from dockd.ui.i18n import Said

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1 << 20
_READ_CHUNK = 8 * MIB
_MAX_PARTS = 10_000
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})


def _hex_to_b64(sha256_hex: str) -> str:
    return b64(bytes.fromhex(sha256_hex))


def _read_secret(config: CentralConfig) -> str:
    if config.secret_key is not None:
        return config.secret_key.get_secret_value()
    path = config.secret_key_file
    assert path is not None  # CentralConfig holds exactly one of the two
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            "[central] secret_key_file {path} cannot be read: {exc}",
            hint="Put this station's S3 secret key in {path} (chmod 600), or set "
            "[central] secret_key instead.",
            path=path,
            exc=exc,
        ) from exc
    if not secret:
        raise ConfigError(
            "[central] secret_key_file {path} is empty",
            hint="Put this station's S3 secret key in {path} (chmod 600).",
            path=path,
        )
    return secret


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"retain-until {moment} has no time zone: give it in UTC")
    return moment.astimezone(UTC)


class S3CentralStore:
    """`dockd.ports.CentralStore` over S3: parts and objects may be sent from several
    threads at once (one client, a connection pool sized for `streams` objects of
    `streams` parts each)."""

    def __init__(self, config: CentralConfig, pace: Callable[[], None] = lambda: None) -> None:
        """`pace` is called before each part is read and before it is sent: the daemon's,
        blocking while a slot copies, so a multipart upload already under way yields the
        disk and the CPU to docking."""
        self._config = config
        self._bucket = config.bucket
        self._prefix = config.prefix
        self._part_size = config.part_mib * MIB
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint,
            region_name=config.region,
            aws_access_key_id=config.access_key,
            aws_secret_access_key=_read_secret(config),
            config=BotoConfig(
                max_pool_connections=max(10, config.streams * config.streams + 1),
                connect_timeout=config.timeout_seconds,
                read_timeout=config.timeout_seconds,
                retries={"mode": "standard", "max_attempts": 3},
                # The SHA-256 checksum header already binds the body; signing the payload
                # too would hash every byte a second time on the station.
                s3={"addressing_style": "path", "payload_signing_enabled": False},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        # Part buffers held at once by all puts together (objects may be sent from several
        # threads): `streams` parts in flight and one being read, whatever the object count.
        self._multipart = MultipartUpload(
            self._client,
            self._bucket,
            self._part_size,
            config.streams,
            pace,
            lambda exc, doing, key: self._translate(exc, doing, key, write=True),
            self._damaged,
        )

    # --- the port ---------------------------------------------------------------------

    def check_bucket(self) -> None:
        try:
            answer = self._client.get_object_lock_configuration(Bucket=self._bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration"):
                raise self._no_lock() from exc
            raise self._translate(exc, Said("check Object Lock of"), None) from exc
        except BotoCoreError as exc:
            raise self._translate(exc, Said("check Object Lock of"), None) from exc
        if answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise self._no_lock()

    def put(
        self,
        item: CentralPut,
        source: Path,
        started: Callable[[str, str], None] = lambda key, upload_id: None,
        stopping: Stopping = never_stopping,
    ) -> CentralUpload:
        key = self._prefix + item.key
        lock: dict[str, Any] = {
            "ObjectLockMode": LOCK_MODE,
            "ObjectLockRetainUntilDate": _utc(item.retain_until),
            "ObjectLockLegalHoldStatus": "ON" if item.legal_hold else "OFF",
        }
        if item.size > self._part_size:
            if -(-item.size // self._part_size) > _MAX_PARTS:
                raise CentralError(
                    "{source} ({size} bytes) needs more than {parts} parts of {part_mib} MiB, "
                    "the most S3 takes; nothing was sent",
                    hint="Raise [central] part_mib (up to 512).",
                    source=source,
                    size=item.size,
                    parts=_MAX_PARTS,
                    part_mib=self._config.part_mib,
                )
            return self._multipart.put(item, key, source, lock, started, stopping)
        checksum = _hex_to_b64(item.sha256)
        try:
            with open_local(source) as body:
                if (size := os.fstat(body.fileno()).st_size) != item.size:
                    raise self._damaged(source, item, size, key)
                answer = self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=body,
                    ContentLength=size,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=checksum,
                    IfNoneMatch="*",
                    **lock,
                )
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, Said("put"), key, write=True) from exc
        except OSError as exc:  # the file's read failed while boto3 sent it
            raise unreadable(source, exc) from exc
        return CentralUpload(key, answer.get("VersionId", "null"), checksum, 0)

    def head(self, key: str, version_id: str | None = None) -> CentralHead | None:
        try:
            if version_id is None:
                answer = self._client.head_object(
                    Bucket=self._bucket, Key=key, ChecksumMode="ENABLED"
                )
            else:
                answer = self._client.head_object(
                    Bucket=self._bucket, Key=key, VersionId=version_id, ChecksumMode="ENABLED"
                )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in _NOT_FOUND_CODES:
                return None
            raise self._translate(exc, Said("head"), key) from exc
        except BotoCoreError as exc:
            raise self._translate(exc, Said("head"), key) from exc
        return CentralHead(
            key=key,
            version_id=answer.get("VersionId", "null"),
            size=answer["ContentLength"],
            checksum=answer.get("ChecksumSHA256"),
            checksum_type=answer.get("ChecksumType"),
            lock_mode=answer.get("ObjectLockMode"),
            retain_until=_utc(until)
            if (until := answer.get("ObjectLockRetainUntilDate"))
            else None,
            legal_hold=answer.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def checksum_of(self, source: Path, size: int) -> str:
        if size <= self._part_size:
            digest = hashlib.sha256()
            with open_local(source) as fh:
                try:
                    for chunk in _chunks(fh, _READ_CHUNK):
                        digest.update(chunk)
                except OSError as exc:
                    raise unreadable(source, exc) from exc
            return b64(digest.digest())
        parts: list[bytes] = []
        with open_local(source) as fh:
            try:
                while part := fh.read(self._part_size):
                    parts.append(hashlib.sha256(part).digest())
            except OSError as exc:
                raise unreadable(source, exc) from exc
        return composite(parts)

    def extend_retention(self, key: str, version_id: str, retain_until: datetime) -> None:
        try:
            self._client.put_object_retention(
                Bucket=self._bucket,
                Key=key,
                VersionId=version_id,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": _utc(retain_until)},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, Said("extend retention of"), key, lock_change=True) from exc

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None:
        try:
            self._client.put_object_legal_hold(
                Bucket=self._bucket,
                Key=key,
                VersionId=version_id,
                LegalHold={"Status": "ON" if on else "OFF"},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(
                exc, Said("set the legal hold of"), key, lock_change=True
            ) from exc

    def read(self, key: str, version_id: str) -> Iterator[bytes]:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key, VersionId=version_id)[
                "Body"
            ]
            with body:
                yield from body.iter_chunks(_READ_CHUNK)
        except (ClientError, BotoCoreError) as exc:
            error = self._translate(exc, Said("read"), key)
            if isinstance(error, CentralUnavailableError | CentralUnreachableError) and (
                self.head(key, version_id) is not None
            ):
                # The server is up and holds the version, yet cannot give its bytes
                # (SeaweedFS: a needle failing its CRC, at once or mid-stream).
                raise version_unreadable(error, version_id) from exc
            raise error from exc

    def abort_unfinished(self, upload_ids: Collection[str]) -> list[str]:
        aborted: list[str] = []
        if not upload_ids:
            return aborted
        try:
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self._bucket, Prefix=self._prefix
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    key, upload_id = upload["Key"], upload["UploadId"]
                    if upload_id not in upload_ids:
                        continue  # not one this station began: perhaps another's, live
                    self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=key, UploadId=upload_id
                    )
                    aborted.append(key)
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(
                exc, Said("abort unfinished uploads under"), self._prefix
            ) from exc
        return aborted

    def _damaged(self, source: Path, item: CentralPut, size: int, key: str) -> CentralChecksumError:
        return CentralChecksumError(
            "the local copy {source} no longer matches its ledger entry (SHA-256 {sha256}, "
            "{size} bytes; {read} bytes read): nothing was stored at {where}",
            hint="The local copy is damaged: run `dockd verify` and keep the recorder "
            "until the store is examined.",
            source=source,
            sha256=item.sha256,
            size=item.size,
            read=size,
            where=self._where(key),
        )

    # --- errors -----------------------------------------------------------------------

    def _where(self, key: str | None) -> str:
        at = f"{self._config.endpoint} bucket {self._bucket}"
        return f"{at} key {key}" if key is not None else at

    def _no_lock(self) -> CentralNoObjectLockError:
        return CentralNoObjectLockError(
            "{where} does not have Object Lock enabled: nothing is sent to it",
            where=self._where(None),
        )

    def _translate(
        self,
        exc: ClientError | BotoCoreError,
        doing: str,
        key: str | None,
        *,
        lock_change: bool = False,
        write: bool = False,
    ) -> CentralError:
        """`write`: the request stored bytes, so a bare InternalError is weighed against
        whether the bucket still answers a read (see `central_error`)."""
        return central_error(
            exc,
            doing,
            self._where(key),
            lock_change=lock_change,
            reads_answer=self._reads_answer if write else None,
        )

    def _reads_answer(self) -> bool:
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except (ClientError, BotoCoreError):
            return False
        return True


def _chunks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    while chunk := fh.read(size):
        yield chunk
