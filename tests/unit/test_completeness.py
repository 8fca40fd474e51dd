"""The completeness rules: what counts as missing, what as a reset, what as healthy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dockd.core.completeness import (
    FatSurvey,
    MiB,
    Numbered,
    check_sequence,
    check_unaccounted_space,
    check_volume_size,
    is_directory_loop,
    last_sequence,
)
from dockd.core.fat import BootRegion, Chain, DirEntry
from dockd.core.said import Said

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def clips(*numbers: int, new: bool = True, start: int = 0) -> list[Numbered]:
    return [Numbered(n, T0 + timedelta(minutes=start + i), new) for i, n in enumerate(numbers)]


def codes(result: object) -> list[str]:
    return [p.code for p in result.problems]  # type: ignore[attr-defined]


def boot(volume_bytes: int) -> BootRegion:
    return BootRegion("FAT32", 512, 4096, volume_bytes, 1000, 16384, 8192, 32768, 2)


def test_a_device_smaller_than_its_filesystem_is_truncated_with_both_sizes() -> None:
    result = check_volume_size(boot(64 * MiB), 20 * MiB)
    assert codes(result) == ["volume-truncated"]
    assert "67108864" in result.problems[0].message and "20971520" in result.problems[0].message
    assert result.figures["device_bytes"] == 20 * MiB


def test_a_device_as_large_as_its_filesystem_or_larger_is_fine() -> None:
    assert check_volume_size(boot(64 * MiB), 64 * MiB).status == "ok"
    assert check_volume_size(boot(64 * MiB), 65 * MiB).status == "ok"


def test_space_in_use_covered_by_files_and_folders_is_accounted_for() -> None:
    files = [5_000_000, 1, 4096]
    used = 5_001_216 + 4096 + 4096 + 3 * 4096  # files rounded up, three folders
    result = check_unaccounted_space(used, 4096, files, 3, "the FAT's own count")
    assert result.status == "ok", result.figures
    assert result.figures["unaccounted_mib"] == 0


def test_seven_unlisted_clips_are_unaccounted_space_in_mib() -> None:
    result = check_unaccounted_space(50 * MiB, 4096, [5 * MiB] * 3, 1, "the FAT's own count")
    assert codes(result) == ["unaccounted-space"]
    assert result.problems[0].message.startswith("35.0 MiB")


def test_a_hole_in_one_session_lists_the_missing_numbers() -> None:
    result = check_sequence(clips(1, 8, 9), None)
    assert codes(result) == ["recordings-missing"]
    assert "numbered 2-7" in result.problems[0].message
    assert result.figures["missing"] == 6


def test_a_session_continues_from_the_last_number_the_ledger_saw() -> None:
    assert check_sequence(clips(11, 12, 13), 10).status == "ok"
    skipped = check_sequence(clips(14, 15, 17), 10)
    assert codes(skipped) == ["recordings-missing"]
    assert "numbered 11-13, 16 " in skipped.problems[0].message


def test_numbers_back_to_one_after_a_format_are_a_reset_not_a_loss() -> None:
    result = check_sequence(clips(1, 2, 3), 57)
    assert codes(result) == ["sequence-reset"]
    assert "from 57 to 1" in result.problems[0].message
    assert result.figures["missing"] == 0


def test_a_counter_wrapping_round_within_a_session_is_a_reset() -> None:
    assert codes(check_sequence(clips(9998, 9999, 1, 2), 9997)) == ["sequence-reset"]


def test_a_hole_already_reported_is_not_reported_again_at_the_next_dock() -> None:
    still_there = clips(1, 8, 9, new=False)
    assert check_sequence([*still_there, *clips(10, start=5)], 9).status == "ok"


def test_the_last_number_is_the_last_clip_of_the_latest_session() -> None:
    early, late = T0, T0 + timedelta(days=1)
    rows = [
        ("s1", early, T0, 40),
        ("s1", early, T0 + timedelta(minutes=1), 41),
        ("s2", late, T0 + timedelta(hours=30), 2),  # after a format
        ("s2", late, T0 + timedelta(hours=29), 1),
        ("s2", late, T0 + timedelta(hours=31), None),
    ]
    assert last_sequence(rows) == 2
    assert last_sequence([]) is None


def test_a_folder_is_a_loop_only_when_it_is_one_of_its_ancestors() -> None:
    assert is_directory_loop(2, [0, 2, 17])
    assert not is_directory_loop(18, [0, 2, 17])


def test_survey_names_cross_links_overruns_and_broken_chains() -> None:
    survey = FatSurvey(cluster_size=512)
    survey.claim("A.AVI", DirEntry("A.AVI", False, 10, 1024), Chain((10, 11), None))
    survey.claim("B.AVI", DirEntry("B.AVI", False, 11, 512), Chain((11,), None))
    survey.claim("C.AVI", DirEntry("C.AVI", False, 20, 4096), Chain((20,), None))
    survey.claim("D.AVI", DirEntry("D.AVI", False, 30, 512), Chain((30,), Said("links to a free")))
    result = survey.result()
    assert [(p.path, p.code) for p in result.problems] == [
        ("B.AVI", "cross-linked"),
        ("C.AVI", "size-overrun"),
        ("D.AVI", "broken-chain"),
    ]
    assert "A.AVI" in result.problems[0].message
