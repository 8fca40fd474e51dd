"""botocore's errors as dockd's: the one place that knows S3 error codes.

Each `CentralError` names what was being done, the endpoint, the bucket and the key, and
what the server answered, so the journal line alone tells the admin where to look.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ResponseStreamingError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from dockd.errors import (
    CentralAuthError,
    CentralChecksumError,
    CentralError,
    CentralFullError,
    CentralKeyExistsError,
    CentralUnavailableError,
    CentralUnreachableError,
)
from dockd.ui.i18n import Said

AUTH_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AuthorizationHeaderMalformed",
        "RequestTimeTooSkewed",
        "403",
    }
)
# What a server answers when the lock itself refuses a change (a shorter COMPLIANCE date, a
# key allowed to put but not to change a lock); bad or expired keys stay CentralAuthError.
LOCK_REFUSALS = frozenset({"AccessDenied", "403"})
CHECKSUM_CODES = frozenset(
    {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
)
FULL_CODES = frozenset(
    {
        "QuotaExceeded",
        "EntityTooLarge",
        "InsufficientStorage",
        "XMinioStorageFull",
        "StorageFull",
        "ErrRequestBytesExceed",
    }
)
# The server's own trouble, whatever object was being sent (some come without a 5xx status).
BUSY_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "OperationAborted"}
)
# Words with which servers (SeaweedFS among them) explain a generic 5xx that is lack of room.
FULL_WORDS = ("quota", "no free volume", "no writable volume", "not enough space", "disk full")
# SeaweedFS's whole answer to a write on a full server or into a bucket over its quota
# (`s3.bucket.quota.enforce` makes it read-only): 500 InternalError, nothing more, while
# HEADs and GETs of the same bucket go on working.
_BARE_WRITE_FAULT = ("InternalError", 500)


def central_error(
    exc: ClientError | BotoCoreError,
    doing: str,
    where: str,
    *,
    lock_change: bool = False,
    reads_answer: Callable[[], bool] | None = None,
) -> CentralError:
    """The one translation of botocore's errors. `lock_change`: the request changed a
    version's retention or hold, where AccessDenied is the lock refusing, not bad keys
    (an unknown key, a bad signature, an expired token or a skewed clock still are).
    A 5xx or SlowDown is the server's trouble, not the object's (CentralUnavailableError:
    the pass stops). `reads_answer` is given for a request that stores bytes: asked only
    when the server said a bare 500 InternalError (already retried by botocore), and True
    when the same bucket still answers a read. A server that reads but will not write is
    full or over quota far more often than anything else (it is all SeaweedFS says then),
    so it is CENTRAL_FULL, saying that this is inferred: the storage admin is sent to the
    space and the quota, where an "unavailable" would send them to a server that works.
    `doing` is what was asked (a `Said`, so that the message can be said again in another
    language)."""
    if isinstance(exc, BotoConnectionError | HTTPClientError | ResponseStreamingError):
        return CentralUnreachableError(
            "could not {doing} {where}: {exc}", doing=doing, where=where, exc=exc
        )
    if not isinstance(exc, ClientError):
        return CentralError("could not {doing} {where}: {exc}", doing=doing, where=where, exc=exc)
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    said = Said(
        "{where}: the server answered {code}: {message}",
        where=where,
        code=code or status,
        message=message or Said("no message"),
    )
    if code == "PreconditionFailed":
        return CentralKeyExistsError("the key is taken at {said}", said=said)
    if code in CHECKSUM_CODES:
        return CentralChecksumError("could not {doing} {said}", doing=doing, said=said)
    if code in AUTH_CODES and not (lock_change and code in LOCK_REFUSALS):
        return CentralAuthError("could not {doing} {said}", doing=doing, said=said)
    if code in FULL_CODES or (status >= 500 and any(w in message.lower() for w in FULL_WORDS)):
        return CentralFullError("could not {doing} {said}", doing=doing, said=said)
    if (code, status) == _BARE_WRITE_FAULT and reads_answer is not None and reads_answer():
        return CentralFullError(
            "could not {doing} {said}; the bucket still answers reads, so it is most likely "
            "full or over its quota",
            hint="The server refuses writes with a bare InternalError while reads work, as "
            "SeaweedFS does with no free volume left or a bucket over its quota: ask the "
            "storage admin to check the free space and the bucket's quota. Nothing was "
            "stored, the local copy stays and a later pass sends it again.",
            doing=doing,
            said=said,
        )
    if status >= 500 or code in BUSY_CODES:
        return CentralUnavailableError("could not {doing} {said}", doing=doing, said=said)
    if code == "NoSuchBucket":
        return CentralError(
            "could not {doing} {said}",
            hint="Set [central] bucket to an existing bucket made with Object Lock enabled "
            "(ask the storage admin); nothing was sent.",
            doing=doing,
            said=said,
        )
    if code in LOCK_REFUSALS:
        return CentralError(
            "could not {doing} {said}",
            hint="COMPLIANCE retention can only be lengthened, and this station's key may lack "
            "the permission: check the date asked for and the key's policy.",
            doing=doing,
            said=said,
        )
    return CentralError("could not {doing} {said}", doing=doing, said=said)


def version_unreadable(cause: CentralError, version_id: str) -> CentralError:
    """A read that failed while a HEAD of the same version answers: that object's stored
    bytes, not the server, so `verify --central` names it and goes on with the others."""
    return CentralError(
        "version {version_id}: the server answers its HEAD but cannot return its bytes ({cause})",
        hint="The stored copy may be damaged: ask the storage admin to check the volume "
        "that holds it (SeaweedFS: weed shell volume.check.disk) and to restore it from a "
        "replica.",
        version_id=version_id,
        cause=cause,
    )
