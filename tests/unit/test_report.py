"""The nightly report, rendered (pure): grouping, counts, escaping, the empty report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dockd.core.views import (
    DeadlineReport,
    DriftViolation,
    IncompleteOffload,
    Interruption,
    LateOffload,
    OverdueRecorder,
    UnsealedSession,
    VerifyFailure,
)
from dockd.ui.format import group_late
from dockd.ui.report import (
    NOTHING,
    build_message,
    recipients_for,
    render_html,
    render_text,
    subject,
)

UNTIL = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=1)
EMPTY: dict[str, list[Any]] = {
    "late_offloads": [],
    "overdue_recorders": [],
    "drift_violations": [],
    "interruptions": [],
    "unsealed_sessions": [],
    "verify_failures": [],
}


def make_report(**kinds: list[Any]) -> DeadlineReport:
    return DeadlineReport(pack="qidong", since=SINCE, until=UNTIL, **{**EMPTY, **kinds})


def late(
    recording: int,
    unit: str | None,
    custodian: str | None,
    path: str = "DCIM/100MEDIA/CLIP0001.MP4",
    serial: str = "SN0001",
    late_by_s: float = 11520.0,
) -> LateOffload:
    end = SINCE - timedelta(hours=30)
    return LateOffload(
        recording=recording,
        serial=serial,
        path=path,
        end=end,
        deadline=end + timedelta(hours=24),
        offloaded_at=end + timedelta(hours=24, seconds=late_by_s),
        late_by_s=late_by_s,
        unit=unit,
        custodian=custodian,
    )


def overdue(serial: str, unit: str | None, custodian: str | None) -> OverdueRecorder:
    return OverdueRecorder(
        serial=serial,
        last_docked=SINCE - timedelta(days=2),
        overdue_by_s=90000.0,
        unit=unit,
        custodian=custodian,
    )


def sample_report() -> DeadlineReport:
    """One or more of every kind, over two units, three custodians and one unknown owner."""
    return make_report(
        late_offloads=[
            late(11, "Traffic", "0612 Zhang Min", path="DCIM/100MEDIA/TRAFFIC_ZHANG.MP4"),
            late(12, "Patrol", "0421 Li Wei", path="DCIM/100MEDIA/PATROL_LI_1.MP4"),
            late(13, "Traffic", "0421 Li Wei", path="DCIM/100MEDIA/TRAFFIC_LI.MP4"),
            late(14, None, None, path="DCIM/100MEDIA/NOBODY.MP4", serial="SN0099"),
            late(15, "Patrol", "0421 Li Wei", path="DCIM/100MEDIA/PATROL_LI_2.MP4"),
        ],
        overdue_recorders=[overdue("SN0007", "Patrol", "0733 Wang Fang")],
        drift_violations=[
            DriftViolation(
                session="S-DRIFT",
                serial="SN0002",
                drift_s=-95.5,
                method="clock-file",
                verdict="violation",
                at=SINCE + timedelta(hours=3),
                unit="Traffic",
                custodian="0612 Zhang Min",
            )
        ],
        interruptions=[
            Interruption(
                serial="SN0003",
                before="DCIM/100MEDIA/GAP_BEFORE.MP4",
                after="DCIM/100MEDIA/GAP_AFTER.MP4",
                gap_start=SINCE + timedelta(hours=4),
                gap_end=SINCE + timedelta(hours=4, minutes=7),
                gap_s=420.0,
                unit="Patrol",
                custodian="0421 Li Wei",
            )
        ],
        unsealed_sessions=[
            UnsealedSession(
                session="S-UNSEALED",
                serial="SN0004",
                finished_at=SINCE + timedelta(hours=5),
                attestations=["0421"],
                unit="Patrol",
                custodian="0421 Li Wei",
            )
        ],
        verify_failures=[
            VerifyFailure(
                at=SINCE + timedelta(hours=6), object="objects/blake3/ab/abcd", problem="corrupt"
            )
        ],
        incomplete_offloads=[
            IncompleteOffload(
                session="S-MISSING",
                serial="SN0005",
                docked_at=SINCE + timedelta(hours=7),
                code="recordings-missing",
                detail="6 recording(s) numbered 2-7 are neither on the recorder nor in the ledger",
                unit="Traffic",
                custodian="0612 Zhang Min",
            )
        ],
    )


def section(text: str, title: str) -> list[str]:
    """The lines of one section of the text report (without its heading)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{title} ("))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return lines[start + 1 : end]


class Tags(HTMLParser):
    """Start/end tags and text of an HTML document, and whether they nest properly."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.data: list[str] = []
        self.headers: list[str] = []
        self._in_th = False
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        self.attrs += attrs
        if tag == "th":
            self._in_th = True
            self.headers.append("")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th = False
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        self.data.append(data)
        if self._in_th:
            self.headers[-1] += data


# --- subject and counts ---------------------------------------------------------------


def test_subject_counts_the_kinds_present() -> None:
    report = make_report(
        late_offloads=[late(1, "A", "x"), late(2, "A", "x"), late(3, "B", "y")],
        overdue_recorders=[overdue("SN9", "A", "x")],
    )
    assert subject(report) == "dockd: 3 late offloads, 1 overdue recorder — 2026-11-22 → 2026-11-23"


def test_subject_names_every_kind_in_a_fixed_order() -> None:
    assert subject(sample_report()) == (
        "dockd: 5 late offloads, 1 overdue recorder, 1 drift violation, "
        "1 interruption to review, 1 unsealed session, 1 verify failure, "
        "1 offload that may be incomplete — 2026-11-22 → 2026-11-23"
    )


def test_text_summary_counts_every_kind() -> None:
    text = render_text(sample_report(), "Qidong")
    summary = text.split("Summary:\n", 1)[1].split("\n\n", 1)[0]
    counts = dict(line.strip().rsplit(None, 1) for line in summary.splitlines())
    assert {kind: int(n) for kind, n in counts.items()} == {
        "Late offloads": 5,
        "Overdue recorders": 1,
        "Drift violations": 1,
        "Interruptions to review": 1,
        "Unsealed sessions": 1,
        "Verify failures": 1,
        "Recordings that may be missing": 1,
        "Spot checks to review": 0,
        "Spot-check findings": 0,
        "Recorders lent": 0,
        "Media held too long": 0,
        "Unregistered recorders": 0,
        "Units short of recorders": 0,
        "Activities without footage": 0,
        "Work records (recording impossible)": 0,
    }
    assert "LATE OFFLOADS (5)" in text


# --- the empty report -----------------------------------------------------------------


def test_empty_report() -> None:
    report = make_report()
    assert report.empty
    assert subject(report) == "dockd: nothing to report — 2026-11-22 → 2026-11-23"
    text = render_text(report, "Qidong")
    assert text.startswith("dockd nightly report — Qidong (qidong)\n")
    assert "Period: 2026-11-22 02:00 UTC → 2026-11-23 02:00 UTC" in text
    assert NOTHING in text
    assert "Summary" not in text and "Unit:" not in text
    page = render_html(report, "Qidong")
    assert NOTHING in page
    assert "<table" not in page


# --- grouping -------------------------------------------------------------------------


def test_text_groups_by_unit_then_custodian() -> None:
    lines = section(render_text(sample_report(), "Qidong"), "LATE OFFLOADS")
    outline = [line.split(" (recording")[0].strip() for line in lines]
    assert outline == [
        "Unit: Patrol (2)",
        "Custodian: 0421 Li Wei (2)",
        "- SN0001 DCIM/100MEDIA/PATROL_LI_1.MP4",
        "- SN0001 DCIM/100MEDIA/PATROL_LI_2.MP4",
        "Unit: Traffic (2)",
        "Custodian: 0421 Li Wei (1)",
        "- SN0001 DCIM/100MEDIA/TRAFFIC_LI.MP4",
        "Custodian: 0612 Zhang Min (1)",
        "- SN0001 DCIM/100MEDIA/TRAFFIC_ZHANG.MP4",
        "Unit: (no unit on record) (1)",
        "Custodian: (no custodian on record) (1)",
        "- SN0099 DCIM/100MEDIA/NOBODY.MP4",
    ]
    # indentation shows the nesting
    assert [len(line) - len(line.lstrip()) for line in lines[:3]] == [2, 4, 6]
    assert "late by 3 h 12 min" in lines[2]


def test_every_kind_is_grouped_and_shown() -> None:
    text = render_text(sample_report(), "Qidong")
    assert section(text, "OVERDUE RECORDERS") == [
        "  Unit: Patrol (1)",
        "    Custodian: 0733 Wang Fang (1)",
        "      - SN0007: overdue by 1 d 1 h; last docked 2026-11-20 02:00 UTC",
    ]
    # the page, the terminal and the e-mail say a drift the same way (it was "-95.5 s" here)
    assert "drift -1 min 36 s (violation, clock-file) in session S-DRIFT" in text
    assert "gap of 7 min from 2026-11-22 06:00 UTC to 2026-11-22 06:07 UTC" in text
    assert "session S-UNSEALED (SN0004), finished 2026-11-22 07:00 UTC: attested by 0421" in text
    # verify failures belong to the store, not to an officer: not grouped
    assert section(text, "VERIFY FAILURES") == [
        "  - objects/blake3/ab/abcd: corrupt (checked 2026-11-22 08:00 UTC)"
    ]


def test_html_groups_like_the_text() -> None:
    report = sample_report()
    text_headers = [
        line.strip()
        for line in section(render_text(report, "Qidong"), "LATE OFFLOADS")
        if line.strip().startswith(("Unit:", "Custodian:"))
    ]
    page = Tags(render_html(report, "Qidong"))
    html_headers = [h for h in page.headers if h.startswith(("Unit:", "Custodian:"))]
    # late offloads come first; their group headers open the list
    assert html_headers[: len(text_headers)] == text_headers
    data = "".join(page.data)
    for needle in ("PATROL_LI_2.MP4", "S-DRIFT", "GAP_AFTER.MP4", "S-UNSEALED", "abcd"):
        assert needle in data


# --- hostile text ---------------------------------------------------------------------

SCRIPT = "<script>alert('pwned')</script>"
IMG_PATH = 'DCIM/"><img src=x onerror=alert(1)>.MP4\nFORGED LINE: all offloads on time'


def hostile_report() -> DeadlineReport:
    return make_report(
        late_offloads=[late(1, "Unit & <b>Co</b>", SCRIPT, path=IMG_PATH)],
        overdue_recorders=[overdue("SN\u202e4PM.EXE", "Patrol", "Li\r\nBcc: x@evil")],
    )


def test_hostile_text_is_escaped_in_html() -> None:
    page = render_html(hostile_report(), "Qidong <i>pack</i>")
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b>" not in lowered
    assert "<i>" not in lowered
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Unit &amp; &lt;b&gt;Co&lt;/b&gt;" in page
    parsed = Tags(page)
    assert parsed.problems == []
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    # the text a reader sees is the original, controls made visible
    data = "".join(parsed.data)
    assert SCRIPT in data
    assert "SN\\u202e4PM.EXE" in data and "\u202e" not in page


def test_hostile_text_cannot_forge_lines_in_text() -> None:
    text = render_text(hostile_report(), "Qidong")
    assert not any(line.startswith("FORGED") for line in text.splitlines())
    assert not any(line.startswith("Bcc:") for line in text.splitlines())
    assert "\\x0aFORGED LINE" in text and "Li\\x0d\\x0aBcc: x@evil" in text
    assert "\u202e" not in text and "SN\\u202e4PM.EXE" in text
    assert f"Custodian: {SCRIPT} (1)" in text  # plain text shows it as it is


def test_hostile_text_stays_out_of_the_headers() -> None:
    message = build_message(hostile_report(), "Qidong", "dockd@dock.example", ["a@example.org"])
    assert message.get_all("Bcc") is None
    assert "evil" not in str(message["Subject"])


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(unit=TEXT, custodian=TEXT, path=TEXT, serial=TEXT)
def test_layout_does_not_depend_on_the_text(
    unit: str, custodian: str, path: str, serial: str
) -> None:
    """Whatever a recorder or the registry says, it is one cell and one piece of a line."""

    def one(u: str, c: str, p: str, s: str) -> DeadlineReport:
        return make_report(
            late_offloads=[late(1, u, c, path=p, serial=s)], overdue_recorders=[overdue(s, u, c)]
        )

    hostile, plain = one(unit, custodian, path, serial), one("u", "c", "p", "s")
    assert len(render_text(hostile, "P").splitlines()) == len(render_text(plain, "P").splitlines())
    a, b = Tags(render_html(hostile, "P")), Tags(render_html(plain, "P"))
    assert a.problems == [] and a.starts == b.starts and a.attrs == b.attrs


# --- recipients and the message -------------------------------------------------------


def test_recipients_are_the_default_plus_each_unit_in_the_report() -> None:
    report = make_report(
        late_offloads=[late(1, "Traffic", "x"), late(2, None, None)],
        overdue_recorders=[overdue("SN1", "Patrol", "y")],
    )
    by_unit = {
        "Traffic": ["traffic-sup@example.org", "OPS@example.org"],
        "Patrol": ["Patrol Desk <patrol@example.org>"],
        "Marine": ["marine@example.org"],  # nothing of theirs in the report
    }
    assert recipients_for(report, ["ops@example.org"], by_unit) == [
        "ops@example.org",
        "Patrol Desk <patrol@example.org>",
        "traffic-sup@example.org",
    ]
    assert recipients_for(make_report(), ["ops@example.org"], by_unit) == ["ops@example.org"]
    assert recipients_for(make_report(), [], by_unit) == []


def test_message_is_multipart_alternative_text_then_html() -> None:
    report = sample_report()
    now = datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC)
    message = build_message(
        report,
        "Qidong",
        "Dock 7 <dockd@dock7.example>",
        ["a@example.org", "b@example.org"],
        now=now,
    )
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content() == render_text(report, "Qidong")
    assert parts[1].get_content() == render_html(report, "Qidong")
    assert message["Subject"] == subject(report)
    assert message["From"] == "Dock 7 <dockd@dock7.example>"
    assert message["To"] == "a@example.org, b@example.org"
    assert parsedate_to_datetime(message["Date"]) == now
    assert message["Message-ID"].endswith("@dock7.example>")
    assert message["Auto-Submitted"] == "auto-generated"
    # on the wire the headers are ASCII (encoded words for — and →)
    assert message.as_bytes().split(b"\n\n", 1)[0].isascii()


def test_message_ids_are_unique_and_never_ask_dns() -> None:
    report = make_report()
    a = build_message(report, "P", "dockd@localhost", ["x@example.org"])
    b = build_message(report, "P", "not an address", ["x@example.org"])
    assert a["Message-ID"] != b["Message-ID"]
    assert a["Message-ID"].endswith("@localhost>")
    assert b["Message-ID"].endswith("@dockd.invalid>")


def test_the_report_says_which_stations_it_covers_and_where_each_late_offload_was() -> None:
    east = late(1, "Traffic", "Li (1001)").model_copy(update={"station": "dock-east"})
    west = late(2, "Traffic", "Li (1001)", serial="SN0002").model_copy(
        update={"station": "dock-west"}
    )
    agency = render_text(make_report(late_offloads=[east, west]), "Qidong")
    assert "(all stations)" in agency.splitlines()[1]
    lines = section(agency, "LATE OFFLOADS")
    assert any(line.endswith(" at dock-east") for line in lines), lines
    assert any(line.endswith(" at dock-west") for line in lines), lines
    html = render_html(make_report(late_offloads=[east]), "Qidong")
    assert ">dock-east</td>" in html
    one = make_report(late_offloads=[east]).model_copy(update={"station": "dock-east"})
    assert "(station dock-east)" in render_text(one, "Qidong").splitlines()[1]
    groups = group_late([east, west])
    assert [(g.serial, g.station) for g in groups] == [
        ("SN0001", "dock-east"),
        ("SN0002", "dock-west"),
    ]
