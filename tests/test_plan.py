"""Compiled plans: running, reverse mode, gradient checks, functors, loops and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from termkit import (
    P,
    compile_diagram,
    const,
    dim,
    functor,
    ident,
    index,
    list_of,
    obj,
    pair,
    par,
    param,
    power,
    prim,
    real,
    ref,
    seq,
    simplex,
    swap,
    tiny,
)

from catdsl.diagram.lower import lower
from catdsl.errors import CatRuntimeError, Span
from catdsl.semantics.values import coerce
from catdsl.typesys.types import Predicate

R3 = real(3)


def compiled(term, name=None):
    return compile_diagram(lower(term, name))


def error_of(call) -> CatRuntimeError:
    with pytest.raises(CatRuntimeError) as err:
        call()
    return err.value


# ---------------------------------------------------------------- running


def test_composed_equals_direct():
    m = tiny()
    composed, direct = compiled(m.predict), compiled(m.direct)
    for token in range(5):
        (a,) = composed.run((np.array(token),), {}, m.values)
        (b,) = direct.run((np.array(token),), {}, m.values)
        assert np.max(np.abs(a - b)) <= 1e-12
        assert abs(a.sum() - 1) < 1e-12


def test_tiny_prediction_matches_numpy():
    m = tiny()
    (p,) = compiled(m.predict).run((np.array(1),), {}, m.values)
    z = m.values["E"][1] @ m.values["W"] + m.values["b"]
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-15)


def test_fast_path_agrees_and_batches():
    m = tiny()
    plan = compiled(m.loss, "loss")
    x, y = np.array([1, 2, 3]), np.array([2, 3, 4])
    (checked,) = plan.run((x, y), {}, m.values)
    (fast,) = plan.run((x, y), {}, m.values, check=False)
    assert checked.shape == (3,) and np.array_equal(checked, fast)


def test_missing_param_or_wrong_arity_is_a_diagnostic():
    m = tiny()
    plan = compiled(m.predict, "predict")
    err = error_of(lambda: plan.run((np.array(1),), {}, {"E": m.values["E"]}))
    assert err.diagnostic.code == "R0102" and "`W`" in err.diagnostic.message
    err = error_of(lambda: plan.run((), {}, m.values))
    assert err.diagnostic.code == "R0102"


def test_kernel_errors_get_the_box_span():
    span = Span("prog.cat", 3, 5, 3, 12)
    m = tiny()
    look = prim(
        "lookup", m.TokenId, real(4), args=("E",), ports=(param("E", real(5, 4)),), in_ranks=(0, 2)
    )
    look = type(look)(**{**look.__dict__, "span": span})
    err = error_of(lambda: compiled(look).run((np.array(9),), {}, m.values, check=False))
    assert err.diagnostic.code == "R0201" and err.diagnostic.span == span


def test_first_error_wins():
    m = tiny()
    plan = compiled(m.loss, "loss")
    err = error_of(lambda: plan.run((np.array(7), np.array(9)), {}, m.values, check=False))
    assert err.diagnostic.code == "R0201"  # the token lookup fails before the target check


def test_registers_are_freed_after_last_use():
    chain = seq(*[prim("relu", R3, R3, in_ranks=(1,)) for _ in range(4)])
    plan = compiled(chain)
    frees = [step[3] for step in plan._fast]
    assert sum(len(f) for f in frees) >= 3  # every intermediate except the output


def test_constants_are_hoisted_with_their_carrier_dtype():
    m = tiny()
    plan = compiled(m.examples)
    xs, ys = plan.run(())[0]
    assert xs.dtype.kind == "i" and xs.tolist() == [1, 2, 3, 4, 1, 2, 3]
    assert ys.tolist() == [2, 3, 4, 1, 2, 3, 4]
    assert compile_diagram(lower(const("c", R3, [1, 2, 3])), np.float32).run(())[0].dtype == (
        np.float32
    )


# ---------------------------------------------------------------- functors and loops


def test_list_functor_vectorises_and_keeps_products():
    m = tiny()
    per_example = compiled(seq(m.examples, functor("List", m.loss)))
    (losses,) = per_example.run((), {}, m.values)
    plan = compiled(m.loss)
    (direct,) = plan.run(
        (np.array([1, 2, 3, 4, 1, 2, 3]), np.array([2, 3, 4, 1, 2, 3, 4])), {}, m.values
    )
    assert np.array_equal(losses, direct)
    swapped = compiled(functor("List", swap(m.TokenId, m.TokenId)))
    ((a, b),) = swapped.run(((np.array([1, 2]), np.array([3, 4])),))
    assert a.tolist() == [3, 4] and b.tolist() == [1, 2]


def test_option_functor():
    plan = compiled(functor("Option", prim("relu", R3, R3, in_ranks=(1,))))
    assert plan.run((None,)) == (None,)
    assert plan.run((np.array([-1.0, 1.0, 2.0]),))[0].tolist() == [0.0, 1.0, 2.0]


def test_power_runs_n_times_and_differentiates():
    W = param("W", real(3, 3))
    layer = seq(
        prim("linear", R3, R3, args=("W",), ports=(W,), in_ranks=(1, 2)),
        prim("tanh", R3, R3, in_ranks=(1,)),
    )
    weights = {"W": np.random.default_rng(0).normal(size=(3, 3)) * 0.5}
    x = np.array([0.3, -0.2, 0.9])
    expected = x
    for _ in range(3):
        expected = np.tanh(expected @ weights["W"])
    plan = compiled(seq(power(layer, 3), prim("sum", R3, real(), in_ranks=(1,))))
    (y,) = plan.run((x,), {}, weights)
    assert abs(y - expected.sum()) < 1e-14
    check_gradients(plan, (x,), weights)


# ---------------------------------------------------------------- reverse mode


def check_gradients(plan, inputs, params, eps=1e-6, tol=1e-7):
    """backward against central differences of the (summed) output, every real source."""
    outputs, tape = plan.forward(inputs, {}, params)
    cot = tuple(np.ones_like(np.asarray(o, dtype=float)) for o in outputs)
    grads = plan.backward(tape, cot, set(params) | {"inputs"})

    def total(ins, ps):
        return sum(float(np.sum(o)) for o in plan.run(ins, {}, ps, check=False))

    for name, value in params.items():
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            for sign in (1, -1):
                bumped = value.copy()
                bumped[i] += sign * eps
                numeric[i] += sign * total(inputs, {**params, name: bumped}) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, atol=tol, rtol=1e-6, err_msg=name)
    for k, x in enumerate(inputs):
        if np.asarray(x).dtype.kind != "f":
            assert grads["inputs"][k] is None
            continue
        numeric = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            for sign in (1, -1):
                bumped = x.copy()
                bumped[i] += sign * eps
                ins = (*inputs[:k], bumped, *inputs[k + 1 :])
                numeric[i] += sign * total(ins, params) / (2 * eps)
        np.testing.assert_allclose(grads["inputs"][k], numeric, atol=tol, rtol=1e-6)


def test_gradient_check_tiny_model():
    m = tiny()
    plan = compiled(m.loss, "loss")
    check_gradients(plan, (np.array([1, 2, 3, 4]), np.array([2, 3, 4, 1])), m.values)


def test_gradient_check_small_mlp():
    rng = np.random.default_rng(3)
    W1, b1 = param("W1", real(3, 4)), param("b1", real(4))
    W2, b2 = param("W2", real(4, 2)), param("b2", real(2))
    mlp = seq(
        prim("affine", R3, real(4), args=("W1", "b1"), ports=(W1, b1), in_ranks=(1, 2, 1)),
        prim("tanh", real(4), real(4), in_ranks=(1,)),
        prim("affine", real(4), real(2), args=("W2", "b2"), ports=(W2, b2), in_ranks=(1, 2, 1)),
        prim("sigmoid", real(2), real(2), in_ranks=(1,)),
    )
    loss = seq(par(mlp, ident(real(2))), prim("mse", (real(2), real(2)), real(), in_ranks=(1, 1)))
    values = {
        "W1": rng.normal(size=(3, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 2)),
        "b2": rng.normal(size=2),
    }
    check_gradients(compiled(loss), (rng.normal(size=(5, 3)), rng.normal(size=(5, 2))), values)
    check_gradients(compiled(functor("List", mlp)), (rng.normal(size=(4, 3)),), values)


def test_backward_only_visits_what_reaches_the_request():
    m = tiny()
    plan = compiled(m.loss, "loss")
    assert [s.name for s in plan.sources] == ["E", "W", "b"]
    everything = plan._reverse_steps((False, False, True, True, True))
    only_b = plan._reverse_steps((False, False, False, False, True))
    assert len(only_b) < len(everything)
    _, tape = plan.forward((np.array([1]), np.array([2])), {}, m.values)
    grads = plan.backward(tape, (np.ones(1),), {"b"})
    assert set(grads) == {"b"} and grads["b"].shape == (5,)


def test_fan_out_cotangents_add_up():
    twice = seq(pair(ident(R3), ident(R3)), prim("add", (R3, R3), R3, in_ranks=(1, 1)))
    plan = compiled(twice)
    _, tape = plan.forward((np.array([1.0, 2.0, 3.0]),))
    grads = plan.backward(tape, (np.array([1.0, 10.0, 100.0]),), {"inputs"})
    assert grads["inputs"][0].tolist() == [2.0, 20.0, 200.0]


# ---------------------------------------------------------------- invariants


def test_simplex_violation_names_object_and_morphism():
    logits = obj("Logits", real(3))
    dist = obj("Distribution", simplex(3))
    bad = ref("Sharpen", prim("scale", logits, dist, static=(("c", 2.0),), in_ranks=(1,)))
    plan = compiled(bad, "Sharpen")
    err = error_of(lambda: plan.run((np.array([0.2, 0.3, 0.5]),)))
    assert err.diagnostic.code == "R0411"
    assert "`Distribution`" in err.diagnostic.message and "`Sharpen`" in err.diagnostic.message
    assert plan.run((np.array([0.2, 0.3, 0.5]),), check=False)[0].sum() == 2.0


def test_out_of_range_index_names_the_object():
    m = tiny()
    err = error_of(lambda: compiled(m.predict, "predict").run((np.array(7),), {}, m.values))
    assert err.diagnostic.code == "R0412"
    assert (
        "`TokenId`" in err.diagnostic.message and "input 1 of `predict`" in err.diagnostic.message
    )
    assert "limit V = 5" in err.diagnostic.message


def test_nan_names_the_first_box_that_produced_it():
    big = prim("scale", R3, R3, static=(("c", 1e200),), in_ranks=(1,))
    zero = prim("scale", R3, R3, static=(("c", 0.0),), in_ranks=(1,))
    plan = compiled(seq(prim("relu", R3, R3, in_ranks=(1,)), big, big, zero))
    err = error_of(lambda: plan.run((np.array([1e200, 1.0, 0.0]),)))
    assert err.diagnostic.code == "R0415" and "`scale(1e200)`" in err.diagnostic.message
    assert plan.instrs[1].label == "scale(1e200)"
    nan_in = error_of(lambda: plan.run((np.array([np.nan, 1.0, 0.0]),)))
    assert nan_in.diagnostic.code == "R0413" and "input 1" in nan_in.diagnostic.message


def test_shapes_and_free_dims():
    T = dim("T")
    seq_obj = obj("Signal", real(T))
    add = ref("Mix", prim("add", (seq_obj, seq_obj), seq_obj, in_ranks=(1, 1)))
    plan = compiled(add, "Mix")
    assert plan.run((np.ones(3), np.ones(3)))[0].tolist() == [2.0] * 3
    err = error_of(lambda: plan.run((np.ones(3), np.ones(4))))
    assert err.diagnostic.code == "R0410"
    assert "[T] = [3], found [4]" in err.diagnostic.message
    fixed = compiled(
        ref("Fixed", prim("relu", obj("V3", real(3)), obj("V3", real(3)), in_ranks=(1,)))
    )
    err = error_of(lambda: fixed.run((np.ones(2),)))
    assert "expected shape [3] = [3], found [2]" in err.diagnostic.message


def test_where_predicates():
    positive = obj("Price", real(3), where=(Predicate("value", ">=", 0.0),))
    nonempty = obj("Batch", list_of(index(5)), where=(Predicate("len", ">=", 2.0),))
    plan = compiled(ident(positive), "price")
    plan.run((np.array([1.0, 0.0, 2.0]),))
    err = error_of(lambda: plan.run((np.array([1.0, -0.5, 2.0]),)))
    assert err.diagnostic.code == "R0414" and "value >= 0" in err.diagnostic.message
    assert "-0.5" in err.diagnostic.message
    batch = compiled(ident(nonempty))
    batch.run((np.array([1, 2]),))
    assert error_of(lambda: batch.run((np.array([1]),))).diagnostic.code == "R0414"


def test_data_points_are_checked_once_at_compile_time():
    m = tiny()
    bad = ref("corpus", const("corpus", list_of(m.TokenId), [1, 2, 9]), kind="data")
    err = error_of(lambda: compiled(bad))
    assert err.diagnostic.code == "R0412" and "the data `corpus`" in err.diagnostic.message


# ---------------------------------------------------------------- values


def test_coerce():
    m = tiny()
    pairs = coerce([[1, 2], [2, 3]], list_of(m.TokenId, m.TokenId))
    assert isinstance(pairs, tuple) and pairs[0].tolist() == [1, 2] and pairs[1].dtype.kind == "i"
    assert coerce([0.5, 0.5], simplex(2)).dtype == np.float64
    # A float is not an index, even a whole one: it is left for the invariant check to refuse.
    assert coerce([1.0, 2.0], index(3)).dtype.kind == "f"
    assert coerce([], index(3)).dtype.kind == "i"
    assert P(R3, R3) == P(R3) + P(R3)
