"""`catdsl draw`: a definition, a law, a whole program, or an ill-typed composition.

An ill-typed definition is drawn too (the course's "illegal diagram", the offending wire in
red) and the command still exits 1 with the diagnostic.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from catdsl.errors import CatError, CatRuntimeError, Diagnostic

EXIT_OK, EXIT_PROGRAM = 0, 1


def draw_command(args: argparse.Namespace) -> int:
    from catdsl.diagnostics import render_all
    from catdsl.loader import check_file
    from catdsl.render.output import render

    plugins = getattr(args, "plugins_found", None)  # the finder of `--plugin` (cli.py)
    checked = check_file(args.file, getattr(args, "allow_read", ()), plugins)
    if not checked.sources:
        raise OSError(2, checked.diagnostics[0].message, args.file)
    if checked.diagnostics:
        print(
            render_all(checked.diagnostics, checked.sources, color=sys.stderr.isatty()),
            file=sys.stderr,
        )
    if args.name is None and is_directory(args.output):
        return _draw_directory(checked, args)
    if checked.diagnostics:
        drawn = _despite_errors(checked, args)
        if drawn is not None:
            render(drawn[0], args.output)
            print(drawn[1], file=sys.stderr)
        return EXIT_PROGRAM
    from catdsl.frontend.program import BaseProgram

    program = BaseProgram(checked)
    dot = dot_for(program, args.name, **_options(args))
    render(dot, args.output)
    print(f"wrote {args.output}")
    return EXIT_OK


def dot_for(
    program, name: str | None, *, shapes: bool = False, expand: int = 0, unroll: bool = False
) -> str:
    """DOT text for a definition, a law, or (no name) every definition of the program."""
    from catdsl.diagram.depth import deep

    with deep("drawing"):
        return _dot_for(program, name, shapes=shapes, expand=expand, unroll=unroll)


def _dot_for(program, name: str | None, *, shapes: bool, expand: int, unroll: bool) -> str:
    from catdsl.frontend.law_sides import law_sides
    from catdsl.frontend.program import Morphism
    from catdsl.render.commutative import law_to_dot
    from catdsl.render.dot import to_dot
    from catdsl.render.output import page_of

    if name is None:
        diagrams = list(zip(program.names, _diagrams(program, program.names), strict=True))
        title = Path(program.file).name if program.file else None
        return page_of(diagrams, shapes=shapes, expand=expand, unroll=unroll, title=title)
    if name in program.checked.laws:
        law = program.checked.laws[name]
        sides = law_sides(law, program.checked.sources)
        lhs = Morphism(program, sides[0].text, law.lhs).diagram
        rhs = Morphism(program, sides[1].text, law.rhs).diagram
        return law_to_dot(
            name,
            lhs,
            rhs,
            law.tolerance,
            sides=sides,
            shapes=shapes,
            expand=expand,
            unroll=unroll,
        )
    if name not in program:
        from catdsl.typesys.hints import did_you_mean

        names = [*program.names, *program.checked.laws]
        raise CatError(
            [
                Diagnostic(
                    "E0801",
                    f"no definition or law named `{name}`",
                    help=did_you_mean(name, names) or f"names: {', '.join(names)}",
                )
            ]
        )
    return to_dot(program[name].diagram, shapes=shapes, expand=expand, unroll=unroll, title=name)


def _diagrams(program, names: list[str]) -> list:
    """The diagrams of several definitions, lowered with one memo (each definition once)."""
    from catdsl.diagram.lower import Lowering

    definitions = program.checked.definitions
    lowering = Lowering({n: d.term for n, d in definitions.items() if d.kind == "data"})
    return [lowering.lower(program[n].term, n) for n in names]


def is_directory(output: str) -> bool:
    """Whether `-o` names a directory: an existing one, or a path ending in `/`."""
    return output.endswith(("/", "\\")) or Path(output).is_dir()


def _draw_directory(checked, args: argparse.Namespace) -> int:
    """Every drawing of the program as its own SVG in a directory, with an `index.html`:
    illegal compositions first, then each definition and law that checks."""
    from catdsl.render.dot import to_dot
    from catdsl.render.output import render_directory, signature_text

    options = _options(args)
    pages = [
        (f"illegal-{definition or k}", f"illegal composition in {definition}", dot)
        for k, (definition, dot) in enumerate(_illegal_figures(checked))
    ]
    program = _what_checks(checked)
    for name, diagram in zip(program.names, _diagrams(program, program.names), strict=True):
        pages.append((name, signature_text(name, diagram), to_dot(diagram, title=name, **options)))
    for name in checked.laws:
        pages.append((name, f"law {name}", dot_for(program, name, **options)))
    if pages:
        title = Path(checked.file).name
        render_directory(pages, args.output, title)
        where = sys.stderr if checked.diagnostics else sys.stdout
        print(f"wrote {len(pages)} drawings and index.html to {args.output}", file=where)
    return EXIT_PROGRAM if checked.diagnostics else EXIT_OK


def _despite_errors(checked, args: argparse.Namespace) -> tuple[str, str] | None:
    """What a program with errors can still show, and the line that says so: the illegal
    composition asked for, else what did check (a hole drawn dashed), else nothing."""
    figure = _illegal_figure(checked, args.name)
    if figure is not None:
        return figure, f"illegal diagram written to {args.output}"
    wanted = [args.name] if args.name else list(checked.definitions)
    if not wanted or not all(n in checked.definitions or n in checked.laws for n in wanted):
        return None
    what = f"`{args.name}`" if args.name else "the definitions that check"
    drawn = dot_for(_what_checks(checked), args.name, **_options(args))
    return drawn, f"{what} drawn to {args.output} all the same"


def _options(args: argparse.Namespace) -> dict:
    """The drawing options of the command line, as `dot_for` takes them."""
    return {"shapes": args.shapes, "expand": args.expand, "unroll": args.unroll}


def _what_checks(checked):
    """A program of the definitions and laws that checked, when others did not (to draw)."""
    from catdsl.frontend.program import BaseProgram

    return BaseProgram(replace(checked, diagnostics=[]))


def _illegal_figure(checked, name: str | None) -> str | None:
    """The first illegal composition of the definition asked for (any, with no name)."""
    return next((dot for d, dot in _illegal_figures(checked) if name in (None, d)), None)


def _illegal_figures(checked) -> Iterator[tuple[str | None, str]]:
    """Every illegal composition the checker found, with its definition's name, each part
    drawn as its own diagram when the checker typed it; drawn one by one, as asked for."""
    from catdsl.diagram.lower import lower
    from catdsl.render.errors import illegal_to_dot

    consts = {n: d.term for n, d in checked.definitions.items() if d.kind == "data"}
    figures = [d.figure for d in checked.diagnostics if d.figure is not None]
    return (
        (
            fig.definition,
            illegal_to_dot(fig, parts=[lower(t, consts=consts) for t in fig.terms] or None),
        )
        for fig in figures
    )


def program_svg(program) -> str | None:
    """SVG of every definition, or None without Graphviz (Jupyter then shows the repr)."""
    from catdsl.render.output import svg_of

    try:
        return svg_of(dot_for(program, None))
    except CatRuntimeError:
        return None
