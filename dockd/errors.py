"""The one exception tree of dockd.

Every error an admin can see carries a stable ``code`` (what the journal, the
ledger and the status page key on, so it must never be renamed) and a ``hint``
(what to do about it). Its message is a template with named ``{fields}`` and the
values apart (``ConfigError("{key}: not a zone", key=k)``), so that a translation
can put the values where its own grammar wants them; ``message`` is the English.
Third-party exceptions are translated into these at the adapter boundary so that
nothing above the adapters needs to know which library raised what.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2


class DockdError(Exception):
    """Base of everything dockd raises on purpose."""

    code = "DOCKD_ERROR"
    hint = "See the journal (journalctl -u dockd) for the events that led here."
    exit_code = EXIT_PROBLEM

    # a hint given where the error is raised is a template too, filled from the same values
    hint_template: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, **values: Any) -> None:
        text = message.format(**values) if values else message
        super().__init__(text)
        self.message = text
        self.template = message
        self.values = values
        if hint is not None:
            self.hint = hint.format(**values) if values else hint
            self.hint_template = hint

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InternalError(DockdError):
    """A bug in dockd, caught at the session boundary so the dock keeps running."""

    code = "INTERNAL_ERROR"
    hint = "This is a dockd bug: report it with the journal entries of this session."


class ConfigError(DockdError):
    """The configuration or the rules on disk are wrong; nothing has been touched yet."""

    code = "CONFIG_INVALID"
    hint = "Fix the named key in /etc/dockd/dockd.toml (or the DOCKD_* variable) and start again."
    exit_code = EXIT_USAGE


class ActivityListError(ConfigError):
    """An activity list (`dockd activities import`) with bad lines: nothing was imported."""

    code = "ACTIVITIES_INVALID"
    hint = "Fix the named lines of the CSV and import it again; nothing was imported."


class RulesError(ConfigError):
    code = "RULES_INVALID"
    hint = "Fix the named file under the rules directory ([rules] dir); it must match schemas/."


class UnknownProfileError(ConfigError):
    code = "PROFILE_UNKNOWN"
    hint = "Use one of the profile ids under rules/recorders, or add a profile there."


class StationKeyError(ConfigError):
    """The station's signing key ([station] key_file) cannot be used as it is."""

    code = "STATION_KEY_INVALID"
    hint = (
        "Fix the file named by [station] key_file: it must be this station's Ed25519 key in "
        "PEM, owned by the user dockd runs as, mode 0600 (chmod 600 FILE). Restore it from "
        "backup rather than making a new one: a new key cannot vouch for earlier signatures."
    )


class TlsError(ConfigError):
    """`[web] tls_cert` / `tls_key` cannot be read, or the key is not the certificate's."""

    code = "WEB_TLS_INVALID"
    hint = (
        "Point [web] tls_cert at a PEM certificate and tls_key at its own private key, both "
        "readable by the user dockd runs as (check: openssl x509 -noout -pubkey -in CERT; "
        "openssl pkey -pubout -in KEY; the two must print the same key)."
    )


class StationClockError(DockdError):
    code = "STATION_CLOCK_UNSYNCHRONISED"
    hint = (
        "The policy refuses to ingest while the station's clock is not synchronised. Check "
        "[clock] ntp_servers (or `chronyc tracking`), then re-dock."
    )


class SourceError(DockdError):
    """The recorder (or folder) cannot be read as a whole."""

    code = "SOURCE_UNREADABLE"
    hint = "Check that the recorder is mounted and readable; re-dock it to try again."


class RecorderGoneError(SourceError):
    """The medium vanished under us: cable pulled, FUSE mount died, device removed."""

    code = "RECORDER_GONE"
    hint = "The recorder was disconnected mid-copy. Re-dock it: only what is missing is copied."


class RecorderClearError(SourceError):
    """A file on the recorder could not be deleted while clearing it after offload."""

    code = "RECORDER_NOT_CLEARED"
    hint = (
        "The files not deleted stay on the recorder, their copies are safe in the store; "
        "re-dock it to clear them, or clear it by hand after checking the custody log."
    )


class RecorderWritesBlockedError(DockdError):
    """A write to recorders is turned on, but the service's device rule opens them read-only."""

    code = "RECORDER_WRITES_BLOCKED"
    hint = (
        "Install the unit's drop-in for recorder writes: install -D -m 0644 "
        "/opt/dockd/share/dockd-recorder-writes.conf "
        "/etc/systemd/system/dockd.service.d/recorder-writes.conf; then systemctl "
        "daemon-reload and restart dockd. Or turn the writes off."
    )


