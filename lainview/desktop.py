"""Desktop integration: the files lainview ships for a desktop and a shell
(``lainview/data/``), and ``lainview desktop install|uninstall``, which puts
them into (and takes them out of) the user's XDG data directory.

The package data is the one home of these files: the wheel also carries
them under ``share/`` (pyproject.toml ``data-files``), and the GUI takes its
window icon and desktop file name from here. No Qt is imported.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from .backend.errors import LainviewError
from .backend.files import atomic_private_file, ensure_private_dir

#: The application id: desktop file, icon and AppStream component name.
APP_ID = "io.github.lainview.Lainview"
DATA_DIR = Path(__file__).resolve().parent / "data"
ICON_PATH = DATA_DIR / f"{APP_ID}.svg"
DESKTOP_PATH = DATA_DIR / f"{APP_ID}.desktop"
METAINFO_PATH = DATA_DIR / f"{APP_ID}.metainfo.xml"
MANPAGE_PATH = DATA_DIR / "lainview.1"
BASH_COMPLETION_PATH = DATA_DIR / "completions" / "lainview"
ZSH_COMPLETION_PATH = DATA_DIR / "completions" / "_lainview"
POLICY_TEMPLATE_PATH = DATA_DIR / f"{APP_ID}.policy.in"

# `lainview desktop install-pkexec`: lainview as root on the user's display.
# Paths are relative to a prefix ("/" on a real system).
PKEXEC_LAUNCHER = "usr/local/libexec/lainview-pkexec"
PKEXEC_POLICY = f"usr/share/polkit-1/actions/{APP_ID}.policy"
PKEXEC_ENTRY = f"usr/local/share/applications/{APP_ID}.Root.desktop"


@dataclass(frozen=True)
class ShippedFile:
    """A file of ``lainview/data`` and where it goes under an XDG data dir
    (``$XDG_DATA_HOME``, or ``share/`` of a prefix in the wheel)."""
    source: Path
    target: str          # relative to the data directory


SHIPPED = (
    ShippedFile(DESKTOP_PATH, f"applications/{APP_ID}.desktop"),
    ShippedFile(ICON_PATH, f"icons/hicolor/scalable/apps/{APP_ID}.svg"),
    ShippedFile(METAINFO_PATH, f"metainfo/{APP_ID}.metainfo.xml"),
    ShippedFile(MANPAGE_PATH, "man/man1/lainview.1"),
    ShippedFile(BASH_COMPLETION_PATH, "bash-completion/completions/lainview"),
    ShippedFile(ZSH_COMPLETION_PATH, "zsh/site-functions/_lainview"),
)


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not
    absolute (as the XDG base directory specification says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launcher_command() -> str:
    """The desktop entry's ``Exec`` for this installation: this interpreter
    by absolute path with ``-m lainview``, so the entry works whether or not
    the ``lainview`` script is on the desktop's ``PATH`` (venv, pipx)."""
    return f"{shlex.quote(sys.executable)} -m lainview"


def desktop_entry(command: str) -> str:
    """The shipped desktop entry with its program replaced by ``command``."""
    lines = []
    for line in DESKTOP_PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            args = line.split(None, 1)[1:]   # keep the options after "lainview"
            line = "Exec=" + " ".join([command, *args])
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(home: Path | None = None, command: str | None = None) -> list[Path]:
    """Copy every shipped file into ``home`` (default :func:`data_home`),
    the desktop entry with ``Exec`` set to ``command`` (default
    :func:`launcher_command`). Returns the paths written. Files are written
    through :func:`~lainview.backend.files.atomic_private_file` (0600: only
    the user's own desktop reads them). Raises
    :class:`~lainview.backend.errors.LainviewError` naming a path that
    cannot be written."""
    home = data_home() if home is None else home
    command = launcher_command() if command is None else command
    written = []
    for item in SHIPPED:
        target = home / item.target
        _make_dirs(target.parent)
        if item.source == DESKTOP_PATH:
            content = desktop_entry(command).encode()
        else:
            content = item.source.read_bytes()
        with atomic_private_file(target, error=LainviewError) as f:
            f.write(content)
        written.append(target)
    return written


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove the shipped files from ``home`` (default :func:`data_home`);
    returns the paths removed (missing ones are skipped). Directories are
    left in place. Raises :class:`~lainview.backend.errors.LainviewError`
    when a file exists but cannot be removed."""
    home = data_home() if home is None else home
    removed = []
    for item in SHIPPED:
        target = home / item.target
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise LainviewError(f"cannot remove {target}: {exc.strerror}", op="remove file",
                               errno=exc.errno) from None
        removed.append(target)
    return removed


def _make_dirs(path: Path) -> None:
    """Create the missing directories above ``path`` (owner-only), leaving
    existing ones such as ``~/.local/share`` as they are."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        ensure_private_dir(directory, error=LainviewError)


