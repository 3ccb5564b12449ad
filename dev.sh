#!/usr/bin/env bash
# One entry point for setting up, running and testing lainview on Debian.
#
#   bash dev.sh run [ARGS...]   install what is missing, then start lainview
#                               (ARGS default to --demo: a bundled live target)
#   bash dev.sh test [PYTEST ARGS...]
#                               install what is missing, then run the whole
#                               test suite: layer contracts, mypy (the typing
#                               in pyproject.toml [tool.mypy]), pytest offscreen,
#                               then the kernel module's tests in a QEMU VM
#                               (tests/vm/run.sh; not when PYTEST ARGS are
#                               given, or with LAINVIEW_SKIP_VM=1)
#   bash dev.sh deps            only install (or, without apt-get, check for)
#                               the system packages of run and test
#
# Everything goes into ./.venv; system packages are installed with apt only
# when they are missing (this needs root, as on a fresh Debian machine).
set -euo pipefail
cd "$(dirname "$0")"

# Shared libraries and fonts Qt needs at run time. Without a font package
# every glyph renders as an empty box and Qt does not warn.
QT_RUNTIME_DEBS="libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3 fonts-dejavu-core"
# The xcb platform plugin, for a real window on an X display.
QT_XCB_DEBS="libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1"
PYTHON_DEBS="python3 python3-venv python3-pip"
# gcc and gdb build and dump the test fixtures (a kmem stand-in, ELF images, cores);
# appstream, desktop-file-utils and man-db check the shipped metainfo,
# desktop entry and man page.
TEST_DEBS="util-linux procps gcc libc6-dev gdb appstream desktop-file-utils man-db"

# Without apt-get (another distribution), what each Debian package above
# provides is checked instead: lib:SONAME (ldconfig), cmd:PROGRAM,
# file:PATH, font:GLOB (a font file), py:MODULE (python3 can import it).
declare -A PROVIDES=(
    [libglib2.0-0]=lib:libglib-2.0.so.0 [libgl1]=lib:libGL.so.1 [libegl1]=lib:libEGL.so.1
    [libfontconfig1]=lib:libfontconfig.so.1 [libxkbcommon0]=lib:libxkbcommon.so.0
    [libdbus-1-3]=lib:libdbus-1.so.3 [fonts-dejavu-core]="font:DejaVuSans*.ttf"
    [libxkbcommon-x11-0]=lib:libxkbcommon-x11.so.0 [libxcb-cursor0]=lib:libxcb-cursor.so.0
    [libxcb-icccm4]=lib:libxcb-icccm.so.4 [libxcb-image0]=lib:libxcb-image.so.0
    [libxcb-keysyms1]=lib:libxcb-keysyms.so.1 [libxcb-randr0]=lib:libxcb-randr.so.0
    [libxcb-render-util0]=lib:libxcb-render-util.so.0 [libxcb-shape0]=lib:libxcb-shape.so.0
    [libxcb-xinerama0]=lib:libxcb-xinerama.so.0 [libxcb-xkb1]=lib:libxcb-xkb.so.1
    [python3]=cmd:python3 [python3-venv]=py:ensurepip [python3-pip]=py:ensurepip
    [util-linux]=cmd:setpriv [procps]=cmd:ps [gcc]=cmd:gcc [libc6-dev]=file:/usr/include/stdio.h
    [gdb]=cmd:gcore [appstream]=cmd:appstreamcli [desktop-file-utils]=cmd:desktop-file-validate
    [man-db]=cmd:man
)

provided() {
    local what="${1#*:}"
    case "$1" in
        lib:*) [[ "$LDCACHE" == *[[:space:]]"$what "* ]] ;;
        cmd:*) command -v "$what" >/dev/null ;;
        file:*) [ -e "$what" ] ;;
        py:*) python3 -c "import $what" 2>/dev/null ;;
        font:*) [ -n "$(find /usr/share/fonts /usr/local/share/fonts ~/.local/share/fonts \
                         -name "$what" -print -quit 2>/dev/null)" ] ;;
    esac
}

# No apt-get: say what is needed, and go on when all of it is there.
check_without_apt() {
    local pkg missing=()
    LDCACHE="$(ldconfig -p 2>/dev/null || true)"
    for pkg in "$@"; do
        provided "${PROVIDES[$pkg]:-cmd:$pkg}" || missing+=("${PROVIDES[$pkg]#*:} (Debian: $pkg)")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "dev.sh: no apt-get; found what these Debian packages provide: $*" >&2
        return 0
    fi
    echo "dev.sh: no apt-get to install them; install with your distribution's packages:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    return 1
}

apt_ensure() {
    if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
        check_without_apt "$@"
        return
    fi
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "dev.sh: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_ensure() {
    if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        # shellcheck disable=SC2086
        apt_ensure $PYTHON_DEBS
    fi
}

venv_ensure() {
    local extra="$1" stamp=".venv/.installed-$1"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install -q --upgrade pip
        if [ "$extra" = "run" ]; then
            .venv/bin/python -m pip install -q -e .
        else
            .venv/bin/python -m pip install -q -e ".[$extra]"
        fi
        touch "$stamp"
    fi
}

cmd="${1:-run}"
[ $# -gt 0 ] && shift
case "$cmd" in
    run)
        python_ensure
        # shellcheck disable=SC2086
        apt_ensure $QT_RUNTIME_DEBS $QT_XCB_DEBS
        venv_ensure run
        [ $# -eq 0 ] && set -- --demo
        exec .venv/bin/lainview "$@"
        ;;
    test)
        python_ensure
        # shellcheck disable=SC2086
        apt_ensure $QT_RUNTIME_DEBS $TEST_DEBS
        venv_ensure test
        export QT_QPA_PLATFORM=offscreen
        # Tests never read or write the user's real journal, settings or
        # temporary files: every per-user directory is a fresh one.
        test_home="$(mktemp -d -t lainview-test.XXXXXX)"
        mkdir -p "$test_home"/{state,config,cache,data,tmp}
        export XDG_STATE_HOME="$test_home/state" XDG_CONFIG_HOME="$test_home/config" \
               XDG_CACHE_HOME="$test_home/cache" XDG_DATA_HOME="$test_home/data" \
               TMPDIR="$test_home/tmp"
        .venv/bin/lint-imports
        .venv/bin/mypy
        .venv/bin/python -m pytest "$@"
        # The kernel module in a VM: build lainko, boot Debian's kernel in
        # QEMU, and run every device-marked test against the real devices.
        # Skipped when pytest was given a selection of its own.
        if [ $# -eq 0 ] && [ "${LAINVIEW_SKIP_VM:-0}" != 1 ]; then
            bash tests/vm/run.sh
        fi
        ;;
    deps)
        # Only the system packages of `run` and `test` (installed or checked).
        python_ensure
        # shellcheck disable=SC2086
        apt_ensure $QT_RUNTIME_DEBS $QT_XCB_DEBS $TEST_DEBS
        ;;
    *)
        echo "usage: bash dev.sh run [ARGS...] | bash dev.sh test [PYTEST ARGS...] | bash dev.sh deps" >&2
        exit 2
        ;;
esac
