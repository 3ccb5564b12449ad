"""Every argument of the CLI has help text, and every subcommand's --help
shows an example of itself (the man page and completions are generated from
the same parser: tools/gen_shell_data.py)."""

import argparse
import shlex

import pytest

from lainview.cli import build_parser
from lainview.cli.parser import SUBCOMMANDS


def parsers():
    """(name, parser) for the top-level parser and every subcommand's."""
    top = build_parser()
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return [("lainview", top), *sorted(sub.choices.items())]


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    # help=argparse.SUPPRESS hides an option on purpose (desktop --prefix, for tests).
    return [a.dest for a in parser._actions
            if not isinstance(a, argparse._SubParsersAction) and not a.help]


@pytest.mark.parametrize("name,parser", parsers(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_argument_has_help(name, parser):
    assert undocumented(parser) == []


def test_the_check_sees_an_argument_without_help():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--loud", action="store_true", help="say more")
    assert undocumented(parser) == ["quiet"]


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    example = help_text.split("example:\n", 1)[1]
    assert example.strip().splitlines()[0].startswith(f"lainview {command} ")


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_example_parses(command):
    """An example that the parser would reject teaches the wrong thing."""
    for line in SUBCOMMANDS[command].example.splitlines():
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert args.command == command


@pytest.mark.parametrize("argv", [["--help"], ["-h", "maps", "1"],
                                  ["--backend", "procfs", "--help", "ps"]])
def test_the_top_level_help_lists_every_command_whatever_follows(argv, capsys):
    """Running a command makes only its parser (start-up); a help option
    before the command still shows the whole grammar."""
    from lainview.cli import run_cli
    with pytest.raises(SystemExit) as done:
        run_cli(argv)
    assert done.value.code == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert sorted(listed) == sorted(SUBCOMMANDS)


def test_a_command_run_alone_has_its_own_help(capsys):
    from lainview.cli import run_cli
    with pytest.raises(SystemExit) as done:
        run_cli(["--backend", "procfs", "maps", "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: lainview maps ")
