"""`catdsl draw`: a definition, a law, a whole program, or an ill-typed composition.

An ill-typed definition is drawn too (the course's "illegal diagram", the offending wire in
red) and the command still exits 1 with the diagnostic.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from catdsl.errors import CatError, CatRuntimeError, Diagnostic

EXIT_OK, EXIT_PROGRAM = 0, 1


def draw_command(args: argparse.Namespace) -> int:
    from catdsl.diagnostics import render_all
    from catdsl.loader import check_file
    from catdsl.render.output import render

    checked = check_file(args.file)
    if not checked.sources:
        raise OSError(2, checked.diagnostics[0].message, args.file)
    if checked.diagnostics:
        print(
            render_all(checked.diagnostics, checked.sources, color=sys.stderr.isatty()),
            file=sys.stderr,
        )
        drawn = _despite_errors(checked, args)
        if drawn is not None:
            render(drawn[0], args.output)
            print(drawn[1], file=sys.stderr)
        return EXIT_PROGRAM
    from catdsl.frontend.api import Program

    program = Program(checked)
    dot = dot_for(program, args.name, shapes=args.shapes, expand=args.expand, unroll=args.unroll)
    render(dot, args.output)
    print(f"wrote {args.output}")
    return EXIT_OK


def dot_for(
    program, name: str | None, *, shapes: bool = False, expand: int = 0, unroll: bool = False
) -> str:
    """DOT text for a definition, a law, or (no name) every definition of the program."""
    from catdsl.frontend.api import Morphism
    from catdsl.render.commutative import law_to_dot
    from catdsl.render.dot import to_dot
    from catdsl.render.output import page_of

    if name is None:
        diagrams = [(n, program[n].diagram) for n in program.names]
        title = Path(program.file).name if program.file else None
        return page_of(diagrams, shapes=shapes, expand=expand, unroll=unroll, title=title)
    if name in program.checked.laws:
        law = program.checked.laws[name]
        lhs = Morphism(program, f"{name} (left)", law.lhs).diagram
        rhs = Morphism(program, f"{name} (right)", law.rhs).diagram
        return law_to_dot(name, lhs, rhs, law.tolerance)
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


def _despite_errors(checked, args: argparse.Namespace) -> tuple[str, str] | None:
    """What a program with errors can still show, and the line that says so: the illegal
    composition asked for, else what did check (a hole drawn dashed), else nothing."""
    from catdsl.frontend.api import Program

    figure = _illegal_figure(checked, args.name)
    if figure is not None:
        return figure, f"illegal diagram written to {args.output}"
    wanted = [args.name] if args.name else list(checked.definitions)
    if not wanted or not all(n in checked.definitions or n in checked.laws for n in wanted):
        return None
    program = Program(replace(checked, diagnostics=[]))
    options = {"shapes": args.shapes, "expand": args.expand, "unroll": args.unroll}
    what = f"`{args.name}`" if args.name else "the definitions that check"
    return dot_for(program, args.name, **options), f"{what} drawn to {args.output} all the same"


def _illegal_figure(checked, name: str | None) -> str | None:
    """The first illegal composition of the definition asked for (any, with no name), each
    part drawn as its own diagram when the checker typed it."""
    from catdsl.diagram.lower import lower
    from catdsl.render.errors import illegal_to_dot

    consts = {n: d.term for n, d in checked.definitions.items() if d.kind == "data"}
    for d in checked.diagnostics:
        fig = d.figure
        if fig is not None and (name is None or fig.definition == name):
            parts = [lower(term, consts=consts) for term in fig.terms] or None
            return illegal_to_dot(fig, parts=parts)
    return None


def program_svg(program) -> str | None:
    """SVG of every definition, or None without Graphviz (Jupyter then shows the repr)."""
    from catdsl.render.output import svg_of

    try:
        return svg_of(dot_for(program, None))
    except CatRuntimeError:
        return None
