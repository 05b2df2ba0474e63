"""Whether a learner's file solves its exercise: it checks clean, keeps the exercise's
boundaries, its laws hold and its named values are the reference solution's.

The reference is the exercise's `solution.cat`, so no expected number is written anywhere:
the solution computes it. "Keeps the boundaries" is what stops a fix by weakening: every
object of the solution (except those the exercise says the fix changes) must be declared in
the learner's file as an object with the same carrier and at least its invariants, and every
declared morphism of the solution must keep its signature.

| code  | the learner's file ... |
| ----- | ---------------------- |
| E0900 | weakened, merged or removed an object the exercise keeps |
| E0901 | changed or removed the signature of a declared morphism |
| E0902 | lacks a definition of the exercise, or gives it another type |
| E0903 | has a law that does not hold, or lost or changed one of the exercise's laws |
| E0904 | gives a named definition another value than the solution, or accepts a rejected one |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from catdsl.errors import CatError, CatRuntimeError, Diagnostic, Span
from catdsl.frontend.learn_exercises import Exercise, ValueGoal
from catdsl.loader import check_file
from catdsl.syntax import ast
from catdsl.syntax.parser import parse
from catdsl.typesys.program import CheckedProgram
from catdsl.typesys.types import Carrier, Obj, Prod

VALUE_TOLERANCE = 1e-9  # scale-relative, as for laws: both sides compute the same formula
_DEFINITIONS = (ast.MorphismDecl, ast.LetDecl, ast.WiringDecl, ast.DataDecl)


@dataclass
class Outcome:
    """The diagnostics that keep a file from solving its exercise (none: it passes)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.diagnostics

    @property
    def codes(self) -> list[str]:
        return sorted({d.code for d in self.diagnostics})


def grade(exercise: Exercise, path: Path) -> Outcome:
    """Grade the learner's file at `path` against `exercise`'s reference solution."""
    checked = check_file(path)
    if checked.diagnostics:
        return Outcome(list(checked.diagnostics), checked.sources)
    reference = _reference(exercise)
    guard = _Guard(exercise, checked, reference)
    problems = guard.objects() or guard.morphisms() or guard.definitions()
    if problems:
        return Outcome(problems, checked.sources)
    return Outcome(_laws_and_values(exercise, checked, reference), checked.sources)


def _reference(exercise: Exercise) -> CheckedProgram:
    reference = check_file(exercise.solution_path)
    if reference.diagnostics:
        raise CatError(
            [
                Diagnostic(
                    "E0905",
                    f"the reference solution of {exercise.key} does not check",
                    help="run `catdsl check` on it",
                ),
                *reference.diagnostics,
            ],
            reference.sources,
        )
    return reference


class _Guard:
    """The learner's declarations against the reference's: objects, morphisms, definitions."""

    def __init__(self, exercise: Exercise, mine: CheckedProgram, reference: CheckedProgram):
        self.exercise = exercise
        self.mine = mine
        self.reference = reference
        self.text = mine.sources.get(mine.file, "")

    def objects(self) -> list[Diagnostic]:
        out = []
        for name, ref in self.reference.objects.items():
            if name in self.exercise.changes:
                continue
            mine = self.mine.objects.get(name)
            problem = self._object_problem(name, ref, mine)
            if problem is not None:
                span = mine.span if mine is not None else self._span(name)
                declared = _with_where(ref)
                sizes = _sizes(declared, self.reference)
                out.append(
                    Diagnostic(
                        "E0900",
                        problem,
                        span=span,
                        help=f"keep `object {name} : {declared}`{sizes}, and restore what is "
                        "missing instead",
                        notes=(
                            "a fix by weakening the objects does not count: it makes the error "
                            "disappear while the boundary it reported is still crossed",
                        ),
                    )
                )
        return out

    def _object_problem(self, name: str, ref: Obj, mine: Obj | None) -> str | None:
        if mine is None:
            if name in self.mine.aliases:
                alias = self.mine.aliases[name]
                return (
                    f"the object `{name}` was merged into `{alias}`: `type {name} = {alias}` "
                    "makes them one object"
                )
            return f"the object `{name}` was removed"
        if _key(mine.carrier) != _key(ref.carrier):
            was = f"`{ref.carrier}`{_sizes(str(ref.carrier), self.reference)}"
            now = f"`{mine.carrier}`{_sizes(str(mine.carrier), self.mine)}"
            return f"the object `{name}` was weakened: it was {was}, it is now {now}"
        kept = {str(p) for p in mine.where}
        lost = [str(p) for p in ref.where if str(p) not in kept]
        if lost:
            return f"the object `{name}` was weakened: it lost its invariant `{lost[0]}`"
        return None

    def morphisms(self) -> list[Diagnostic]:
        out = []
        for name, ref in self.reference.definitions.items():
            if ref.kind != "morphism":
                continue
            mine = self.mine.definitions.get(name)
            expected = _signature(ref.term)
            if mine is None or mine.kind != "morphism":
                message = f"the morphism `{name} : {expected}` of the exercise is gone"
            elif _signature(mine.term) != expected:
                message = f"`{name}` was declared `{expected}` and is now `{_signature(mine.term)}`"
            else:
                continue
            span = mine.span if mine is not None else self._span(name)
            out.append(
                Diagnostic(
                    "E0901",
                    message,
                    span=span,
                    help=f"keep `morphism {name} : {expected}`: a declared signature is a "
                    "boundary; change what is composed, not the boundary",
                )
            )
        return out

    def definitions(self) -> list[Diagnostic]:
        out = []
        for name in _declared_names(self.exercise.exercise_path):
            ref = self.reference.definitions.get(name)
            if ref is None or ref.kind == "morphism":
                continue
            mine = self.mine.definitions.get(name)
            expected = _signature(ref.term)
            if mine is None:
                message = f"`{name}` is gone: the exercise needs it, of type `{expected}`"
            elif _signature(mine.term) != expected:
                message = f"`{name}` is `{_signature(mine.term)}`; the goal needs `{expected}`"
            else:
                continue
            out.append(
                Diagnostic(
                    "E0902",
                    message,
                    span=mine.span if mine is not None else self._span(name),
                    help="read the goal at the top of the file again",
                )
            )
        return out

    def _span(self, name: str) -> Span:
        """Where `name` is declared in the learner's text, else the file's first line."""
        pattern = re.compile(rf"^\s*(object|type|morphism|let|data)\s+({re.escape(name)})\b", re.M)
        match = pattern.search(self.text)
        file = self.mine.file
        if match is None:
            return Span.point(file, 1, 1)
        line = self.text.count("\n", 0, match.start(2)) + 1
        column = match.start(2) - (self.text.rfind("\n", 0, match.start(2)) + 1) + 1
        return Span(file, line, column, line, column + len(name))


