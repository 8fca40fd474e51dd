"""The five shipped policy packs load, say what their regulations say, and cite real articles."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from dockd.adapters.rules import load_policy
from dockd.core.policy import PolicyPack
from dockd.errors import RulesError

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
SEEDS = REPO.parent / "shared" / "seeds"

PACKS = {
    "dalian-jinpu-ocean": "000",
    "luoyang-water": "001",
    "qidong": "002",
    "mingshan-emergency": "003",
    "dandong-civil-affairs": "004",
}
# Seed 003 holds five regimes, in this order; each title (whitespace removed) contains its key.
MINGSHAN_REGIMES = {
    "A": "音像记录设备使用管理办法和监督规则",
    "B": "执法全过程记录信息收集、保存、管理使用工作制度",
    "C": "记录信息调阅监督制度",
    "D": "执法音像记录管理制度",
    "E": "信息采集存储分析归档制度",
}

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100}
_NUMERAL = "[零〇一二两三四五六七八九十百]+"
_HEADING = re.compile(rf"^[ \t\u3000\xa0]*第({_NUMERAL})条", re.MULTILINE)
_ITEM = re.compile(rf"[（(]\s*({_NUMERAL})\s*[）)]")
_CITATION = re.compile(r"(\d{3})(?:/([A-E]))?:(\d+)(?:\((\d+)\))?")


def chinese_number(text: str) -> int:
    """一 → 1, 十 → 10, 十五 → 15, 二十 → 20, 三十五 → 35, 一百零二 → 102."""
    total, digit = 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (digit or 1) * _UNITS[ch]
            digit = 0
        else:
            raise ValueError(f"{ch!r} in {text!r} is not a Chinese numeral")
    return total + digit


def seed_file(prefix: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the regulations are not at {SEEDS}")
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


def split_articles(text: str) -> list[tuple[int, str, str]]:
    """(number, body, text before the heading since the previous article) per 第…条 heading."""
    matches = list(_HEADING.finditer(text))
    articles = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        before = text[matches[i - 1].end() if i else 0 : m.start()]
        articles.append((chinese_number(m.group(1)), text[m.end() : end], before))
    return articles


@cache
def seed_regimes(prefix: str) -> dict[str | None, dict[int, str]]:
    """Article bodies by number, per regime: {None: ...} for one regime, {"A": ..., ...} for 003."""
    regimes: list[tuple[str, dict[int, str]]] = []
    for number, body, before in split_articles(seed_file(prefix).read_text("utf-8")):
        if number == 1:
            # A restart of 第一条 opens a regime; its title is on the lines just before.
            lines = [line for line in before.splitlines() if line.strip()]
            title = "".join("".join(lines[-2:]).split())
            regimes.append((title, {}))
        assert number not in regimes[-1][1], f"{prefix}: 第{number}条 twice in one regime"
        regimes[-1][1][number] = body
    for title, articles in regimes:
        assert sorted(articles) == list(range(1, len(articles) + 1)), f"{prefix} {title}: gaps"
    if prefix != "003":
        assert len(regimes) == 1, f"{prefix}: expected one regime, found {len(regimes)}"
        return {None: regimes[0][1]}
    assert len(regimes) == len(MINGSHAN_REGIMES)
    for (title, _), (letter, key) in zip(regimes, MINGSHAN_REGIMES.items(), strict=True):
        assert key in title, f"003/{letter}: title {title!r} lacks {key!r}"
    return {
        letter: articles for letter, (_, articles) in zip(MINGSHAN_REGIMES, regimes, strict=True)
    }


def pack(pack_id: str) -> PolicyPack:
    return load_policy(RULES, pack_id)


def citations(p: PolicyPack) -> list[tuple[str, str]]:
    sections = {
        "offload": p.offload,
        "retention": p.retention,
        "clock": p.clock,
        "interruptions": p.interruptions,
        "spot_check": p.spot_check,
        "viewing": p.viewing,
        "export": p.export,
        "activities": p.activities,
    }
    return [(name, ref) for name, section in sections.items() for ref in section.articles]


@pytest.mark.parametrize(
    ("text", "value"),
    [("一", 1), ("十", 10), ("十五", 15), ("二十", 20), ("三十五", 35), ("一百零二", 102)],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_number(text) == value


def test_the_five_packs_and_only_them() -> None:
    assert {f.stem for f in (RULES / "policies").glob("*.toml")} == set(PACKS)
    for pack_id in PACKS:
        assert pack(pack_id).id == pack_id


@pytest.mark.parametrize(("pack_id", "prefix"), PACKS.items())
def test_pack_names_its_seed_and_title(pack_id: str, prefix: str) -> None:
    p = pack(pack_id)
    seed = seed_file(prefix)
    assert p.seed == seed.name
    assert p.name in "".join(seed.read_text("utf-8").split())
    assert p.authority.isascii()
    assert p.authority.strip()


@pytest.mark.parametrize(("pack_id", "prefix"), PACKS.items())
def test_every_cited_article_exists_in_its_seed(pack_id: str, prefix: str) -> None:
    regimes = seed_regimes(prefix)
    for section, ref in citations(pack(pack_id)):
        m = _CITATION.fullmatch(ref)
        assert m, f"{pack_id}.{section}: {ref!r}"
        seed, regime, article, item = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        assert seed == prefix, f"{pack_id}.{section}: {ref} cites another seed"
        assert regime in regimes, f"{pack_id}.{section}: {ref} names no regime of {prefix}"
        assert article in regimes[regime], f"{pack_id}.{section}: {ref} is not in {prefix}"
        if item is not None:
            items = {chinese_number(i) for i in _ITEM.findall(regimes[regime][article])}
            assert int(item) in items, f"{pack_id}.{section}: {ref} has no item ({item})"


@pytest.mark.parametrize(
    ("pack_id", "months"),
    [
        ("qidong", 12),  # the seed names no period for other routine footage: dockd's own
        ("dalian-jinpu-ocean", 36),  # 000:25 保存期3年
        ("luoyang-water", 12),  # 001:14 最少保存 1 年
        ("mingshan-emergency", 36),  # 003/B:8, 003/D:15 不少于3年
        ("dandong-civil-affairs", 12),  # 004:22 最少保存 1 年
    ],
)
def test_routine_retention_is_the_regulations_period(pack_id: str, months: int) -> None:
    retention = pack(pack_id).retention
    assert retention.routine_months == months
    assert retention.evidence == "with-case-file"
    assert ("routine_months" in retention.dockd_own) == (pack_id == "qidong")


def test_qidong_patrol_and_inspection_footage_has_its_own_shorter_class() -> None:
    """002:18(1): 日常巡查检查 footage at least 6 months; unknown kinds keep the longest."""
    p = pack("qidong")
    assert p.retention.classes == {"patrol-inspection": 6}
    assert p.retention.months_for(["patrol-inspection"]) == ("patrol-inspection", 6)
    assert p.retention.months_for([]) == ("routine", 12)
    assert p.retention.months_for(["patrol-inspection", "routine"]) == ("routine", 12)
    assert p.activities.retention_class["patrol"] == "patrol-inspection"
    assert "special-inspection" not in p.activities.retention_class
    assert all(not pack(i).retention.classes for i in PACKS if i != "qidong")


@pytest.mark.parametrize(
    ("pack_id", "types"),
    [
        ("dalian-jinpu-ocean", {"inspection", "complaint", "service", "coercive-enforcement"}),
        ("luoyang-water", {"inspection", "interview", "correction-check", "non-cooperation"}),
        ("qidong", {"patrol", "summary-penalty", "petition-reception"}),
        ("mingshan-emergency", {"inspection", "coercive-measure"}),
        ("dandong-civil-affairs", {"inspection", "service", "coercive-measure"}),
    ],
)
def test_activities_that_need_footage_follow_the_seed(pack_id: str, types: set[str]) -> None:
    need = pack(pack_id).activities.need_footage
    assert types <= set(need)
    assert len(set(need)) == len(need)


def test_long_term_reasons_only_where_the_text_lists_them() -> None:
    dalian = pack("dalian-jinpu-ocean").retention.long_term_reasons
    assert {"complaint", "mass-incident", "obstruction-of-officers"} <= set(dalian)
    for reason in dalian:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", reason), reason
    for pack_id in set(PACKS) - {"dalian-jinpu-ocean"}:
        assert pack(pack_id).retention.long_term_reasons == []


def test_only_dandong_requires_a_two_person_seal() -> None:
    assert {i for i in PACKS if pack(i).offload.two_person_seal} == {"dandong-civil-affairs"}


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_offload_deadline_is_24_hours(pack_id: str) -> None:
    assert pack(pack_id).offload.deadline_hours == 24


def test_first_opportunity_as_a_number_is_dockds_interpretation() -> None:
    """000:24, 001:13, 004:21 say 第一时间; 002:16 says 执法活动结束后: the number is dockd's.
    003/A:11 and 003/D:14 themselves say 24 h after the day's work."""
    own = {i for i in PACKS if "deadline_hours" in pack(i).offload.dockd_own}
    assert own == set(PACKS) - {"mingshan-emergency"}


