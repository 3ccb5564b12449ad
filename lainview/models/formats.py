"""Text forms the editor reads and writes: copied bytes, human sizes.
Pure functions, no Qt (the CLI uses them too). Values of a type are read and
written by ``backend/value_types``; locations by ``backend/locations``;
search needles by :mod:`.search`."""

from __future__ import annotations


from lainview.backend.errors import InvalidInput


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'; exact bytes below 1 KiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def describe_skipped(skipped: dict[str, int], how: str) -> str:
    """What a first scan left out, for the user who found nothing:
    ``'not scanned: 4.0 KiB shared, 1.2 MiB read-only (to include them: '
    + how + ')'``, where ``how`` names the options (the CLI's flags, the
    GUI's check boxes). ``skipped`` is ``AreaFilter.skipped``'s bytes by
    kind. '' when nothing was left out."""
    if not skipped:
        return ""
    kinds = ", ".join(f"{human_size(n)} {kind}" for kind, n in skipped.items())
    return f"not scanned: {kinds} (to include them: {how})"




# -- copy -------------------------------------------------------------------------------------------
def format_bytes(data: bytes, fmt: str, *, name: str = "data") -> str:
    """``data`` as hex ("de ad be ef"), a C array, or a Python bytes literal."""
    if fmt == "hex":
        return data.hex(" ")
    if fmt == "c":
        lines = []
        for i in range(0, len(data), 12):
            lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 12]) + ",")
        body = "\n".join(lines)
        return f"unsigned char {name}[{len(data)}] = {{\n{body}\n}};"
    if fmt == "python":
        return "b'" + "".join(f"\\x{b:02x}" for b in data) + "'"
    raise InvalidInput(f"unknown copy format {fmt!r}")
