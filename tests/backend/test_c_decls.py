"""C declarations laid out as gcc lays them out: each test compiles a C
program printing sizeof, alignof, offsetof and each bitfield's bits (set to
all ones in a zeroed struct) and compares with the model."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lainview.backend.c_decls import parse_header
from lainview.backend.ctypes_model import Record, field_place
from lainview.backend.errors import InvalidInput

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

FIXED = """
#include <stdint.h>
#include <stddef.h>
enum colour { RED, GREEN = 7, BLUE };
enum big { SMALL = -1, HUGE = 0x100000000 };
struct item { int32_t count; char name[13]; };
struct player {
    char tag;
    double speed;
    int16_t hp;
    float pos[3];
    struct item *inv;
    struct item bag[3];
    unsigned a:3, b:5;
    int c:2;
    unsigned long long d:40;
    unsigned :0;
    char e:3;
    enum colour colour;
    union { int i; float f; char raw[6]; };
    struct { short x, y; } point;
    long double ld;
    _Bool alive;
    void (*callback)(int, char *);
    uint8_t tail[];
};
union mixed { char c; int64_t big; struct item it; unsigned short bits:9; };
struct bits { unsigned char a:7; unsigned char b:7; unsigned short c:9; unsigned int d:20;
              unsigned long e:33; int :0; char f; short g:15; };
struct packed_one { char a; int b; short c; } __attribute__((packed));
struct empty_tail { char c; int arr[0]; };
typedef struct { int q; char w; } anon_t;
struct uses { anon_t one; enum big big; size_t n; };
"""


def _checks(name: str, rec: Record, prefix: str = "") -> tuple[list[str], list[tuple]]:
    """C lines printing the facts of ``rec``'s fields, and the expected lines."""
    lines: list[str] = []
    expected: list[tuple] = []
    for f in rec.members():
        path = f"{prefix}{f.name}"
        if f.bit_size:
            mask = ((1 << f.bit_size) - 1) << f.bit_offset
            n = (rec.size if not prefix else 0) or 64
            lines.append(f'{{ {name} s; memset(&s, 0, sizeof s); s.{path} = -1; '
                         f'unsigned char *p = (unsigned char *)&s; printf("bits {path} "); '
                         f'for (size_t i = 0; i < sizeof s; i++) printf("%02x", p[i]); '
                         f'printf("\\n"); }}')
            del n
            expected.append(("bits", path, mask))
            continue
        lines.append(f'printf("off {path} %zu\\n", offsetof({name}, {path}));')
        expected.append(("off", path, f.offset + (0 if not prefix else 0)))
    lines.append(f'printf("size %zu align %zu\\n", sizeof({name}), _Alignof({name}));')
    expected.append(("size", rec.size, rec.align))
    return lines, expected


