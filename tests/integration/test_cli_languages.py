"""The CLI in the station's language, run as an admin runs it: `--help`, argparse's own
errors, the commands' output and dockd's errors, in zh-CN under `[station] language =
"zh-CN"` and in English under "en"; JSON stays English-keyed whatever the language."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, Dockd, unfreeze, write_config

# three ASCII words in a row is English prose; option names, metavars, codes and values
# (ids, paths, serials, `dockd ...` commands) are not runs of plain words
WORD = r"[A-Za-z]{2,}(?:\((?:s|es|ies)\))?"
SENTENCE = re.compile(rf"(?<![\w./`-]){WORD}(?:[ ,]+{WORD}){{2,}}(?![\w/`-])")
COMMANDS = re.compile(r"`[^`]*`")


def english_in(text: str, *values: str) -> list[str]:
    """The English sentences in `text`, once the values it quotes are taken out."""
    for value in values:
        text = text.replace(value, "")
    return SENTENCE.findall(COMMANDS.sub("", text))


def recorder(root: Path) -> Path:
    folder = root / "rec" / "DCIM"
    folder.mkdir(parents=True)
    clip = folder / "QD0001_20261126081000.MP4"
    clip.write_bytes(b"\0" * 4096)
    ended = datetime(2026, 11, 26, 0, 10, tzinfo=UTC).timestamp()  # 08:10 in Qidong
    os.utime(clip, (ended, ended))
    return root / "rec"


@pytest.fixture
def chinese(tmp_path: Path) -> Iterator[Dockd]:
    store = tmp_path / "store"
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = write_config(tmp_path / "dockd.toml", store, ledger, language="zh-CN")
    yield Dockd(config, store, ledger)
    unfreeze(store)


def run_dockd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockd.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )


# --- --help and argparse's words ------------------------------------------------------------


def test_help_in_chinese(chinese: Dockd) -> None:
    top = chinese.run("--help")
    assert top.returncode == 0, top.stderr
    lines = top.stdout.splitlines()
    assert lines[0].startswith("用法：dockd [-h] [--config CONFIG]")
    assert "`dockd` 命令。退出码 0 = 正常，1 = 有问题，2 = 用法或配置错误。" in top.stdout
    assert "位置参数:" in lines and "选项:" in lines
    assert "  -h, --help       显示此帮助信息并退出" in lines
    assert "  --version        显示程序版本号并退出" in lines
    assert "    holds          无论保留期限如何都保存录像" in lines
    assert english_in(top.stdout) == []

    add = chinese.run("holds", "add", "--help")
    assert add.returncode == 0, add.stderr
    assert add.stdout.startswith("用法：dockd holds add [-h] (--case CASE | --reason REASON)")
    assert "  --case CASE      案件编号：随案卷保存\n" in add.stdout
    assert "  --by BY          操作人（记入保管日志）\n" in add.stdout
    assert english_in(add.stdout, "dockd holds add") == []


def test_help_in_english(dockd: Dockd) -> None:
    """The tests' configs say [station] language = "en"."""
    top = dockd.run("--help")
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("usage: dockd [-h] [--config CONFIG]")
    assert "  -h, --help       show this help message and exit\n" in top.stdout
    assert "    holds          keep recordings whatever their retention date\n" in top.stdout
    add = dockd.run("holds", "add", "--help")
    assert "  --case CASE      case number: kept with the case file\n" in add.stdout


@pytest.mark.parametrize("broken", ["missing", "not toml", "a bad value"])
def test_help_without_a_usable_config_is_english(tmp_path: Path, broken: str) -> None:
    """No station, no language: English, and the help still works."""
    config = tmp_path / "dockd.toml"
    if broken == "not toml":
        config.write_text("[station\n", "utf-8")
    elif broken == "a bad value":
        config.write_text('[station]\nlanguage = "fr"\n', "utf-8")
    helped = run_dockd("--config", str(config), "--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: dockd [-h] [--config CONFIG]")


