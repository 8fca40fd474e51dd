"""A recorder's problems in the reader's language: a folder with a hole in its clip numbers,
a corrupt container, a symbolic link and a name that is not UTF-8, ingested by a station
that says `[station] language = "zh-CN"`. `ingest` and `sessions` say each problem in
Chinese, the JSON keeps the English with its template and values, the nightly e-mail's
"may be missing" detail is Chinese, and the session page follows Accept-Language."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockd.adapters.rules import load_config
from dockd.app import build, build_web
from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_cli_languages import english_in
from tests.integration.test_report_email import Inbox, _configure_mail, _free_port
from tests.integration.test_web import visible_text

SERIAL = "SNSEQ"
MISSING_EN = "6 recording(s) numbered 2-7 are neither on the recorder nor in the ledger"
MISSING_ZH = "编号为 2-7 的 6 段录像既不在执法记录仪上，也不在台账中"
LINK_EN = "a symbolic link; dockd never follows links off a recorder"
LINK_ZH = "符号链接；dockd 从不跟随执法记录仪上的链接"
NOT_UTF8_ZH = "文件名不是 UTF-8 编码；已按原始字节复制并保存"
CORRUPT_ZH = r"位于 0 的 box 类型 b'\x00\x00\x00\x00' 含不可打印字符"


def _clip(n: int, ext: str = "AVI") -> str:
    return f"{SERIAL}_007_2026112008{n:02d}00_{n:04d}.{ext}"


@dataclass
class Docked:
    dockd: Dockd
    ingest: list[str]
    session: dict[str, Any]


@pytest.fixture
def docked(tmp_path: Path) -> Iterator[Docked]:
    store = tmp_path / "store"
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = write_config(
        tmp_path / "dockd.toml",
        store,
        ledger,
        '\n[web]\nlisten = "127.0.0.1:0"\n',
        language="zh-CN",
    )
    dockd = Dockd(config, store, ledger)
    folder = tmp_path / "rec" / "DCIM"
    folder.mkdir(parents=True)
    for n in (1, 8, 9):  # 2-7 are neither here nor in the ledger
        (folder / _clip(n)).write_bytes(f"clip {n}".encode() * 1000)
    (folder / _clip(10, "MP4")).write_bytes(b"\0" * 4096)  # no box type: corrupt
    (folder / "LINK.AVI").symlink_to("/etc/hostname")
    with open(os.fsencode(folder) + b"/\xff_0011.AVI", "wb") as odd:
        odd.write(b"a latin-1 name")
    try:
        result = dockd.ingest(tmp_path / "rec", SERIAL, "--profile", "gat947")
        assert result.returncode == 1, result.stdout + result.stderr  # completed with problems
        [session] = json.loads(dockd.run("sessions", "--json", check=True).stdout)
        yield Docked(dockd, result.stdout.splitlines(), session)
    finally:
        unfreeze(store)


def _problem_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("  问题 ")]


def _english(lines: list[str], session: dict[str, Any]) -> list[str]:
    """English sentences in the lines, once each problem's path and code are taken out."""
    values = [p["path"] for p in session["problems"]] + [p["code"] for p in session["problems"]]
    return english_in("\n".join(lines), *values, "dockd")


def test_ingest_and_sessions_say_the_problems_in_chinese(docked: Docked) -> None:
    session = docked.session
    codes = {p["code"] for p in session["problems"]}
    assert {
        "recordings-missing",
        "container-corrupt",
        "not-regular-symlink",
        "name-not-utf8",
    } <= codes, session["problems"]
    expected = {
        f"  问题 recordings-missing：/：{MISSING_ZH}",
        f"  问题 not-regular-symlink：DCIM/LINK.AVI：{LINK_ZH}",
        f"  问题 container-corrupt：DCIM/{_clip(10, 'MP4')}：{CORRUPT_ZH}",
    }
    said = _problem_lines(docked.ingest)
    assert len(said) == len(session["problems"]), docked.ingest
    assert expected <= set(said), said
    assert any(line.endswith(NOT_UTF8_ZH) for line in said), said
    assert _english(said, session) == []

    listed = docked.dockd.run("sessions", check=True).stdout.splitlines()
    assert _problem_lines(listed) == said  # the ledger's record, said again the same way


def test_the_json_keeps_the_english_with_its_template_and_values(docked: Docked) -> None:
    problems = {p["code"]: p for p in docked.session["problems"]}
    missing = problems["recordings-missing"]
    assert missing["message"] == MISSING_EN
    assert missing["template"] == (
        "{count} recording(s) numbered {numbers} are neither on the recorder nor in the ledger"
    )
    assert missing["values"] == {"count": 6, "numbers": "2-7"}
    assert problems["not-regular-symlink"]["message"] == LINK_EN
    assert problems["not-regular-symlink"]["values"] == {}
    corrupt = problems["container-corrupt"]
    assert corrupt["message"] == r"box at 0 has non-printable type b'\x00\x00\x00\x00'"
    assert corrupt["values"] == {"offset": 0, "kind": r"b'\x00\x00\x00\x00'"}
    # the rows' chain facts carry the template columns, and the audit still agrees
    audited = docked.dockd.run("audit", "verify", "--json")
    assert audited.returncode == 0, audited.stdout + audited.stderr


def test_the_emailed_report_says_what_may_be_missing_in_chinese(
    docked: Docked, tmp_path: Path
) -> None:
    dockd = docked.dockd
    as_json = json.loads(dockd.run("report", "deadlines", "--json").stdout)
    [incomplete] = as_json["incomplete_offloads"]
    assert incomplete["detail"] == MISSING_EN
    assert incomplete["detail_values"] == {"count": 6, "numbers": "2-7"}
    port = _free_port()
    _configure_mail(dockd, port, tmp_path / "outbox")
    inbox = Inbox()
    aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd")
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sent = dockd.run("report", "deadlines", "--email")
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stderr
    [message] = inbox.messages
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    text, page = plain.get_content(), html.get_content()
    session = docked.session["id"]
    assert f"  - {SERIAL}：recordings-missing：{MISSING_ZH}（接入于 " in text, text
    assert f"，会话 {session}）" in text
    assert f">{MISSING_ZH}</td>" in page
    assert MISSING_EN not in text and MISSING_EN not in page


@pytest.mark.parametrize(
    ("accept", "said", "not_said"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.5", [MISSING_ZH, LINK_ZH, CORRUPT_ZH], [MISSING_EN, LINK_EN]),
        ("en-GB,en;q=0.9", [MISSING_EN, LINK_EN], [MISSING_ZH, LINK_ZH]),
    ],
)
def test_the_session_page_follows_accept_language(
    docked: Docked, accept: str, said: list[str], not_said: list[str]
) -> None:
    app = build(load_config(docked.dockd.config))
    web = build_web(app)
    try:
        assert web.start()
        url = f"{web.url.rstrip('/')}/sessions/{docked.session['id']}"
        with httpx.Client(trust_env=False, timeout=10) as http:
            page = http.get(url, headers={"Accept-Language": accept})
    finally:
        web.stop()
        app.close()
    assert page.status_code == 200
    text = visible_text(page.text)
    for words in said:
        assert words in text, text
    for words in not_said:
        assert words not in text
