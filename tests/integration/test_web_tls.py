"""The status and viewing pages over real HTTPS (uvicorn with a certificate made by openssl):
no credentials off loopback without TLS, a key that is not the certificate's, HSTS and the
cookie's flags, CSRF, and a viewing set up with the real CLI and watched by byte ranges."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dockd.adapters.rules import load_config
from dockd.app import App, build, build_web
from dockd.config import WebConfig
from dockd.errors import EXIT_USAGE, ConfigError, TlsError
from dockd.web.server import WebServer
from tests.conftest import REPO, Dockd, write_config
from tests.integration.test_viewing import approve, ask, docked
from tests.support.tls import TlsPair, make_tls_pair

TOKEN = "correct-horse-battery-staple-42"
PACK = "dalian-jinpu-ocean"
FOOTAGE = bytes(range(256)) * 4000 + b"the end"  # 1 024 007 bytes: several 256 KiB chunks


class WebWithLogin(WebConfig):
    token: str | None = None  # type: ignore[assignment]  # a plain string, as a file gives it


@pytest.fixture
def tls(tmp_path: Path) -> TlsPair:
    return make_tls_pair(tmp_path / "tls")


def _pack_config(dockd: Dockd, tmp_path: Path, open_hours: float | None = None) -> None:
    """Dalian's pack (one "case leader" approves), with its window shortened when asked."""
    rules = tmp_path / "rules"
    (rules / "policies").mkdir(parents=True, exist_ok=True)
    if not (rules / "recorders").exists():
        (rules / "recorders").symlink_to(REPO / "rules" / "recorders")
    pack = (REPO / "rules" / "policies" / f"{PACK}.toml").read_text("utf-8")
    if open_hours is not None:
        pack = pack.replace(
            'approvers = ["case leader"]', f'approvers = ["case leader"]\nopen_hours = {open_hours}'
        )
    (rules / "policies" / f"{PACK}.toml").write_text(pack, "utf-8")
    extra = f'\n[policy]\npack = "{PACK}"\n\n[rules]\ndir = "{rules}"\n'
    write_config(dockd.config, dockd.store, dockd.ledger_url, extra)


def _serve(app: App, tls: TlsPair, **web: str) -> WebServer:
    config = WebWithLogin(
        listen=web.pop("listen", "127.0.0.1:0"), tls_cert=tls.cert, tls_key=tls.key, **web
    )
    app.config = app.config.model_copy(update={"web": config})
    server = build_web(app)
    assert server.start()
    return server


def _https(server: WebServer, tls: TlsPair) -> httpx.Client:
    """A browser of the pages over HTTPS, trusting only the test's certificate."""
    assert server.url.startswith("https://")
    context = ssl.create_default_context(cafile=tls.cert)
    return httpx.Client(
        base_url=f"https://127.0.0.1:{server.port}", trust_env=False, verify=context, timeout=10
    )


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found[1]


@pytest.fixture
def app(dockd: Dockd) -> Iterator[App]:
    app = build(load_config(dockd.config))
    yield app
    app.close()


def test_off_loopback_credentials_without_tls_are_refused(dockd: Dockd) -> None:
    web = WebWithLogin(listen="0.0.0.0:0", token=TOKEN)
    app = build(load_config(dockd.config))
    try:
        app.config = app.config.model_copy(update={"web": web})
        with pytest.raises(ConfigError, match="sets no tls_cert") as refused:
            build_web(app)
        assert refused.value.code == "CONFIG_INVALID"
    finally:
        app.close()

    text = dockd.config.read_text() + f'\n[web]\nlisten = "0.0.0.0:0"\ntoken = "{TOKEN}"\n'
    dockd.config.write_text(text)
    run = dockd.run("run", timeout=60)
    assert run.returncode == EXIT_USAGE == 2, run.stdout + run.stderr
    assert "sets no tls_cert" in run.stderr, run.stderr


def test_a_key_that_is_not_the_certificates_is_web_tls_invalid(
    app: App, tls: TlsPair, tmp_path: Path
) -> None:
    other = make_tls_pair(tmp_path / "other", "other")
    app.config = app.config.model_copy(
        update={"web": WebConfig(listen="127.0.0.1:0", tls_cert=tls.cert, tls_key=other.key)}
    )
    with pytest.raises(TlsError, match="is not the private key of tls_cert") as bad:
        build_web(app)
    assert bad.value.code == "WEB_TLS_INVALID"


