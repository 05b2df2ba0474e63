"""The primitive tables of docs/language.md, generated from the primitive specs.

`python -m catdsl.std.doc_tables docs/language.md` rewrites each table between its markers
(`<!-- primitives: std.ml -->` ... `<!-- end primitives -->`); the tests check that the page
matches the specs, so a primitive's documentation lives in its spec only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from catdsl.std.library import PRIMITIVES
from catdsl.typesys.messages import plain_number
from catdsl.typesys.primitives import PrimSpec

_BLOCK = re.compile(
    r"(<!-- primitives: (?P<module>[\w.]+) -->\n)(?P<table>.*?)(<!-- end primitives -->)",
    re.DOTALL,
)


def primitive_table(module: str) -> str:
    """The markdown table of `module`'s primitives: call, arguments, signature, what it does."""
    rows = [
        "| primitive | arguments | signature | computes |",
        "| --- | --- | --- | --- |",
    ]
    rows += [
        _row(spec) for spec in PRIMITIVES.values() if spec.module == module or module in spec.also
    ]
    return "\n".join(rows) + "\n"


def _row(spec: PrimSpec) -> str:
    sig = spec.build(spec.defaults)
    args = [
        f"morphism `{name} : {dom} -> {cod}`"
        for name, (dom, cod) in zip(spec.morphism_names, sig.morphisms, strict=True)
    ]
    args += [
        f"`{name} : {carrier}`" for name, carrier in zip(spec.param_names, sig.params, strict=True)
    ]
    for name in spec.static_names:
        default = spec.defaults.get(name)
        shown = f" (default {_number(default)})" if default is not None else ""
        text = f"static `{name}`{shown}"
        args.append(text + (", sizes the product" if spec.count == name else ""))
    names = [*spec.morphism_names, *spec.param_names, *spec.static_names]
    call = f"`{spec.name}({', '.join(names)})`" if names else f"`{spec.name}`"
    return f"| {call} | {', '.join(args)} | `{sig.dom} -> {sig.cod}` | {spec.doc} |"


def _number(value: object) -> str:
    return plain_number(value) if isinstance(value, float) else str(value)


def regenerate(text: str) -> str:
    """`text` with every marked primitive table replaced by the one the specs give."""
    return _BLOCK.sub(lambda m: m.group(1) + primitive_table(m.group("module")) + m.group(4), text)


def main(argv: list[str]) -> int:
    for name in argv:
        path = Path(name)
        path.write_text(regenerate(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
