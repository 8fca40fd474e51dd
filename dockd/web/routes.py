"""The status pages and `/api/...`: Starlette routes over the status service, rendered by
the templates in templates/ only.

The status is read-only and metadata only. Footage is shown only under `/view`
(`dockd.web.viewing`): the one place that answers POST, each with its CSRF token.
The page's script polls `/parts/status`, the same section templates the page includes,
rendered by the server,
and swaps them in: the HTML is written once, here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from dockd import __version__
from dockd.core.access import Access
from dockd.core.status import POLL_S
from dockd.core.status_document import StatusDocument, session_schema, status_schema
from dockd.core.views import DeadlineReport
from dockd.errors import DockdError
from dockd.services.status import StatusService
from dockd.services.viewing import ViewingService
from dockd.ui import format as fmt
from dockd.ui.i18n import ENGLISH, LANGUAGES, Language, Locale, catalog, negotiate
from dockd.ui.report import render_html
from dockd.web.access import Guard
from dockd.web.metrics import render_metrics
from dockd.web.viewing import FootageReader, viewing_routes

log = structlog.get_logger("dockd.web")

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
NO_STORE = {"Cache-Control": "no-store"}
# the report is one self-contained document: styles in attributes, nothing else at all
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def environment(tr: Locale = ENGLISH) -> Environment:
    """The templates in one language, with THE formatters (`dockd.ui.format`) as their
    filters and times in the station's zone."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # new-style: `_()` gives Markup, so `.format()` escapes each value it fills in and keeps
    # the markup a template hands in; a msgid must then write a literal per cent as %%
    env.install_gettext_translations(catalog(tr.language), newstyle=True)  # type: ignore[attr-defined]
    zone = tr.zone
    env.filters.update(
        bytes=fmt.size,
        rate=fmt.rate,
        duration=lambda value: fmt.duration(value, tr),
        drift=lambda value: fmt.drift(value, tr),
        offset=lambda value: fmt.offset(value) if value is not None else tr("unknown"),
        count=fmt.count,
        time=lambda value: fmt.time_of_day(value, zone),
        datetime=lambda value: fmt.local_datetime(value, zone),
        stamp=lambda value: fmt.stamp(value, zone),
        day=lambda value: fmt.day(value, zone, tr),
        days_left=lambda value: fmt.days_left(value, tr),
    )
    env.globals.update(
        pct=fmt.pct,
        group_late=fmt.group_late,
        summary=lambda doc: fmt.summary(doc, tr),
        tr=tr,  # no %-formatting: for text that may be a msgid or an error's own words
        STATE_LABELS=fmt.STATE_LABELS,
        SESSION_LABELS=fmt.SESSION_LABELS,
        VERDICT_LABELS=fmt.VERDICT_LABELS,
        language=tr.language,
        version=__version__,
        asset_version=_asset_version(),
        poll_ms=int(POLL_S * 1000),
    )
    return env


def build_asgi(
    source: StatusService,
    access: Access,
    viewing: tuple[ViewingService, FootageReader, Callable[[], datetime]] | None = None,
    zone: tzinfo | None = None,
    report: tuple[Callable[[], DeadlineReport], str] | None = None,
) -> ASGIApp:
    """The Starlette app behind the Guard. Handlers are sync: Starlette runs them on its
    thread pool, so ledger reads never block the event loop. Each page is in the language
    its browser asks for; times are in the station's `zone` (None: the host's). `report`:
    the last 24 h's report and the pack's name, for `/report` (admin only: see
    `dockd.web.access`)."""
    envs: dict[Language, Environment] = {
        language: environment(Locale(language, zone)) for language in LANGUAGES
    }

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """`template` in the language the request's browser asks for."""
        env = envs[negotiate(request.headers.get("accept-language"))]
        html = env.get_template(template).render(host=source.host, **context)
        return HTMLResponse(html, status, headers={**NO_STORE, "Vary": "Accept-Language"})

    def json_response(model: BaseModel | dict[str, Any], status: int = 200) -> Response:
        body = model.model_dump_json() if isinstance(model, BaseModel) else json.dumps(model)
        return Response(body, status, media_type="application/json", headers=NO_STORE)

    def index(request: Request) -> Response:
        return page(request, "index.html", doc=source.document())

    parts: dict[Language, tuple[StatusDocument, bytes]] = {}  # the newest picture, rendered

    def status_parts(request: Request) -> Response:
        """Rendered once per shared picture and language, however many pages poll:
        rendering holds the GIL, as serialising /api/status does."""
        doc = source.document()
        language = negotiate(request.headers.get("accept-language"))
        held = parts.get(language)
        if held is None or held[0] is not doc:
            html = envs[language].get_template("_parts.html").render(host=source.host, doc=doc)
            held = (doc, html.encode())
            parts[language] = held
        return HTMLResponse(held[1], headers={**NO_STORE, "Vary": "Accept-Language"})

    def session_page(request: Request) -> Response:
        session_id = str(request.path_params["session_id"])
        detail = source.session(session_id)
        if detail is None:
            return page(request, "missing.html", 404, session_id=session_id)
        return page(
            request,
            "session.html",
            s=detail.session,
            custodian=detail.custodian,
            unit=detail.unit,
            recordings=detail.recordings,
        )

    def api_status(request: Request) -> Response:
        return Response(source.document_json(), media_type="application/json", headers=NO_STORE)

    def api_session(request: Request) -> Response:
        session_id = str(request.path_params["session_id"])
        detail = source.session(session_id)
        if detail is None:
            return json_response({"error": f"no dock session {session_id} in the ledger"}, 404)
        return json_response(detail)

    def api_schema(request: Request) -> Response:
        return json_response({"status": status_schema(), "session": session_schema()})

    def metrics(request: Request) -> Response:
        return Response(render_metrics(source), media_type=CONTENT_TYPE_LATEST)

    def report_page(request: Request) -> Response:
        """The nightly report as e-mailed, charts and all: inline styles, inline SVG, no
        script and nothing fetched, which its own CSP enforces."""
        assert report is not None
        make, pack_name = report
        headers = {**NO_STORE, "Content-Security-Policy": REPORT_CSP}
        tr = Locale(negotiate(request.headers.get("accept-language")), zone)
        headers["Vary"] = "Accept-Language"
        return HTMLResponse(render_html(make(), pack_name, tr), headers=headers)

    def unavailable(request: Request, exc: Exception) -> Response:
        """The ledger (or the store) failed under a request: say so; the dock goes on."""
        code = getattr(exc, "code", "INTERNAL_ERROR")
        message = getattr(exc, "message", str(exc))
        log.error("web-problem", path=request.url.path, code=code, message=message)
        return PlainTextResponse(
            f"dockd cannot show this right now: {code}: {message}",
            503,
            headers={**NO_STORE, "Retry-After": "5"},
        )

    routes = [
        Route("/", index),
        Route("/parts/status", status_parts),
        Route("/sessions/{session_id}", session_page),
        Route("/api/status", api_status),
        Route("/api/sessions/{session_id}", api_session),
        Route("/api/schema", api_schema),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if report is not None:
        routes.insert(-1, Route("/report", report_page))
    if viewing is not None:
        service, reader, clock = viewing
        routes[-1:-1] = viewing_routes(service, reader, page, clock)
    return Guard(Starlette(routes=routes, exception_handlers={DockdError: unavailable}), access)
