"""The course's programs, run through catdsl, against independent hand-written numpy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

import catdsl


# ---------------------------------------------------------------- the course's own formulas
def init_matrix(rows: int, cols: int, scale: float, seed: int) -> np.ndarray:
    """`course_init`'s closed formula, written out cell by cell."""
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = ((((r * cols + c) * 37 + seed * 101) % 1000) / 1000 - 0.5) * scale
    return out


def course_params() -> dict[str, np.ndarray]:
    return {"E": init_matrix(5, 4, 0.2, 1), "W": init_matrix(4, 5, 0.2, 2), "b": np.zeros(5)}


CORPUS = [1, 2, 3, 4, 1, 2, 3, 4]
PAIRS = list(itertools.pairwise(CORPUS))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def predict(theta: dict, token: int) -> np.ndarray:
    return softmax(theta["E"][token] @ theta["W"] + theta["b"])


def mean_loss(theta: dict) -> float:
    return float(np.mean([-np.log(max(predict(theta, x)[y], 1e-9)) for x, y in PAIRS]))


def train_step(theta: dict, lr: float) -> dict:
    """One full-batch step: the gradient from the pre-update parameters, one simultaneous update."""
    g = {k: np.zeros_like(v) for k, v in theta.items()}
    for x, y in PAIRS:
        h = theta["E"][x]
        p = softmax(h @ theta["W"] + theta["b"])
        delta = p - np.eye(5)[y]
        g["b"] += delta
        g["W"] += np.outer(h, delta)
        g["E"][x] += theta["W"] @ delta
    return {k: theta[k] - lr / len(PAIRS) * g[k] for k in theta}


# ---------------------------------------------------------------- chapter 3-5: the tiny model
def test_initial_parameters_follow_the_course_formula(tiny) -> None:
    expected = course_params()
    for name, value in expected.items():
        np.testing.assert_array_equal(tiny.params[name], value)
    assert tiny.params["E"][0, 0] == pytest.approx(-0.0798)


def test_windowing_gives_the_seven_pairs(tiny) -> None:
    inputs, targets = tiny["examples"]()
    assert list(zip(inputs.tolist(), targets.tolist(), strict=True)) == PAIRS


def test_prediction_for_token_one_matches_numpy(tiny) -> None:
    p = tiny["predict"](1)
    np.testing.assert_allclose(p, predict(course_params(), 1), rtol=0, atol=1e-15)
    assert p.sum() == pytest.approx(1.0)


def test_loss_for_target_love(tiny) -> None:
    value = tiny["loss"]([1, 2])
    assert value == pytest.approx(-np.log(predict(course_params(), 1)[2]), abs=1e-15)


def test_composed_equals_direct(tiny) -> None:
    for token in range(5):
        np.testing.assert_allclose(tiny["predict"](token), tiny["DirectPredict"](token), atol=1e-15)


def test_loss_before_and_after_eighty_steps(tiny) -> None:
    theta = course_params()
    before = mean_loss(theta)
    for _ in range(80):
        theta = train_step(theta, 1.0)
    after = mean_loss(theta)
    assert tiny["loss_before"]() == pytest.approx(before, rel=1e-12)
    assert tiny["loss_after"]() == pytest.approx(after, rel=1e-10)
    assert after < before


@pytest.mark.parametrize("steps", [1, 10, 200])
def test_exercise_five_step_counts(steps: int) -> None:
    theta = course_params()
    losses = []
    for _ in range(steps):
        losses.append(mean_loss(theta))
        theta = train_step(theta, 1.0)
    result = catdsl.load(TINY).train("step", steps=steps)  # training updates its program
    assert result.steps == steps
    np.testing.assert_allclose(result.losses, losses, rtol=1e-10)
    for name in theta:
        np.testing.assert_allclose(result.params[name], theta[name], rtol=1e-9, atol=1e-12)


def test_gradient_of_the_loss_agrees_with_finite_differences(tiny) -> None:
    report = tiny.gradcheck("loss")
    assert report.ok
    assert {row.name for row in report.rows} == {"E", "W", "b"}


def test_tiny_laws_hold(tiny) -> None:
    reports = tiny.check_laws(samples=8)
    assert [r.name for r in reports] == [
        "composed_is_direct",
        "left_identity",
        "right_identity",
        "associativity",
    ]
    assert all(r.holds for r in reports)


def test_out_of_vocabulary_token_is_rejected_at_the_boundary(tiny) -> None:
    with pytest.raises(catdsl.CatError) as info:
        tiny["predict"](7)
    message = info.value.first.message
    assert "TokenId" in message and "7" in message and "5" in message