def test_equipment_ratios_are_the_seeds_and_dalians_class_is_dockds_assumption() -> None:
    """000:8 sets three classes (A: one per 3 officers, B: one per 5, C: as needed) and
    leaves the department's class open: class A is dockd's assumption, marked as such.
    003/A:7(1) one per front-line officer; 004:9 at least two per unit: the seeds' own."""
    dalian, mingshan, dandong = (
        pack(i).equipment
        for i in ("dalian-jinpu-ocean", "mingshan-emergency", "dandong-civil-affairs")
    )
    assert dalian is not None and mingshan is not None and dandong is not None
    assert (dalian.officers_per_recorder, dalian.min_per_unit) == (3, None)
    assert dalian.dockd_own == ["officers_per_recorder"]
    assert (mingshan.officers_per_recorder, mingshan.dockd_own) == (1, [])
    assert (dandong.min_per_unit, dandong.dockd_own) == (2, [])
    assert {i for i in PACKS if pack(i).equipment is None} == {"luoyang-water", "qidong"}


def test_spot_check_ratios_cite_only_spot_check_articles() -> None:
    """000:32, 002:20 and 004:28 are about spot checks; Luoyang and Mingshan have none."""
    cited = {i: pack(i).spot_check.articles for i in PACKS}
    assert cited["luoyang-water"] == [] and cited["mingshan-emergency"] == []
    assert cited["dalian-jinpu-ocean"] == ["000:32"]
    assert cited["qidong"] == ["002:20"]
    assert cited["dandong-civil-affairs"] == ["004:28"]
    assert all(pack(i).spot_check.dockd_own == ["ratio"] for i in PACKS)


