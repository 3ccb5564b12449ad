"""lainview: a Linux desktop memory editor (see README.md).

``__version__`` comes from the installed distribution's metadata, whose one
source is ``version`` in pyproject.toml.
"""

from typing import Any


def __getattr__(name: str) -> Any:
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
