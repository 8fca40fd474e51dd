"""A large object's multipart upload to the agency's bucket: parts with a SHA-256 each,
`streams` in flight while the next is read, completed create-only.

An upload told to stop (`stopping`) sends no further part, lets the ones in flight finish
and is left unfinished on the server: the ledger recorded its id when it began, and the
next start aborts it (`abort_unfinished`) before sending the object again. Any other
failure aborts it here, best effort. botocore's errors are translated by the store's
`translate`, which names the endpoint, the bucket and the key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from io import FileIO
from pathlib import Path
from threading import BoundedSemaphore
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from dockd.core.forwarding import CentralPut, CentralUpload
from dockd.errors import (
    CentralChecksumError,
    CentralError,
    ForwardingStoppedError,
    LocalCopyUnreadableError,
)
from dockd.ports import Stopping
from dockd.ui.i18n import Said

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

Translate = Callable[[ClientError | BotoCoreError, str, str], CentralError]
"""(error, what was being done, bucket key) -> the named CentralError."""
Damaged = Callable[[Path, CentralPut, int, str], CentralChecksumError]
"""(source, item, bytes read, bucket key) -> the error of a local copy that changed."""


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def composite(part_digests: list[bytes]) -> str:
    """S3's COMPOSITE checksum: the SHA-256 of the parts' raw digests, then -N."""
    return f"{b64(hashlib.sha256(b''.join(part_digests)).digest())}-{len(part_digests)}"


def open_local(source: Path) -> FileIO:
    """Unbuffered: read(n) fills the bytes object it returns, with no buffer in between."""
    try:
        return open(source, "rb", buffering=0)
    except OSError as exc:
        raise unreadable(source, exc) from exc


def unreadable(source: Path, exc: OSError) -> LocalCopyUnreadableError:
    return LocalCopyUnreadableError(
        "cannot read the local copy {source} to send it: {exc}", source=source, exc=exc
    )


class MultipartUpload:
    """One client shared with the store; `buffers` bounds the part buffers held by all
    uploads at once (objects may be sent from several threads); `pace` is called before
    each part is read and before it is sent (the daemon's: docking wins the disk)."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        part_size: int,
        streams: int,
        pace: Callable[[], None],
        translate: Translate,
        damaged: Damaged,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._part_size = part_size
        self._streams = streams
        self._pace = pace
        self._translate = translate
        self._damaged = damaged
        self._buffers = BoundedSemaphore(streams + 1)

    def put(
        self,
        item: CentralPut,
        key: str,
        source: Path,
        lock: dict[str, Any],
        started: Callable[[str, str], None],
        stopping: Stopping,
    ) -> CentralUpload:
        """The whole file's SHA-256 must equal the ledger's before the upload is
        completed, so a local copy damaged since ingest is never published under its
        digest."""
        try:
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ChecksumAlgorithm="SHA256", **lock
            )["UploadId"]
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, Said("start multipart upload of"), key) from exc
        try:
            started(key, upload_id)
            parts, digests = self._send_parts(key, upload_id, source, item, stopping)
            checksum = composite(digests)
            answer = self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
        except ForwardingStoppedError:
            raise  # left for the next start to abort: aborting now would delay the stop
        except BaseException as exc:
            self._abort(key, upload_id)
            if isinstance(exc, ClientError | BotoCoreError):
                raise self._translate(exc, Said("put"), key) from exc
            raise
        return CentralUpload(key, answer.get("VersionId", "null"), checksum, len(parts))

    def _send_parts(
        self, key: str, upload_id: str, source: Path, item: CentralPut, stopping: Stopping
    ) -> tuple[list[CompletedPartTypeDef], list[bytes]]:
        """This thread reads and hashes the whole file in order; each part's own digest is
        computed by the thread that sends it, so the two SHA-256 passes run side by side.
        `stopping` is asked once a buffer is free, right before a part is read: a stop
        waits for at most the parts already in flight."""
        whole = hashlib.sha256()
        futures: list[Future[tuple[CompletedPartTypeDef, bytes]]] = []
        reason: str | None = None
        with (
            ThreadPoolExecutor(self._streams, thread_name_prefix="central-part") as pool,
            open_local(source) as fh,
        ):
            size = 0
            while not any(_failed(f) for f in futures):
                self._pace()
                self._buffers.acquire()
                if (reason := stopping()) is not None:
                    self._buffers.release()
                    for queued in futures:
                        queued.cancel()  # not yet sending: its buffer is released now
                    break
                try:
                    # FileIO.read(n) reads into the bytes it returns: the part is never copied.
                    buf = fh.read(self._part_size)
                except OSError as exc:
                    self._buffers.release()
                    raise unreadable(source, exc) from exc
                if not buf:
                    self._buffers.release()
                    break
                size += len(buf)
                whole.update(buf)
                future = pool.submit(self._send_part, key, upload_id, len(futures) + 1, buf)
                future.add_done_callback(lambda _f: self._buffers.release())
                futures.append(future)
            wait(futures, return_when=FIRST_EXCEPTION)
            for f in futures:
                if _failed(f) and (error := f.exception()) is not None:
                    for other in futures:
                        other.cancel()
                    raise error
        if reason is not None:
            raise ForwardingStoppedError(
                "stopped sending {key} after {sent} of {parts} part(s) ({reason}): the "
                "unfinished upload is aborted at the next start and the object sent again",
                key=key,
                sent=sum(1 for f in futures if not f.cancelled()),
                parts=-(-item.size // self._part_size),
                reason=reason,
            )
        if size != item.size or whole.hexdigest() != item.sha256:
            raise self._damaged(source, item, size, key)
        sent = [f.result() for f in futures]
        return [part for part, _ in sent], [digest for _, digest in sent]

    def _send_part(
        self, key: str, upload_id: str, number: int, body: bytes
    ) -> tuple[CompletedPartTypeDef, bytes]:
        self._pace()  # a part read before a slot started copying waits to be sent
        digest = hashlib.sha256(body).digest()
        checksum = b64(digest)
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ContentLength=len(body),
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}, digest

    def _abort(self, key: str, upload_id: str) -> None:
        """Best effort: what cannot be aborted now is found by abort_unfinished later."""
        with contextlib.suppress(ClientError, BotoCoreError):
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)


def _failed(future: Future[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None