class UnlockBlockedError(DockdError):
    """A profile declares an unlock tool, but the service's device rule refuses it the USB
    device it must talk to."""

    code = "UNLOCK_BLOCKED"
    hint = (
        "Install the unit's drop-in for unlock tools: install -D -m 0644 "
        "/opt/dockd/share/dockd-unlock.conf /etc/systemd/system/dockd.service.d/unlock.conf; "
        "then systemctl daemon-reload and restart dockd."
    )


class SourceFileError(SourceError):
    """One file on the recorder could not be opened or read (raised at the volume's and the
    store's edge). Whether that is a bad file or the end of the session is the dock
    session's call: it knows whether the recorder has gone meanwhile.

    ``problem`` is the per-file problem code should it be only this file's problem:
    ``read-error``, ``symlink-swapped`` or ``not-regular-file``."""

    def __init__(self, message: str, *, problem: str = "read-error", **values: Any) -> None:
        super().__init__(message, **values)
        self.problem = problem


class MountError(SourceError):
    code = "MOUNT_FAILED"
    hint = (
        "The recorder's filesystem could not be mounted: it may be corrupt or not FAT32/"
        "exFAT. The recorder was not written to; have it checked before re-docking."
    )


class UnknownFilesystemError(MountError):
    code = "FILESYSTEM_UNKNOWN"


class StoreError(DockdError):
    code = "STORE_FAILED"
    hint = "Check the store filesystem ([store] root) (dmesg, df); nothing was half-published."


class StoreFullError(StoreError):
    code = "STORE_FULL"
    hint = (
        "The evidence store is out of space. Free space or move [store] root to a larger "
        "disk, then re-dock: only what is missing is copied."
    )


class StoreLayoutError(StoreError):
    code = "STORE_LAYOUT"
    hint = "The [store] root holds something that is not a dockd store of this layout version."


class ObjectMismatchError(StoreError):
    """A read-back or an existing object does not match the digest it is named by."""

    code = "OBJECT_MISMATCH"
    hint = "Run `dockd verify` and keep the recorder unchanged until the store is examined."


class LedgerError(DockdError):
    code = "LEDGER_FAILED"
    hint = "Check [ledger] url, that the database is reachable, and its disk space."


class LedgerUrlError(LedgerError):
    """[ledger] url is not one dockd can use: unparsable, an unknown dialect or driver."""

    code = "LEDGER_URL_INVALID"
    hint = (
        "Set [ledger] url (or DOCKD_LEDGER__URL) to sqlite:////var/lib/dockd/ledger.sqlite3 or "
        "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE."
    )
    exit_code = EXIT_USAGE


class LedgerUnreachableError(LedgerError):
    code = "LEDGER_UNREACHABLE"
    hint = (
        "Nothing answered at the host and port of [ledger] url, or the SQLite file cannot be "
        "opened: check the address, that the database server runs and the network or "
        "directory permissions let dockd reach it."
    )
    exit_code = EXIT_USAGE


class LedgerAuthError(LedgerError):
    code = "LEDGER_AUTH_FAILED"
    hint = (
        "The database refused the user or password of [ledger] url: fix them there (or in "
        "DOCKD_LEDGER__URL), or the server's pg_hba.conf."
    )
    exit_code = EXIT_USAGE


class LedgerMissingError(LedgerError):
    code = "LEDGER_DATABASE_MISSING"
    hint = (
        "The database named in [ledger] url does not exist on that server: create it "
        "(createdb -O USER NAME) or fix the name; dockd creates the tables itself."
    )
    exit_code = EXIT_USAGE


class LegacyAdoptedError(DockdError):
    """Another station already adopted the rows from before stations had names."""

    code = "LEGACY_ADOPTED_ELSEWHERE"
    hint = (
        "The rows labelled 'local' are the station's that adopted them first; only the "
        "station that wrote them may adopt them, and only once. If that was not the station "
        "named, the ledger's admin must look into it: its adoption is on its custody chain."
    )


class LedgerLockedError(LedgerError):
    """SQLite stayed locked by another writer beyond the busy timeout."""

    code = "LEDGER_LOCKED"
    hint = (
        "Another process holds the SQLite ledger's write lock (a long transaction, a sqlite3 "
        "shell with an open BEGIN): find it with `fuser -v LEDGER_FILE`, end it, try again."
    )