# -- running as root through pkexec ----------------------------------------------------------------

def unsafe_paths(paths: list[Path] | None = None) -> list[str]:
    """Why running this installation as root would hand root to someone
    else: each of ``paths`` (default: the interpreter, ``sys.prefix`` and
    this package) and every directory above it must be owned by root and
    writable by no group or other user. Returns one line per offence
    (empty: safe). Files inside the package are not walked."""
    if paths is None:
        paths = [Path(os.path.realpath(sys.executable)), Path(sys.prefix).resolve(),
                 Path(__file__).resolve().parent]
    problems = []
    seen = set()
    for path in paths:
        for item in [path, *path.parents]:
            if item in seen:
                continue
            seen.add(item)
            st = item.stat()
            if st.st_uid != 0:
                problems.append(f"{item} is owned by uid {st.st_uid}, not root")
            elif st.st_mode & 0o022 and not (item.is_dir() and st.st_mode & 0o1000
                                             and item != path):
                problems.append(f"{item} is writable by others (mode {st.st_mode & 0o7777:o})")
    return problems


def pkexec_launcher(python: str) -> str:
    """The root launcher pkexec runs: this interpreter with ``-m lainview``.
    pkexec keeps only ``DISPLAY`` and ``XAUTHORITY`` (the policy's
    ``allow_gui``), so Qt draws through X11, or Xwayland on Wayland."""
    return (f"#!/bin/sh\n# lainview as root through pkexec: `lainview desktop install-pkexec`.\n"
            f"exec {shlex.quote(python)} -I -m lainview \"$@\"\n")


def install_pkexec(prefix: Path = Path("/"), python: str | None = None) -> list[Path]:
    """Install the root launcher (0755), its polkit policy and a desktop
    entry "lainview (as root)" under ``prefix``; returns the paths written.
    Refuses (:class:`~lainview.backend.errors.LainviewError`) when
    :func:`unsafe_paths` finds this installation writable by others than
    root, since the launcher runs its code as root."""
    python = python or sys.executable   # a venv's own, which finds its site-packages
    problems = unsafe_paths()
    if problems:
        raise LainviewError("refusing to let pkexec run this installation as root: "
                            + "; ".join(problems[:3]) + " (install lainview as root, e.g. "
                            "`sudo pipx install --global .`)", op="install-pkexec")
    launcher = prefix / PKEXEC_LAUNCHER
    policy = POLICY_TEMPLATE_PATH.read_text(encoding="utf-8").replace(
        "@LAUNCHER@", "/" + PKEXEC_LAUNCHER)
    entry = desktop_entry(f"pkexec /{PKEXEC_LAUNCHER}").replace(
        "\nName=lainview\n", "\nName=lainview (as root)\n")
    written = []
    for rel, content, mode in ((PKEXEC_LAUNCHER, pkexec_launcher(python), 0o755),
                               (PKEXEC_POLICY, policy, 0o644), (PKEXEC_ENTRY, entry, 0o644)):
        target = prefix / rel
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        with atomic_private_file(target, "w", error=LainviewError) as f:
            f.write(content)
        os.chmod(target, mode)      # system files: readable by the desktop and polkitd
        written.append(target)
    return written


def uninstall_pkexec(prefix: Path = Path("/")) -> list[Path]:
    """Remove what :func:`install_pkexec` wrote; returns the paths removed."""
    removed = []
    for rel in (PKEXEC_LAUNCHER, PKEXEC_POLICY, PKEXEC_ENTRY):
        try:
            (prefix / rel).unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise LainviewError(f"cannot remove {prefix / rel}: {exc.strerror}",
                                op="remove file", errno=exc.errno) from None
        removed.append(prefix / rel)
    return removed