def _compile_and_compare(tmp_path: Path, header: str, names: list[str]) -> None:
    decls = parse_header(header, "t.h")
    body: list[str] = []
    expected: list[tuple] = []
    for name in names:
        rec = decls.lookup(name).strip()
        assert isinstance(rec, Record)
        lines, exp = _checks(name, rec)
        body += [f'printf("== {name}\\n");', *lines]
        expected += [("==", name), *exp]
    src = tmp_path / "layout.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n"
                   "#include <stdint.h>\n#include <stdbool.h>\n"
                   + header + "\nint main(void) {\n" + "\n".join(body) + "\nreturn 0; }\n")
    exe = tmp_path / "layout"
    subprocess.run(["gcc", "-w", "-std=gnu11", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    got: list[tuple] = []
    for line in out.splitlines():
        w = line.split()
        if w[0] == "==":
            got.append(("==", line[3:]))
        elif w[0] == "off":
            got.append(("off", w[1], int(w[2])))
        elif w[0] == "bits":
            got.append(("bits", w[1], int.from_bytes(bytes.fromhex(w[2]), "little")))
        else:
            got.append(("size", int(w[1]), int(w[3])))
    assert got == expected


def test_fixed_declarations_match_gcc(tmp_path):
    _compile_and_compare(tmp_path, FIXED, [
        "struct item", "struct player", "union mixed", "struct bits", "struct packed_one",
        "struct empty_tail", "anon_t", "struct uses"])


def test_nested_field_paths_match_gcc(tmp_path):
    decls = parse_header(FIXED, "t.h")
    player = decls.lookup("struct player")
    paths = ["bag[2].name[4]", "point.y", "raw[5]", "bag[1].count", "f"]
    body = "\n".join(f'printf("%zu\\n", offsetof(struct player, {p}));' for p in paths)
    src = tmp_path / "paths.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n" + FIXED
                   + "\nint main(void) {\n" + body + "\nreturn 0; }\n")
    subprocess.run(["gcc", "-w", "-o", str(tmp_path / "paths"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "paths")], capture_output=True, text=True).stdout
    assert [int(x) for x in out.split()] == [field_place(player, p).offset for p in paths]
    place = field_place(player, "inv->name[3]")
    assert (place.offset, place.steps) == (32, (7,))
    assert place.location_suffix() == "+0x20->+0x7"


# ------------------------------------------------------------ hypothesis

INTS = ["char", "signed char", "unsigned char", "short", "unsigned short", "int",
        "unsigned int", "long", "unsigned long", "long long", "unsigned long long",
        "_Bool", "int8_t", "uint16_t", "int32_t", "uint64_t"]
OTHERS = ["float", "double", "long double", "void *", "struct s0 *"]


@st.composite
def _field(draw, i: int, earlier: list[str]) -> str:
    choice = draw(st.sampled_from(["plain", "array", "bitfield", "bitfield", "nested",
                                   "anon"]))
    if choice == "plain":
        return f"{draw(st.sampled_from(INTS + OTHERS))} f{i};"
    if choice == "array":
        t = draw(st.sampled_from(INTS + OTHERS[:3]))
        return f"{t} f{i}[{draw(st.integers(1, 5))}];"
    if choice == "bitfield":
        t = draw(st.sampled_from([t for t in INTS if t != "_Bool"]))
        size = {"char": 8, "signed char": 8, "unsigned char": 8, "short": 16,
                "unsigned short": 16, "int": 32, "unsigned int": 32, "int8_t": 8,
                "uint16_t": 16, "int32_t": 32}.get(t, 64)
        width = draw(st.integers(0, size))
        return f"{t} :0;" if width == 0 else f"{t} f{i}:{width};"
    if choice == "nested" and earlier:
        return f"{draw(st.sampled_from(earlier))} f{i};"
    kind = draw(st.sampled_from(["struct", "union"]))
    inner = " ".join(f"{draw(st.sampled_from(INTS))} f{i}_{j};"
                     for j in range(draw(st.integers(1, 3))))
    return f"{kind} {{ {inner} }};"


@st.composite
def _header(draw) -> tuple[str, list[str]]:
    names: list[str] = []
    parts: list[str] = []
    for n in range(draw(st.integers(1, 6))):
        kind = "struct" if n == 0 else draw(st.sampled_from(["struct", "struct", "union"]))
        fields = [draw(_field(k, list(names))) for k in range(draw(st.integers(1, 8)))]
        if not any(f" f{k}" in f or f"f{k}_" in f for k, f in enumerate(fields)):
            fields.append("int last;")
        name = f"{kind} s{n}"
        parts.append(f"{name} {{ {' '.join(fields)} }};")
        names.append(name)
    return "\n".join(parts), names


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(_header())
def test_generated_declarations_match_gcc(tmp_path, header):
    text, names = header
    _compile_and_compare(tmp_path, text, names)


# ------------------------------------------------------------ errors

@pytest.mark.parametrize("text, where", [
    ("struct a { int x }", "t.h:1:18: syntax error before '}'"),
    ("struct a {\n  int x:40;\n};", "t.h:2:"),
    ("struct a { int x[N]; };", "t.h:1:18: unknown constant 'N'"),
    ("struct a { int x; int x; };", "t.h:1:"),
    ("struct a { struct b inner; };", "t.h:1:"),
    ("struct a { int x; };\nstruct a { int y; };", "t.h:2:"),
    ("int f(void) { return 0; }", "t.h:1:"),
    ("struct \x01", "t.h:1:8: Illegal character"),
    ("struct a { float f:3; };", "t.h:1:"),
    ("union a { int x; };\nstruct b { struct a *p; };", "t.h:2:"),
    ("struct a {\n  int x;\n", "t.h:2:9: unexpected end of input"),
    ("struct a { int x; };\nstruct b {\n  foo_t b;\n};", "t.h:3:3: unknown type name 'foo_t'"),
    ("foo_t b;", "t.h:1:1: unknown type name 'foo_t'"),
    ("struct a { const foo_t *p; };", "t.h:1:18: unknown type name 'foo_t'"),
])
def test_malformed_header_is_invalid_input_with_position(text, where):
    """FILE:LINE:COL as compilers print it, for pycparser's errors and
    lainview's own layout errors alike."""
    with pytest.raises(InvalidInput) as info:
        parse_header(text, "t.h")
    assert where in str(info.value)
    assert "\n" not in str(info.value)


@settings(max_examples=60, deadline=None)
@given(before=st.lists(st.sampled_from(["struct a%d { int x; };", "typedef int t%d;",
                                        "enum e%d { E%d_A };", ""]), max_size=5),
       indent=st.integers(0, 6), name=st.from_regex(r"zz_[a-z]{1,6}_t", fullmatch=True),
       truncate=st.booleans())
def test_errors_name_the_line_and_column_of_the_fault(before, indent, name, truncate):
    """Generated headers with one fault on a known line: an undeclared type
    name (named, at its column) or a truncated struct (the end of input)."""
    lines = [b.replace("%d", str(i)) for i, b in enumerate(before)]
    if truncate:
        lines += ["struct last {", " " * indent + "int x;"]
        line, column, what = len(lines), indent + 7, "unexpected end of input"
    else:
        lines += ["struct last {", " " * indent + f"{name} field;", "};"]
        line, column, what = len(lines) - 1, indent + 1, f"unknown type name '{name}'"
    with pytest.raises(InvalidInput) as info:
        parse_header("\n".join(lines) + "\n", "g.h")
    assert str(info.value).startswith(f"g.h:{line}:{column}: {what}"), str(info.value)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("struct{}[]();:,*0123456789 xyzab\n#_")),
               max_size=80))
