"""README.md's command-line reference matches the program."""

import argparse
from pathlib import Path

from lainview.cli import build_parser

README = Path(__file__).parent.parent / "README.md"


def _command_table() -> list[str]:
    """The rows of the table under the README's "| command | what it does |"
    header: the lines that follow it while they start with "|" (a blank line
    ends a Markdown table; rows after it are not part of it)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| command | what it does |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_the_command_table_is_one_table_naming_every_command():
    """Every subcommand of `lainview --help` has a row in the one table (the
    scan rows sat after a blank line: Markdown shows them as stray text)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    rows = _command_table()
    missing = [name for name in sub.choices
               if not any(row.startswith(f"| `lainview {name}") for row in rows)]
    assert not missing, missing
