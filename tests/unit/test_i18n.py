"""Chinese and English: the page's choice from Accept-Language, the catalogs complete and
compiled, the e-mail in zh-CN with the station's local times, the CLI's error framing."""

from __future__ import annotations

import ast
import gettext
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dockd import catalogs
from dockd.core.views import DeadlineReport, LateOffload, OverdueRecorder
from dockd.errors import ConfigError, LedgerLockedError
from dockd.ui.i18n import ENGLISH, LANGUAGES, Locale, Said, language_of, negotiate
from dockd.ui.report import build_message, render_html, render_text, subject

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZH = Locale("zh-CN", SHANGHAI)
FIELD = re.compile(r"\{\w*\}")
PERCENT = re.compile(r"%(?:\(\w+\))?[sr]")


# --- the page's language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("zh", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9", "en"),  # nothing dockd has: English
        ("zh-TW", "en"),  # Traditional script: not zh-CN
        ("zh-Hant-HK,zh-Hant;q=0.9", "en"),
        ("fr;q=1.0, zh-CN;q=0.8, en;q=0.5", "zh-CN"),  # the first one dockd has
        ("en;q=0.5, zh-CN;q=0.8", "zh-CN"),  # by q-value, not by order
        ("en, zh-CN", "en"),  # equal q: the order sent
        ("zh-CN;q=0, en", "en"),  # q=0 is "not this"
        ("zh-CN;q=0", "en"),
        ("zh-CN;q=bogus, en;q=0.1", "en"),  # an unreadable q counts as 0
        ("*", "en"),
        ("de, *;q=0.5, zh;q=0.4", "en"),  # the wildcard ranks above zh
        ("zh-CN ; q=0.7 , de", "zh-CN"),
    ],
)
def test_the_page_follows_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_only_simplified_chinese_and_english_are_known() -> None:
    assert [language_of(t) for t in ("en-GB", "zh-Hans", "zh-MO", "ja")] == [
        "en",
        "zh-CN",
        None,
        None,
    ]


# --- the catalogs -------------------------------------------------------------------------


def test_every_user_facing_string_has_a_chinese_translation() -> None:
    """Extraction over the templates, the marked Python and the error hints: every msgid
    must have a zh-CN msgstr (not fuzzy) with the same {fields}."""
    template = catalogs.extract_all()
    ids = {m.id for m in template if m.id}
    assert len(ids) > 300, "the extraction found too little: is a source missing?"
    assert {"SAFE TO UNPLUG", "Copying", "Error", "dockd: {code}: {message}"} <= ids
    zh = catalogs.read("zh-CN")
    untranslated = sorted(i for i in ids if not (zh.get(i) and zh[i].string))
    assert untranslated == [], f"run `make locale` and translate: {untranslated}"
    fuzzy = sorted(str(m.id) for m in zh if m.id and m.fuzzy)
    assert fuzzy == []
    for key in ids:
        # a plural (argparse's ngettext) has one form in Chinese
        msgid = key if isinstance(key, str) else key[0]
        found = zh[key].string
        msgstr = found if isinstance(found, str) else (found or [""])[0]
        assert msgstr, key
        assert sorted(FIELD.findall(msgid)) == sorted(FIELD.findall(msgstr)), msgid
        # argparse's words (and help texts) fill %-fields, which must survive; elsewhere a
        # literal per cent breaks the page's gettext
        assert sorted(PERCENT.findall(msgid)) == sorted(PERCENT.findall(msgstr)), msgid
        if "%" not in msgid:
            assert "%" not in msgstr, f"{msgid!r}: a literal per cent breaks the page's gettext"


def test_error_messages_are_templates() -> None:
    """An f-string message cannot be translated: each DockdError is raised with a
    template and its values, so that the catalog has it and a translation can reorder."""
    names = {name for name, _ in catalogs.error_classes()}
    found: dict[str, int] = {}
    for path in sorted(catalogs.PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and node.args
                and isinstance(node.args[0], ast.JoinedStr)
            ):
                where = str(path.relative_to(catalogs.PACKAGE))
                found[where] = found.get(where, 0) + 1
    assert found == {}, f"make these templates (fields named, values as keywords): {found}"