class LedgerFullError(LedgerError):
    code = "LEDGER_FULL"
    hint = (
        "The ledger's disk is full: nothing of the failed write was kept. Free space on the "
        "filesystem of the ledger (df), then re-dock: only what is missing is copied."
    )


class RecorderBusyError(DockdError):
    """Another dock session holds the recorder's lock in the ledger; nothing was written."""

    code = "RECORDER_BUSY"
    hint = (
        "Wait for the named dock session to finish (dockd sessions); a session whose dockd died "
        "releases the recorder by itself when its station's dockd starts again."
    )

    def __init__(self, message: str, session_id: str, **values: Any) -> None:
        super().__init__(message, **values)
        self.session_id = session_id


class CustodyChainError(LedgerError):
    code = "CUSTODY_CHAIN_BROKEN"
    hint = "A custody event was altered or removed. Preserve the database and report it."


class ChainMovedError(LedgerError):
    """The custody chain moved between reading a spot-check draw's seed and writing it."""

    code = "CHAIN_MOVED"
    hint = "Another event was written meanwhile; draw again."


class MailError(DockdError):
    """The nightly report could not be sent (or kept): relay, TLS, login or outbox."""

    code = "MAIL_FAILED"
    hint = (
        "Check [mail] host, port, security, username, password, cafile, timeout_seconds in "
        "/etc/dockd/dockd.toml (or DOCKD_MAIL__*), and that the relay is reachable from the "
        "dock. The report is kept in [mail] outbox and sent first next time."
    )


class MailRecipientsRefused(MailError):
    """The relay took the report for some recipients and refused the others.

    Sending it again would repeat it to those who have it: keep nothing, fix the
    addresses. ``refused`` maps each refused address to the relay's answer.
    """

    code = "MAIL_RECIPIENTS_REFUSED"
    hint = (
        "Fix the refused addresses in [mail] recipients / recipients_by_unit; the other "
        "recipients have the report."
    )

    def __init__(self, message: str, refused: dict[str, str], **values: Any) -> None:
        super().__init__(message, **values)
        self.refused = refused


class OperatorError(DockdError):
    """An operator could not be shown to be present, or may not do what was asked."""

    code = "OPERATOR_REFUSED"
    hint = "See `dockd operators list` for who is registered and the roles they hold."


class OperatorUnknownError(OperatorError):
    code = "OPERATOR_UNKNOWN"
    hint = "Register the person first: dockd operators add BADGE --name N --role R ..."


class OperatorDisabledError(OperatorError):
    code = "OPERATOR_DISABLED"
    hint = "A disabled operator can no longer act; register the person's new badge instead."


class WrongPassphraseError(OperatorError):
    code = "PASSPHRASE_WRONG"
    hint = "Type the operator's own passphrase; five wrong ones in a row lock them out."


class PassphraseMissingError(OperatorError):
    code = "PASSPHRASE_MISSING"
    hint = "Give one passphrase per operator on stdin, one line each, in the order given."
    exit_code = EXIT_USAGE


class OperatorLockedError(OperatorError):
    code = "OPERATOR_LOCKED"
    hint = "Too many wrong passphrases in a row: wait until the lock ends, then try again."


class NotAuthorisedError(OperatorError):
    """The operators are who they say, but the pack does not let them do this."""

    code = "NOT_AUTHORISED"
    hint = "See `dockd policy show` for the roles the pack requires."


class ViewingClosedError(OperatorError):
    """A viewing request that is not (or no longer) approved shows nothing."""

    code = "VIEWING_NOT_OPEN"
    hint = "See `dockd view register` for the request's state and who still has to approve."


class ExportError(DockdError):
    """An export package cannot be made as asked; nothing was written."""

    code = "EXPORT_FAILED"
    hint = "Nothing was written; fix what is named and run `dockd export create` again."


class ExportUsageError(ExportError):
    code = "EXPORT_USAGE"
    hint = (
        "Name existing recordings (`dockd recordings`) or a dock session (`dockd sessions`), "
        "and an --out folder that does not exist yet beside which dockd may write."
    )
    exit_code = EXIT_USAGE


class ExportRefused(ExportError):
    """The operators may not export under the active pack (roles, how many, passphrases)."""

    code = "EXPORT_REFUSED"
    hint = (
        "`dockd policy show` names the export roles and how many distinct operators must "
        "export together; each gives their own passphrase, one line each, in --operator order."
    )


