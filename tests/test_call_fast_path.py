"""A call with one numpy array of the morphism's dtype and no ports goes straight to the plan
(no conversion, no batch comparison, one error-state context): the same bits and the same
diagnostics — code, message, help, span, box — as a call that converts its input (a list),
including for params mutated in place or replaced between calls. Timings live in
`bench/transformer.py`, never here."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.frontend import program as program_module
from catdsl.semantics import straight
from catdsl.semantics.values import coerce

PROGRAM = """
import std.ml
dim T
dim D = 4
object Hidden : Real[D]
object Positive : Real[D] where positive
object Small : Real[D] where value < 10
object Rows : Real[T, D]
param W : Real[D, D] = normal(0, 0.5, seed = 1)
param b : Real[D] = normal(0, 0.5, seed = 2)
morphism Lift : Hidden -> Hidden = linear(W)
morphism Keep : Hidden -> Positive = relu >> scale(c = 2.0)
let chain = linear(W) >> tanh >> affine(W, b) >> relu >> linear(W) >> tanh
morphism rows : Rows -> Rows = affine(W, b) >> tanh >> linear(W) >> relu
let risky = linear(W) >> scale(c = 1e200) >> scale(c = 1e200) >> tanh >> linear(W)
let into_object = Lift >> Keep
morphism small : Small -> Hidden = linear(W)
morphism logs : Hidden -> Hidden = log >> linear(W)
let pair = (linear(W) >> tanh) * (affine(W, b) >> relu)
object Tok : Index[D]
object Dist : Simplex[D]
object Loss : Real
morphism Soft : Hidden -> Dist = softmax
morphism Pick[target: Tok] : Dist -> Loss = nll
let picked = Soft >> Pick
"""

X = np.array([0.3, -1.0, 2.0, 0.5])


@pytest.fixture(autouse=True, params=[0, 10], ids=["written-at-once", "written-later"])
def written_after(request, monkeypatch) -> int:
    """Plans written out from their first run, or after ten (the loop runs until then)."""
    monkeypatch.setattr(straight, "WRITE_AFTER", request.param)
    return request.param


@pytest.fixture
def converted(monkeypatch) -> list:
    """Records every call that converts its input (the path the fast one skips)."""
    seen: list = []
    original = program_module.Morphism.inputs_from

    def recording(self, value):
        seen.append(self.name)
        return original(self, value)

    monkeypatch.setattr(program_module.Morphism, "inputs_from", recording)
    return seen


def outcome(f, value) -> object:
    """The result's bytes, or every diagnostic as (code, message, help, line, column)."""
    try:
        result = f(value)
    except catdsl.CatError as err:
        return [
            (d.code, d.message, d.help, d.span and d.span.line, d.span and d.span.column)
            for d in err.diagnostics
        ]
    if isinstance(result, tuple):
        return tuple((r.dtype, r.shape, r.tobytes()) for r in result)
    return (result.dtype, result.shape, np.asarray(result).tobytes())


def both_paths(name: str, warm: object, value: np.ndarray, change=None) -> tuple:
    """The outcome of `value` after 12 good calls with `warm` (validated, written out,
    trusted), `change` applied to the program's params just before: as an array (the fast
    path) and as a list (converted), each in a fresh program."""
    found = []
    for form in (lambda v: v, lambda v: v.tolist()):
        program = catdsl.loads(PROGRAM)
        f = program[name]
        for _ in range(12):
            f(warm)
        if change is not None:
            change(program.params)
        found.append(outcome(f, form(value)))
    return found[0], found[1]


def test_an_array_of_the_dtype_skips_the_conversion_and_a_list_does_not(converted) -> None:
    f = catdsl.loads(PROGRAM)["chain"]
    fast = f(X)
    assert converted == []
    assert np.array_equal(f(X.tolist()), fast) and converted == ["chain"]
    f(X.astype(np.float32))  # converted to the program's dtype
    f(np.arange(4))  # integers: converted
    f(X.view(type("Sub", (np.ndarray,), {})))  # a subclass: `np.asarray` makes it an ndarray
    assert converted == ["chain"] * 4
    picked = catdsl.loads(PROGRAM)["picked"]
    picked(X, target=2)  # ports: converted
    assert converted[-1] == "picked"


def test_fast_calls_give_the_bits_of_converted_calls() -> None:
    for name, value in [("chain", X), ("rows", np.ones((3, 4)) * X), ("small", X)]:
        fast, slow = both_paths(name, value, value)
        assert fast == slow and isinstance(fast, tuple)
    program = catdsl.loads(PROGRAM)
    pair = program["pair"]  # two wires: always converted, the same bits as before
    want = np.tanh(X @ program.params["W"])
    assert pair(X, -X)[0].tobytes() == want.tobytes()


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            np.array([np.nan, 0, 0, 0]),
            ("R0413", "input 1 of `chain` is not a valid `Real[4]`: it holds NaN"),
        ),
        (
            np.array([np.inf, 0, 0, 0]),
            ("R0413", "input 1 of `chain` is not a valid `Real[4]`: it holds an infinite entry"),
        ),
        (
            np.ones(3),
            (
                "R0410",
                "input 1 of `chain` is not a valid `Real[4]`: expected shape [4] = [4], found [3]",
            ),
        ),
        (
            np.ones((2, 3)),
            (
                "R0410",
                "input 1 of `chain` is not a valid `Real[4]`: expected shape [4] = [4], found [3]",
            ),
        ),
        (
            np.float64(1.0),
            (
                "R0410",
                "input 1 of `chain` is not a valid `Real[4]`: "
                "expected 1 axes or more, found shape ()",
            ),
        ),
    ],
)
def test_a_bad_input_is_reported_as_a_converted_one_is(value, expected) -> None:
    fast, slow = both_paths("chain", X, value)
    assert fast == slow == [(*expected, None, None, None)]


