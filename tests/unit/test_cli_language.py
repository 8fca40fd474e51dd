"""`--help` and argparse's words in a locale, without running the CLI: the config path
read before parsing, the formatter's translations, argparse's own words restored."""

from __future__ import annotations

import argparse
import gettext
from pathlib import Path

import pytest

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
        parser(ZH).parse_args(["holds", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("用法：dockd holds [-h] ACTION ...\n")
    assert "\n位置参数:\n" in text and "\n选项:\n" in text
    assert "  -h, --help  显示此帮助信息并退出\n" in text


def test_argparse_speaks_only_while_a_dockd_parser_parses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parser(ZH).parse_args(["holds", "add"])
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