def test_arbitrary_text_never_raises_anything_but_invalid_input(text):
    try:
        parse_header(text, "t.h")
    except InvalidInput:
        pass


def test_lookup_names_types_and_says_what_is_declared():
    decls = parse_header(FIXED, "t.h")
    assert decls.lookup("struct item *").size == 8
    assert decls.lookup("anon_t").size == 8
    assert decls.lookup("uint16_t[4]").size == 8
    with pytest.raises(InvalidInput, match="no struct 'nope'.*struct item"):
        decls.lookup("struct nope")
    with pytest.raises(InvalidInput, match="not a C type"):
        decls.lookup("struct {")


ALIGNED = """
struct al_member { char c; _Alignas(16) int x; char d; };
struct al_type { char c; _Alignas(double) char d; short e; };
struct al_packed { char c; long x; } __attribute__((packed, aligned(4)));
struct al_big { char c; int x; } __attribute__((aligned(8192)));
struct __attribute__((aligned(32))) al_front { char c; };
struct al_default { char c; } __attribute__((aligned));
struct al_nested { char c; struct al_member m; struct al_packed p; };
struct al_zero_width { char a; int b:4; int :0; char c; } __attribute__((packed));
struct al_zero_only { char a; long :0; char b; } __attribute__((packed));
struct al_paren { char c; } __attribute__((aligned((8))));
typedef struct al_deep { char c; struct { struct { int x; } in; } mid; }
    __attribute__((packed)) al_deep_t;
struct al_two { char c; long x; } __attribute__((packed)) __attribute__((aligned(8)));
struct __attribute__((packed)) __attribute__((aligned(4))) al_front_two { char c; long x; };
"""


def test_alignment_specifiers_match_gcc(tmp_path):
    """_Alignas on members and aligned(N) on a tagged record lay out as gcc
    does (the attack pass: both were ignored, so every later field was read
    from the wrong bytes)."""
    _compile_and_compare(tmp_path, ALIGNED, [
        "struct al_member", "struct al_type", "struct al_packed", "struct al_big",
        "struct al_front", "struct al_default", "struct al_nested", "struct al_zero_width",
        "struct al_zero_only", "struct al_paren", "struct al_deep", "struct al_two",
        "struct al_front_two"])


