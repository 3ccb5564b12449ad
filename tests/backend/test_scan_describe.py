"""How a scan's condition is named to the user (the CLI's "step N (...)"
line, the session file, the GUI's scanner)."""

from lainview.backend.scan import Mode, ScanType, make_condition


def test_a_byte_pattern_names_its_wildcards_as_typed():
    """`scan --type bytes --value "68 65 ?? 6c"` said "exact 68 65 00 6c":
    the wildcard read as a zero byte it does not stand for."""
    cond = make_condition(ScanType("bytes"), Mode.EXACT, "68 65 ?? 6c")
    assert cond.describe() == "exact 68 65 ?? 6c"
    assert make_condition(ScanType("bytes"), Mode.EXACT, "de??").describe() == "exact de ??"
