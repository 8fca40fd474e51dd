"""Which dockd error each S3 answer becomes: the codes SeaweedFS cannot be made to give in
the integration tests (quota, storage full, missing bucket) are checked here."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from dockd.adapters.central_errors import central_error
from dockd.errors import (
    CentralAuthError,
    CentralChecksumError,
    CentralError,
    CentralFullError,
    CentralKeyExistsError,
    CentralUnavailableError,
    CentralUnreachableError,
)

WHERE = "http://s3.example:9000 bucket evidence key st/objects/blake3/ab/abcd"


def answer(code: str, status: int, message: str = "") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": status,
                "HTTPHeaders": {},
                "HostId": "",
                "RequestId": "",
                "RetryAttempts": 0,
            },
        },
        "PutObject",
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (answer("PreconditionFailed", 412), CentralKeyExistsError),
        (answer("BadDigest", 400), CentralChecksumError),
        (answer("XAmzContentSHA256Mismatch", 400), CentralChecksumError),
        (answer("InvalidAccessKeyId", 403), CentralAuthError),
        (answer("SignatureDoesNotMatch", 403), CentralAuthError),
        (answer("AccessDenied", 403), CentralAuthError),
        (answer("ExpiredToken", 400), CentralAuthError),
        (answer("403", 403), CentralAuthError),  # a HEAD's answer has no body
        (answer("QuotaExceeded", 403), CentralFullError),
        (answer("EntityTooLarge", 400), CentralFullError),
        (answer("InsufficientStorage", 507), CentralFullError),
        (answer("ServiceUnavailable", 503, "Bucket quota exceeded"), CentralFullError),
        (answer("InternalError", 500, "We encountered an internal error"), CentralUnavailableError),
        (answer("SlowDown", 503, "Please reduce your request rate."), CentralUnavailableError),
        (answer("ServiceUnavailable", 503), CentralUnavailableError),
        (answer("BadGateway", 502), CentralUnavailableError),
        (answer("NoSuchBucket", 404), CentralError),
        (EndpointConnectionError(endpoint_url="http://s3.example:9000"), CentralUnreachableError),
        (ConnectTimeoutError(endpoint_url="http://s3.example:9000"), CentralUnreachableError),
        (ReadTimeoutError(endpoint_url="http://s3.example:9000"), CentralUnreachableError),
        (NoCredentialsError(), CentralError),
    ],
)
def test_each_answer_becomes_one_error(
    exc: ClientError | BotoCoreError, expected: type[CentralError]
) -> None:
    assert type(central_error(exc, "put", WHERE)) is expected


def test_access_denied_changing_a_lock_is_not_blamed_on_the_keys() -> None:
    error = central_error(
        answer("AccessDenied", 403), "extend retention of", WHERE, lock_change=True
    )
    assert type(error) is CentralError and "only be lengthened" in error.hint


def test_missing_bucket_says_which_setting_to_fix() -> None:
    assert "[central] bucket" in central_error(answer("NoSuchBucket", 404), "put", WHERE).hint


def test_message_names_the_place_and_the_servers_answer() -> None:
    error = central_error(answer("InternalError", 500, "disk trouble"), "put", WHERE)
    assert (
        error.message == f"could not put {WHERE}: the server answered InternalError: disk trouble"
    )


@pytest.mark.parametrize(
    "code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "RequestTimeTooSkewed"]
)
def test_bad_keys_changing_a_lock_are_still_the_keys(code: str) -> None:
    error = central_error(answer(code, 403), "set the legal hold of", WHERE, lock_change=True)
    assert type(error) is CentralAuthError


def test_a_write_refused_with_a_bare_internal_error_while_reads_work_is_full() -> None:
    """SeaweedFS's whole answer to a full server or a bucket over its quota."""
    error = central_error(
        answer("InternalError", 500, "We encountered an internal error, please try again."),
        "put",
        WHERE,
        reads_answer=lambda: True,
    )
    assert type(error) is CentralFullError
    assert "most likely full or over its quota" in error.message and "quota" in error.hint


def test_a_write_refused_while_reads_fail_too_is_the_servers_trouble() -> None:
    error = central_error(answer("InternalError", 500), "put", WHERE, reads_answer=lambda: False)
    assert type(error) is CentralUnavailableError


@pytest.mark.parametrize("exc", [answer("SlowDown", 503), answer("BadDigest", 400)])
def test_reads_are_asked_about_only_for_a_bare_internal_error(exc: ClientError) -> None:
    asked: list[bool] = []

    def reads_answer() -> bool:
        asked.append(True)
        return True

    central_error(exc, "put", WHERE, reads_answer=reads_answer)
    assert asked == []