def test_a_violated_where_clause_on_the_input_is_reported_as_before() -> None:
    fast, slow = both_paths("small", X, np.array([1.0, 20.0, 0.0, 0.0]))
    message = (
        "input 1 of `small` is not a valid `Small`: "
        "the invariant `value < 10` does not hold (found 20)"
    )
    assert fast == slow == [("R0414", message, None, None, None)]


def test_a_violated_object_inside_the_run_names_its_box() -> None:
    w = catdsl.loads(PROGRAM).params["W"]
    warm = np.linalg.solve(w.T, np.arange(1.0, 5.0))  # x · W = 1, 2, 3, 4: positive
    fast, slow = both_paths("into_object", warm, np.zeros(4))
    message = (
        "the output of `Keep` is not a valid `Positive`: the invariant `positive` does not hold"
    )
    assert fast == slow == [("R0414", message, None, 16, 27)]


def test_the_first_box_producing_an_infinity_is_named() -> None:
    fast, slow = both_paths("risky", np.zeros(4), X)
    help_text = "this is the first box of the run whose output is not finite"
    assert (
        fast == slow == [("R0415", "`scale(1e200)` produced an infinite value", help_text, 15, 46)]
    )


def test_a_kernel_refusing_its_input_is_reported_by_the_rerun() -> None:
    fast, slow = both_paths("logs", np.abs(X) + 1, np.array([-1.0, 1.0, 1.0, 1.0]))
    assert fast == slow
    (code, message, _help, line, _column) = fast[0]
    assert code == "R0430" and "the entry at [0] is -1" in message and line == 18


def nan_in_place(params: dict) -> None:
    params["W"][1, 2] = np.nan  # the same array, mutated between calls


def inf_in_place(params: dict) -> None:
    params["b"][0] = np.inf


def nan_replaced(params: dict) -> None:
    params["W"] = np.full((4, 4), np.nan)


def shape_replaced(params: dict) -> None:
    params["W"] = np.ones((4, 3))


def list_replaced(params: dict) -> None:
    params["W"] = [[1.0] * 4] * 4


def removed(params: dict) -> None:
    del params["W"]


@pytest.mark.parametrize(
    "change, expected",
    [
        (nan_in_place, ("R0413", "the param `W` is not a valid `Real[D, D]`: it holds NaN", None)),
        (
            inf_in_place,
            ("R0413", "the param `b` is not a valid `Real[D]`: it holds an infinite entry", None),
        ),
        (nan_replaced, ("R0413", "the param `W` is not a valid `Real[D, D]`: it holds NaN", None)),
        (
            shape_replaced,
            (
                "R0410",
                "the param `W` is not a valid `Real[D, D]`: "
                "expected shape [D, D] = [4, 4], found [4, 3]",
                None,
            ),
        ),
        (
            list_replaced,
            (
                "R0416",
                "the param `W` is not a valid `Real[D, D]`: "
                "expected an array, found a value of type `list`",
                None,
            ),
        ),
        (
            removed,
            (
                "R0102",
                "no value for the param `W` of `chain`",
                "give a value of `Real[D, D]` for `W`",
            ),
        ),
    ],
)
def test_a_param_changed_between_calls_is_checked_again(change, expected) -> None:
    fast, slow = both_paths("chain", X, X, change)
    assert fast == slow == [(*expected, None, None)]


def test_a_param_replaced_or_mutated_between_calls_is_used() -> None:
    program = catdsl.loads(PROGRAM)
    f = program["rows"]
    x = np.ones((3, 4)) * X
    for _ in range(12):
        f(x)

    def by_hand(w: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(np.tanh(x @ w + b) @ w, 0)

    program.params["W"] = np.eye(4) * 0.5  # replaced
    assert f(x).tobytes() == by_hand(program.params["W"], program.params["b"]).tobytes()
    program.params["W"][0, 0] = 2.0  # mutated in place
    assert f(x).tobytes() == by_hand(program.params["W"], program.params["b"]).tobytes()
    program.params["W"] = np.eye(4, dtype=int)  # integers: a new layout, validated again
    assert f(x).tobytes() == by_hand(np.eye(4), program.params["b"]).tobytes()


@pytest.mark.parametrize(
    "carrier, value",
    [
        ("Real[3]", np.zeros(3)),
        ("Index[3]", np.zeros(2, dtype=np.int64)),
        ("Bool[2]", np.zeros(2, dtype=bool)),
        ("Int[2]", np.zeros(2, dtype=np.int64)),
        ("Simplex[2]", np.full(2, 0.5)),
    ],
)
def test_an_array_of_the_dtype_is_what_conversion_returns(carrier: str, value) -> None:
    program = catdsl.loads(f"import std.ml\nobject A : {carrier}\nmorphism f : A -> A = id[A]\n")
    f = program["f"]
    assert f._array_input == value.dtype
    assert coerce(value, f.dom.atoms[0], program.dtype) is value  # what the fast path skips


def test_float32_programs_take_float32_arrays_as_they_are(converted) -> None:
    program = catdsl.loads(PROGRAM, dtype="float32")
    f = program["chain"]
    x = X.astype(np.float32)
    fast = f(x)
    assert converted == [] and fast.dtype == np.float32
    assert f(X).tobytes() == fast.tobytes() and converted == ["chain"]  # float64: converted
