"""A damaged FAT recorder docked through real udevd by a station that speaks zh-CN: the
FAT's own problems (a cross-linked entry, an entry larger than its clusters) are said in
Chinese by `sessions`, while the JSON keeps the English with its template and values."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, Dock, blob, fat32_recorder, wait_for
from tests.integration.test_cli_languages import english_in
from tests.support.media import fat_first_cluster, patch_fat_entry

pytestmark = pytest.mark.root


def test_the_fats_problems_are_said_in_chinese(dock: Dock, daemon: Daemon, tmp_path: Path) -> None:
    daemon.write_config(language="zh-CN")
    daemon.start()
    files = {f"DCIM/CLIP000{i}.AVI": blob(f"x{i}", 200_000) for i in (1, 2, 3, 4)}
    img = fat32_recorder(tmp_path / "SNXLZH.dockrec", "SNXLZH", files)
    patch_fat_entry(img, "CLIP0002.AVI", first_cluster=fat_first_cluster(img, "CLIP0001.AVI"))
    patch_fat_entry(img, "CLIP0004.AVI", size=2_000_000)
    dock.plug(img)

    [session] = wait_for(partial(daemon.finished, "SNXLZH"), 120, "SNXLZH to finish")
    problems = {(p["path"], p["code"]): p for p in session["problems"]}
    overrun = problems["DCIM/CLIP0004.AVI", "size-overrun"]
    held = overrun["values"]["held"]
    assert overrun["message"] == (
        f"the entry says 2000000 bytes but its clusters hold {held}: only those bytes can be copied"
    )
    assert overrun["values"] == {"size": 2_000_000, "held": held}
    crossed = problems["DCIM/CLIP0002.AVI", "cross-linked"]
    assert crossed["values"]["other"] == "DCIM/CLIP0001.AVI"

    listed = daemon.cli("sessions")
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if line.startswith("  问题 ")]
    assert (
        f"  问题 size-overrun：DCIM/CLIP0004.AVI：目录项记载为 2000000 字节，但其簇只容纳 "
        f"{held} 字节：只能复制这些字节" in lines
    ), lines
    count = crossed["values"]["count"]
    assert (
        f"  问题 cross-linked：DCIM/CLIP0002.AVI：其中 {count} 个簇同时属于 DCIM/CLIP0001.AVI："
        "两者之一存放的是另一方的数据"
    ) in lines, lines
    values = [p["path"] for p in session["problems"]] + [p["code"] for p in session["problems"]]
    assert english_in("\n".join(lines), *values) == []
