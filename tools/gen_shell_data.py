"""Generate the man page and the bash/zsh completion from the CLI's
argument parser (lainview.cli.parser.build_parser) into lainview/data/.

    .venv/bin/python tools/gen_shell_data.py          # rewrite the files
    .venv/bin/python tools/gen_shell_data.py --check  # exit 1 if any is stale

The generated files are committed (they ship as package data without
argparse-manpage or shtab at run time); tests/test_packaging.py fails when
they differ from what the parser gives now. The man page's date is the
date of this version's release in the AppStream metainfo, so the output
depends only on the sources.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import shtab
from argparse_manpage.manpage import Manpage

from lainview import __version__
from lainview.cli import build_parser
from lainview.desktop import (BASH_COMPLETION_PATH, MANPAGE_PATH, METAINFO_PATH,
                              ZSH_COMPLETION_PATH)


def release_date(version: str) -> str:
    """The ``date`` of ``version``'s ``<release>`` in the metainfo."""
    for release in ET.parse(METAINFO_PATH).getroot().iter("release"):
        if release.get("version") == version:
            return release.get("date")
    raise SystemExit(f"{METAINFO_PATH.name} has no <release version=\"{version}\">")


def _escape_control_lines(text: str) -> str:
    """troff reads a line starting with ' as a request: help text such as
    "'natural' (the type's size)" would vanish. ``\\&`` (a zero-width
    character) in front makes it text."""
    return "\n".join("\\&" + line if line.startswith("'") else line
                     for line in text.split("\n"))


def render() -> dict[Path, str]:
    """Every generated file and its content."""
    parser = build_parser()
    manpage = Manpage(parser, _data={
        "project_name": "lainview", "version": __version__,
        "date": release_date(__version__), "manual_title": "User Commands",
        "manual_section": 1, "description": "a Linux desktop memory editor"})
    return {
        MANPAGE_PATH: _escape_control_lines(str(manpage)),
        BASH_COMPLETION_PATH: shtab.complete(parser, shell="bash"),
        ZSH_COMPLETION_PATH: shtab.complete(parser, shell="zsh"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report stale files")
    args = ap.parse_args()
    stale = []
    for path, text in render().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
