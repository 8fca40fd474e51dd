"""`dockd forward`: one forwarding pass to the agency's central store, then exit."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK, EXIT_PROBLEM

_SLICE_S = 0.1

if TYPE_CHECKING:
    from dockd.app import App
    from dockd.core.forwarding_views import ForwardPassView
    from dockd.services.forward import PassSummary


def pass_view(summary: PassSummary) -> ForwardPassView:
    from dockd.core.forwarding_views import ForwardPassView, StoppedView

    stopped = summary.stopped
    return ForwardPassView(
        sent=summary.sent,
        adopted=summary.adopted,
        confirmed=summary.confirmed,
        lock_updated=summary.lock_updated,
        taken_over=summary.taken_over,
        freed=summary.freed,
        failed=dict(sorted(summary.failed.items())),
        left=summary.left,
        left_bytes=summary.left_bytes,
        bytes_sent=summary.bytes_sent,
        aborted_uploads=summary.aborted_uploads,
        stopped=None
        if stopped is None
        else StoppedView(code=stopped.code, message=stopped.message, hint=stopped.hint),
        lock_upkeep_overdue=summary.lock_upkeep.overdue,
        lock_upkeep_oldest_s=summary.lock_upkeep.oldest_s,
    )


@contextmanager
def _told_to_stop() -> Iterator[Callable[[], str | None]]:
    """SIGTERM or SIGINT during the pass: the name of the signal, for the pass to stop at
    its next object or part (exit 1, something left) instead of dying with a traceback
    mid-upload; a second signal ends the process at once, as without dockd's handler."""
    told: list[str] = []
    signals = (signal.SIGTERM, signal.SIGINT)

    def handler(signum: int, _frame: FrameType | None) -> None:
        told.append(signal.Signals(signum).name)
        for other in signals:
            signal.signal(other, signal.SIG_DFL)

    previous = {signum: signal.signal(signum, handler) for signum in signals}
    try:
        yield lambda: told[0] if told else None
    finally:
        for signum, was in previous.items():
            signal.signal(signum, was)


def _in_a_thread(run: Callable[[], PassSummary]) -> PassSummary:
    """The pass runs beside the main thread, which only waits in short slices: Python runs
    a signal handler on the main thread, and the kernel may hand the signal to an upload
    thread, after which a main thread blocked on the pass would see it only once the pass
    ended."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FuturesTimeout

    with ThreadPoolExecutor(1, thread_name_prefix="dockd-forward-pass") as pool:
        future = pool.submit(run)
        while True:
            try:
                return future.result(timeout=_SLICE_S)
            except FuturesTimeout:
                continue


def forward(app: App, args: argparse.Namespace) -> int:
    """Exit 0 when everything is confirmed, 1 when something is left or failed (a pass
    stopped by SIGTERM or SIGINT too), 2 for `[central]` missing, a bucket without Object
    Lock or refused credentials."""
    from dockd.ui.format import duration, size

    tr = app.locale

    def waiting() -> None:  # on stderr: --json keeps stdout for the document
        print(tr("waiting for the daemon's forwarding pass to finish"), file=sys.stderr, flush=True)

    with _told_to_stop() as stopping:
        forwarder = app.forwarder(stopping=stopping, lease_waiting=waiting)
        summary = _in_a_thread(forwarder.run_pass)
    if args.json:
        print_json(pass_view(summary))
    else:
        for key in summary.aborted_uploads:
            print(tr("aborted an unfinished upload of {key}", key=key))
        print(
            tr(
                "{confirmed} confirmed ({sent} sent, {adopted} adopted, {bytes_sent}), "
                "{lock_updated} lock(s) updated, {freed} local cop(ies) freed, {left} left "
                "({left_bytes})",
                confirmed=summary.confirmed,
                sent=summary.sent,
                adopted=summary.adopted,
                bytes_sent=size(summary.bytes_sent),
                lock_updated=summary.lock_updated,
                freed=summary.freed,
                left=summary.left,
                left_bytes=size(summary.left_bytes),
            )
        )
        if summary.taken_over:
            print(
                tr(
                    "{count} lock(s) of other stations' objects updated: their upkeep was overdue",
                    count=summary.taken_over,
                )
            )
        upkeep = summary.lock_upkeep
        if upkeep.overdue:
            print(
                tr(
                    "{count} central lock(s) still lag the ledger, the oldest for {age}",
                    count=upkeep.overdue,
                    age=duration(upkeep.oldest_s, tr),
                )
            )
        for code, count in sorted(summary.failed.items()):
            print(tr("failed: {code} x{count}", code=code, count=count))
    if summary.stopped is not None:
        stopped = summary.stopped
        if not args.json:
            print(
                tr(
                    "stopped: {stopped_code}: {text}\n  hint: {hint_text}",
                    stopped_code=stopped.code,
                    text=tr.message(stopped),
                    hint_text=tr(stopped.hint),
                )
            )
        return max(stopped.exit_code, EXIT_PROBLEM)
    return EXIT_OK if summary.complete else EXIT_PROBLEM


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "forward",
        help="one pass forwarding to the central store, then exit",
        description="Exit 0 when every object is confirmed, 1 when something is left or "
        "failed (SIGTERM or SIGINT stop the pass at the next object or part: exit 1), 2 "
        "for a configuration error: no [central], refused credentials or a bucket without "
        "Object Lock (nothing is sent).",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=forward, logs=True)