@pytest.mark.parametrize("pack_id", PACKS)
def test_dockd_defaults_where_the_text_gives_no_number(pack_id: str) -> None:
    p = pack(pack_id)
    assert (p.clock.drift_warn_s, p.clock.drift_violation_s) == (2, 30)
    assert p.clock.on_unsynchronised == "warn"
    assert p.clock.set_recorder_clock is False
    assert p.interruptions.gap_tolerance_s == 120
    assert p.spot_check.ratio == 0.05
    assert p.viewing.approvers or p.viewing.approvers_outside_unit
    assert p.viewing.open_hours is None, "how long a viewing stays open is dockd's own"
    assert set(p.clock.dockd_own) == {
        "drift_warn_s",
        "drift_violation_s",
        "on_unsynchronised",
        "set_recorder_clock",
    }
    assert set(p.interruptions.dockd_own) == {"gap_tolerance_s", "duty_break_hours"}


def test_unknown_pack_names_the_known_ones() -> None:
    with pytest.raises(RulesError) as caught:
        load_policy(RULES, "dalian")
    message = str(caught.value)
    assert "'dalian'" in message
    for pack_id in PACKS:
        assert pack_id in message


def test_qidong_viewing_is_tiered_by_unit() -> None:
    """002:17: the unit's own officers need the deputy leader in charge; others the head."""
    viewing = pack("qidong").viewing
    assert viewing.approvers == ["deputy leader in charge of enforcement"]
    assert viewing.approvers_outside_unit == ["head of enforcement department"]
    assert viewing.officer_role == "enforcement officer"
    tiered = {"qidong", "mingshan-emergency"}
    assert all(not pack(p).viewing.approvers_outside_unit for p in PACKS if p not in tiered)


def test_mingshan_handling_section_views_its_own_files_without_approval() -> None:
    """003/C:6: the handling section views its own files; 003/C:5-8: others need its leader."""
    viewing = pack("mingshan-emergency").viewing
    assert viewing.approvers == []
    assert viewing.approvers_outside_unit == ["leader in charge of the handling section"]


def test_dandong_approvals_come_in_order() -> None:
    """004:24: the office director reviews, then the deputy director in charge approves."""
    viewing = pack("dandong-civil-affairs").viewing
    assert viewing.ordered
    assert viewing.approvers == ["office director", "deputy director in charge"]


def test_dockd_own_must_name_keys_of_its_section() -> None:
    from pydantic import ValidationError

    from dockd.core.policy import SpotCheckPolicy

    with pytest.raises(ValidationError, match="'ratoi', not a key of this section"):
        SpotCheckPolicy(ratio=0.1, articles=["000:32"], dockd_own=["ratoi"])
    with pytest.raises(ValidationError, match="articles is empty"):
        SpotCheckPolicy(ratio=0.1, articles=[])
    assert SpotCheckPolicy(ratio=0.1, articles=[], dockd_own=["ratio"]).articles == []
