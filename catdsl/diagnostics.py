"""Diagnostics for output: the text report (defined with the diagnostics in `catdsl.errors`,
since a `CatError`'s message is that report) and JSON, one record per diagnostic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from catdsl.errors import Diagnostic, render, render_all

__all__ = ["render", "render_all", "to_json"]


def to_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2)
