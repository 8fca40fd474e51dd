"""The CLI in the station's language, run as an admin runs it: `--help`, argparse's own
errors, the commands' output and dockd's errors, in zh-CN under `[station] language =
"zh-CN"` and in English under "en"; JSON stays English-keyed whatever the language."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Dockd, unfreeze, write_config

# three ASCII words in a row is English prose; option names, metavars, codes and values
# (ids, paths, serials, `dockd ...` commands) are not runs of plain words
SENTENCE = re.compile(r"(?<![\w./`-])[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}(?![\w/`-])")
COMMANDS = re.compile(r"`[^`]*`")


def english_in(text: str, *values: str) -> list[str]:
    """The English sentences in `text`, once the values it quotes are taken out."""
    for value in values:
        text = text.replace(value, "")
    return SENTENCE.findall(COMMANDS.sub("", text))


def recorder(root: Path) -> Path:
    folder = root / "rec" / "DCIM"
    folder.mkdir(parents=True)
    (folder / "QD0001_20261126081000.MP4").write_bytes(b"\0" * 4096)
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
