"""A slot's message and hint keep their template and values from the daemon's board to the
page and `dockd status`: said in the reader's language there, English in the JSON."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rich.console import Console

from dockd.adapters.rules import load_profiles
from dockd.core.clearing import KeptFile, clearing_refusal
from dockd.core.said import Said
from dockd.core.status import assemble
from dockd.core.status_document import Phrase, SlotCard, StatusDocument
from dockd.core.unlock import UNLOCK_FAILED, UnlockResult
from dockd.daemon.board import StatusBoard
from dockd.daemon.unlock import Unlocker, board_slot
from dockd.errors import RecorderGoneError
from dockd.services.clearing import ClearResult
from dockd.ui.board import render
from dockd.ui.i18n import Locale
from dockd.web.routes import environment
from tests.unit.test_status_document import FACTS, NOW

RULES = Path(__file__).resolve().parents[2] / "rules"
ZH = Locale("zh-CN")
DEVNODE = "/dev/bus/usb/001/007"
TOOL = "/usr/lib/dockd/unlock/acme"


class Events:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        self.kinds.append(kind)


def _gone() -> RecorderGoneError:
    """As the copy raises it when the recorder vanishes mid-file: a `Said` inside."""
    return RecorderGoneError(
        "the copy was stopped {when}",
        hint="Re-dock the recorder to copy what is missing.",
        when=Said("mid-file; nothing of it was kept"),
    )


def _board() -> StatusBoard:
    """A slot in each state whose words carry values, as the daemon's own code puts them."""
    board = StatusBoard()
    board.set("bay1", state="interrupted", serial="SN0001", profile="generic")
    board.show_error("bay1", _gone())
    refusal = clearing_refusal(
        pack_allows=True, enabled=True, session_state="completed", fully_verified=True, holds=2
    )
    board.set("bay2", state="done", serial="SN0002", files_total=3, files_done=3)
    assert refusal is not None
    board.show_not_cleared("bay2", refusal)
    board.set("bay3", state="done", serial="SN0003", files_total=4, files_done=4)
    kept = [
        KeptFile(b"DCIM/A.MP4", Said("no verified copy of this file")),
        KeptFile(b"DCIM/B.MP4", Said("changed since it was verified (size or time differ)")),
    ]
    board.show_cleared("bay3", ClearResult(deleted=2, kept=kept))
    profile = load_profiles(RULES)["gat947"].model_copy(update={"unlock": [TOOL, "{devnode}"]})
    events = Events()
    unlocker = Unlocker(
        {"gat947": profile}, lambda argv, timeout: UnlockResult(3, ""), events, lambda: NOW, board
    )
    assert not unlocker.unlock(DEVNODE, "gat947")
    assert events.kinds == ["recorder-unlock-failed"]
    return board


def _doc() -> StatusDocument:
    return assemble(replace(FACTS, slots=_board().snapshot()), NOW)


GONE_ZH = "复制在文件中途；该文件未保留任何内容被中止"
NOT_CLEARED_ZH = "未清空：该记录仪有 2 条录像处于保全中"
CLEARED_ZH = (
    "已从记录仪清空 2 个文件；保留 2 个：DCIM/A.MP4（此文件没有已校验的副本）；"
    "DCIM/B.MP4（校验后已被改动（大小或时间不同））"
)
UNLOCK_ZH = "型号配置 'gat947' 的解锁命令失败（退出状态 3）；记录仪未显示磁盘"
UNLOCK_HINT_ZH = f"请检查厂商工具 {TOOL} 及其密码；拔下并重新插入记录仪即可重试。"