def _key(carrier: object) -> object:
    """A carrier as comparable data: objects inside it by name (each object is compared on its
    own), dims by value, so two files declaring the same carrier agree."""
    if isinstance(carrier, Obj):
        return ("object", carrier.name)
    if isinstance(carrier, Prod):
        return tuple(_key(atom) for atom in carrier.atoms)
    if isinstance(carrier, Carrier):
        elem = _key(carrier.elem) if carrier.elem is not None else None
        return (carrier.kind, carrier.shape.dims, carrier.shape.rest, carrier.bound, elem)
    return str(carrier)


def _signature(term) -> str:
    ports = "".join(f"[{p.name}: {p.atom}]" for p in term.ports if p.kind == "port")
    return f"{term.dom} -> {term.cod}{(' ' + ports) if ports else ''}"


def _with_where(obj: Obj) -> str:
    where = " and ".join(str(p) for p in obj.where)
    return f"{obj.carrier}{(' where ' + where) if where else ''}"


def _sizes(text: str, program: CheckedProgram) -> str:
    """` (with D = 4)`: the sizes of the dims `text` names, or nothing."""
    sizes = [
        f"{name} = {size}"
        for name, size in program.dims.items()
        if size is not None and re.search(rf"\b{re.escape(name)}\b", text)
    ]
    return f" (with {', '.join(sizes)})" if sizes else ""


def _declared_names(path: Path) -> list[str]:
    """The definitions the exercise file itself declares (read by the parser alone: the file
    does not check)."""
    module, _ = parse(path.read_text(encoding="utf-8"), str(path))
    if module is None:
        return []
    return [item.name for item in module.items if isinstance(item, _DEFINITIONS)]


def _laws_and_values(
    exercise: Exercise, checked: CheckedProgram, reference: CheckedProgram
) -> list[Diagnostic]:
    from catdsl.frontend.api import Program
    from catdsl.frontend.law_check import check_law

    mine, solved = Program(checked), Program(reference)
    out = _givens(mine, solved, exercise.changes)
    if out:
        return out
    for name, law in reference.laws.items():
        stated = _law_text(reference, law.span)
        if name not in checked.laws:
            message, span = f"the law `{name}` of the exercise is gone", None
        elif _law_text(checked, checked.laws[name].span) != stated:
            message = f"the law `{name}` was changed: the exercise states `{stated}`"
            span = checked.laws[name].span
        else:
            continue
        out.append(
            Diagnostic(
                "E0903",
                message,
                span=span or Span.point(checked.file, 1, 1),
                help="a law is the claim the exercise checks: keep it as stated and make it hold",
            )
        )
    if out:
        return out
    for name, law in checked.laws.items():
        try:
            report = check_law(mine, name, samples=16, seed=0)
        except CatError as err:
            out.extend(err.diagnostics)
            continue
        if report.holds:
            continue
        why = (
            f"it did not run: {report.failure}"
            if report.failure
            else f"its sides differ by {report.max_error:.3g} (tolerance {report.tolerance:g})"
        )
        out.append(
            Diagnostic(
                "E0903",
                f"the law `{name}` does not hold: {why}",
                span=law.span,
                help="both sides type-check; one of them computes something else",
            )
        )
    if out:
        return out
    for goal in exercise.values:
        problem = _compare(goal, mine, solved)
        if problem is not None:
            out.append(problem)
    return out


