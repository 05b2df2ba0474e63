"""Training as an endomorphism: TrainStep, Momentum, Adam, loops, loss history, checkpoints."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from termkit import (
    CORPUS,
    P,
    adam_state,
    compile_diagram,
    const,
    list_of,
    momentum_state,
    param,
    params_record,
    power,
    prim,
    real,
    ref,
    seq,
    tiny,
    train,
)

from catdsl.diagram.lower import lower
from catdsl.errors import CatRuntimeError
from catdsl.semantics import optimizers
from catdsl.semantics.checkpoint import load_checkpoint
from catdsl.semantics.loop import LoopHooks, TrainingInterrupted
from catdsl.semantics.progress import ProgressBar
from catdsl.semantics.training import initial_state, run_steps
from catdsl.std.optim import FAMILIES
from catdsl.typesys import terms as t

# ---------------------------------------------------------------- an independent reference


def reference_mean_loss(E, W, b, pairs):
    """The mean loss L(θ, D) = mean of −log softmax(E[x]·W + b)[y] over the pairs, by hand."""
    total = 0.0
    for x, y in pairs:
        z = E[x] @ W + b
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        total += -np.log(max(p[y], 1e-9))
    return total / len(pairs)


def reference_train_step(E, W, b, pairs, lr):
    """Full-batch gradient descent: accumulate g over the examples, then θ' = θ − (lr / N) · g."""
    V, d = E.shape
    gE, gW, gb = np.zeros((V, d)), np.zeros((d, V)), np.zeros(V)
    for x, y in pairs:
        h = E[x]
        z = h @ W + b
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        delta = p - np.eye(V)[y]
        gb += delta
        gW += np.outer(h, delta)
        gE[x] += W @ delta
    n = len(pairs)
    return E - lr / n * gE, W - lr / n * gW, b - lr / n * gb


PAIRS = list(itertools.pairwise(CORPUS))


def tiny_program(steps, family="TrainStep", hyper=(("lr", 1.0),)):
    """`Init(loss) >> step ^ steps >> MeanLoss(loss, examples)` for the tiny model."""
    m = tiny()
    step = ref("step", train(family, m.loss, m.examples, hyper=hyper), kind="let")
    init = train("Init", m.loss, None, dom=P())
    mean = train("MeanLoss", m.loss, m.examples, cod=m.Loss)
    return m, compile_diagram(lower(seq(init, power(step, steps), mean), "trained"))


# ---------------------------------------------------------------- the tiny model


def test_tiny_training_matches_the_course_formula():
    m, before_plan = tiny_program(0)
    _, after_plan = tiny_program(80)
    (before,) = before_plan.run((), {}, m.values)
    (after,) = after_plan.run((), {}, m.values)
    E, W, b = (m.values[k] for k in "EWb")
    assert abs(before - reference_mean_loss(E, W, b, PAIRS)) <= 1e-12
    for _ in range(80):
        E, W, b = reference_train_step(E, W, b, PAIRS, 1.0)
    assert abs(after - reference_mean_loss(E, W, b, PAIRS)) <= 1e-12
    assert after < before


