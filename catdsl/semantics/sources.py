"""The positional source values of a compiled morphism, as every backend takes them: its
inputs, then each named port and param; a wrong count or a missing name is R0102."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catdsl.diagram.schedule import Source
from catdsl.errors import CatRuntimeError
from catdsl.typesys.types import Prod


def gather_sources(
    name: str | None,
    dom: Prod,
    sources: Sequence[Source],
    inputs: Sequence,
    ports: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
) -> list:
    """The inputs (one per wire of `dom`), then the value of each named source in order."""
    if len(inputs) != len(dom.atoms):
        what = f"`{name or 'this morphism'}`"
        raise CatRuntimeError(
            "R0102", f"{what} takes {len(dom.atoms)} input(s) ({dom}), found {len(inputs)}"
        )
    values = list(inputs)
    ports, params = ports or {}, params or {}
    for source in sources:
        table = params if source.kind == "param" else ports
        if source.name not in table:
            raise CatRuntimeError(
                "R0102",
                f"no value for the {source.kind} `{source.name}` of `{name or 'this morphism'}`",
                help=f"give a value of `{source.atom}` for `{source.name}`",
            )
        values.append(table[source.name])
    return values
