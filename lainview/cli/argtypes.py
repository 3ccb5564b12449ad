"""argparse types shared by the process and kernel CLIs: backend parsers
whose InvalidInput becomes argparse's own usage error (exit 2)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..backend.errors import LainviewError

if TYPE_CHECKING:
    from ..backend.locations import Location


def argtype(parser_fn):
    """Wrap a backend parser (parse_location, parse_hex_bytes, ...) for argparse."""
    def convert(text: str):
        try:
            return parser_fn(text)
        except LainviewError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
    convert.__name__ = parser_fn.__name__
    return convert


# The kernel's PID_MAX_LIMIT (4 Mi on 64-bit): no process id is ever larger.
PID_MAX_LIMIT = 1 << 22


def pid(text: str) -> int:
    """A process id: decimal, 1 .. PID_MAX_LIMIT."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}")
    if value > PID_MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"not a process id: {text} is above the kernel's limit {PID_MAX_LIMIT}")
    return value


def count(text: str) -> int:
    """A non-negative decimal count (``--limit``)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def entry_id(text: str) -> int:
    """A journal entry id: a positive decimal number."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a journal entry id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a journal entry id: {text!r}")
    return value


# --module vmlinux: the kernel proper.
KERNEL_MODULE_ALIAS = "vmlinux"


def kernel_location(text: str) -> "Location":
    """A kernel location in the one grammar (``locations.parse_location``):
    ``kernel:[MODULE:]SYMBOL[+offset]``, or the same without ``kernel:``
    (``jiffies``, ``jiffies+0x8``). InvalidInput for a pointer path, a
    negative offset (kernel values are read from their symbol on) or a name
    past the kernel's limits."""
    from ..backend.errors import InvalidInput
    from ..backend.kmem import encode_module_name, encode_symbol_name
    from ..backend.locations import parse_location
    location = parse_location(text if text.startswith("kernel:") else "kernel:" + text)
    if location.steps:
        raise InvalidInput(f"{location.text}: a kernel location is a symbol and an offset; "
                           "to read through a pointer the symbol holds, use --indirect")
    if location.offset < 0:
        raise InvalidInput(f"{location.text}: a kernel value is read from its symbol on, so "
                           "its offset cannot be negative")
    encode_symbol_name(location.name)
    if location.module:
        encode_module_name(location.module)
    return location


def kernel_module_name(text: str) -> str:
    """A kernel module name (or ``vmlinux``); InvalidInput past the kernel's limit."""
    from ..backend.kmem import encode_module_name
    if text != KERNEL_MODULE_ALIAS:
        encode_module_name(text)
    return text


def kernel_read_length(text: str) -> int:
    """A kread length: a size (decimal or 0x hex) the kernel backend accepts."""
    from ..backend.kernel import check_read_length
    from ..backend.memory import parse_size
    return check_read_length(parse_size(text))
