"""Install and desktop integration (issue 17): version, licences, desktop
entry, icon, AppStream metainfo, man page, shell completion, `lainview
desktop install|uninstall`, and the sdist and wheel built from this tree,
installed into a fresh virtual environment and run through its entry point."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

import lainview
from lainview import desktop
from lainview.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def run(*args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run([str(a) for a in args], **kw)


# -- version and licences ------------------------------------------------------------------------

def test_version_has_one_source():
    """pyproject.toml's version is what __version__, `lainview --version`,
    `python -m lainview --version`, the metainfo's newest release and the
    man page say."""
    assert lainview.__version__ == VERSION
    script = Path(sys.executable).with_name("lainview")
    for argv in ([script, "--version"], [sys.executable, "-m", "lainview", "--version"],
                 [sys.executable, "-m", "lainview", "--demo", "--version"]):
        out = run(*argv)
        assert (out.returncode, out.stdout, out.stderr) == (0, f"lainview {VERSION}\n", "")
    releases = ET.parse(desktop.METAINFO_PATH).getroot().find("releases")
    assert releases[0].get("version") == VERSION
    assert f'"lainview {VERSION}"' in desktop.MANPAGE_PATH.read_text()


def test_module_version_matches_dkms():
    main_c = (ROOT / "kmod/lko_main.c").read_text()
    dkms = (ROOT / "kmod/dkms.conf").read_text()
    version = dkms.split('PACKAGE_VERSION="', 1)[1].split('"', 1)[0]
    assert f'MODULE_VERSION("{version}")' in main_c


def test_licence_texts():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "GNU GENERAL PUBLIC LICENSE\n                       Version 2" in (
        ROOT / "kmod/COPYING").read_text()
    for source in sorted((ROOT / "kmod").glob("*.[ch]")):
        assert "SPDX-License-Identifier: GPL-2.0" in source.read_text().splitlines()[0], source


# -- desktop data --------------------------------------------------------------------------------

def test_metainfo_validates():
    out = run("appstreamcli", "validate", "--no-net", desktop.METAINFO_PATH)
    assert out.returncode == 0, out.stdout + out.stderr
    root = ET.parse(desktop.METAINFO_PATH).getroot()
    assert root.findtext("id") == desktop.APP_ID
    assert root.findtext("launchable") == desktop.DESKTOP_PATH.name


def test_desktop_entry_fields():
    lines = desktop.DESKTOP_PATH.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert entry["Type"] == "Application"
    assert entry["Icon"] == desktop.APP_ID == desktop.ICON_PATH.stem
    assert entry["Exec"].split()[0] == "lainview"
    assert entry["Categories"].endswith(";")
    out = run("desktop-file-validate", desktop.DESKTOP_PATH)   # dev.sh's TEST_DEBS
    assert (out.returncode, out.stdout) == (0, "")


def test_icon_reads_at_16px(qapp):
    """Rendered at 16x16 the icon keeps its cells apart: the amber 'changed'
    cell in the middle, light cells around it, dark gaps, clear corners."""
    from PySide6.QtGui import QColor, QIcon
    image = QIcon(str(desktop.ICON_PATH)).pixmap(16, 16).toImage()
    assert (image.width(), image.height()) == (16, 16)

    def rgb(x, y):
        c = QColor(image.pixel(x, y))
        return c.red(), c.green(), c.blue()

    assert rgb(7, 7) == (0xff, 0xb0, 0x00)          # the changed cell
    assert rgb(3, 3) == (0xcf, 0xd8, 0xe3)          # a plain cell
    assert rgb(12, 12) == (0xe5, 0x48, 0x4d)        # the unreadable cell
    assert rgb(5, 3) == (0x1d, 0x27, 0x33)          # the gap between cells
    assert QColor.fromRgba(image.pixel(0, 0)).alpha() < 128   # rounded corner


def test_app_identifies_itself(qapp):
    from lainview.app import identify_app
    before = qapp.desktopFileName(), qapp.applicationVersion()
    try:
        identify_app(qapp)
        assert qapp.desktopFileName() == desktop.APP_ID
        assert qapp.applicationVersion() == VERSION
        assert not qapp.windowIcon().isNull()
    finally:
        qapp.setDesktopFileName(before[0])
        qapp.setApplicationVersion(before[1])


# -- man page and completion ---------------------------------------------------------------------

def test_generated_files_are_current():
    """The committed man page and completions are what the parser gives
    now (else: .venv/bin/python tools/gen_shell_data.py)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_shell_data
    finally:
        sys.path.remove(str(ROOT / "tools"))
    stale = [p.name for p, text in gen_shell_data.render().items() if p.read_text() != text]
    assert stale == [], "run tools/gen_shell_data.py"


