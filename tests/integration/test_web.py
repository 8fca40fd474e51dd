"""The status pages on a real uvicorn server over a real App (store, ledger, NTP on loopback):
/api/status, the page, session details, /metrics through prometheus-client's parser,
access rules, `dockd status`, and the page's script in headless Chromium."""

from __future__ import annotations

import hashlib
import html.parser
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import jsonschema
import pytest
from blake3 import blake3
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from structlog.testing import capture_logs

from dockd.adapters.clock import utc_now
from dockd.adapters.ledger.registry import LedgerRegistry
from dockd.adapters.ledger.report import LedgerReport
from dockd.adapters.rules import load_config
from dockd.app import App, build, build_web
from dockd.config import WebConfig
from dockd.core.access import access_for
from dockd.core.registry import Custodian
from dockd.core.status_document import SessionDocument, StatusDocument, status_schema
from dockd.errors import EXIT_USAGE, ConfigError, LedgerError
from dockd.services.integrity import verify_store
from dockd.web.access import hash_password
from dockd.web.server import WebServer
from tests.conftest import REPO, unfreeze, write_config
from tests.support.tls import TlsPair, make_tls_pair

SERIAL = "SN0001"
TOKEN = "correct-horse-battery-staple-42"
PASSWORD = "a long passphrase for the dock"


def _clip(n: int) -> str:
    return f"{SERIAL}_007_20261122{8 + n // 60:02d}{n % 60:02d}00_{n:04d}.AVI"