def test_the_document_keeps_the_english_and_carries_the_template_and_values() -> None:
    doc = _doc()
    gone, not_cleared, cleared, unlock = doc.slots
    assert gone.message == "the copy was stopped mid-file; nothing of it was kept"
    assert gone.message_phrase == Phrase(
        template="the copy was stopped {when}",
        values={"when": Phrase(template="mid-file; nothing of it was kept")},
    )
    assert gone.hint == "Re-dock the recorder to copy what is missing."
    assert gone.hint_phrase is not None  # a hint template is filled from the error's values
    assert gone.hint_phrase.template == "Re-dock the recorder to copy what is missing."
    assert not_cleared.message == "not cleared: 2 of the recorder's recordings are on hold"
    assert cleared.message == (
        "cleared 2 files from the recorder; 2 kept: DCIM/A.MP4 (no verified copy of this "
        "file); DCIM/B.MP4 (changed since it was verified (size or time differ))"
    )
    assert unlock.slot == board_slot(DEVNODE) and unlock.code == UNLOCK_FAILED
    assert unlock.message == (
        "the 'gat947' unlock command failed (exit status 3); the recorder shows no disk"
    )
    assert unlock.message_phrase is not None
    assert unlock.message_phrase.values == {
        "profile": "gat947",
        "why": Phrase(template="exit status {status}", values={"status": 3}),
    }
    again = StatusDocument.model_validate_json(doc.model_dump_json())
    assert again == doc  # what `dockd status` reads from the daemon's /api/status


def test_a_slot_with_a_fixed_message_says_it_by_its_msgid() -> None:
    """A message set without a template (a plain `str`) is a fixed text: a reader's locale
    says it when the catalog has it, and otherwise as it is."""
    card = SlotCard.model_validate(
        {**_doc().slots[0].model_dump(), "message": "clearing the recorder", "message_phrase": None}
    )
    assert card.message_said is not None and ZH.say(card.message_said) == "正在清空记录仪"
    unknown = card.model_copy(update={"message": "no such msgid here"})
    assert unknown.message_said is not None and ZH.say(unknown.message_said) == "no such msgid here"


def test_each_slot_message_on_the_page_in_chinese() -> None:
    doc = _doc()
    html = environment(ZH).get_template("_slots.html").render(doc=doc)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    for said in (GONE_ZH, NOT_CLEARED_ZH, CLEARED_ZH, UNLOCK_ZH, UNLOCK_HINT_ZH):
        assert said.replace("'", "&#39;") in text
    assert "请重新接入执法记录仪以复制缺少的内容。" in text  # the error's own hint
    for english in ("the copy was stopped", "not cleared", "cleared 2 files", "unlock command"):
        assert english not in text
    alerts = environment(ZH).get_template("_alerts.html").render(doc=doc)
    assert "接口 bay1" not in alerts  # interrupted is not an error of the station
    assert f"{board_slot(DEVNODE)}：{UNLOCK_FAILED}：{UNLOCK_ZH}".replace("'", "&#39;") in alerts


def test_each_slot_message_on_the_terminal_in_chinese() -> None:
    console = Console(record=True, width=400, color_system=None)
    console.print(render(_doc(), None, ZH))
    text = console.export_text()
    for said in (GONE_ZH, NOT_CLEARED_ZH, CLEARED_ZH, UNLOCK_ZH, UNLOCK_HINT_ZH):
        assert said in text
    assert f"{UNLOCK_FAILED}: {UNLOCK_ZH}" in text
    for english in ("the copy was stopped", "not cleared", "cleared 2 files", "unlock command"):
        assert english not in text


def test_in_english_the_page_says_the_english_of_the_json() -> None:
    doc = _doc()
    html = environment().get_template("_slots.html").render(doc=SimpleNamespace(slots=doc.slots))
    for card in doc.slots:
        assert card.message is not None
        assert card.message.replace("'", "&#39;") in html


def test_a_phrase_that_no_longer_fills_its_template_shows_its_english() -> None:
    """A phrase read from another dockd's JSON whose value lost its number on the way."""
    card = (
        _doc()
        .slots[3]
        .model_copy(update={"message_phrase": Phrase(template="{n:,} files", values={"n": "many"})})
    )
    assert card.message_said is not None and ZH.say(card.message_said) == card.message