def render_man(page: Path) -> subprocess.CompletedProcess:
    return run("man", "-l", page, env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": ""})


def test_man_page_renders():
    out = render_man(desktop.MANPAGE_PATH)
    assert out.returncode == 0, out.stderr
    assert "not defined" not in out.stderr and "cannot" not in out.stderr.replace(
        "cannot adjust line", "")
    text = out.stdout
    assert "lainview - a Linux desktop memory editor" in text
    for command in COMMANDS:
        assert f"lainview {command}" in text, command
    assert "'natural' (the type's size" in text      # not eaten as a troff request
    assert "--demo" in text                          # the GUI's usage


def bash_complete(script: Path, *words: str, preamble: str = "") -> list[str]:
    """COMPREPLY of lainview's completion for the command line ``words``
    (the last one is the word being completed)."""
    code = f"""{preamble}
source {script}
COMP_WORDS=(lainview {' '.join(repr(w) for w in words)})
COMP_CWORD={len(words)}
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
_shtab_lainview lainview "${{COMP_WORDS[-1]}}" "${{COMP_WORDS[-2]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = run("bash", "--norc", "-c", code)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_bash_completion_offers_subcommands():
    script = desktop.BASH_COMPLETION_PATH
    assert set(bash_complete(script, "")) == set(COMMANDS)
    assert bash_complete(script, "k") == ["ksyms", "kread", "ktype", "kwrite", "kmod", "kinfo"]
    assert bash_complete(script, "desktop", "") == ["install", "uninstall", "install-pkexec",
                                                    "uninstall-pkexec"]
    assert "--json" in bash_complete(script, "maps", "--")


def test_zsh_completion_lists_subcommands():
    text = desktop.ZSH_COMPLETION_PATH.read_text()
    assert text.startswith("#compdef lainview")
    for command in COMMANDS:
        assert f"    {command}:" in text, command
    if shutil.which("zsh"):
        out = run("zsh", "-n", desktop.ZSH_COMPLETION_PATH)
        assert out.returncode == 0, out.stderr


# -- lainview desktop install|uninstall ----------------------------------------------------------

def lainview_cli(*args, env=None) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "lainview", *args, env=env)


def test_desktop_install_and_uninstall(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    out = lainview_cli("desktop", "install", env=env)
    assert out.returncode == 0, out.stderr
    for item in desktop.SHIPPED:
        target = data / item.target
        assert f"installed {target}" in out.stdout
        assert target.stat().st_mode & 0o777 == 0o600
        if item.source != desktop.DESKTOP_PATH:
            assert target.read_bytes() == item.source.read_bytes()
    entry = (data / f"applications/{desktop.APP_ID}.desktop").read_text()
    assert f"\nExec={sys.executable} -m lainview --pick\n" in entry
    assert f"\nIcon={desktop.APP_ID}\n" in entry
    out = run("desktop-file-validate", data / "applications" / f"{desktop.APP_ID}.desktop")
    assert (out.returncode, out.stdout) == (0, "")

    # Found where bash-completion looks for a user's completions.
    loader = Path("/usr/share/bash-completion/bash_completion")
    if loader.exists():
        out = run("bash", "--norc", "-c", f"source {loader}; __load_completion lainview && "
                  "complete -p lainview", env=env)
        assert "_shtab_lainview" in out.stdout, out.stderr

    again = lainview_cli("desktop", "install", env=env)   # idempotent
    assert again.returncode == 0
    out = lainview_cli("desktop", "uninstall", env=env)
    assert out.returncode == 0, out.stderr
    assert [p for p in data.rglob("*") if p.is_file()] == []
    assert out.stdout.count("removed ") == len(desktop.SHIPPED)
    out = lainview_cli("desktop", "uninstall", env=env)
    assert (out.returncode, out.stdout.strip()) == (0, f"nothing to remove under {data}")


def test_desktop_install_defaults_to_home_and_finds_man_page(tmp_path):
    """Without XDG_DATA_HOME the files go to ~/.local/share, where man finds
    the page for a user with ~/.local/bin on PATH (as pipx sets up)."""
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "MANPATH")}
    env["HOME"] = str(tmp_path)
    (tmp_path / ".local/bin").mkdir(parents=True)
    assert lainview_cli("desktop", "install", env=env).returncode == 0
    page = tmp_path / ".local/share/man/man1/lainview.1"
    assert page.exists()
    env["PATH"] = f"{tmp_path}/.local/bin:/usr/bin:/bin"
    out = run("man", "-w", "lainview", env=env)
    assert out.stdout.strip() == str(page), out.stderr


def test_desktop_install_unwritable_target_is_an_error(tmp_path):
    data = tmp_path / "data"
    (data / "applications").mkdir(parents=True)
    (data / "applications" / f"{desktop.APP_ID}.desktop").mkdir()   # in the way
    out = lainview_cli("desktop", "install", env={**os.environ, "XDG_DATA_HOME": str(data)})
    assert out.returncode == 1
    assert out.stderr.startswith("lainview desktop: EISDIR: cannot write ")
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1


# -- sdist, wheel, and an installed entry point --------------------------------------------------

@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """An sdist built from this tree's files (tracked and new, not ignored),
    and a wheel built from that sdist, both offline (no build isolation)."""
    out = tmp_path_factory.mktemp("dists")
    tree = out / "tree"
    files = run("git", "ls-files", "-co", "--exclude-standard", cwd=ROOT).stdout.split("\n")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    built = run(sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", out,
                tree)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    sdist = next(out.glob("lainview-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(out / "unpacked", filter="data")
    unpacked = out / "unpacked" / sdist.name.removesuffix(".tar.gz")
    built = run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out,
                unpacked)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return sdist, next(out.glob("lainview-*.whl")), unpacked


def test_sdist_carries_what_builds_and_tests(dists):
    sdist, _wheel, unpacked = dists
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in ("LICENSE", "README.md", "dev.sh", ".ci/run", "MANIFEST.in",
                   "kmod/COPYING", "kmod/Makefile", "kmod/Kbuild", "kmod/dkms.conf",
                   "kmod/README.md", "kmod/lko_main.c", "kmod/lainko.h",
                   "docs/lainmemu.md", "docs/kmem.md", "resources/screenshot.png",
                   "tests/__init__.py", "tests/conftest.py", "tests/aslr_prog.c",
                   "tests/backend/fake_kmem.c", "tests/vm/run.sh", "tests/vm/guest-init.sh",
                   "tools/gen_shell_data.py", "lainview/data/lainview.1"):
        assert needed in names, needed
    assert not [n for n in names if n.endswith((".pyc", ".ko", ".o")) or "/.work/" in n]
    # The tests run from the unpacked sdist (tests.conftest imports).
    out = run(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
              "tests/test_cli.py", cwd=unpacked)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    collected = re.search(r"^(\d+) tests? collected", out.stdout, re.M)
    assert collected and int(collected.group(1)) > 0, out.stdout[-3000:]


def test_wheel_carries_desktop_data(dists):
    _sdist, wheel, _unpacked = dists
    names = set(zipfile.ZipFile(wheel).namelist())
    info = f"lainview-{VERSION}.dist-info"
    data = f"lainview-{VERSION}.data/data/share"
    for item in desktop.SHIPPED:
        assert f"lainview/data/{item.source.relative_to(desktop.DATA_DIR)}" in names
        assert f"{data}/{item.target}" in names, item.target
    assert {f"{info}/licenses/LICENSE", f"{info}/licenses/kmod/COPYING"} <= names
    assert "lainview/ui/about.py" in names
    assert not [n for n in names if n.startswith(("tests/", "kmod/", "tools/"))]


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory):
    """The wheel installed into a fresh venv; its dependencies come from the
    test's own environment through a .pth file (offline)."""
    _sdist, wheel, _unpacked = dists
    venv = tmp_path_factory.mktemp("venv")
    assert run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    python = venv / "bin/python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout
    deps = run(sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    Path(site.strip(), "test-deps.pth").write_text(deps.stdout)
    out = run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
              "--no-index", wheel)
    assert out.returncode == 0, out.stderr
    return venv


def test_installed_entry_point(installed, tmp_path):
    venv = installed
    out = run(venv / "bin/lainview", "--version", cwd=tmp_path)
    assert (out.returncode, out.stdout) == (0, f"lainview {VERSION}\n")
    where = run(venv / "bin/python", "-c", "import lainview; print(lainview.__file__)",
                cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), "the test must run the installed copy"
    # The prefix's share/ holds the man page and completions.
    page = venv / "share/man/man1/lainview.1"
    assert render_man(page).returncode == 0
    assert set(bash_complete(venv / "share/bash-completion/completions/lainview", "")) == set(
        COMMANDS)
    # The desktop entry installed from there starts that installation.
    data = tmp_path / "data"
    out = run(venv / "bin/lainview", "desktop", "install",
              env={**os.environ, "XDG_DATA_HOME": str(data)}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    entry = (data / f"applications/{desktop.APP_ID}.desktop").read_text()
    assert f"Exec={venv}/bin/python -m lainview --pick" in entry


def test_installed_ps_json_into_closed_pipe_ends_quietly(installed, tmp_path):
    """`lainview ps --json | head` through the installed script: a reader
    that stops early (after one line, or at once) gets no traceback and no
    "Exception ignored" message. (The exit-time flush into a closed pipe is handled
    in the CLI; this checks it through an installed entry point.)"""
    for reader in ["head -n 1", "head -c 1", "true"] * 2:
        err = tmp_path / "err"
        script = f"set -o pipefail; {installed}/bin/lainview ps --json 2>{err} | {reader} >/dev/null"
        out = run("bash", "-c", script, cwd=tmp_path)
        # 0 when everything was written before the reader left; 1 (as Python
        # documents for EPIPE) when lainview saw the closed pipe: quiet both ways.
        assert out.returncode in (0, 1) and err.read_text() == "", (reader, out.returncode,
                                                                     err.read_text())


# -- running as root on the desktop: pkexec ------------------------------------------------------

def test_pkexec_launcher_policy_and_entry(tmp_path):
    prefix = tmp_path / "root"
    out = lainview_cli("desktop", "install-pkexec", "--prefix", prefix)
    assert out.returncode == 0, out.stderr
    launcher = prefix / desktop.PKEXEC_LAUNCHER
    assert launcher.stat().st_mode & 0o7777 == 0o755
    # What pkexec runs starts this installation, and a lainview package in
    # the caller's directory is not picked up (-I): it would run as root.
    planted = tmp_path / "cwd" / "lainview"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("")
    (planted / "__main__.py").write_text("print('planted')")
    out = run(launcher, "--version", cwd=planted.parent)
    assert (out.returncode, out.stdout) == (0, f"lainview {VERSION}\n")

    policy = ET.parse(prefix / desktop.PKEXEC_POLICY).getroot()
    action = policy.find("action")
    assert action.get("id") == f"{desktop.APP_ID}.run-as-root"
    notes = {a.get("key"): a.text for a in action.findall("annotate")}
    assert notes == {"org.freedesktop.policykit.exec.path": f"/{desktop.PKEXEC_LAUNCHER}",
                     "org.freedesktop.policykit.exec.allow_gui": "true"}
    assert action.findtext("defaults/allow_active") == "auth_admin_keep"
    assert action.findtext("defaults/allow_any") == "auth_admin"
    assert (prefix / desktop.PKEXEC_POLICY).stat().st_mode & 0o777 == 0o644

    out = run("desktop-file-validate", prefix / desktop.PKEXEC_ENTRY)
    assert (out.returncode, out.stdout) == (0, "")
    entry = (prefix / desktop.PKEXEC_ENTRY).read_text()
    assert f"\nExec=pkexec /{desktop.PKEXEC_LAUNCHER} --pick\n" in entry
    assert "\nName=lainview (as root)\n" in entry

    out = lainview_cli("desktop", "uninstall-pkexec", "--prefix", prefix)
    assert out.returncode == 0 and out.stdout.count("removed ") == 3
    assert [p for p in prefix.rglob("*") if p.is_file()] == []


def test_pkexec_refuses_an_installation_others_can_write(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    os.chown(foreign, 65534, 65534)
    problems = desktop.unsafe_paths([shared / ".", foreign])
    assert f"{shared} is writable by others (mode 777)" in problems
    assert f"{foreign} is owned by uid 65534, not root" in problems
    assert desktop.unsafe_paths([tmp_path]) == []    # root's own, under sticky /tmp
