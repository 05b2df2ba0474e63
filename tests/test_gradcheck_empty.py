"""gradcheck at empty lists and `none`: a second case, for the params, when the inputs hold
lists or options; none for a definition without them."""

from __future__ import annotations

import numpy as np
from conftest import TINY

import catdsl
from catdsl.frontend.gradcheck import gradcheck

FOLDED = """
import std.ml
import std.lists

param w : Real[3] = [0.5, -1.0, 2.0]

morphism Score : Real[3] -> Real = dot(w)
let total : List[Real[3]] -> Real = List(Score) >> fold(add, 0.0)
let maybe : Option[Real[3]] -> Option[Real] = Option(Score)
"""


def test_a_list_input_is_also_checked_empty() -> None:
    program = catdsl.loads(FOLDED)
    report = gradcheck(program, "total")
    assert [r.name for r in report.rows] == ["input 1", "w", "w at [] / none"]
    assert report.ok
    empty = report.rows[-1]
    # a fold over nothing is its unit: no param moves it, and both derivatives say so exactly
    assert (empty.checked, empty.largest, empty.max_abs_error) == (3, 0.0, 0.0)
    assert report.warnings == ()


def test_an_option_input_is_also_checked_at_none() -> None:
    program = catdsl.loads(FOLDED)
    report = gradcheck(program, "maybe")
    # at `none` nothing real comes out: only the present case has rows
    assert [r.name for r in report.rows] == ["input 1", "w"]
    assert report.ok


def test_without_lists_or_options_there_is_one_case() -> None:
    program = catdsl.load(TINY)
    report = gradcheck(program, "loss")
    assert [r.name for r in report.rows] == ["E", "W", "b"]


def test_a_wrong_gradient_at_the_empty_case_fails(monkeypatch) -> None:
    """The empty case is a real check: a VJP that is wrong only there is caught there."""
    program = catdsl.loads(FOLDED)
    backend = program.backend
    real_vjp = backend.vjp

    def vjp(plan, inputs, ports, params, cots, wrt):
        outputs, grads = real_vjp(plan, inputs, ports, params, cots, wrt)
        if inputs and isinstance(inputs[0], np.ndarray) and inputs[0].shape[0] == 0:
            grads = {**grads, "w": grads["w"] + 1.0}
        return outputs, grads

    monkeypatch.setattr(backend, "vjp", vjp)
    report = gradcheck(program, "total")
    assert [(r.name, r.ok) for r in report.rows][-1] == ("w at [] / none", False)
    assert not report.ok
