"""Approving and viewing in the browser: the register, the approval form, and footage
streamed by range to the viewer of an approved, open request (`dockd view` on the page).

Every POST carries the session's CSRF token. The approver and the viewer each prove
themselves with badge and passphrase (the viewing service decides); the viewer then holds a
short-lived viewing cookie, bound to the session, until the approval's window ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from dockd.core.archive import Footage
from dockd.errors import DockdError
from dockd.services.viewing import ViewingService
from dockd.ui.i18n import N_
from dockd.web.ranges import RangeNotSatisfiable, byte_range
from dockd.web.session import CSRF_FIELD, SESSION_COOKIE, VIEWING_COOKIE_TTL_S, Signer

log = structlog.get_logger("dockd.web")

NO_STORE = {"Cache-Control": "no-store"}
_CHUNK = 256 << 10
MAX_FORM_BYTES = 16 << 10


class FootageReader(Protocol):
    def open(self, footage: Footage) -> BinaryIO:
        """The object, checked against the ledger (ObjectMismatchError), from offset 0."""


Page = Callable[..., Response]


def cookie_name(request_id: int) -> str:
    return f"dockd_view_{request_id}"


def viewing_routes(
    viewing: ViewingService,
    reader: FootageReader,
    page: Page,
    clock: Callable[[], datetime],
    signer: Signer | None = None,
) -> list[Route]:
    signer = Signer() if signer is None else signer

    def set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=age,
            path="/view",
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="strict",
        )

    def refused(request: Request, status: int, message: str) -> Response:
        """`message` is a msgid (shown in the reader's language) or an error's own text."""
        return page(request, "view_refused.html", status, message=message)

    def register(request: Request) -> Response:
        cookie = request.cookies.get(SESSION_COOKIE)
        fresh = not signer.session_valid(cookie)
        session = signer.new_session() if fresh else str(cookie)
        entries = viewing.register()
        response = page(
            request,
            "view.html",
            entries=entries,
            open_requests=[e for e in entries if e.state in ("requested", "approved", "viewed")],
            csrf=signer.csrf(session),
        )
        if fresh:
            set_cookie(response, request, SESSION_COOKIE, session, 12 * 3600)
        return response

    async def form(request: Request) -> dict[str, str] | Response:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return refused(request, 413, N_("The form is too large."))
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not signer.csrf_valid(request.cookies.get(SESSION_COOKIE), fields.get(CSRF_FIELD)):
            log.warning("csrf-refused", path=request.url.path)
            expired = N_("This form has expired or did not come from this page: reload it.")
            return refused(request, 403, expired)
        return fields

    async def approve(request: Request) -> Response:
        fields = await form(request)
        if isinstance(fields, Response):
            return fields
        rid = int(request.path_params["request_id"])
        try:
            await run_in_threadpool(
                viewing.approve, rid, fields.get("badge", ""), fields.get("passphrase", "")
            )
        except DockdError as exc:
            return refused(request, 403, f"{exc.code}: {exc.message}")
        return RedirectResponse("/view", 303, headers=NO_STORE)

    async def open_viewing(request: Request) -> Response:
        fields = await form(request)
        if isinstance(fields, Response):
            return fields
        rid = int(request.path_params["request_id"])
        try:
            opened, footage = await run_in_threadpool(
                viewing.open_stream, rid, fields.get("badge", ""), fields.get("passphrase", "")
            )
            for item in footage:  # each object's digests read once, before a byte is served
                handle = await run_in_threadpool(reader.open, item)
                handle.close()
        except DockdError as exc:
            return refused(request, 403, f"{exc.code}: {exc.message}")
        log.info("viewing-opened", request=rid, viewer=opened.viewer.badge, until=opened.until)
        session = str(request.cookies.get(SESSION_COOKIE))
        age = min(VIEWING_COOKIE_TTL_S, int((opened.until - clock()).total_seconds()))
        # the grant itself expires with the cookie, not only in the browser
        expires = min(opened.until, clock() + timedelta(seconds=VIEWING_COOKIE_TTL_S))
        grant = signer.viewing(rid, opened.viewer.badge, expires, session)
        response = RedirectResponse(f"/view/{rid}/watch", 303, headers=NO_STORE)
        set_cookie(response, request, cookie_name(rid), grant, max(age, 1))
        return response

    def grant(request: Request) -> tuple[int, str, datetime, list[Footage]] | Response:
        rid = int(request.path_params["request_id"])
        viewer = signer.viewing_valid(
            request.cookies.get(cookie_name(rid)),
            rid,
            request.cookies.get(SESSION_COOKIE),
            clock(),
        )
        if viewer is None:
            return refused(
                request, 403, N_("Open this viewing with your badge and passphrase first.")
            )
        try:
            until, footage = viewing.streamable(rid, viewer)
        except DockdError as exc:
            return refused(request, 403, f"{exc.code}: {exc.message}")
        return rid, viewer, until, footage

    def watch(request: Request) -> Response:
        found = grant(request)
        if isinstance(found, Response):
            return found
        rid, viewer, until, footage = found
        context = {"request_id": rid, "viewer": viewer, "until": until, "footage": footage}
        return page(request, "watch.html", **context)

    def stream(request: Request) -> Response:
        found = grant(request)
        if isinstance(found, Response):
            return found
        rid, viewer, until, footage = found
        n = int(request.path_params["n"])
        if not 0 <= n < len(footage):
            return refused(request, 404, f"viewing request {rid} has no recording number {n}")
        item = footage[n]
        try:
            span = byte_range(request.headers.get("range"), item.size)
        except RangeNotSatisfiable:
            return Response(
                status_code=416, headers={**NO_STORE, "Content-Range": f"bytes */{item.size}"}
            )
        try:
            handle = reader.open(item)
        except DockdError as exc:
            log.error("footage-refused", request=rid, recording=item.recording, code=exc.code)
            return refused(request, 409, f"{exc.code}: {exc.message}")
        first, last = (0, item.size - 1) if span is None else span
        headers: dict[str, Any] = {
            **NO_STORE,
            "Accept-Ranges": "bytes",
            "Content-Length": str(last - first + 1),
        }
        if span is not None:
            headers["Content-Range"] = f"bytes {first}-{last}/{item.size}"
        body = _serve(handle, first, last, until, clock, rid, viewer, item.recording)
        return StreamingResponse(
            body, 206 if span else 200, headers=headers, media_type="video/x-msvideo"
        )

    return [
        Route("/view", register),
        Route("/view/{request_id:int}/approve", approve, methods=["POST"]),
        Route("/view/{request_id:int}/open", open_viewing, methods=["POST"]),
        Route("/view/{request_id:int}/watch", watch),
        Route("/view/{request_id:int}/footage/{n:int}", stream),
    ]


def _serve(
    handle: BinaryIO,
    first: int,
    last: int,
    until: datetime,
    clock: Callable[[], datetime],
    request_id: int,
    viewer: str,
    recording: int,
) -> Iterator[bytes]:
    """The bytes first..last, stopping when the approval's window ends; the journal gets
    one `footage-served` line with what was actually sent."""
    sent, started, cut = 0, time.monotonic(), False
    try:
        handle.seek(first)
        left = last - first + 1
        while left > 0:
            if clock() >= until:
                cut = True
                break
            chunk = handle.read(min(_CHUNK, left))
            if not chunk:
                break
            sent += len(chunk)
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()
        log.info(
            "footage-served",
            request=request_id,
            viewer=viewer,
            recording=recording,
            first=first,
            last=last,
            bytes=sent,
            window_ended=cut,
            ms=round((time.monotonic() - started) * 1000, 1),
        )
