"""Learning-rate schedules, AdamW and gradient clipping against PyTorch (float64, 20 steps,
to 1e-10): `torch.optim.lr_scheduler` stepped after every update, `torch.optim.AdamW`,
`torch.nn.utils.clip_grad_norm_`."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import catdsl
from catdsl.std.optim import SCHEDULES
from catdsl.typesys.family_spec import Schedule

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny tensors: threads only contend for the machine's cores
pytestmark = pytest.mark.torch

STEPS = 20
RNG = np.random.default_rng(11)
X = np.round(RNG.normal(size=(12, 3)), 3)
Y = RNG.integers(0, 4, size=12)
ROWS = ", ".join(f"[{list(map(float, x))}, {int(y)}]" for x, y in zip(X, Y, strict=True))

SOURCE = f"""
import std.ml

object Features : Real[3]
object Class    : Index[4]
object Logits   : Real[4]
object Loss     : Real

param W : Real[3, 4] = course_init(seed = 5, scale = 1.0)
param b : Real[4]    = [0.1, -0.2, 0.3, 0.0]

morphism Score        : Features -> Logits     = affine(W, b)
morphism CrossEntropy : Logits * Class -> Loss = cross_entropy
let loss = Score * Class >> CrossEntropy
data train : List[Features * Class] = [{ROWS}]
"""

SCHEDULE_CASES = {
    "step": (
        "StepDecay(every = 5, gamma = 0.5)",
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5),
    ),
    "exponential": (
        "ExponentialDecay(gamma = 0.9)",
        lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    ),
    "cosine": (
        "Cosine(steps = 20, lr_min = 0.01)",
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.01),
    ),
    "warmup": (
        "Warmup(steps = 10, start = 0.2)",
        lambda opt: torch.optim.lr_scheduler.LinearLR(
            opt, start_factor=0.2, end_factor=1.0, total_iters=10
        ),
    ),
}


def _catdsl(step: str) -> dict[str, np.ndarray]:
    program = catdsl.loads(SOURCE + f"let fit = {step}\n", file="schedules.cat")
    return program.train("fit", steps=STEPS).params


@functools.cache
def _initial() -> dict[str, np.ndarray]:
    return catdsl.loads(SOURCE, file="schedules.cat").params


def _torch(make_optimizer, make_schedule=None, clip=None) -> dict[str, np.ndarray]:
    params = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in _initial().items()
    }
    x, y = torch.tensor(X, dtype=torch.float64), torch.tensor(Y)
    optimizer = make_optimizer(list(params.values()))
    schedule = make_schedule(optimizer) if make_schedule else None
    for _ in range(STEPS):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(x @ params["W"] + params["b"], y).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(list(params.values()), clip)
        optimizer.step()
        if schedule is not None:
            schedule.step()
    return {name: value.detach().numpy() for name, value in params.items()}


def _assert_same(found: dict, expected: dict) -> None:
    for name, value in expected.items():
        np.testing.assert_allclose(found[name], value, rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_each_schedule_matches_torch(case):
    text, make_schedule = SCHEDULE_CASES[case]
    found = _catdsl(f"SGD(loss, train, lr = 0.5, schedule = {text})")
    expected = _torch(lambda ps: torch.optim.SGD(ps, lr=0.5), make_schedule)
    _assert_same(found, expected)
    unscheduled = _torch(lambda ps: torch.optim.SGD(ps, lr=0.5))
    assert np.abs(found["W"] - unscheduled["W"]).max() > 1e-3  # the schedule did something


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_each_rate_is_the_rate_torch_uses(case):
    text, make_schedule = SCHEDULE_CASES[case]
    program = catdsl.loads(SOURCE + f"let fit = SGD(loss, train, lr = 0.5, schedule = {text})\n")
    box = program["fit"].term.body
    assert isinstance(box.schedule, Schedule)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    schedule = make_schedule(optimizer)
    for k in range(STEPS):
        assert box.schedule.rate(0.5, k) == pytest.approx(schedule.get_last_lr()[0], abs=1e-14)
        optimizer.step()
        schedule.step()


def test_a_schedule_on_adam_with_momentum_of_its_own_matches_torch():
    text, make_schedule = SCHEDULE_CASES["cosine"]
    found = _catdsl(f"Adam(loss, train, lr = 0.1, schedule = {text})")
    expected = _torch(lambda ps: torch.optim.Adam(ps, lr=0.1), make_schedule)
    _assert_same(found, expected)


def test_adamw_matches_torch():
    found = _catdsl("AdamW(loss, train, lr = 0.1, weight_decay = 0.3)")
    expected = _torch(lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.3))
    _assert_same(found, expected)
    plain = _torch(lambda ps: torch.optim.Adam(ps, lr=0.1))
    assert np.abs(found["W"] - plain["W"]).max() > 1e-3  # the decay did something


def test_adamw_with_a_schedule_decays_by_the_scheduled_rate_as_torch_does():
    text, make_schedule = SCHEDULE_CASES["step"]
    found = _catdsl(f"AdamW(loss, train, lr = 0.1, weight_decay = 0.3, schedule = {text})")
    expected = _torch(
        lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.3), make_schedule=make_schedule
    )
    _assert_same(found, expected)


@pytest.mark.parametrize("norm", [0.05, 100.0])
def test_clipping_by_global_norm_matches_torch(norm):
    found = _catdsl(f"Momentum(loss, train, lr = 0.3, beta = 0.9, clip = {norm})")
    expected = _torch(lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.9), clip=norm)
    _assert_same(found, expected)


def test_clipping_leaves_small_gradients_alone_and_scales_large_ones():
    from catdsl.semantics.optimizers import clipped

    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}  # global norm 5
    unchanged = clipped(grads, 10.0)
    assert all(np.array_equal(unchanged[k], grads[k]) for k in grads)
    scaled = clipped(grads, 1.0)
    factor = 1.0 / (5.0 + 1e-6)
    np.testing.assert_array_equal(scaled["a"], grads["a"] * factor)
    np.testing.assert_array_equal(scaled["b"], grads["b"] * factor)


def test_the_schedules_are_the_four_documented_ones():
    assert [s.name for s in SCHEDULES] == ["StepDecay", "ExponentialDecay", "Cosine", "Warmup"]


def test_cosine_stays_at_its_floor_after_its_steps():
    cosine = next(s for s in SCHEDULES if s.name == "Cosine")
    assert cosine.rate(0.5, 20, 20, 0.01) == 0.01
    assert cosine.rate(0.5, 35, 20, 0.01) == 0.01
