"""argparse types shared by the process and kernel CLIs: backend parsers
whose InvalidInput becomes argparse's own usage error (exit 2)."""

from __future__ import annotations

import argparse

from .backend.errors import LainviewError


def argtype(parser_fn):
    """Wrap a backend parser (parse_address, parse_hex_bytes, ...) for argparse."""
    def convert(text: str):
        try:
            return parser_fn(text)
        except LainviewError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
    convert.__name__ = parser_fn.__name__
    return convert


def pid(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}")
    return value
