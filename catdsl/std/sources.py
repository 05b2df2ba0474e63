"""Standard-library modules written in catdsl itself: their objects, morphisms and laws are
declarations, read from `.cat` files shipped in this package when a program imports them."""

from __future__ import annotations

from pathlib import Path

SOURCE_MODULES = {"std.sketches": "sketches.cat"}
"""Each module written in catdsl, and its file in this package's directory."""


def source_path(module: str) -> Path:
    """The file of a standard-library module written in catdsl."""
    return Path(__file__).resolve().parent / SOURCE_MODULES[module]
