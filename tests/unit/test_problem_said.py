"""Problems in the reader's language: each message is a `Said` whose template is a msgid
with a zh-CN translation, and what the ledger keeps of it (`Said.encoded`, `Said.kept`) is
said again in Chinese while its English stays as it was written."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog

from dockd import catalogs
from dockd.core.container import ContainerProblem, read_container
from dockd.core.said import Said
from dockd.core.views import IncompleteOffload, SessionProblemView
from dockd.errors import StoreError
from dockd.ui.i18n import ENGLISH, Locale

ZH = Locale("zh-CN")
PACKAGE = Path(catalogs.__file__).resolve().parent
# what builds a problem, and which argument is its message (position, keyword)
BUILDERS = {
    "Problem": (2, "message"),
    "ContainerProblem": (1, "message"),
    "FileProblem": (1, "message"),
    "FatError": (0, "said"),
    "Chain": (1, "fault"),
    "problem_row": (3, "message"),
}

# modules whose words become a problem's message in a module that builds it
WORDED_ELSEWHERE = {"core/layout.py"}  # unsafe_component: why a name is unsafe


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in BUILDERS
            ):
                yield where, node


def _message(call: ast.Call) -> ast.expr | None:
    assert isinstance(call.func, ast.Name)
    position, name = BUILDERS[call.func.id]
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _said_templates(node: ast.AST) -> Iterator[str]:
    for found in ast.walk(node):
        if (
            isinstance(found, ast.Call)
            and isinstance(found.func, ast.Name)
            and found.func.id == "Said"
            and found.args
            and isinstance(first := found.args[0], ast.Constant)
            and isinstance(first.value, str)
        ):
            yield first.value


def _problem_templates() -> set[str]:
    """Every literal template said in a module that builds problems."""
    modules = {where for where, _ in _calls()} | WORDED_ELSEWHERE
    return {
        template
        for where in modules
        for template in _said_templates(ast.parse((PACKAGE / where).read_text("utf-8")))
    }


def test_no_problem_is_built_from_english_text() -> None:
    """A literal or an f-string as a problem's message would reach the ledger as English
    only: each message is a `Said` (or a value that holds one)."""
    english = [
        f"{where}:{call.lineno}"
        for where, call in _calls()
        if isinstance(message := _message(call), ast.JoinedStr | ast.BinOp)
        or (isinstance(message, ast.Constant) and isinstance(message.value, str))
    ]
    assert english == []
    assert len(list(_calls())) > 60, "the walk found too few problem sites"


def test_every_problem_template_is_extracted_and_translated() -> None:
    templates = _problem_templates()
    assert {
        "its cluster chain {fault}",
        "more than one moov box",
        "the name {name} would escape or alias the volume",
        "{count} recording(s) numbered {numbers} are neither on the recorder nor in the ledger",
    } <= templates
    extracted = {m.id for m in catalogs.extract_all() if m.id}
    assert sorted(templates - extracted) == []
    untranslated = _untranslated(templates, catalogs.read("zh-CN"))
    assert untranslated == [], f"run `make locale` and translate: {untranslated}"


def _untranslated(templates: set[str], zh: Catalog) -> list[str]:
    return sorted(t for t in templates if not ((found := zh.get(t)) and found.string))


def test_a_missing_translation_of_a_problem_template_is_named() -> None:
    zh = catalogs.read("zh-CN")
    zh.delete("more than one moov box")
    assert _untranslated(_problem_templates(), zh) == ["more than one moov box"]


def _kept(said: Said) -> Said:
    """As the ledger keeps it and reads it back: the English, the template, JSON values."""
    return Said.kept(str(said), said.template, json.loads(json.dumps(said.encoded())))


def test_a_kept_problem_is_said_again_with_its_nested_values() -> None:
    error = StoreError(
        "{what}: {reason}",
        what=Said("reserving {size} bytes for a recording", size=100),
        reason="No space left on device",
    )
    said = Said("manifest not stored: {error}", error=Said.error(error))
    kept = _kept(said)
    assert (
        kept == "manifest not stored: reserving 100 bytes for a recording: No space left on device"
    )
    assert kept.encoded() == said.encoded()
    assert ZH.say(kept) == ZH.say(said)
    assert ZH.say(kept) == "清单未保存：为录像预留 100 字节：No space left on device"
    assert ENGLISH.say(kept) == kept


def test_a_container_problem_keeps_its_numbers_out_of_the_template() -> None:
    with pytest.raises(ContainerProblem) as caught:
        read_container("mp4", 4096, lambda at, n: b"\0" * n)
    kept = _kept(caught.value.message)
    assert kept.template == "box at {offset} has non-printable type {kind}"
    assert kept.values == {"offset": 0, "kind": r"b'\x00\x00\x00\x00'"}
    assert ZH.say(kept) == r"位于 0 的 box 类型 b'\x00\x00\x00\x00' 含不可打印字符"


def test_format_specs_survive_the_ledger() -> None:
    said = Said(
        "{mib:.1f} MiB in use on the recorder ({source}) is not in any file found: "
        "files that could not be listed, lost chains or hidden data",
        mib=12.345,
        source="FAT",
    )
    kept = _kept(said)
    assert kept.values == {"mib": 12.345, "source": "FAT"}
    assert ZH.say(kept).startswith("执法记录仪上已用的 12.3 MiB（FAT）")


def test_the_record_reads_as_it_was_written() -> None:
    """The English kept is the record; the template only says it again."""
    kept = Said.kept(
        "the file time is out of range", "the file time is out of range; the dock time is used", {}
    )
    assert kept == "the file time is out of range"
    assert ZH.say(kept) == "文件时间超出范围；改用接入时间"


def test_views_without_a_template_stay_english() -> None:
    old = SessionProblemView(path="/", code="recordings-missing", message="3 recordings gone")
    assert ZH.say(old.said()) == "3 recordings gone"
    new = SessionProblemView(
        path="/",
        code="recordings-missing",
        message="2 recording(s) numbered 4-5 are neither on the recorder nor in the ledger",
        template="{count} recording(s) numbered {numbers} are neither on the recorder nor in "
        "the ledger",
        values={"count": 2, "numbers": "4-5"},
    )
    assert ZH.say(new.said()) == "编号为 4-5 的 2 段录像既不在执法记录仪上，也不在台账中"
    offload = IncompleteOffload.model_validate(
        {
            "session": "S1",
            "serial": "SN1",
            "docked_at": "2026-11-26T00:10:00+00:00",
            "code": "recordings-missing",
            "detail": "3 recordings gone",
            "unit": None,
            "custodian": None,
        }
    )
    assert ZH.say(offload.detail_said()) == "3 recordings gone"


def test_a_time_in_a_problem_reads_rfc3339_in_english_and_in_the_station_zone_when_said() -> None:
    """An interruption recorded at 08:10 in Qidong (00:10 UTC) is said at 08:10 +08:00; the
    English the ledger keeps stays RFC 3339, and the kept values give the time back."""
    start = datetime(2026, 11, 26, 0, 10, tzinfo=UTC)
    end = datetime(2026, 11, 26, 0, 40, 5, tzinfo=UTC)
    said = Said(
        "{minutes:.1f} min without recording between {start} and {end}: to be reviewed",
        minutes=30.1,
        start=start,
        end=end,
    )
    assert said == (
        "30.1 min without recording between 2026-11-26T00:10:00+00:00 and "
        "2026-11-26T00:40:05+00:00: to be reviewed"
    )
    kept = Said.kept(str(said), said.template, json.loads(json.dumps(said.encoded())))
    assert kept.values["start"] == start and kept.values["end"] == end
    shown = Locale("zh-CN", ZoneInfo("Asia/Shanghai")).say(kept)
    assert "2026-11-26 08:10:00 +08:00" in shown and "2026-11-26 08:40:05 +08:00" in shown
    assert "without recording" not in shown, "the template has a zh-CN translation"
    assert "2026-11-26 00:10:00 +00:00" in Locale("en", UTC).say(kept)
