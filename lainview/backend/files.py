"""The one home for how lainview creates and opens its own files.

Every file lainview writes may hold target memory or journal data (scan
sessions, patches, CSV exports, dumps, session files), and lainview often
runs as root in directories other users can write. So:

- a file is written through a temporary created exclusively (``O_EXCL``,
  random name, mode 0600) in the destination's directory, fsynced, then
  renamed over the destination: a symlink planted at any predictable name is
  never followed, and a reader never sees half a file;
- state files (the journal) are opened with ``O_NOFOLLOW`` and refused unless
  they are regular files owned by the user, in a directory no one else can
  write.

Files lainview reads that anyone may have written (sessions, patches) are
read by :func:`read_input_file` (bounded, regular files only) and parsed by
:func:`load_json` (no NaN, no overflowing float, bounded nesting).

Errors are raised as :class:`~lainview.backend.errors.InvalidInput` (a path
the user gave that cannot be used) or :class:`~lainview.backend.errors.JournalError`
-style errors chosen by the caller through ``error``.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import json
import math
import os
import stat
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from .errors import InvalidInput, LainviewError

PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_FAILED_WRITE_ERRNOS = (_errno.ENOSPC, _errno.EDQUOT, _errno.EIO, _errno.EFBIG)


class PrivateFile:
    """A new private (0600) file being written, that replaces ``path`` only
    when :meth:`commit` is called and vanishes on :meth:`discard`.

    For writers that cannot be one ``with`` block (a dump written chunk by
    chunk on the backend thread with ``os.pwrite(f.fd, ...)``). The
    temporary is created with ``O_EXCL`` under a random name beside
    ``path``, so no name an attacker can predict is ever opened. Raises
    ``error`` (default InvalidInput) naming the path and the reason.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 error: type[LainviewError] = InvalidInput):
        self.path = os.fspath(path)
        self.error = error
        self.fd = -1
        directory = os.path.dirname(os.path.abspath(self.path)) or "."
        try:
            mode = os.lstat(self.path).st_mode
        except OSError:
            mode = None
        # a device node, FIFO or socket at the destination would be replaced
        # by a regular file (/dev/null, as root); a symlink is replaced itself
        if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise error(f"cannot write {self.path}: it is {kind}; not replaced",
                        op="write file", errno=_errno.EISDIR if stat.S_ISDIR(mode)
                        else _errno.EEXIST)
        import tempfile   # here, not at the top: it costs every CLI command's start-up
        try:
            self.fd, self.tmp = tempfile.mkstemp(
                prefix=f".{os.path.basename(self.path)}.", suffix=".tmp", dir=directory)
            os.fchmod(self.fd, PRIVATE_MODE)
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: OSError) -> LainviewError:
        # a full disk or an I/O error is a failed operation (exit 1), not bad input
        cls = LainviewError if exc.errno in _FAILED_WRITE_ERRNOS else self.error
        return cls(f"cannot write {self.path}: {exc.strerror or exc}", op="write file",
                          errno=exc.errno)

    def commit(self) -> None:
        """fsync, close, and rename over ``path``. On failure the temporary
        is removed and ``error`` raised."""
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = -1
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None

    def discard(self) -> None:
        """Close and remove the temporary; ``path`` is left as it was."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def atomic_private_file(path: str | os.PathLike[str], mode: str = "wb", *,
                        error: type[LainviewError] = InvalidInput) -> Iterator[IO[Any]]:
    """Open a new private (0600) file that replaces ``path`` when the block
    ends without an exception, and vanishes otherwise.

    ``mode`` is ``"wb"`` or ``"w"`` (text, UTF-8, ``\\n`` line ends). The
    temporary is created with ``O_EXCL`` under a random name beside ``path``,
    fsynced before the rename (:class:`PrivateFile`). Raises ``error``
    naming the path and the reason when the directory cannot take the file.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode {mode!r}")
    out = PrivateFile(path, error=error)
    try:
        fd = os.dup(out.fd)
        f: IO[Any]
        if mode == "wb":
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with f:
            yield f
            f.flush()
        out.commit()
    except BaseException as exc:
        out.discard()
        if isinstance(exc, OSError):
            raise out._error(exc) from None
        raise


def ensure_private_dir(path: str | os.PathLike[str], *,
                       error: type[LainviewError] = InvalidInput) -> None:
    """Create ``path`` (mode 0700, parents as needed) or check the existing
    one: a real directory (not a symlink), owned by the user, writable by no
    one else. Raises ``error`` saying which check failed."""
    path = os.fspath(path)
    try:
        os.makedirs(path, mode=PRIVATE_DIR_MODE, exist_ok=True)
        st = os.lstat(path)
    except OSError as exc:
        raise error(f"cannot use the directory {path}: {exc.strerror or exc}",
                    op="state dir", errno=exc.errno) from None
    if not stat.S_ISDIR(st.st_mode):
        raise error(f"{path} is not a directory (a symlink or another file): refusing it",
                    op="state dir")
    if st.st_uid != os.geteuid():
        raise error(f"{path} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()}): "
                    "refusing it", op="state dir")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise error(f"{path} is writable by others (mode {stat.S_IMODE(st.st_mode):04o}): "
                    f"refusing it; chmod go-w {path}", op="state dir")