def test_hsts_cookie_flags_and_csrf_over_https(dockd: Dockd, tls: TlsPair, tmp_path: Path) -> None:
    _pack_config(dockd, tmp_path)
    rec = docked(dockd, tmp_path, "DL08", "Brigade 2", b"footage")
    dockd.add_operator("V", "inspector", unit="Brigade 2")
    request = ask(dockd, "V", rec)
    app = build(load_config(dockd.config))
    server = _serve(app, tls, listen="0.0.0.0:0", token=TOKEN)
    form = {"badge": "V", "passphrase": "not it"}
    url = f"/view/{request}/open"
    try:
        with _https(server, tls) as http:
            http.headers["Authorization"] = f"Bearer {TOKEN}"
            status = http.get("/api/status")
            page = http.get("/view")
            csrf = _csrf(page)
            no_token = http.post(url, data=form)
            wrong = http.post(url, data={**form, "csrf": csrf[:-2] + "AA"})
            right = http.post(
                url, data={**form, "csrf": csrf}
            )  # past CSRF, refused on the passphrase
            session = http.cookies["dockd_session"]
            http.cookies.clear()
            no_session = http.post(url, data={**form, "csrf": csrf})
            forged = http.post(
                url, data={**form, "csrf": csrf}, headers={"Cookie": f"dockd_session={session}x"}
            )
    finally:
        server.stop()
        app.close()
    assert status.status_code == 200
    assert status.headers["strict-transport-security"] == "max-age=31536000"
    assert page.status_code == 200
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("dockd_session=")
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/view"} <= flags, cookie
    for refused in (no_token, wrong, no_session, forged):
        assert refused.status_code == 403, refused.text
        assert "did not come from this page" in refused.text
    assert right.status_code == 403
    assert "did not come from this page" not in right.text and "PASSPHRASE_WRONG" in right.text, (
        right.text
    )


def test_a_viewing_approved_on_the_cli_is_watched_by_range_until_its_window_ends(
    dockd: Dockd, tls: TlsPair, tmp_path: Path
) -> None:
    _pack_config(dockd, tmp_path, open_hours=0.003)  # 10.8 s
    rec = docked(dockd, tmp_path, "DL09", "Brigade 2", FOOTAGE)
    viewer = dockd.add_operator("V", "inspector", unit="Brigade 2")
    dockd.add_operator("L", "case leader", unit="Brigade 2")
    request = ask(dockd, "V", rec)
    code, said = approve(dockd, request, "L")
    assert code == 0, said
    approved_at = time.monotonic()
    size = len(FOOTAGE)

    app = build(load_config(dockd.config))
    server = _serve(app, tls)
    try:
        with _https(server, tls) as http:
            before = http.get(f"/view/{request}/footage/0")
            csrf = _csrf(http.get("/view"))
            bad_pass = http.post(
                f"/view/{request}/open", data={"badge": "V", "passphrase": "guess", "csrf": csrf}
            )
            opened = http.post(
                f"/view/{request}/open", data={"badge": "V", "passphrase": viewer, "csrf": csrf}
            )
            grant = http.cookies[f"dockd_view_{request}"]
            watch = http.get(f"/view/{request}/watch")
            part = http.get(f"/view/{request}/footage/0", headers={"Range": "bytes=1000-300999"})
            tail = http.get(f"/view/{request}/footage/0", headers={"Range": "bytes=-7"})
            beyond = http.get(f"/view/{request}/footage/0", headers={"Range": f"bytes={size}-"})
            two = http.get(f"/view/{request}/footage/0", headers={"Range": "bytes=0-1,5-9"})
            whole = http.get(f"/view/{request}/footage/0")
            missing = http.get(f"/view/{request}/footage/1")
            assert time.monotonic() - approved_at < 10, "the window ended before the checks"
            time.sleep(max(0.0, 11.5 - (time.monotonic() - approved_at)))
            sent = f"dockd_session={http.cookies['dockd_session']}; dockd_view_{request}={grant}"
            http.cookies.clear()  # the client drops the expired grant; the server must refuse it
            late = http.get(f"/view/{request}/footage/0", headers={"Cookie": sent})
    finally:
        server.stop()
        app.close()

    assert before.status_code == 403
    assert bad_pass.status_code == 403
    assert opened.status_code == 303 and opened.headers["location"] == f"/view/{request}/watch"
    assert {"httponly", "secure", "samesite=strict"} <= {
        f.strip().lower() for f in opened.headers["set-cookie"].split(";")[1:]
    }
    assert watch.status_code == 200
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-300999/{size}"
    assert part.headers["content-length"] == "300000"
    assert part.content == FOOTAGE[1000:301000]
    assert tail.status_code == 206 and tail.content == b"the end"
    assert tail.headers["content-range"] == f"bytes {size - 7}-{size - 1}/{size}"
    for unsatisfiable in (beyond, two):
        assert unsatisfiable.status_code == 416
        assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    assert whole.status_code == 200 and whole.content == FOOTAGE
    assert whole.headers["accept-ranges"] == "bytes" and "content-range" not in whole.headers
    assert missing.status_code == 404
    assert late.status_code == 403, late.text
    assert "Open this viewing with your badge and passphrase first" in late.text
    assert [(e["subject"], e["actor"]) for e in dockd.custody_events("viewing-opened")] == [
        (f"viewing:{request}", "V")
    ]


def test_dockd_status_reads_a_daemon_that_serves_https(
    dockd: Dockd, app: App, tls: TlsPair, tmp_path: Path
) -> None:
    server = _serve(app, tls)
    try:
        config = tmp_path / "live.toml"
        config.write_text(
            dockd.config.read_text()
            + f'\n[web]\nlisten = "127.0.0.1:{server.port}"\n'
            + f'tls_cert = "{tls.cert}"\ntls_key = "{tls.key}"\n'
        )
        live = subprocess.run(
            [sys.executable, "-m", "dockd.cli", "--config", str(config), "status", "--json"],
            capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
        )  # fmt: skip
    finally:
        server.stop()
    assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout)["live"] is True, live.stderr