@pytest.mark.parametrize("text, message", [
    ("struct s { char c; int x __attribute__((aligned(16))); };",
     "t.h:1:26: __attribute__((aligned(16))) is laid out by lainview only on a tagged"),
    ("typedef struct { char c; } __attribute__((packed)) t;", "t.h:1:28: __attribute__((packed))"),
    ("struct s { char c; } __attribute__((aligned(3)));", "aligned(3): lainview takes a number here, a power"),
    ("struct s { char c; _Alignas(2) int x; };", "is less than its type's alignment, 4"),
    ("struct s { char c; _Alignas(8) int x:3; };", "_Alignas on bitfield 'x'"),
    ("struct s { char c; int x __attribute__((vector_size(16))); };",
     "t.h:1:26: __attribute__((vector_size)) changes the layout in a way lainview does not"),
    ("struct s { int x __attribute__((mode(DI))); };", "__attribute__((mode)) changes"),
    ("struct s { char c; } __attribute__((aligned(sizeof(long))));",
     "aligned(sizeof(long)): lainview takes a number here"),
])
def test_alignment_lainview_cannot_lay_out_is_refused_where_it_stands(text, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_header(text, "t.h")


def test_continued_directives_if_0_blocks_and_a_bom_are_skipped_keeping_lines():
    """The attack pass: a #define continued with \\ was read as code (a
    'defined twice' error), #if 0 bodies were parsed, a UTF-8 BOM refused."""
    header = ("\ufeff#define PAIR(a) \\\n   struct s { int q; };\n#if 0\nstruct s { int zzz; };\n"
              "#if 1\njunk junk\n#endif\n#else\nstruct t { int b; };\n#endif\n"
              "struct s { char c; int x; };\n")
    decls = parse_header(header, "t.h")
    assert sorted(decls.names()) == ["struct s", "struct t"]
    assert [f.name for f in decls.lookup("struct s").fields] == ["c", "x"]
    with pytest.raises(InvalidInput, match="t.h:12:"):
        parse_header(header + "struct u { int x }\n", "t.h")


@pytest.mark.parametrize("decls, hint", [
    (lambda: parse_header("", "x.h"), "(no types are declared in x.h)"),
    (lambda: parse_header("", "declarations"),
     "(no types are declared in the declarations)"),
])
def test_an_empty_header_is_said_by_its_name(decls, hint):
    """Once "(the header declares no types)" for pasted declarations too."""
    with pytest.raises(InvalidInput) as info:
        decls().lookup("struct demo")
    assert str(info.value) == f"no struct 'demo' is declared {hint}"


def test_a_header_with_windows_line_ends_reads_as_any_other():
    """CRLF gave "Illegal character '\\r'" (the second attack pass)."""
    decls = parse_header("struct s {\r\n  char c;\r\n  int x;\r\n};\r\n", "t.h")
    assert [f.offset for f in decls.lookup("struct s").fields] == [0, 4]
    with pytest.raises(InvalidInput, match="t.h:4:1: syntax error"):
        parse_header("struct s {\r\n  char c;\r\n  int x\r\n};\r\n", "t.h")


def test_a_type_name_nested_past_the_limit_is_invalid_input_not_a_recursion_error():
    """int followed by 3000 stars raised RecursionError (internal error) in
    read --type, ktype and session placements (the second attack pass)."""
    from lainview.backend.ctypes_model import MAX_DERIVED, split_type_name
    decls = parse_header("struct s { int a; };", "t.h")
    for name in ("int" + "*" * 3000, "struct s" + "*" * 5000, "int" + "[2]" * 200):
        with pytest.raises(InvalidInput, match=f"at most {MAX_DERIVED}"):
            decls.lookup(name)
        with pytest.raises(InvalidInput, match=f"at most {MAX_DERIVED}"):
            split_type_name(name)
    assert decls.lookup("struct s" + "*" * MAX_DERIVED).size == 8


def test_array_type_names_take_hex_counts():
    """--type 'char[0x10]' was "not a C type" (the second attack pass)."""
    decls = parse_header("struct s { int a; };", "t.h")
    assert decls.lookup("char[0x10]").size == decls.lookup("char[16]").size == 16
    assert decls.lookup("int[2][0X3]").size == 24
