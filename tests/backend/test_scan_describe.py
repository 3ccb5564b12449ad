"""How a scan's condition is named to the user (the CLI's "step N (...)"
line, the session file, the GUI's scanner)."""

from lainview.backend.scan import Mode, ScanType, make_condition


def test_a_byte_pattern_names_its_wildcards_as_typed():
    """`scan --type bytes --value "68 65 ?? 6c"` said "exact 68 65 00 6c":
    the wildcard read as a zero byte it does not stand for."""
    cond = make_condition(ScanType("bytes"), Mode.EXACT, "68 65 ?? 6c")
    assert cond.describe() == "exact 68 65 ?? 6c"
    assert make_condition(ScanType("bytes"), Mode.EXACT, "de??").describe() == "exact de ??"


def test_values_are_named_as_the_type_formats_them():
    """A new user's report: an f32 range scan was named "range
    1.1200000047683716..1.1299999952316284" and a utf8 scan for
    "needle-string" "exact 6e 65 65 ...": each is named as typed."""
    for name, mode, value, said in [
            ("f32", Mode.RANGE, "1.12..1.13", "range 1.12..1.13"),
            ("f32", Mode.INCREASED_BY, "0.1", "increased-by 0.1"),
            ("i32", Mode.EXACT, "-5", "exact -5"),
            ("utf8", Mode.EXACT, "needle-string", "exact needle-string"),
            ("utf8", Mode.EXACT, "a\nb", "exact a\\nb"),
            ("utf16le", Mode.EXACT, "wide", "exact wide"),
            ("bytes", Mode.EXACT, "de ad", "exact de ad")]:
        scan_type = ScanType(name)
        assert make_condition(scan_type, mode, value).describe(scan_type.kind) == said