def _marked(tree: ast.Module) -> set[str]:
    """The module's names bound to `N_("literal")`: the catalog has their text."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "N_"
        and isinstance(node.value.args[0], ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_error_hints_are_templates() -> None:
    """A hint given where an error is raised is a literal template (its {fields} filled
    from the error's values) or a module constant marked `N_()`: an f-string or a sum is
    not in the catalog, so the admin would read it in English."""
    names = {name for name, _ in catalogs.error_classes()}
    found: list[str] = []
    for path in sorted(catalogs.PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        marked = _marked(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in names:
                continue
            for keyword in node.keywords:
                given = keyword.value
                literal = isinstance(given, ast.Constant) and isinstance(given.value, str)
                constant = isinstance(given, ast.Name) and given.id in marked
                if keyword.arg == "hint" and not (literal or constant):
                    found.append(f"{path.relative_to(catalogs.PACKAGE)}:{node.lineno}")
    assert found == [], f"make these hints templates (values as the error's keywords): {found}"


def test_a_raised_hint_is_filled_and_said_in_chinese() -> None:
    error = LedgerLockedError(
        "recorder {serial} is not registered",
        hint="Register it first: dockd devices add {serial} --model M",
        serial="QD0001",
    )
    assert error.hint == "Register it first: dockd devices add QD0001 --model M"
    assert ZH.hint(error) == "请先登记：dockd devices add QD0001 --model M"
    assert ZH.hint(LedgerLockedError("locked")) == ZH(LedgerLockedError.hint)


def test_every_error_hint_is_extracted() -> None:
    hints = {hint for _, hint in catalogs.hints()}
    assert ConfigError.hint in hints and LedgerLockedError.hint in hints
    ids = {m.id for m in catalogs.extract_all()}
    assert hints <= ids


def test_the_compiled_catalogs_are_current() -> None:
    for language in LANGUAGES:
        if language == "en":
            continue
        po = catalogs.po_path(language)
        committed = po.with_suffix(".mo").read_bytes()
        assert committed == catalogs.compiled(catalogs.read(language)), (
            f"{po.with_suffix('.mo')} is stale: run `make locale`"
        )
        assert gettext.GNUTranslations(io.BytesIO(committed)).gettext("Copying") == "正在复制"


def test_the_officers_words() -> None:
    assert [ZH("Copying"), ZH("SAFE TO UNPLUG"), ZH("Error"), ZH("ERROR")] == [
        "正在复制",
        "可以拔出",
        "出错",
        "出错",
    ]
    assert ENGLISH("SAFE TO UNPLUG") == "SAFE TO UNPLUG"


def test_a_use_cases_note_is_english_and_said_again_in_chinese() -> None:
    """`Said` is the English (tests and the journal read it); a locale says it again,
    its values too when they are `Said` (an error's message inside a note)."""
    error = LedgerLockedError("no recording {recordings}", recordings="999")
    note = Said("report sent, but {error}", error=Said.error(error))
    assert note == "report sent, but no recording 999"
    assert ZH.say(note) == "报告已发送，但没有录像 999"
    assert ENGLISH.say(note) == note and ZH.say("plain text") == "plain text"


def test_an_error_message_is_a_template_with_its_values() -> None:
    error = ConfigError("{zone!r} is not a time zone", zone="Mars/Olympus")
    assert error.message == "'Mars/Olympus' is not a time zone"
    assert ZH(error.template, **error.values) == "'Mars/Olympus' 不是时区"
    assert str(error) == "CONFIG_INVALID: 'Mars/Olympus' is not a time zone"


def test_the_central_stores_errors_are_said_whole_in_chinese() -> None:
    """What was asked (`doing`) and the server's answer are said in the sentence's order."""
    from botocore.exceptions import ClientError

    from dockd.adapters.central_errors import central_error

    answer: Any = {
        "Error": {"Code": "AccessDenied", "Message": "denied"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    exc = ClientError(answer, "PutObject")
    error = central_error(exc, Said("put"), "s3://evidence/k")
    assert error.code == "CENTRAL_AUTH_FAILED"
    assert (
        error.message == "could not put s3://evidence/k: the server answered AccessDenied: denied"
    )
    assert ZH.message(error) == "无法执行上传：s3://evidence/k：服务器答复 AccessDenied：denied"


def test_a_ledger_fault_is_said_in_chinese() -> None:
    from dockd.adapters.ledger.engine import ledger_fault

    template = "cannot open the ledger at {where}: {said}"
    error = ledger_fault(ValueError("no such dialect"), template, "nosql://x")
    assert error.code == "LEDGER_URL_INVALID"
    assert error.message == "cannot open the ledger at nosql://x: no such dialect"
    assert ZH.message(error) == "无法打开位于 nosql://x 的台账：no such dialect"


# --- the e-mail in zh-CN ------------------------------------------------------------------

UNTIL = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 2026-11-27 00:00 in Qidong
SINCE = UNTIL - timedelta(days=1)
END = datetime(2026, 11, 26, 0, 10, tzinfo=UTC)  # a clip recorded up to 08:10 in Qidong


def _report() -> DeadlineReport:
    late = LateOffload(
        recording=7,
        serial="QD0001",
        path="DCIM/QD0001_20261126081000.MP4",
        end=END,
        deadline=END + timedelta(hours=24),
        offloaded_at=END + timedelta(hours=27),
        late_by_s=3 * 3600.0,
        unit="启东市城管局",
        custodian="张伟 (0421)",
    )
    overdue = OverdueRecorder(
        serial="QD0002",
        last_docked=None,
        overdue_by_s=90000.0,
        unit=None,
        custodian=None,
    )
    return DeadlineReport(
        pack="qidong",
        station="dock-qidong-1",
        since=SINCE,
        until=UNTIL,
        late_offloads=[late],
        overdue_recorders=[overdue],
        drift_violations=[],
        interruptions=[],
        unsealed_sessions=[],
        verify_failures=[],
    )


def test_the_report_in_chinese_shows_qidong_time() -> None:
    text = render_text(_report(), "启东市行政执法记录仪使用管理规定", ZH)
    lines = text.splitlines()
    assert lines[0] == "dockd 每日报告 — 启东市行政执法记录仪使用管理规定 (qidong)"
    assert (
        lines[1] == "时段：2026-11-26 00:00 +08:00 → 2026-11-27 00:00 +08:00 (工作站 dock-qidong-1)"
    )
    assert lines[3] == "汇总："
    assert "逾期导出" in lines[4] and lines[4].endswith("    1")
    assert "\n逾期导出 (1)\n  单位：启东市城管局（1）\n    保管人：张伟 (0421)（1）\n" in text
    assert (
        "      - QD0001 DCIM/QD0001_20261126081000.MP4（录像 7）：逾期 3 小时；"
        "结束于 2026-11-26 08:10 +08:00，期限 2026-11-27 08:10 +08:00，"
        "导出于 2026-11-27 11:10 +08:00\n"
    ) in text
    assert "\n  单位：（无单位记录）（1）\n    保管人：（无保管人记录）（1）\n" in text
    assert "      - QD0002：逾期 1 天 1 小时；上次接入 从未\n" in text
    assert "UTC" not in text and "00:10" not in text


def test_the_summary_columns_line_up_in_chinese() -> None:
    """A Chinese character is two columns wide on a terminal."""
    text = render_text(_report(), "启东", ZH)
    summary = text.split("汇总：\n")[1].split("\n\n")[0].splitlines()
    widths = {sum(2 if ord(c) > 0x2E7F else 1 for c in line) for line in summary}
    assert len(widths) == 1, summary


def test_the_html_and_the_message_are_chinese() -> None:
    page = render_html(_report(), "启东", ZH)
    assert '<html lang="zh-CN">' in page
    assert "时段：2026-11-26 00:00 +08:00 → 2026-11-27 00:00 +08:00 (工作站 dock-qidong-1)" in page
    assert "<th" in page and ">结束</th>" in page and ">期限</th>" in page
    assert ">2026-11-26 08:10 +08:00</td>" in page
    assert (
        "由 dockd 发送。在工作站上运行 <code>dockd report deadlines</code> 可查看同一报告。" in page
    )
    assert (
        subject(_report(), ZH)
        == "dockd: 1 条逾期导出，1 台逾期未导出的记录仪 — 2026-11-26 → 2026-11-27"
    )
    message = build_message(_report(), "启东", "dock@example.org", ["a@example.org"], tr=ZH)
    assert message["Content-Language"] == "zh-CN"
    assert message["Subject"] == subject(_report(), ZH)


def test_the_english_report_still_reads_as_before() -> None:
    text = render_text(_report(), "Qidong", Locale("en", UTC))
    assert "Period: 2026-11-25 16:00 UTC → 2026-11-26 16:00 UTC" in text
    assert "ended 2026-11-26 00:10 UTC" in text
    assert (
        subject(_report()) == "dockd: 1 late offload, 1 overdue recorder — 2026-11-25 → 2026-11-26"
    )


# --- the CLI's framing ----------------------------------------------------------------------


def test_the_cli_says_an_error_in_the_station_language(capsys: pytest.CaptureFixture[str]) -> None:
    from dockd.cli.main import _report as report_error

    error = LedgerLockedError("the ledger is locked")
    report_error(error, ZH)
    assert capsys.readouterr().err == (
        "dockd 出错：LEDGER_LOCKED: the ledger is locked\n"
        "  提示：另一个进程持有 SQLite 台账的写锁（长事务，或开着 BEGIN 的 sqlite3 命令行）："
        "用 `fuser -v LEDGER_FILE` 找到并结束它，然后重试。\n"
    )
    report_error(error, ENGLISH)
    assert capsys.readouterr().err == (
        f"dockd: LEDGER_LOCKED: the ledger is locked\n  hint: {LedgerLockedError.hint}\n"
    )


def test_durations_and_days_in_chinese() -> None:
    from dockd.ui import format as fmt

    assert [fmt.duration(s, ZH) for s in (45, 75, 10800, 187200, -75)] == [
        "45 秒",
        "1 分 15 秒",
        "3 小时",
        "2 天 4 小时",
        "-1 分 15 秒",
    ]
    assert fmt.drift(-75, ZH) == "-1 分 15 秒" and fmt.drift(None, ZH) == "未知"
    assert fmt.day(END, SHANGHAI, ZH) == "2026年11月26日"
    assert fmt.day(END, UTC) == "Thu 26 Nov 2026"


# --- where the language and the zone come from ----------------------------------------------


def _locale(station: dict[str, str], pack: str = "qidong") -> Locale:
    from dockd.app import App
    from dockd.config import effective_config

    data = {"station": station, "policy": {"pack": pack}}
    return App(effective_config(data, "test.toml", environ={})).locale


def test_the_shipped_packs_speak_chinese_in_beijing_time() -> None:
    assert _locale({}) == Locale("zh-CN", SHANGHAI)


def test_the_station_overrides_the_pack() -> None:
    chosen = _locale({"language": "en", "timezone": "Europe/Berlin"})
    assert chosen == Locale("en", ZoneInfo("Europe/Berlin"))


def test_a_zone_that_does_not_exist_is_refused_with_an_example() -> None:
    from dockd.config import effective_config

    with pytest.raises(ConfigError, match=r"'Asia/Qidong' is not an IANA time zone.*Asia/Shanghai"):
        effective_config({"station": {"timezone": "Asia/Qidong"}}, "test.toml", environ={})
    with pytest.raises(ConfigError, match=r"station.language"):
        effective_config({"station": {"language": "zh-TW"}}, "test.toml", environ={})


# --- nothing left unmarked --------------------------------------------------------------------

TEMPLATES = Path(catalogs.TEMPLATES)
# names, not words: they read the same in every language
NAMES = {"dockd", "JSON", "BLAKE3", "SHA-256"}
# blocks that hold identifiers and attributes, not text
NOT_TEXT = re.compile(r"\{% block (?:page|body_data) %\}.*?\{% endblock %\}", re.S)
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
READ_ATTRIBUTES = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_text_escapes_the_catalog(template: str) -> None:
    """Every word a reader sees in a template goes through `_()` (and so into the catalog
    the test above checks): literal English left in the markup is an untranslated string."""
    source = NOT_TEXT.sub(" ", (TEMPLATES / template).read_text("utf-8"))
    said = [JINJA.sub("", a) for a in READ_ATTRIBUTES.findall(source)]
    text = re.sub(r"<[^>]*>", " ", JINJA.sub(" ", source))
    words = [w for w in re.findall(r"[A-Za-z][\w-]+", " ".join([text, *said])) if w not in NAMES]
    assert words == [], f"{template}: wrap these in _(): {words}"


def test_a_slots_error_hint_is_shown_in_chinese() -> None:
    """The slot card's message and hint are the daemon's English: the page says them again
    in its reader's language when the catalog has them (a class's hint always is)."""
    from types import SimpleNamespace

    from dockd.core.status_document import SlotCard
    from dockd.errors import StoreLayoutError
    from dockd.web.routes import environment

    card = SlotCard(
        slot="bay1", state="error", serial="SN1", profile="generic", custodian=None,
        unit=None, session="S1", files_total=1, files_done=0, bytes_total=1, bytes_done=0,
        rate_bps=None, eta_s=None, drift_s=None, drift_verdict=None, safe_to_unplug=False,
        message="writing to the store", code=StoreLayoutError.code, hint=StoreLayoutError.hint,
    )  # fmt: skip
    html = environment(ZH).get_template("_slots.html").render(doc=SimpleNamespace(slots=[card]))
    assert "<strong>出错：</strong> 写入存储" in html
    assert '<p class="hint">[store] root 中的内容不是此布局版本的 dockd 存储。</p>' in html
