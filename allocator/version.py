"""The package's version, on the lowest floor so every room may read it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("allocator")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"
