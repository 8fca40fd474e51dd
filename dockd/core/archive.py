"""The archive index of Mingshan 003/E:17-18: a three-level tree (subject / time / matter)
with a table at its root, and the label every stored recording carries: 编号 number,
题名 subject, 时间 time, 密级 classification, 保管期限 retention.

Pure: the tree's paths and the table's bytes are computed here; writing them is the
store adapter's job.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from dockd.core.model import Digests
from dockd.errors import ConfigError

#: 密级, from open to most secret; 内部 (internal) unless someone classifies it otherwise.
LEVELS = ("公开", "内部", "秘密", "机密", "绝密")
DEFAULT_LEVEL = "内部"
#: What a recording with no subject label, and no case, is filed under.
NO_SUBJECT = "未分类"
COLUMNS = ("编号", "题名", "时间", "密级", "保管期限", "文件")

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


@dataclass(frozen=True, slots=True)
class Footage:
    """A stored recording as a copy out of the store needs it."""

    recording: int
    path: str
    key: str
    digests: Digests
    size: int


@dataclass(frozen=True, slots=True)
class ArchiveItem:
    footage: Footage
    serial: str
    start: datetime
    classification: str = DEFAULT_LEVEL
    subject: str | None = None
    matter: str | None = None
    cases: tuple[str, ...] = ()
    long_term: tuple[str, ...] = ()
    retain_until: datetime | None = None


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ConfigError(
            "{level!r} is not a classification",
            hint="Use one of: {levels}",
            level=level,
            levels=", ".join(LEVELS),
        )
    return level


def number(item: ArchiveItem) -> str:
    return f"{item.footage.recording:08d}"


def subject(item: ArchiveItem) -> str:
    """题名: the label given, else the case it is kept for, else 未分类."""
    if item.subject:
        return item.subject
    return "、".join(item.cases) if item.cases else NO_SUBJECT


def matter(item: ArchiveItem) -> str:
    return item.matter or f"执法记录仪 {item.serial}"


def retention(item: ArchiveItem, zone: tzinfo) -> str:
    """保管期限: with the case file while a case holds it, long-term while a reason holds
    it, else until its retain-until date."""
    if item.cases:
        return "随案卷保存"
    if item.long_term:
        return "长期（" + "、".join(item.long_term) + "）"
    if item.retain_until is None:
        return "未定"
    return "至 " + item.retain_until.astimezone(zone).date().isoformat()


def component(text: str) -> str:
    """One directory name: no separators, control characters or dot-names."""
    safe = _UNSAFE.sub("_", text).strip().strip(".")
    return safe[:120] or "_"


def base_name(footage: Footage) -> str:
    """The recording's file name on the recorder (its folders dropped)."""
    return footage.path.replace("\\", "/").rsplit("/", 1)[-1]


def copy_name(footage: Footage) -> str:
    """A copy's name: the recording id first, so two recorders' FILE0001 never collide."""
    return component(f"{footage.recording}-{base_name(footage)}")


def relative_path(item: ArchiveItem, zone: tzinfo) -> str:
    """subject / date / matter / <number>-<file name> (003/E:17)."""
    day = item.start.astimezone(zone).date().isoformat()
    name = component(f"{number(item)}-{base_name(item.footage)}")
    return "/".join((component(subject(item)), day, component(matter(item)), name))


def rows(items: list[ArchiveItem], zone: tzinfo) -> list[tuple[str, ...]]:
    return [
        (
            number(i),
            subject(i),
            i.start.astimezone(zone).isoformat(),
            i.classification,
            retention(i, zone),
            relative_path(i, zone),
        )
        for i in items
    ]


def index_csv(table: list[tuple[str, ...]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese headings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return out.getvalue().encode("utf-8-sig")


def index_html(table: list[tuple[str, ...]], title: str) -> bytes:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in row[:-1])
        + f'<td><a href="{html.escape(row[-1])}">{html.escape(row[-1])}</a></td></tr>\n'
        for row in table
    )
    page = (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<table>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}</tbody>\n</table>\n</body></html>\n"
    )
    return page.encode("utf-8")
