"""`--help` and argparse's words in a locale, without running the CLI: the config path
read before parsing, the formatter's translations, argparse's own words restored."""

from __future__ import annotations

import argparse
import gettext
from pathlib import Path

import pytest

from dockd.cli import language
from dockd.cli.language import config_path, parser_class, speaking
from dockd.cli.main import parser
from dockd.ui.i18n import ENGLISH, Locale

ZH = Locale("zh-CN")


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["--config", "/etc/x.toml", "holds", "list"], Path("/etc/x.toml")),
        (["--config=/etc/y.toml", "--help"], Path("/etc/y.toml")),
        (["holds", "--help"], None),
        (["--", "--config", "/etc/z.toml"], None),
        (["--config"], None),
    ],
)
def test_the_config_is_found_before_parsing(argv: list[str], path: Path | None) -> None:
    assert config_path(argv) == path


def test_help_is_laid_out_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser(None, ZH).parse_args(["holds", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("用法：dockd holds [-h] ACTION ...\n")
    assert "\n位置参数:\n" in text and "\n选项:\n" in text
    assert "  -h, --help  显示此帮助信息并退出\n" in text


def test_argparse_speaks_only_while_a_dockd_parser_parses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parser(None, ZH).parse_args(["holds", "add"])
    assert capsys.readouterr().err.endswith("dockd holds add：错误：缺少以下必需参数：recording\n")
    assert vars(argparse)["_"] is gettext.gettext  # restored after the error
    plain = argparse.ArgumentParser(prog="other")
    with pytest.raises(SystemExit):
        plain.parse_args(["--nope"])
    assert "other: error: unrecognized arguments: --nope" in capsys.readouterr().err


def test_nested_speakers_restore_in_turn() -> None:
    with speaking(ZH):
        assert vars(argparse)["_"]("usage: ") == "用法："
        with speaking(ENGLISH):
            assert vars(argparse)["_"]("usage: ") == "usage: "
        assert vars(argparse)["_"]("usage: ") == "用法："
    assert vars(argparse)["_"] is gettext.gettext


def test_a_parser_class_per_speaker() -> None:
    assert parser_class(ZH).speaker is ZH and parser_class(ENGLISH).speaker is ENGLISH


# --- the language as the config writes it -------------------------------------------------


def test_the_quick_reading_knows_dockd_configs_defaults() -> None:
    from dockd import config

    assert language.DEFAULT_CONFIG == config.DEFAULT_CONFIG_PATH
    assert config.PolicyConfig().pack == language.DEFAULT_PACK
    assert language.SHIPPED_RULES == config.SHIPPED_RULES


@pytest.mark.parametrize(
    ("text", "pack_language"),
    [
        ('[station]\nlanguage = "en"\n', None),
        ('[station]\nlanguage = "zh-CN"\n[policy]\npack = "qidong"\n', None),
        ('[policy]\npack = "qidong"\n', None),  # the pack's: zh-CN
        ('[policy]\npack = "mine"\n[rules]\ndir = "{rules}"\n', "en"),
        ('[policy]\npack = "mine"\n[rules]\ndir = "{rules}"\n', None),  # a pack naming none
    ],
)
def test_the_quick_reading_agrees_with_the_full_config(
    tmp_path: Path, text: str, pack_language: str | None
) -> None:
    from dockd.adapters.rules import load_config
    from dockd.app import App

    rules = tmp_path / "rules"
    (rules / "policies").mkdir(parents=True)
    shipped = (language.SHIPPED_RULES / "policies" / "qidong.toml").read_text("utf-8")
    mine = shipped.replace('id = "qidong"', 'id = "mine"').replace('language = "zh-CN"\n', "")
    if pack_language is not None:
        mine = mine.replace("[station]\n", f'[station]\nlanguage = "{pack_language}"\n', 1)
    (rules / "policies" / "mine.toml").write_text(mine, "utf-8")
    config = tmp_path / "dockd.toml"
    config.write_text(text.replace("{rules}", str(rules)), "utf-8")
    full = App(load_config(config, environ={})).locale.language
    assert language.written_language(["--config", str(config)], environ={}) == full


def test_what_the_quick_reading_leaves_to_the_full_config(tmp_path: Path) -> None:
    config = tmp_path / "dockd.toml"
    config.write_text('[station]\nlanguage = "en"\n', "utf-8")
    argv = ["--config", str(config)]
    assert language.written_language(argv, environ={"DOCKD_STATION__LANGUAGE": "zh-CN"}) is None
    config.write_text("[station\n", "utf-8")
    assert language.written_language(argv, environ={}) is None  # not TOML
    config.write_text('[station]\nlanguage = "fr"\n', "utf-8")
    assert language.written_language(argv, environ={}) is None  # not a language dockd has
    missing = ["--config", str(tmp_path / "none.toml")]
    assert language.written_language(missing, environ={}) is None
