"""The one exception tree of dockd.

Every error an admin can see carries a stable ``code`` (what the journal, the
ledger and the status page key on, so it must never be renamed) and a ``hint``
(what to do about it). Third-party exceptions are translated into these at the
adapter boundary so that nothing above the adapters needs to know which library
raised what.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2


class DockdError(Exception):
    """Base of everything dockd raises on purpose."""

    code = "DOCKD_ERROR"
    hint = "See the journal (journalctl -u dockd) for the events that led here."
    exit_code = EXIT_PROBLEM

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

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


class RulesError(ConfigError):
    code = "RULES_INVALID"
    hint = "Fix the named file under the rules directory ([rules] dir); it must match schemas/."


class UnknownProfileError(ConfigError):
    code = "PROFILE_UNKNOWN"
    hint = "Use one of the profile ids under rules/recorders, or add a profile there."


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


class SourceFileError(SourceError):
    """One file on the recorder could not be opened or read (raised at the volume's and the
    store's edge). Whether that is a bad file or the end of the session is the dock
    session's call: it knows whether the recorder has gone meanwhile.

    ``problem`` is the per-file problem code should it be only this file's problem:
    ``read-error``, ``symlink-swapped`` or ``not-regular-file``."""

    def __init__(self, message: str, *, problem: str = "read-error") -> None:
        super().__init__(message)
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


class CustodyChainError(LedgerError):
    code = "CUSTODY_CHAIN_BROKEN"
    hint = "A custody event was altered or removed. Preserve the database and report it."


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

    def __init__(self, message: str, refused: dict[str, str]) -> None:
        super().__init__(message)
        self.refused = refused


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