def _blob(seed: int, size: int) -> bytes:
    block = hashlib.sha256(seed.to_bytes(4, "big")).digest() * 2048
    return (block * (size // len(block) + 1))[:size]


class WebWithLogin(WebConfig):
    """[web] with the credential keys the status pages read (token, basic_auth)."""

    token: str | None = None  # type: ignore[assignment]  # a plain string, as a file gives it
    basic_auth: str | None = None


@dataclass
class Station:
    app: App
    config_file: Path
    session: str
    files: dict[str, bytes]


def _config(tmp_path: Path, listen: str = "127.0.0.1:0") -> Path:
    store = tmp_path / "store"
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return write_config(tmp_path / "dockd.toml", store, ledger, f'\n[web]\nlisten = "{listen}"\n')


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    """A real App with one verified session, a verified store, and two slots on the board."""
    config_file = _config(tmp_path)
    app = build(load_config(config_file))
    src = tmp_path / "recorder"
    src.mkdir()
    files = {_clip(i): _blob(i, 200_000 + i) for i in range(3)}
    for name, data in files.items():
        (src / name).write_bytes(data)
    try:
        duty, issued = LedgerRegistry(app.ledger), utc_now() - timedelta(days=30)
        for serial, officer in (
            (SERIAL, Custodian("007", "Wang Fang", "Harbour patrol")),
            ("SN0002", Custodian("012", "Li Wei", "Night shift")),
        ):
            duty.add_device(serial, "DSJ-X1", issued, "admin")
            duty.assign(serial, officer, issued, "admin")
        outcome = app.dock_session.ingest(src, SERIAL, "generic", slot="bay2")
        assert outcome.state == "completed", outcome.problems
        verify_store(app.ledger, app.store, utc_now)
        app.board.set(
            "bay1",
            state="copying",
            serial="SN0002",
            profile="generic",
            session="0f3c1d2e-0000-4000-8000-000000000001",
            files_total=8,
            files_done=3,
            bytes_total=800 << 20,
            bytes_done=300 << 20,
            started=time.monotonic() - 10,
            drift_s=-45.0,
        )
        app.board.set(
            "bay2",
            state="done",
            serial=SERIAL,
            profile="generic",
            session=outcome.session_id,
            files_total=3,
            files_done=3,
        )
        yield Station(app, config_file, outcome.session_id, files)
    finally:
        app.close()
        unfreeze(tmp_path / "store")


@pytest.fixture
def server(station: Station) -> Iterator[WebServer]:
    web = build_web(station.app)
    assert web.start()
    yield web
    web.stop()


def _client(web: WebServer) -> httpx.Client:
    return httpx.Client(base_url=web.url.rstrip("/"), trust_env=False, timeout=10)


def test_api_status_is_the_whole_live_picture(station: Station, server: WebServer) -> None:
    with _client(server) as http:
        response = http.get("/api/status")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    jsonschema.validate(body, status_schema())
    doc = StatusDocument.model_validate(body)
    assert doc.live

    copying, done = doc.slots
    assert (copying.slot, copying.state, copying.serial) == ("bay1", "copying", "SN0002")
    assert (copying.files_done, copying.files_total) == (3, 8)
    assert (copying.bytes_done, copying.bytes_total) == (300 << 20, 800 << 20)
    assert copying.rate_bps == pytest.approx((300 << 20) / 10, rel=0.05)
    assert copying.eta_s == pytest.approx(500 / 300 * 10, rel=0.05)
    assert copying.drift_verdict == "violation"  # 45 s >= the pack's 30 s
    assert not copying.safe_to_unplug
    assert (copying.custodian, copying.unit) == ("Li Wei (012)", "Night shift")
    assert (done.slot, done.state, done.session) == ("bay2", "done", station.session)
    assert done.safe_to_unplug
    assert (done.custodian, done.unit) == ("Wang Fang (007)", "Harbour patrol")

    [line] = doc.today.sessions
    assert (line.id, line.serial, line.state, line.recordings) == (
        station.session,
        SERIAL,
        "completed",
        3,
    )
    assert line.bytes_copied == sum(len(d) for d in station.files.values())

    today = doc.today
    assert today.deadline_report, "the ledger's deadline report must be on the page"
    assert today.late_offloads is not None and today.overdue_recorders is not None
    assert today.interruptions is not None and today.verify_failures == []
    # clips recorded on 2026-11-22 and docked later than the pack allows
    assert {x.path for x in today.late_offloads} == set(station.files)
    assert {x.custodian for x in today.late_offloads} == {"Wang Fang (007)"}

    st = doc.station
    assert st.clock is not None and st.clock.synchronised and st.clock.method == "ntp"
    assert st.store is not None and st.store.root == str(station.app.store.root)
    stat = os.statvfs(station.app.store.root)
    assert abs(st.store.free_bytes - stat.f_bavail * stat.f_frsize) < 64 << 20
    assert st.store.ingest_bytes_per_day == pytest.approx(line.bytes_copied / 7)
    assert st.store.days_left == pytest.approx(st.store.free_bytes / (line.bytes_copied / 7))
    assert st.last_verify is not None
    assert (st.last_verify.result, st.last_verify.checked, st.last_verify.findings) == ("ok", 4, 0)
    assert st.uptime_s is not None and st.uptime_s >= 0
    assert st.policy == station.app.policy.id
    assert doc.summary == "1 copying, 1 done"


def test_page_shows_slots_today_and_station(station: Station, server: WebServer) -> None:
    with _client(server) as http:
        page = http.get("/")
        script = http.get("/static/dockd.js")
        css = http.get("/static/dockd.css")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    text = visible_text(page.text)
    assert "SAFE TO UNPLUG" in text
    assert "Copying" in text and "SN0002" in text and "3 / 8 files" in text
    assert "300 MiB / 800 MiB" in text and "30.0 MiB/s" in text
    assert "-45.0 s · violation" in text
    assert f'href="/sessions/{station.session}"' in page.text
    assert "Synchronised" in text and "All match" in text
    assert "Li Wei (012) Night shift" in text
    assert f"Late offloads {SERIAL} 3 recordings up to" in text  # one line per recorder
    assert "Wang Fang (007)" in text
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert url.startswith(("/", "#")) and not url.startswith("//"), f"not local: {url}"
    assert script.status_code == 200 and "/parts/status" in script.text
    assert css.status_code == 200


def test_the_script_swaps_in_server_rendered_parts(station: Station, server: WebServer) -> None:
    """The sections are written once, by the templates: /parts/status renders the same
    includes as the page, and the script only moves them into place."""
    with _client(server) as http:
        served = http.get("/").text
        parts = http.get("/parts/status", headers={"X-Dockd-Poll": "1"})
        script = http.get("/static/dockd.js").text
    assert parts.status_code == 200 and parts.headers["cache-control"] == "no-store"
    found = dict(re.findall(r'<template data-part="([\w-]+)">(.*?)</template>', parts.text, re.S))
    assert set(found) == {"live-text", "alerts", "summary", "slots", "today", "station"}
    page = section_texts(served)
    for name in ("alerts", "slots", "today"):
        assert visible_text(found[name]) == page[name], name
    assert "SAFE TO UNPLUG" in found["slots"] and "Synchronised" in found["station"]
    assert not re.search(r"<[a-z]", script, re.I), "the script writes HTML of its own"


def test_session_detail_page_and_api(station: Station, server: WebServer) -> None:
    with _client(server) as http:
        page = http.get(f"/sessions/{station.session}")
        api = http.get(f"/api/sessions/{station.session}")
        missing_page = http.get("/sessions/no-such-session")
        missing_api = http.get("/api/sessions/no-such-session")
    assert page.status_code == 200
    text = visible_text(page.text)
    detail = SessionDocument.model_validate(api.json())
    assert detail.session.id == station.session
    assert (detail.custodian, detail.unit) == ("Wang Fang (007)", "Harbour patrol")
    assert "Wang Fang (007)" in text
    assert {r.path: r.blake3 for r in detail.recordings} == {
        name: blake3(data).hexdigest() for name, data in station.files.items()
    }
    for r in detail.recordings:
        assert r.path in text and r.blake3 in text and r.sha256 in text
    assert detail.session.manifest is not None and detail.session.manifest in text
    assert missing_page.status_code == 404 and "No such dock session" in missing_page.text
    assert missing_api.status_code == 404 and "error" in missing_api.json()


def test_metrics_parse_with_prometheus_client(station: Station, server: WebServer) -> None:
    with _client(server) as http:
        response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert all(name.startswith("dockd_") for name in families)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    total = sum(len(d) for d in station.files.values())
    assert families["dockd_ingested_bytes"].type == "counter"
    assert samples[("dockd_ingested_bytes_total", ())] == total
    assert samples[("dockd_ingested_recordings_total", ())] == 3
    assert samples[("dockd_verify_failures_total", ())] == 0
    assert samples[("dockd_last_verify_findings", ())] == 0
    assert samples[("dockd_slot_state", (("slot", "bay1"), ("state", "copying")))] == 1
    assert samples[("dockd_slot_state", (("slot", "bay1"), ("state", "done")))] == 0
    assert samples[("dockd_slot_state", (("slot", "bay2"), ("state", "done")))] == 1
    assert samples[("dockd_slot_bytes_done", (("slot", "bay1"),))] == 300 << 20
    assert abs(samples[("dockd_station_clock_offset_seconds", ())]) < 0.5
    assert samples[("dockd_station_clock_synchronised", ())] == 1
    assert samples[("dockd_store_free_bytes", ())] > 0
    assert samples[("dockd_violations", (("kind", "drift_violations"),))] == 0
    assert samples[("dockd_violations", (("kind", "late_offloads"),))] == 3
    assert samples[("dockd_violations", (("kind", "interruptions"),))] == 0
    assert samples[("dockd_sessions_total", (("state", "completed"),))] == 1


def test_ledger_trouble_is_a_503_and_the_dock_goes_on(
    station: Station, server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise LedgerError("ledger read failed: database is locked")

    monkeypatch.setattr(station.app.ledger, "read", broken)
    with capture_logs() as logs, _client(server) as http:
        api = http.get("/api/status")
        page = http.get("/")
    assert api.status_code == page.status_code == 503
    assert "LEDGER_FAILED" in api.text and api.headers["retry-after"] == "5"
    assert any(e["event"] == "web-problem" and e["code"] == "LEDGER_FAILED" for e in logs)
    monkeypatch.undo()
    with _client(server) as http:
        time.sleep(0.6)  # past the shared picture's lifetime
        assert http.get("/api/status").status_code == 200


def test_without_the_deadline_report_the_page_says_what_it_cannot_show(
    station: Station, server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise LedgerError("ledger read failed: no such table: interruptions")

    monkeypatch.setattr(LedgerReport, "deadline_report", broken)
    with _client(server) as http:
        doc = StatusDocument.model_validate(http.get("/api/status").json())
        text = visible_text(http.get("/").text)
    today = doc.today
    assert not today.deadline_report
    assert today.late_offloads is None and today.overdue_recorders is None
    assert today.interruptions is None and today.unsealed_sessions is None
    assert today.drift_violations == [] and today.verify_failures == []
    assert [s.id for s in today.sessions] == [station.session]
    assert "deadline report could not be read" in text


def test_read_only_and_only_for_this_machine_on_loopback(server: WebServer) -> None:
    with _client(server) as http:
        post = http.post("/api/status", content=b"{}")
        rebound = http.get("/api/status", headers={"Host": "evil.example:8470"})
        local = http.get("/api/status", headers={"Host": "localhost:8470"})
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    assert rebound.status_code == 421, "a foreign Host on a loopback page is DNS rebinding"
    assert local.status_code == 200


def test_requests_are_logged(server: WebServer) -> None:
    with capture_logs() as logs, _client(server) as http:
        http.get("/")
        http.get("/api/status", headers={"X-Dockd-Poll": "1"})
        # the server logs a request once its response is out: the client can be faster
        deadline = time.monotonic() + 10
        while sum(e["event"] == "http-request" for e in logs) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    requests = [e for e in logs if e["event"] == "http-request"]
    assert [(e["path"], e["status"], e["log_level"]) for e in requests] == [
        ("/", 200, "info"),
        ("/api/status", 200, "debug"),  # the page's own polls: not a journal line every 2 s
    ]
    assert requests[0]["client"].startswith("127.0.0.1:")


def test_non_loopback_without_credentials_refuses_to_start(station: Station) -> None:
    exposed = station.app.config.model_copy(update={"web": WebConfig(listen="0.0.0.0:0")})
    station.app.config = exposed
    with pytest.raises(ConfigError) as refused:
        build_web(station.app)
    assert refused.value.exit_code == EXIT_USAGE
    assert "not a loopback address" in refused.value.message
    assert "token" in refused.value.hint and "basic_auth" in refused.value.hint


@pytest.mark.parametrize(
    ("token", "basic", "says"),
    [
        ("short", None, "at least 16"),
        (None, "admin", "basic_auth must be"),
        (None, "admin:md5$1$00$00", "pbkdf2_sha256"),
        (None, "admin:pbkdf2_sha256$1000$00112233445566778899aabbccddeeff$" + "0" * 64, "too few"),
        (None, "admin:pbkdf2_sha256$600000$zz$" + "0" * 64, "hexadecimal"),
    ],
)
def test_bad_credentials_in_the_config_are_config_errors(
    token: str | None, basic: str | None, says: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        access_for(WebWithLogin(listen="0.0.0.0:8470", token=token, basic_auth=basic))


@pytest.fixture
def tls(tmp_path: Path) -> TlsPair:
    return make_tls_pair(tmp_path / "tls")


def test_a_secret_token_is_read_too(tls: TlsPair) -> None:
    class WebWithSecret(WebConfig):
        token: SecretStr | None = None

    access = access_for(
        WebWithSecret(
            listen="0.0.0.0:8470", token=SecretStr(TOKEN), tls_cert=tls.cert, tls_key=tls.key
        )
    )
    assert access.token == TOKEN and not access.loopback


def _exposed(station: Station, tls: TlsPair, **login: str) -> WebServer:
    web = WebWithLogin(listen="0.0.0.0:0", tls_cert=tls.cert, tls_key=tls.key, **login)
    station.app.config = station.app.config.model_copy(update={"web": web})
    server = build_web(station.app)
    assert server.start()
    return server


def _https(server: WebServer, tls: TlsPair) -> httpx.Client:
    """A client of the exposed pages over HTTPS, trusting only the test's certificate."""
    return httpx.Client(
        base_url=f"https://127.0.0.1:{server.port}",
        trust_env=False,
        verify=ssl.create_default_context(cafile=tls.cert),
    )


def test_token_login(station: Station, tls: TlsPair) -> None:
    server = _exposed(station, tls, token=TOKEN)
    try:
        with capture_logs() as logs, _https(server, tls) as http:
            anonymous = http.get("/api/status")
            wrong = http.get("/api/status", headers={"Authorization": "Bearer not-the-token"})
            right = http.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
            browser = http.get("/", auth=("anyone", TOKEN))
            metrics = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        server.stop()
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic ")
    assert wrong.status_code == 401
    assert right.status_code == 200 and StatusDocument.model_validate(right.json()).live
    assert browser.status_code == 200 and "SAFE TO UNPLUG" in browser.text
    assert metrics.status_code == 200
    failed = [e for e in logs if e["event"] == "login-failed"]
    assert len(failed) == 1, "a request without credentials is not a failed login"
    assert failed[0]["user"] == "(bearer)" and "not-the-token" not in str(failed[0])


def test_basic_auth_login_with_a_pbkdf2_hash(station: Station, tls: TlsPair) -> None:
    hashed = hash_password(PASSWORD, iterations=100_000)
    assert re.fullmatch(r"pbkdf2_sha256\$100000\$[0-9a-f]{32}\$[0-9a-f]{64}", hashed)
    server = _exposed(station, tls, basic_auth=f"admin:{hashed}")
    try:
        with capture_logs() as logs, _https(server, tls) as http:
            wrong_password = http.get("/api/status", auth=("admin", "guess"))
            wrong_user = http.get("/api/status", auth=("root", PASSWORD))
            bearer = http.get("/api/status", headers={"Authorization": f"Bearer {PASSWORD}"})
            right = [http.get("/api/status", auth=("admin", PASSWORD)) for _ in range(3)]
    finally:
        server.stop()
    assert wrong_password.status_code == 401
    assert wrong_user.status_code == 401
    assert bearer.status_code == 401
    assert [r.status_code for r in right] == [200, 200, 200]
    failed = [e for e in logs if e["event"] == "login-failed"]
    assert [e["user"] for e in failed] == ["admin", "root", "(bearer)"]
    assert all(PASSWORD not in str(e) and "guess" not in str(e) for e in logs)
    ok = [e for e in logs if e["event"] == "http-request" and e["status"] == 200]
    assert {e["user"] for e in ok} == {"admin"}


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockd.cli", "--config", str(config), "status", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={**os.environ, "COLUMNS": "160"},
    )


def test_dockd_status_reads_the_daemon_and_falls_back_to_the_ledger(
    station: Station, server: WebServer, tmp_path: Path
) -> None:
    text = station.config_file.read_text().replace(
        'listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{server.port}"'
    )
    live_config = tmp_path / "live.toml"
    live_config.write_text(text)

    live = _cli(live_config, "--json")
    assert live.returncode == 0, live.stderr
    doc = StatusDocument.model_validate_json(live.stdout)
    assert doc.live and [s.state for s in doc.slots] == ["copying", "done"]

    table = _cli(live_config)
    assert table.returncode == 0, table.stderr
    assert "SAFE TO UNPLUG" in table.stdout and "copying" in table.stdout
    assert "SN0002" in table.stdout and "from the ledger" not in table.stdout

    server.stop()
    offline = _cli(live_config, "--json")
    assert offline.returncode == 0, offline.stderr
    doc = StatusDocument.model_validate_json(offline.stdout)
    assert not doc.live and doc.slots == [] and doc.station.uptime_s is None
    assert [s.id for s in doc.today.sessions] == [station.session]
    assert "dockd is not running" in offline.stderr and "ledger alone" in offline.stderr

    shown = _cli(live_config)
    assert "ledger alone" in shown.stdout and "Slots unknown" in shown.stdout


# --- the page's script in a real browser -----------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=3000",
)


def require_chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("apt-get install -y chromium")
    return found


def chromium(profile: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Debian chromium on `url` (a fresh profile each time, no network but ours)."""
    profile.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [require_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def dump_dom(profile: Path, url: str) -> str:
    return chromium(profile, url, "--dump-dom").stdout


def screenshot(profile: Path, url: str, png: Path, size: str = "1280,900") -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    chromium(profile, url, f"--screenshot={png}", f"--window-size={size}")
    assert png.stat().st_size > 10_000, f"{png} looks empty"
    return png


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self._skip = 0
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        ident = dict(attrs).get("id")
        if tag in ("div", "section") and ident in ("alerts", "slots", "today", "station"):
            self.sections[ident] = []
            self._open.append((tag, ident))
        elif tag in ("div", "section"):
            self._open.append((tag, None))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip -= 1
        if tag in ("div", "section") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        for _, ident in self._open:
            if ident is not None:
                self.sections[ident].append(data)


def _parse(markup: str) -> _Text:
    parser = _Text()
    parser.feed(markup)
    return parser


def _squash(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


def visible_text(markup: str) -> str:
    """The page's text as a reader sees it (no scripts or styles), whitespace squashed."""
    return _squash(_parse(markup).parts)


def section_texts(markup: str) -> dict[str, str]:
    return {k: _squash(v) for k, v in _parse(markup).sections.items()}


def test_the_script_draws_what_the_server_draws(
    station: Station, server: WebServer, tmp_path: Path
) -> None:
    """The page's script swaps in every section as the server renders it (/parts/status); a
    page that never ran it (or ran it) must say the same thing."""
    require_chromium()
    with _client(server) as http:
        served = http.get("/").text
    dom = dump_dom(tmp_path / "chromium", server.url)
    assert "data-updated=" in dom, "the script did not fetch and swap in /parts/status"
    assert "Not updating" not in visible_text(dom)
    before, after = section_texts(served), section_texts(dom)
    # what may change between the two looks: uptime, and the free space of a shared disk
    changing = re.compile(
        r"up \d+ (s|min( \d+ s)?|h( \d+ min)?)|[\d.]+ [KMGT]?i?B free|(About|More than) .*?/day"
    )
    for name in ("alerts", "slots", "today", "station"):
        assert changing.sub("…", after[name]) == changing.sub("…", before[name]), name
    assert "SAFE TO UNPLUG" in after["slots"] and "Copying" in after["slots"]
