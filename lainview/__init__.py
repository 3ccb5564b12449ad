"""lainview: a Linux desktop memory editor (see README.md), and a library.

``lainview.attach(pid)`` and ``lainview.kernel()`` are the synchronous API
for scripts and notebooks (:mod:`lainview.api`, imported on first use, so
``import lainview`` stays cheap). ``__version__`` comes from the installed
distribution's metadata, whose one source is ``version`` in pyproject.toml.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (CapabilityMissing, FaultError, InvalidInput, Kernel, LainviewError,
                      Match, NoSuchSymbol, PermissionDenied, Process, Scan, TargetExited,
                      attach, kernel)

# The names lainview.api gives the package (loaded by __getattr__).
_API = ("attach", "kernel", "Process", "Scan", "Match", "Kernel", "LainviewError",
        "InvalidInput", "PermissionDenied", "TargetExited", "FaultError",
        "CapabilityMissing", "NoSuchSymbol")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api
        return getattr(api, name)
    # __version__ is read on first use: importlib.metadata costs every CLI
    # command's start-up more than the command itself.
    if name == "__version__":
        from importlib import metadata
        try:
            version = metadata.version("lainview")
        except metadata.PackageNotFoundError:   # a bare source tree, never installed
            version = "0+unknown"
        globals()["__version__"] = version
        return version
    raise AttributeError(f"module 'lainview' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API, "__version__"])