def test_train_step_state_and_loss_history():
    m, _ = tiny_program(0)
    step_term = train("TrainStep", m.loss, m.examples, hyper=(("lr", 1.0),))
    step = compile_diagram(lower(step_term, "step"))
    state = initial_state(lower(step_term), m.values)
    hooks = LoopHooks(progress=False)
    (params,) = run_steps(step, state, 10, hooks=hooks)
    E, W, b = (m.values[k] for k in "EWb")
    history = []
    for _ in range(10):
        history.append(reference_mean_loss(E, W, b, PAIRS))
        E, W, b = reference_train_step(E, W, b, PAIRS, 1.0)
    for name, expected in zip("EWb", (E, W, b), strict=True):
        np.testing.assert_allclose(params[name], expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(hooks.loss_history, history, rtol=0, atol=1e-13)
    assert hooks.steps_done == 10


def test_stored_values_are_not_modified():
    m, plan = tiny_program(5)
    saved = {k: v.copy() for k, v in m.values.items()}
    plan.run((), {}, m.values)
    assert all(np.array_equal(m.values[k], saved[k]) for k in saved)


# ---------------------------------------------------------------- hyperparameters


@pytest.mark.parametrize(
    ("family", "hyper", "code", "words"),
    [
        ("TrainStep", (("lr", 0.0),), "R0601", "learning rate"),
        ("TrainStep", (("lr", float("nan")),), "R0601", "learning rate"),
        ("Adam", (("lr", 0.1), ("beta1", 1.0)), "R0602", "Adam decay rate `beta1` = 1.0"),
        ("Adam", (("lr", 0.1), ("beta2", -0.1)), "R0602", "Adam decay rate"),
        ("Adam", (("lr", 0.1), ("eps", 0.0)), "R0603", "epsilon"),
        ("Momentum", (("lr", 0.1), ("beta", 1.5)), "R0602", "momentum decay rate"),
    ],
)
def test_invalid_hyperparameters(family, hyper, code, words):
    with pytest.raises(CatRuntimeError) as err:
        tiny_program(1, family, hyper)
    assert err.value.diagnostic.code == code and words in err.value.diagnostic.message


def test_dimension_drift_is_named():
    """A state read from a file may not fit its params: the update rule names the field."""
    adam = FAMILIES.optimizers["Adam"]
    theta = {"t": np.ones(2)}
    state = optimizers.initial_state(adam, theta)[0]
    assert state["step"] == 0 and state["m"]["t"].tolist() == [0.0, 0.0]
    drifted = {**state, "m": {"t": np.zeros(3)}}
    with pytest.raises(CatRuntimeError, match="Adam first moment") as err:
        adam.update(drifted, {"t": np.ones(2)}, 0.1, 0.9, 0.999, 1e-8)
    assert err.value.diagnostic.code == "R0604"
    with pytest.raises(CatRuntimeError, match="Adam second moment"):
        adam.update({**state, "v": {}}, {"t": np.ones(2)}, 0.1, 0.9, 0.999, 1e-8)


# ------------------------------------- the Adam challenge (programs/adam_challenge.cat)


def linear_loss(g):
    """L(θ) = g·θ, a loss with domain Unit: θ enters as the point of its param."""
    n = len(g)
    theta = param("theta", real(n))
    point = t.Param(P(), P(real(n)), None, name="theta", init="literal", ports=(theta,))
    dot = prim("dot", real(n), real(), args=("g",), in_ranks=(1, 1))
    loss = seq(point, dot)
    return loss, {"g": const("g", real(n), list(g))}


def adam_plan(g, steps, lr=0.1):
    loss, consts = linear_loss(g)
    record = adam_state(params_record("loss", loss.ports))
    step = train("Adam", loss, None, hyper=(("lr", lr),), dom=record, cod=record)
    start = train("AdamInit", loss, None, dom=P(), cod=record)
    return compile_diagram(lower(seq(start, power(step, steps)), "adam", consts=consts))


def test_adam_challenge_one_step():
    theta, g = np.array([1.0, -1.0]), np.array([0.5, -0.25])
    (state,) = adam_plan(g, 1).run((), {}, {"theta": theta})
    m = 0.1 * g
    v = 0.001 * g**2
    expected = theta - 0.1 * (m / (1 - 0.9)) / (np.sqrt(v / (1 - 0.999)) + 1e-8)
    np.testing.assert_allclose(state["params"]["theta"], expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(state["m"]["theta"], m, rtol=0, atol=1e-16)
    np.testing.assert_allclose(state["v"]["theta"], v, rtol=0, atol=1e-16)
    assert int(state["step"]) == 1
    assert len(state["m"]["theta"]) == len(state["v"]["theta"]) == 2


def test_adam_challenge_two_steps():
    (state,) = adam_plan(np.array([0.5]), 2).run((), {}, {"theta": np.array([1.0])})
    assert int(state["step"]) == 2
    assert all(np.shape(state[k]["theta"]) == (1,) for k in ("params", "m", "v"))


# ---------------------------------------------------------------- loops and checkpoints


def adam_tiny_step():
    m = tiny()
    step_term = train(
        "Adam",
        m.loss,
        m.examples,
        hyper=(("lr", 0.05),),
        dom=adam_state(m.Params),
        cod=adam_state(m.Params),
    )
    return m, step_term, compile_diagram(lower(step_term, "adam_step"))


def test_checkpoint_resume_is_bit_identical(tmp_path):
    m, term, step = adam_tiny_step()
    start = initial_state(lower(term), m.values)
    straight = LoopHooks(progress=False)
    (final,) = run_steps(step, start, 12, hooks=straight)

    path = tmp_path / "ckpt.npz"

    def stop_at_seven(k, state):
        if k == 7:
            raise KeyboardInterrupt

    interrupted = LoopHooks(checkpoint=path, every=3, on_step=stop_at_seven, progress=False)
    with pytest.raises(TrainingInterrupted) as err:
        run_steps(step, start, 12, hooks=interrupted)
    assert "after step 7 of 12" in str(err.value) and str(path) in str(err.value)
    _, at, losses, _ = load_checkpoint(path)
    assert at == 7 and len(losses) == 7

    resumed = LoopHooks(checkpoint=path, every=3, progress=False)
    (again,) = run_steps(step, start, 12, hooks=resumed)
    assert resumed.resumed_from == 7 and resumed.steps_done == 12
    for key in ("params", "m", "v"):
        for name, value in final[key].items():
            assert again[key][name].tobytes() == value.tobytes(), (key, name)
    assert int(again["step"]) == int(final["step"]) == 12
    assert resumed.loss_history == straight.loss_history


def test_checkpoint_that_does_not_fit_is_refused(tmp_path):
    m, term, step = adam_tiny_step()
    path = tmp_path / "c.npz"
    run_steps(
        step,
        initial_state(lower(term), m.values),
        2,
        hooks=LoopHooks(checkpoint=path, progress=False),
    )
    m2, _ = tiny_program(0)
    sgd = compile_diagram(lower(train("TrainStep", m2.loss, m2.examples, hyper=(("lr", 1.0),))))
    with pytest.raises(CatRuntimeError) as err:
        run_steps(sgd, (m2.values,), 3, hooks=LoopHooks(checkpoint=path, progress=False))
    assert err.value.diagnostic.code == "R0607"


def test_power_box_uses_hooks_inside_a_program(tmp_path):
    m, plan = tiny_program(6)
    seen = []
    hooks = LoopHooks(
        on_step=lambda k, s: seen.append(k), checkpoint=tmp_path / "t.npz", progress=False
    )
    (loss,) = plan.run((), {}, m.values, hooks=hooks)
    assert seen == [1, 2, 3, 4, 5, 6] and len(hooks.loss_history) == 6
    assert hooks.loss_history[-1] > float(loss)
    _, at, _, _ = load_checkpoint(tmp_path / "t.npz")
    assert at == 6


def test_momentum_state_is_params_and_velocity():
    m = tiny()
    record = momentum_state(m.Params)
    hyper = (("lr", 0.5), ("beta", 0.9))
    term = train("Momentum", m.loss, m.examples, hyper=hyper, dom=record, cod=record)
    (state,) = initial_state(lower(term), m.values)
    assert all(not v.any() for v in state["velocity"].values())
    (new,) = compile_diagram(lower(term)).run((state,))
    for k, theta in state["params"].items():
        grad = (theta - new["params"][k]) / 0.5
        np.testing.assert_allclose(new["velocity"][k], grad, atol=1e-15)


def test_init_and_reader_families():
    m = tiny()
    adam, moment = adam_state(m.Params), momentum_state(m.Params)
    for init, reader, record in (
        ("AdamInit", "AdamParams", adam),
        ("MomentumInit", "MomentumParams", moment),
    ):
        start = train(init, m.loss, None, dom=P(), cod=record)
        read = train(reader, m.loss, None, dom=record, cod=m.Params)
        (params,) = compile_diagram(lower(seq(start, read))).run((), {}, m.values)
        assert params.keys() == m.values.keys()
        assert all(params[k] is m.values[k] for k in params)
    (state,) = compile_diagram(lower(train("AdamInit", m.loss, None, dom=P(), cod=adam))).run(
        (), {}, m.values
    )
    assert int(state["step"]) == 0 and state["m"]["E"].shape == (5, 4)


def test_progress_bar_is_silent_off_a_terminal(capsys):
    with ProgressBar(10, "loop") as bar:
        for k in range(10):
            bar.update(k + 1, 0.5)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- PyTorch as an oracle


def torch_train(values, make_optimizer, steps):
    """Train the tiny model with torch in float64; return the final params."""
    torch = pytest.importorskip("torch")
    tensors = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()
    }
    xs = torch.tensor([x for x, _ in PAIRS])
    ys = torch.tensor([y for _, y in PAIRS])
    optimizer = make_optimizer(torch, list(tensors.values()))
    for _ in range(steps):
        optimizer.zero_grad()
        probs = torch.softmax(tensors["E"][xs] @ tensors["W"] + tensors["b"], dim=-1)
        picked = probs[torch.arange(len(PAIRS)), ys]
        loss = -torch.log(torch.clamp(picked, min=1e-9)).mean()
        loss.backward()
        optimizer.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


def ours(family, hyper, steps):
    m = tiny()
    state_atoms = {"Momentum": momentum_state(m.Params), "Adam": adam_state(m.Params)}
    atoms = state_atoms.get(family, m.Params)
    term = train(family, m.loss, m.examples, hyper=hyper, dom=atoms, cod=atoms)
    state = run_steps(
        compile_diagram(lower(term)),
        initial_state(lower(term), m.values),
        steps,
        hooks=LoopHooks(progress=False),
    )
    return m.values, (state[0] if family == "TrainStep" else state[0]["params"])


@pytest.mark.torch
@pytest.mark.parametrize(
    ("family", "hyper", "make"),
    [
        ("TrainStep", (("lr", 1.0),), lambda torch, ps: torch.optim.SGD(ps, lr=1.0)),
        (
            "Momentum",
            (("lr", 0.5), ("beta", 0.9)),
            lambda torch, ps: torch.optim.SGD(ps, lr=0.5, momentum=0.9),
        ),
        ("Adam", (("lr", 0.05),), lambda torch, ps: torch.optim.Adam(ps, lr=0.05)),
    ],
)
def test_matches_torch_optimizers(family, hyper, make):
    values, params = ours(family, hyper, 20)
    expected = torch_train(values, make, 20)
    for name in "EWb":
        np.testing.assert_allclose(params[name], expected[name], rtol=0, atol=1e-9)


@pytest.mark.torch
def test_adam_challenge_matches_torch():
    torch = pytest.importorskip("torch")
    theta0, g = np.array([1.0, -1.0]), np.array([0.5, -0.25])
    (state,) = adam_plan(g, 3).run((), {}, {"theta": theta0})
    theta = torch.tensor(theta0, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(3):
        optimizer.zero_grad()
        (theta @ torch.tensor(g)).backward()
        optimizer.step()
    torch_state = optimizer.state[theta]
    np.testing.assert_allclose(state["params"]["theta"], theta.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(state["m"]["theta"], torch_state["exp_avg"].numpy(), atol=1e-15)
    np.testing.assert_allclose(state["v"]["theta"], torch_state["exp_avg_sq"].numpy(), atol=1e-15)
    assert int(state["step"]) == int(torch_state["step"]) == 3


def test_single_component_data_and_mean_gradient():
    """Data `List[Real[2]]` (one array), loss x ↦ Σ tanh(x·W): one step against numpy."""
    W = param("W", real(2, 3))
    loss = seq(
        prim("linear", real(2), real(3), args=("W",), ports=(W,), in_ranks=(1, 2)),
        prim("tanh", real(3), real(3), in_ranks=(1,)),
        prim("sum", real(3), real(), in_ranks=(1,)),
    )
    xs = [[1.0, 2.0], [3.0, -4.0], [0.0, 1.0]]
    data = const("xs", list_of(real(2)), xs)
    step = train("TrainStep", loss, data, hyper=(("lr", 0.1),))
    w0 = np.arange(6.0).reshape(2, 3) / 10
    (new,) = compile_diagram(lower(step)).run(({"W": w0},))
    x = np.array(xs)
    grad = np.mean([np.outer(r, 1 - np.tanh(r @ w0) ** 2) for r in x], axis=0)
    np.testing.assert_allclose(new["W"], w0 - 0.1 * grad, rtol=0, atol=1e-15)