def test_help_with_the_embedded_defaults_is_the_default_packs_chinese() -> None:
    """No config file at all: the embedded defaults, whose pack speaks zh-CN."""
    if Path("/etc/dockd/dockd.toml").exists():
        pytest.skip("this host has /etc/dockd/dockd.toml")
    helped = run_dockd("--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("用法：dockd [-h] [--config CONFIG]")


def test_usage_errors_in_chinese(chinese: Dockd) -> None:
    missing = chinese.run("holds", "add")
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[-1] == "dockd holds add：错误：缺少以下必需参数：recording"
    unknown = chinese.run("holdz")
    assert unknown.returncode == 2
    assert "dockd：错误：参数 COMMAND：无效的选项：'holdz'（可选：'run', " in unknown.stderr
    assert english_in(missing.stderr + unknown.stderr, "dockd holds add") == []


# --- the commands' output -----------------------------------------------------------------


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_commands_speak_chinese(chinese: Dockd, tmp_path: Path) -> None:
    """Each command's human output: the known lines exactly, and no English sentence."""
    docked = chinese.ingest(recorder(tmp_path), "QD0001")
    assert docked.stdout.startswith("会话 "), docked.stderr
    said: list[str] = []

    recordings = lines(chinese.run("recordings"))
    # the clip named 08:10 reads 08:10 in the pack's zone (Asia/Shanghai), not 00:10 UTC
    assert re.fullmatch(
        r" +1 QD0001 2026-11-26 08:10 \+08:00 +4096 [0-9a-f]{16} DCIM/QD0001_20261126081000.MP4",
        recordings[0],
    ), recordings
    sessions = lines(chinese.run("sessions"))
    [recorded] = json.loads(chinese.run("sessions", "--json").stdout)
    state = {"completed": "完成", "completed_with_problems": "完成但有问题"}[recorded["state"]]
    problems = len(recorded["problems"])
    assert re.fullmatch(
        rf"\S+ QD0001 {state} +\d{{4}}-\d\d-\d\d \d\d:\d\d \+08:00 已复制=1 问题={problems}",
        sessions[0],
    ), sessions
    said += recordings + sessions

    placed = lines(chinese.run("holds", "add", "1", "--case", "案2026-1", "--by", "张伟"))
    assert placed == ["已对录像 1 设置保全 1：case 案2026-1"]
    listed = lines(chinese.run("holds", "list"))
    placed_at = r"\d{4}-\d\d-\d\d \d\d:\d\d \+08:00"
    assert re.fullmatch(rf" +1 录像 1 +case:案2026-1  由 张伟 于 {placed_at} 设置  有效", listed[0])
    released = lines(chinese.run("holds", "release", "1", "--reason", "结案", "--by", "张伟"))
    assert released == ["保全 1 已解除"]
    history = lines(chinese.run("holds", "list", "--all"))
    assert re.fullmatch(
        rf" +1 录像 1 +case:案2026-1  由 张伟 于 {placed_at} 设置  已于 {placed_at} 解除",
        history[0],
    )
    said += placed + listed + released + history

    added = lines(chinese.run("devices", "add", "QD0001", "--model", "X1"))
    assert added == ["已登记执法记录仪 QD0001（X1）"]
    handed = chinese.run("devices", "assign", "QD0001", "--badge", "0421", "--name", "张伟")
    assert handed.returncode == 2  # --unit is required: argparse says so in Chinese
    assert handed.stderr.splitlines()[-1] == "dockd devices assign：错误：缺少以下必需参数：--unit"
    assign = ("devices", "assign", "QD0001", "--badge", "0421", "--name", "张伟")
    assigned = lines(chinese.run(*assign, "--unit", "启东市城管局"))
    assert assigned == ["执法记录仪 QD0001 现由 张伟（0421），启东市城管局 保管"]
    reclaimed = lines(chinese.run("devices", "reclaim", "QD0001", "--reason", "调岗"))
    assert reclaimed == ["执法记录仪 QD0001 已收回：调岗"]
    devices = lines(chinese.run("devices", "list"))
    assert re.fullmatch(r"QD0001 +X1 +未分配", devices[0])
    said += added + assigned + reclaimed + devices

    expirable = lines(chinese.run("retention", "expire", "--dry-run"))
    assert expirable == ["0 个对象可到期删除"]
    audited = lines(chinese.run("audit", "verify"))
    assert re.fullmatch(
        r"保管链完整：工作站 \S+，\d+ 个事件；全部 \d+ 条证据记录和 1 份清单与之一致", audited[-1]
    ), audited
    verified = lines(chinese.run("verify"))
    assert verified[0] == "已校验 2 个对象：2 个与台账一致"
    said += expirable + audited + verified

    registered = chinese.run(
        "operators", "add", "0422", "--name", "李娜", "--role", "case leader",
        "--passphrase-stdin", input="口令口令口令口令口令口令\n",
    )  # fmt: skip
    assert lines(registered) == ["操作人员 0422 已登记：李娜，角色 case leader"]
    operators = lines(chinese.run("operators", "list"))
    assert re.fullmatch(r"0422 +李娜 +- +case leader", operators[0])
    disabled = lines(chinese.run("operators", "disable", "0422"))
    assert disabled == ["操作人员 0422 已停用"]
    said += operators + disabled

    pack = tomllib.loads((REPO / "rules/policies/dalian-jinpu-ocean.toml").read_text("utf-8"))
    shown = lines(chinese.run("policy", "show"))
    assert shown[0] == f"dalian-jinpu-ocean：{pack['name']}"
    assert "[offload]  依据 000:24" in shown
    assert "  deadline_hours = 24.0  （dockd 自定，非规定原文）" in shown
    said += shown
    # the pack's own words (its authority, roles, reasons) are values, not dockd's text
    values = [
        pack["authority"],
        "case leader",
        "evidence officer",
        *pack["retention"].get("long_term_reasons", []),
    ]
    assert english_in("\n".join(said), *values) == []


def test_the_commands_speak_english(dockd: Dockd, tmp_path: Path) -> None:
    dockd.ingest(recorder(tmp_path), "QD0001")
    placed = lines(dockd.run("holds", "add", "1", "--case", "C-1", "--by", "zhang"))
    assert placed == ["hold 1 placed on recording 1: case C-1"]
    assert lines(dockd.run("devices", "add", "QD0001", "--model", "X1")) == [
        "registered recorder QD0001 (X1)"
    ]
    assert lines(dockd.run("retention", "expire", "--dry-run")) == ["0 object(s) expirable"]


def test_json_stays_english_keyed(chinese: Dockd, tmp_path: Path) -> None:
    chinese.ingest(recorder(tmp_path), "QD0001")
    chinese.run("holds", "add", "1", "--case", "案2026-1", check=True)
    (recording,) = chinese.json("recordings")
    assert recording["path"] == "DCIM/QD0001_20261126081000.MP4" and "blake3" in recording
    (session,) = chinese.json("sessions")
    assert {"id", "serial", "state", "recordings", "problems"} <= set(session)


# --- dockd's errors ------------------------------------------------------------------------


def test_an_unknown_recording_is_refused_in_chinese_with_its_code(chinese: Dockd) -> None:
    refused = chinese.run("holds", "add", "999", "--case", "案2026-1")
    assert refused.returncode == 1
    assert refused.stderr == (
        "dockd 出错：LEDGER_FAILED: 没有录像 999\n  提示：录像编号请查看 `dockd recordings`。\n"
    )


def test_an_unknown_recording_in_english(dockd: Dockd) -> None:
    refused = dockd.run("holds", "add", "999", "--case", "C-1")
    assert refused.stderr.splitlines() == [
        "dockd: LEDGER_FAILED: no recording 999",
        "  hint: See `dockd recordings` for recording ids.",
    ]


def test_a_bad_config_value_is_named_in_chinese(tmp_path: Path) -> None:
    """An unknown [policy] pack: the pack cannot give the language, [station] does."""
    store, ledger = tmp_path / "store", f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = write_config(
        tmp_path / "dockd.toml", store, ledger, '[policy]\npack = "nope"\n', language="zh-CN"
    )
    shown = run_dockd("--config", str(config), "policy", "show")
    assert shown.returncode == 2
    first, hint = shown.stderr.splitlines()
    assert first.startswith("dockd 出错：RULES_INVALID: ")
    known = "dalian-jinpu-ocean, dandong-civil-affairs, luoyang-water, mingshan-emergency, qidong"
    assert first.endswith(f" 中没有管理规定 'nope'（已有：{known}）")
    assert hint == "  提示：请将 [policy] pack 设为已有的管理规定之一。"


def test_a_bad_argument_type_is_refused_in_chinese(chinese: Dockd) -> None:
    refused = chinese.run(
        "devices", "assign", "QD0001", "--badge", "1", "--name", "张伟", "--unit", "城管",
        "--at", "2026-12-01T08:00",
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == (
        "dockd devices assign：错误：参数 --at：'2026-12-01T08:00' 没有 UTC 偏移（例如 +08:00）"
    )


def test_status_without_the_daemon_says_why_in_chinese(chinese: Dockd) -> None:
    """No daemon answers at [web] listen: the picture is the ledger's, and it says so."""
    shown = chinese.run("status", env={"COLUMNS": "200"})
    head, why = shown.stdout.splitlines()[:2]
    assert (
        head.startswith("dockd · ")
        and head.endswith("  守护进程未运行")
        and " · 来自台账 · " in head
    )
    assert re.fullmatch(
        r"dockd 未运行（http://127\.0\.0\.1:\d+/ 无应答：.+）：此状态仅来自台账。", why
    )
    as_json = chinese.run("status", "--json")
    assert as_json.stderr.startswith("dockd: dockd 未运行（")
    assert '"live": false' in as_json.stdout  # the document itself keeps its English keys


def test_a_folder_that_is_not_a_store_is_refused_in_chinese(chinese: Dockd, tmp_path: Path) -> None:
    """A store error raised with its values (StoreLayoutError) is said whole in Chinese."""
    chinese.store.mkdir()
    (chinese.store / "notes.txt").write_text("not evidence\n", "utf-8")
    refused = chinese.ingest(recorder(tmp_path), "QD0001")
    assert refused.returncode == 1
    assert refused.stderr == (
        f"dockd 出错：STORE_LAYOUT: {chinese.store} 不是空文件夹，也不是 dockd 存储\n"
        "  提示：[store] root 中的内容不是此布局版本的 dockd 存储。\n"
    )
