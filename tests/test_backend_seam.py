"""The seam between the IR and the backends: schedules, kernel tables passed in, the layering."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from termkit import P, const, copy, discard, functor, opaque, pair, prim, real, seq, snd, swap, tiny

from catdsl.cli import build_parser
from catdsl.diagram.ir import PrimBox
from catdsl.diagram.lower import lower
from catdsl.diagram.schedule import Call, Check, Map, schedule
from catdsl.errors import CatRuntimeError
from catdsl.frontend.backends import BACKENDS, kernel_table
from catdsl.semantics.numpy_backend import NumpyBackend

R3 = real(3)
PACKAGE = REPO / "catdsl"


def test_structure_is_aliasing_and_constants_are_hoisted() -> None:
    three = const("three", R3, [1.0, 2.0, 3.0])
    add = prim("add", (R3, R3), R3, in_ranks=(1, 1))
    term = seq(pair(seq(discard(R3), three), copy(R3)), snd(R3, P(R3, R3)), swap(R3, R3), add)
    sched = schedule(lower(term))
    (step,) = sched.steps  # copy, swap and discard are only slot aliases
    assert isinstance(step, Call) and step.box.name == "add"
    assert [c.box.name for c in sched.constants] == ["three"]
    plan = NumpyBackend(kernel_table()).compile(lower(term))
    assert plan.run((np.array([1.0, 2.0, 4.0]),))[0].tolist() == [2.0, 4.0, 8.0]


def test_a_morphism_use_is_inlined_and_its_nominal_outputs_checked() -> None:
    m = tiny()
    sched = schedule(lower(m.predict, "predict"))
    checks = [s for s in sched.steps if isinstance(s, Check)]
    assert [c.label for c in checks] == ["Embedding", "LinearToLogits", "Softmax"]
    assert all(isinstance(s.box, PrimBox) for s in sched.steps if isinstance(s, Call))
    assert [s.name for s in sched.sources] == ["E", "W", "b"]


def test_a_box_without_a_definition_cannot_be_scheduled() -> None:
    with pytest.raises(CatRuntimeError) as caught:
        schedule(lower(opaque("Attention", R3, R3)))
    assert caught.value.diagnostic.code == "R0101"


def test_the_kernel_table_is_what_the_backend_is_given() -> None:
    relu = lower(prim("relu", R3, R3, in_ranks=(1,)))
    with pytest.raises(CatRuntimeError) as caught:
        NumpyBackend({}).compile(relu)
    assert caught.value.diagnostic.code == "R0103"
    table = dict(kernel_table())
    plan = NumpyBackend(table).compile(relu)
    assert plan.run((np.array([-1.0, 0.5, 2.0]),))[0].tolist() == [0.0, 0.5, 2.0]


def test_a_schedule_is_made_once_per_sub_diagram() -> None:
    relu = functor("List", prim("relu", R3, R3, in_ranks=(1,)))
    first, second = schedule(lower(pair(relu, relu))).steps
    assert isinstance(first, Map) and isinstance(second, Map) and first.body is second.body


def test_semantics_and_the_ir_do_not_import_the_standard_library() -> None:
    code = (
        "import sys, catdsl.semantics.numpy_backend, catdsl.semantics.reference\n"
        "print(sorted(m for m in sys.modules if m.startswith('catdsl.std')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    for path in (PACKAGE / "semantics").glob("*.py"):
        assert not any(m.startswith("catdsl.std") for m in _imports(path)), path.name


def test_the_front_end_modules_import_no_cycle() -> None:
    """`api` uses the command modules; none of them imports `api` back, not even lazily."""
    for name in ("drawing", "gradcheck", "law_check", "training_run", "program"):
        assert "catdsl.frontend.api" not in _imports(PACKAGE / "frontend" / f"{name}.py"), name


def test_every_command_that_computes_offers_every_backend() -> None:
    """`--backend` takes the names `frontend/backends.py` wires (the CLI spells them out so
    `catdsl explain` and `--help` start without numpy): a new backend is added to both."""
    commands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices
    offering = {
        name: action.choices
        for name, parser in commands.items()
        for action in parser._actions
        if action.dest == "backend"
    }
    assert set(offering) == {"run", "train", "laws", "gradcheck"}
    assert all(tuple(choices) == BACKENDS for choices in offering.values()), offering


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("catdsl")}