# ---------------------------------------------------------------- chapter 3: composition laws
def test_composition_laws_hold_and_order_matters() -> None:
    program = catdsl.load(str(PROGRAMS / "composition.cat"))
    assert all(r.holds for r in program.check_laws(samples=8))
    assert program["AddOne"](41.0) == 42.0
    assert program["Double"](program["AddOne"](4.0)) == 10.0


def test_a_broken_law_is_reported_with_its_error() -> None:
    text = (PROGRAMS / "composition.cat").read_text()
    broken = text + "\nlaw wrong_order : four >> Double >> AddOne == ten\n"
    program = catdsl.loads(broken, str(PROGRAMS / "broken.cat"))
    report = {r.name: r for r in program.check_laws(samples=2)}["wrong_order"]
    assert not report.holds
    assert report.max_error == pytest.approx(1.0 / 9.0)


# ---------------------------------------------------------------- chapter 5: the chain rule
def test_multiplication_node_forward_and_backward_exactly() -> None:
    program = catdsl.load(str(PROGRAMS / "chain_rule.cat"))
    assert program["z"]() == 6.0
    grads = program["product"].vjp((2.0, 3.0), 1.0)
    dx, dy = grads["inputs"]
    assert float(dx) == 3.0 and float(dy) == 2.0


def test_derivative_of_a_composite_is_the_composite_of_derivatives() -> None:
    program = catdsl.load(str(PROGRAMS / "chain_rule.cat"))
    # d/dx 2xy = 2y, d/dy 2xy = 2x: the scale's local derivative composed with the node's.
    dx, dy = program["doubled_product"].vjp((2.0, 3.0), 1.0)["inputs"]
    assert (float(dx), float(dy)) == (6.0, 4.0)
    assert program.gradcheck("doubled_product").ok


# ---------------------------------------------------------------- the Adam challenge
def adam_by_hand(theta, g, steps, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for k in range(steps):
        t = k + 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v


def test_adam_challenge_one_step() -> None:
    program = catdsl.load(str(PROGRAMS / "adam_challenge.cat"))
    state = program["one_step"]()
    theta, m, v = adam_by_hand(np.array([1.0, -1.0]), np.array([0.5, -0.25]), 1)
    np.testing.assert_allclose(state["params"]["theta"], theta, atol=1e-12)
    np.testing.assert_allclose(state["m"]["theta"], m, atol=1e-15)
    np.testing.assert_allclose(state["v"]["theta"], v, atol=1e-15)
    assert int(state["step"]) == 1
    np.testing.assert_allclose(program["theta_after_one"]()["theta"], theta, atol=1e-12)


def test_adam_challenge_two_steps_reach_step_two() -> None:
    program = catdsl.load(str(PROGRAMS / "adam_challenge.cat"))
    state = program["two_steps"]()
    theta, _, _ = adam_by_hand(np.array([1.0, -1.0]), np.array([0.5, -0.25]), 2)
    assert int(state["step"]) == 2
    np.testing.assert_allclose(state["params"]["theta"], theta, atol=1e-12)


def test_adam_rejects_a_decay_rate_of_one() -> None:
    text = (PROGRAMS / "adam_challenge.cat").read_text().replace("beta1 = 0.9", "beta1 = 1.0")
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(text, "adam.cat")
    assert info.value.first.code == "E0320"
    assert "decay rate" in info.value.first.message and "1.0" in info.value.first.message


# ---------------------------------------------------------------- the card: target as a port
def test_card_pipeline_equals_the_course_formula() -> None:
    program = catdsl.load(str(PROGRAMS / "card.cat"))
    logits = np.array([0.0, 2.0, -1.0, 0.5, 0.0])
    value = program["pipeline"](logits, target=1)
    assert value == pytest.approx(-np.log(softmax(logits)[1]), abs=1e-15)
    assert program["pipeline"].ports == {"target": "TokenId"}
    assert str(program["pipeline"].dom) == "Logits" and str(program["pipeline"].cod) == "Loss"


def test_float32_runs_in_float32_and_matches_float64_to_course_precision() -> None:
    program = catdsl.load(TINY, dtype="float32")
    assert program.params["E"].dtype == np.float32
    p32 = program["predict"](1)
    assert p32.dtype == np.float32
    after32 = float(program["loss_after"]())
    after64 = float(catdsl.load(TINY)["loss_after"]())
    assert after32 == pytest.approx(after64, rel=1e-4)
