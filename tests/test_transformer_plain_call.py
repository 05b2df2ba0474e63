"""A plain checked call validates at its boundary and lets the floating-point flags watch the
boxes; a non-finite value is still reported at the first box that produced it, even when a
later box hides it, and a refusing box still gives the first failing stage's error."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.semantics.plan import RunContext

PROGRAM = """
import std.ml
dim D = 4
object Hidden : Real[D]
object Positive : Real[D] where positive
param W : Real[D, D] = normal(0, 0.5, seed = 1)
morphism Lift : Hidden -> Hidden = linear(W)
morphism Keep : Hidden -> Positive = relu >> scale(c = 2.0)
let chain = linear(W) >> tanh >> linear(W) >> tanh >> linear(W) >> tanh
let blows_up = linear(W) >> scale(c = 1e300) >> scale(c = 1e300) >> tanh >> linear(W)
let into_object = Lift >> Keep
"""


def test_a_chain_gives_the_same_bits_as_the_scanned_run():
    program = catdsl.loads(PROGRAM)
    x = np.array([0.3, -1.0, 2.0, 0.5])
    plan = program["chain"].plan
    values = plan.gather((x,), {}, program.params)
    scanned = plan.execute(values, RunContext(True, {}))
    assert np.array_equal(program["chain"](x), scanned[0])


def test_an_infinity_hidden_by_a_later_box_is_reported_where_it_appeared():
    program = catdsl.loads(PROGRAM)
    x = np.array([0.3, -1.0, 2.0, 0.5])
    with np.errstate(all="ignore"):
        hidden = program["blows_up"].run((x,), {}, check=False)[0]
    assert np.isfinite(hidden).all()  # tanh squashed the infinity: the output looks fine
    with pytest.raises(catdsl.CatError) as info:
        program["blows_up"](x)
    (d,) = info.value.diagnostics
    assert d.code == "R0415" and d.message == "`scale(1e300)` produced an infinite value"
    assert d.span is not None and d.span.column == 49  # the second scale (the first is at 29)


def test_an_interior_object_is_still_checked_where_values_enter_it():
    program = catdsl.loads(PROGRAM)
    with pytest.raises(catdsl.CatError) as info:
        program["into_object"](np.zeros(4))
    (d,) = info.value.diagnostics
    assert d.code == "R0414" and "`positive`" in d.message
