"""How counts and type names are said in messages (one home for the
grammar of lainview's text): ``counted(1, "match")`` is "1 match",
``counted(2, "match")`` "2 matches"; ``article("i32")`` is "an i32"."""

from __future__ import annotations

# Letters whose spoken name starts with a vowel sound ("an f32", "an s64",
# "an i32"; but "a u8", "a utf8" and "a bytes value" by the word itself).
_VOWEL_LETTERS = set("aefhilmnorsx")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 byte", "0 bytes",
    "3 matches" (nouns ending in s, x, ch, sh take "es"; ``plural`` for
    any other). Thousands are not separated."""
    if n == 1:
        return f"1 {noun}"
    if plural is None:
        plural = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{n} {plural}"


def article(name: str) -> str:
    """``name`` with "a" or "an" before it, as said aloud: a type name that
    starts with a letter and a digit (i32, f64, s16) by the letter's
    name, any other word by its first letter (a vowel: "an")."""
    if len(name) > 1 and name[0].isalpha() and name[1].isdigit():
        vowel = name[0].lower() in _VOWEL_LETTERS
    else:
        vowel = name[:1].lower() in set("aeio")
    return f"{'an' if vowel else 'a'} {name}"


def printable(text: object, limit: int | None = None) -> str:
    """``text`` safe to print as one field of one line: every character
    Python does not call printable (line breaks, tabs, the ESC that starts a
    terminal control sequence, bytes that did not decode) escaped as Python
    writes it, ``a\\nb``, ``\\x1b``, ``\\udcff``. For text the user does not
    control: command lines, map paths, symbol and module names, labels read
    from files. ``limit``: cut to that many characters, the last ``…``
    (for a message quoting what the user typed, which may be megabytes)."""
    text = str(text)
    if limit is not None and len(text) > limit:
        return printable(text[:limit], limit)[:limit - 1] + "…"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def quoted(value: object, limit: int = 80) -> str:
    """``value`` as an error message quotes what the user gave: ``repr``
    (text in quotes, escaped), an integer in decimal, or in hex past the
    digits Python will convert to decimal (a 5 000-digit number made
    ``str()`` raise ValueError); cut to ``limit`` characters with ``…``,
    so a megabyte of input does not become a megabyte of message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 10_000:
        text = f"{value:#x}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