class ExportObjectMismatch(ObjectMismatchError):
    """A store object read for an export is not what the ledger says it is."""

    code = "EXPORT_OBJECT_MISMATCH"
    hint = (
        "The store object does not match the ledger: nothing was exported. Run `dockd verify` "
        "and keep the store unchanged until it is examined."
    )


class PackageAltered(DockdError):
    """An export package is not as it was made: a file changed, went missing or was added,
    or the signature does not hold."""

    code = "PACKAGE_ALTERED"
    hint = (
        "Do not use this copy as evidence; make a new one from the station "
        "(`dockd export create`) or compare with the disc kept with the case file."
    )


class CentralError(DockdError):
    """The central store (S3 Object Lock) refused or failed a request: nothing was marked
    forwarded that the server did not confirm, and the local copy stays."""

    code = "CENTRAL_FAILED"
    hint = (
        "The local copy is kept and the object is sent again by the next pass "
        "(`dockd forward`); see the journal for the server's answer."
    )


class CentralUnreachableError(CentralError):
    code = "CENTRAL_UNREACHABLE"
    hint = (
        "Check [central] endpoint, the network and the server; forwarding resumes by itself "
        "(or run `dockd forward`) and nothing local is freed meanwhile."
    )


class CentralAuthError(CentralError):
    code = "CENTRAL_AUTH_FAILED"
    hint = (
        "The server refused this station's credentials: check [central] access_key and "
        "secret_key (or secret_key_file), their expiry and the station's clock."
    )
    exit_code = EXIT_USAGE


class CentralNoObjectLockError(CentralError):
    """A bucket without Object Lock could let anyone delete evidence: dockd sends nothing."""

    code = "CENTRAL_NO_OBJECT_LOCK"
    hint = (
        "Use a bucket created with Object Lock enabled (S3 cannot add it to this bucket "
        "safely); set [central] bucket to it. Nothing was sent."
    )
    exit_code = EXIT_USAGE


class CentralChecksumError(CentralError):
    """The server computed another SHA-256 than the ledger's: the bytes changed on the way."""

    code = "CENTRAL_CHECKSUM_MISMATCH"
    hint = (
        "The server refused the bytes (BadDigest): nothing was stored. Run `dockd verify`; "
        "if the local copy verifies, the network corrupted it and the next pass sends again."
    )


class CentralFullError(CentralError):
    code = "CENTRAL_FULL"
    hint = "The bucket is full or over its quota: ask the storage admin to raise it."


class CentralKeyExistsError(CentralError):
    """A create-only put found the key taken: the caller compares before adopting it."""

    code = "CENTRAL_KEY_EXISTS"
    hint = "dockd adopts an existing object only when its size and SHA-256 match."


class CentralConflictError(CentralError):
    """The key holds other bytes than this object: it is never overwritten."""

    code = "CENTRAL_KEY_CONFLICT"
    hint = (
        "Another object sits under this object's key in the bucket: tell the storage admin "
        "(someone wrote to the evidence prefix); dockd keeps the local copy and never "
        "overwrites it."
    )


class CentralNotConfirmedError(CentralError):
    """The stored version's HEAD does not show what was sent (size, SHA-256, lock, hold)."""

    code = "CENTRAL_NOT_CONFIRMED"
    hint = (
        "The server does not show the object as sent: it is not counted as forwarded and "
        "the local copy stays. Check the bucket's Object Lock settings with the storage admin."
    )


class LocalCopyUnreadableError(StoreError):
    """The local copy of an object to forward could not be opened or read: that object
    waits, the pass goes on with the others."""

    code = "LOCAL_COPY_UNREADABLE"
    hint = (
        "Run `dockd verify`: the store's copy is missing or unreadable (check dmesg and the "
        "disk); the other objects are forwarded meanwhile and this one is tried again."
    )


class CentralUnavailableError(CentralError):
    """The server answered a 5xx or asked to slow down: a fault of the server, not of the
    object being sent, so the pass stops and no object is marked failed."""

    code = "CENTRAL_UNAVAILABLE"
    hint = (
        "The central store answered with a server error (5xx, SlowDown): ask the storage "
        "admin to check it; the backlog is sent by a later pass and nothing local is freed."
    )


class ForwardingStoppedError(DockdError):
    """The pass was told to stop (SIGTERM, SIGINT, the daemon shutting down): the parts
    in flight finished, nothing more was sent, and nothing unconfirmed is marked."""

    code = "FORWARDING_STOPPED"
    hint = (
        "Nothing is lost: the objects left are sent by the next pass (`dockd forward`, or "
        "the daemon once started), and an upload cut short is aborted and sent again."
    )