def _givens(mine, solved, changes: frozenset[str]) -> list[Diagnostic]:
    """The params and data points the solution shares with the learner's file (except those
    the fix changes) must hold the solution's values: changing the data (a bias set to zero,
    a false interval made true) can make a law hold without fixing anything."""
    from catdsl.frontend.law_check import difference

    out = []
    for name, info in mine.checked.params.items():
        if name in solved.checked.params and name not in changes:
            got, given = mine.params[name], solved.params[name]
            if difference(got, given) > VALUE_TOLERANCE:
                out.append(_changed(f"the param `{name}`", info.span, got, given))
    for name, definition in mine.checked.definitions.items():
        theirs = solved.checked.definitions.get(name)
        if definition.kind != "data" or theirs is None or theirs.kind != "data" or name in changes:
            continue
        try:
            given = solved[name]()
            got = mine[name]()
        except (CatError, CatRuntimeError):
            continue  # a value that must be rejected: the goals say how
        if difference(got, given) > VALUE_TOLERANCE:
            out.append(_changed(f"`{name}`", definition.span, got, given, mine[name]))
    return out


def _changed(what: str, span: Span | None, got, given, shown=None) -> Diagnostic:
    text = shown.format_value if shown is not None else _array_text
    return Diagnostic(
        "E0904",
        f"{what} was changed: the exercise gives it another value",
        span=span,
        notes=(f"it is {_one_line(text(got))}", f"the exercise gives {_one_line(text(given))}"),
        help="keep the given data as it is: fix the program that uses it",
    )


def _array_text(value) -> str:
    import numpy as np

    with np.printoptions(precision=6, suppress=True):
        return str(np.asarray(value))


def _law_text(program: CheckedProgram, span: Span | None) -> str:
    """A law as written, comments dropped and spaces collapsed (`law name : lhs == rhs`)."""
    if span is None:
        return ""
    lines = program.sources.get(span.file, "").splitlines()[span.line - 1 : span.end_line]
    if not lines:
        return ""
    lines[-1] = lines[-1][: span.end_column - 1]
    lines[0] = lines[0][span.column - 1 :]
    return " ".join(" ".join(line.split("#", 1)[0].split()) for line in lines).strip()


def _compare(goal: ValueGoal, mine, solved) -> Diagnostic | None:
    from catdsl.frontend.law_check import difference

    if goal.name not in mine:
        return Diagnostic(
            "E0902",
            f"`{goal.name}` is gone: the goal is about its value",
            span=Span.point(mine.file, 1, 1),
            help="read the goal at the top of the file again",
        )
    morphism = mine[goal.name]
    try:
        got = morphism(goal.input)
    except CatError as err:
        return _stopped(goal, err.diagnostics[0])
    except CatRuntimeError as err:
        return _stopped(goal, err.diagnostic)
    definition = mine.checked.definitions[goal.name]
    if goal.fails is not None:
        return Diagnostic(
            "E0904",
            f"{goal.describe()} is accepted, but the goal is that it is rejected ({goal.fails})",
            span=definition.span,
            notes=(f"it gives {_one_line(morphism.format_value(got))}",),
            help="a value that breaks an object's invariant must stop at the object's boundary",
        )
    wanted = solved[goal.name](goal.input)
    if difference(got, wanted) <= VALUE_TOLERANCE:
        return None
    return Diagnostic(
        "E0904",
        f"{goal.describe()} gives another value than the goal",
        span=definition.span,
        notes=(
            f"it gives {_one_line(morphism.format_value(got))}",
            f"the goal is {_one_line(morphism.format_value(wanted))}",
        ),
        help="it type-checks and runs: reread the goal; the data or a stage differs",
    )


def _stopped(goal: ValueGoal, d: Diagnostic) -> Diagnostic | None:
    """A goal's run stopped with `d`: fine when the goal is that it fails so, else `d` with a
    note saying which goal was being computed (its span may be far from the goal)."""
    if d.code == goal.fails:
        return None
    note = f"while computing {goal.describe()}, a goal of the exercise"
    return replace(d, notes=(*d.notes, note))


def _one_line(text: str) -> str:
    return " ".join(text.split())
