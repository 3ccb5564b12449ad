"""lainview: a Linux desktop memory editor (see README.md).

``__version__`` comes from the installed distribution's metadata, whose one
source is ``version`` in pyproject.toml.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("lainview")
except _metadata.PackageNotFoundError:   # a bare source tree, never installed
    __version__ = "0+unknown"