def open_state_file(path: str | os.PathLike[str], flags: int, *,
                    error: type[LainviewError] = InvalidInput) -> int:
    """Open one of lainview's own state files without following symlinks
    (``O_NOFOLLOW``, ``O_CLOEXEC``; created 0600 when ``flags`` has
    ``O_CREAT``) and return the descriptor. Refuses (raising ``error``)
    anything that is not a regular file owned by the user."""
    path = os.fspath(path)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, PRIVATE_MODE)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == _errno.ELOOP:
            reason = "it is a symlink (lainview does not follow symlinks for its own files)"
        raise error(f"cannot open {path}: {reason}", op="open state file",
                    errno=exc.errno) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{path} is not a regular file: refusing it", op="open state file")
        if st.st_uid != os.geteuid():
            raise error(f"{path} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()}): "
                        "refusing it", op="open state file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


MISSING_FILE_ERRNOS = (_errno.ENOENT, _errno.ENOTDIR, _errno.EISDIR, _errno.ELOOP, _errno.ENXIO)


def open_input_file(path: str | os.PathLike[str], *, what: str = "file") -> BinaryIO:
    """A regular file the user named, opened for reading (an ELF with debug
    information, read in pieces by a library). Refuses what is not a
    regular file (a FIFO would block, /dev/zero never end) and one that
    cannot seek to its end (/proc/PID/mem) with InvalidInput naming it, as
    :func:`read_input_file` does."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        cls = InvalidInput if exc.errno in MISSING_FILE_ERRNOS else LainviewError
        raise cls(f"cannot read {what} {path}: {exc.strerror or exc}", op="open",
                  errno=exc.errno) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput(f"{what} {path} is not a regular file", op="open")
    try:
        os.lseek(fd, 0, os.SEEK_END)         # libraries seek to the end first:
        os.lseek(fd, 0, os.SEEK_SET)         # /proc/PID/mem is "regular" but cannot
    except OSError as exc:
        os.close(fd)
        raise InvalidInput(f"{what} {path} cannot be read as a file "
                           f"({exc.strerror or exc}: not seekable)", op="open",
                           errno=exc.errno) from None
    os.set_blocking(fd, True)
    return open(fd, "rb")


def read_input_file(path: str | os.PathLike[str], limit: int, *, what: str = "file",
                    user_file: bool = True) -> bytes:
    """The whole of a file lainview reads (a session, a symbol list; /proc
    files too, whose st_size is 0), in bounded reads. Refuses what is not a
    regular file (a FIFO or /dev/zero would block or never end) and more
    than ``limit`` bytes, with InvalidInput naming the file. When it cannot
    be opened: InvalidInput for a ``user_file`` that is missing (the user
    named it), LainviewError otherwise (EACCES, EIO, a missing system file)."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        cls = InvalidInput if user_file and exc.errno in MISSING_FILE_ERRNOS else LainviewError
        raise cls(f"cannot read {what} {path}: {exc.strerror or exc}", op="open",
                  errno=exc.errno) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):     # before open(): a directory fd raises
        os.close(fd)
        raise InvalidInput(f"{what} {path} is not a regular file", op="open")
    with open(fd, "rb", buffering=0) as f:
        chunks, total = [], 0
        try:
            while chunk := f.read(min(1 << 20, limit + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise InvalidInput(f"{what} {path} is larger than {limit >> 20} MiB",
                                       op="open")
        except OSError as exc:
            raise LainviewError(f"cannot read {what} {path}: {exc.strerror or exc}",
                                op="read", errno=exc.errno) from None
    return b"".join(chunks)


# -- JSON read from files lainview did not necessarily write ---------------------------------

MAX_DEPTH = 64               # a session nests a handful of levels


def _refuse_constant(name: str) -> float:
    raise InvalidInput(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput(f"number {text[:40]} is out of range")
    return value


def _depth(value: object, limit: int) -> None:
    """InvalidInput if parsed JSON nests more than ``limit`` levels (checked
    without recursion, so later recursive code cannot overflow)."""
    if not isinstance(value, (dict, list)):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise InvalidInput(f"nested more than {limit} levels deep")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))


def load_json(raw: bytes, path: str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text from a file lainview did not necessarily write: no
    NaN or Infinity, no float that overflows, integers of at most 4300
    digits, nesting at most ``max_depth`` levels. Raises InvalidInput naming
    ``path`` and what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not text: not a {what}") from None
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}: not a {what}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON (line {exc.lineno}, column "
                           f"{exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InvalidInput(f"{path}: nested too deeply: not a {what}") from None
    except ValueError as exc:      # an integer of more than 4300 digits
        raise InvalidInput(f"{path}: {' '.join(str(exc).split())[:120]}: not a {what}") \
            from None
    try:
        _depth(parsed, max_depth)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}: not a {what}") from None
    return parsed
