"""Training on the torch backend equals training on numpy (float64, CPU): every training family,
the training options, the hooked loop (loss history, checkpoints, resuming) and the errors of a
diverging run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO, TINY

import catdsl
from catdsl.cli import main

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(5)
N, F, C = 10, 3, 4
X = np.round(RNG.normal(size=(N, F)), 3)
Y = RNG.integers(0, C, size=N)
ROWS = ", ".join(f"[{list(map(float, x))}, {int(y)}]" for x, y in zip(X, Y, strict=True))

SOURCE = f"""
import std.ml

dim F = {F}
dim C = {C}
object Features : Real[F]
object Class    : Index[C]
object Logits   : Real[C]
object Loss     : Real

param W : Real[F, C] = course_init(seed = 1, scale = 0.5)
param b : Real[C]    = zeros

morphism Score        : Features -> Logits     = affine(W, b)
morphism CrossEntropy : Logits * Class -> Loss = cross_entropy
let loss = Score * Class >> CrossEntropy
let bias_loss(x: Features, c: Class) -> Loss = {{ return CrossEntropy(Score(x), c) }}

data train : List[Features * Class] = [{ROWS}]

let full     = TrainStep(loss, train, lr = 0.5)
let sgd      = SGD(loss, train, lr = 0.5, batch = 3, seed = 4, clip = 0.5)
let mom      = Momentum(loss, train, lr = 0.2, beta = 0.9, schedule = StepDecay(every = 2))
let adam     = Adam(loss, train, lr = 0.05, batch = 4, schedule = Cosine(steps = 5))
let adamw    = AdamW(loss, train, lr = 0.05, weight_decay = 0.1, schedule = Warmup(steps = 3))
let expo     = SGD(loss, train, lr = 0.5, schedule = ExponentialDecay(gamma = 0.9))
let state    = StateStep(loss, train, only = [b])
let modelled = StateStep(bias_loss, train, model = loss)

let full_run  = Init(loss) >> full ^ 3 >> MeanLoss(loss, train)
let sgd_run   = SGDInit(loss) >> sgd ^ 2 >> SGDParams(loss)
let mom_run   = MomentumInit(loss) >> mom ^ 3 >> MomentumParams(loss)
let adam_run  = AdamInit(loss) >> adam ^ 2 >> AdamParams(loss)
let adamw_run = AdamWInit(loss) >> adamw ^ 3 >> AdamWParams(loss)
let state_run = StateInit(loss, lr = 0.3) >> state ^ 2 >> modelled ^ 2 >> StateParams(loss)
let count_run = StateInit(loss, lr = 0.3) >> state ^ 2 >> StateCount(loss)
let only_run  = StateInit(loss, lr = 0.3) >> state ^ 2 >> StateParams(loss)
"""

STEPS = ["full", "sgd", "mom", "adam", "adamw", "expo"]
POINTS = [
    "full_run",
    "sgd_run",
    "mom_run",
    "adam_run",
    "adamw_run",
    "state_run",
    "count_run",
    "only_run",
]


def pair(text: str = SOURCE) -> tuple[catdsl.Program, catdsl.Program]:
    return tuple(catdsl.loads(text, file="fit.cat", backend=b) for b in ("numpy", "torch"))  # type: ignore[return-value]


def assert_close(expected: object, got: object) -> None:
    """Equal structure and dtypes; floats to 1e-12, everything else exactly."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and expected.keys() == got.keys()
        for key in expected:
            assert_close(expected[key], got[key])
        return
    a, b = np.asarray(expected), np.asarray(got)
    assert a.shape == b.shape and a.dtype == b.dtype
    if a.dtype.kind == "f":
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("name", STEPS)
def test_every_optimizer_trains_to_numpys_params(name: str) -> None:
    numpy_program, torch_program = pair()
    expected, got = numpy_program.train(name, steps=4), torch_program.train(name, steps=4)
    assert got.steps == 4 and got.minibatch == expected.minibatch
    assert_close(expected.params, got.params)
    np.testing.assert_allclose(got.losses, expected.losses, rtol=1e-12, atol=1e-12)
    assert abs(got.final_loss - expected.final_loss) <= 1e-12
    assert_close(expected.state, got.state)  # moments, velocities and step counts too
    assert expected.losses[-1] < expected.losses[0]  # it trains


@pytest.mark.parametrize("name", POINTS)
def test_training_inside_a_definition_runs_as_on_numpy(name: str) -> None:
    """Init/MeanLoss, the readers, StateInit/StateStep with only= and model=, StateCount."""
    numpy_program, torch_program = pair()
    assert_close(numpy_program[name](), torch_program[name]())


def test_only_moves_the_listed_params() -> None:
    _, torch_program = pair()
    start = dict(torch_program.params)
    trained = torch_program["only_run"]()
    np.testing.assert_array_equal(trained["W"], start["W"])  # `state` moves b only
    assert not np.array_equal(trained["b"], start["b"])


def test_a_checkpointed_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    _, whole = pair()
    expected = whole.train("adam", steps=4)
    checkpoint = str(tmp_path / "adam.npz")
    _, first = pair()
    first.train("adam", steps=2, checkpoint=checkpoint)
    numpy_resumed, torch_resumed = pair()
    got = torch_resumed.train("adam", steps=4, checkpoint=checkpoint)
    assert got.resumed_from == 2 and got.steps == 4
    assert_close(expected.params, got.params)
    assert got.losses == pytest.approx(expected.losses, abs=1e-12)
    # the checkpoint format is the numpy backend's: numpy resumes a torch checkpoint
    numpy_got = numpy_resumed.train("adam", steps=4, checkpoint=checkpoint)
    assert numpy_got.resumed_from == 4


def test_progress_callbacks_see_every_step() -> None:
    """The hooked loop is the numpy backend's: `on_step` after every step, with numpy states."""
    from catdsl.semantics.loop import LoopHooks

    _, torch_program = pair()
    step = torch_program["mom"]
    seen: list[tuple[int, float]] = []
    hooks = LoopHooks(on_step=lambda k, s: seen.append((k, float(s[0]["params"]["b"][0]))))
    backend = torch_program.backend
    state = backend.initial_state(step.diagram, torch_program.params)
    backend.train(step.plan, state, 3, params=torch_program.params, hooks=hooks)
    assert [k for k, _ in seen] == [1, 2, 3] and len(hooks.loss_history) == 3


def test_the_cli_trains_on_torch_and_prints_what_numpy_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fit.cat"
    path.write_text(SOURCE)
    printed = []
    for extra in ([], ["--backend", "torch", "--device", "cpu"]):
        assert main(["train", str(path), "adamw", "--steps", "3", *extra]) == 0
        printed.append(capsys.readouterr().out)
    assert "after 3 steps" in printed[0] and printed[1] == printed[0]


DIVERGING = """
import std.ml
object X : Real[2]
object Loss : Real
param w : Real[2] = [1.0, 1.0]
morphism Fit : X -> Loss = dot(w) >> scale(1.0e300)
data xs : List[X] = [[1.0, 2.0], [3.0, 4.0]]
let step = TrainStep(Fit, xs, lr = 1.0)
"""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (DIVERGING, "R0415"),  # the loss overflows at `scale` in step 2
        (DIVERGING.replace(" >> scale(1.0e300)", "").replace("1.0)", "1.0e308)"), "R0413"),
    ],
)
def test_a_diverging_run_has_numpys_code_message_and_notes(text: str, code: str) -> None:
    found = []
    for backend in ("numpy", "torch"):
        program = catdsl.loads(text, file="diverge.cat", backend=backend)
        with pytest.raises(catdsl.CatError) as info:
            program.train("step", steps=3)
        first = info.value.first
        found.append((first.code, first.message, first.notes, first.span))
    assert found[0][0] == code and found[1] == found[0]


def test_data_that_does_not_fit_is_R0605_on_both() -> None:
    text = DIVERGING.replace(
        "data xs : List[X] = [[1.0, 2.0], [3.0, 4.0]]", "data xs : List[X] = []"
    )
    for backend in ("numpy", "torch"):
        program = catdsl.loads(text, file="empty.cat", backend=backend)
        with pytest.raises(catdsl.CatError) as info:
            program.train("step", steps=1)
        assert info.value.first.code == "R0605"


@pytest.mark.parametrize(
    "argv",
    [
        ["gradcheck", "programs/tiny_ml.cat", "loss", "--json"],
        ["laws", "programs/composition.cat", "--json"],
        ["train", "programs/tiny_ml.cat", "trained", "--json"],
    ],
)
def test_laws_gradcheck_and_train_take_the_backend(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON reports on torch are numpy's, numbers to 1e-9 (gradcheck's finite
    differences of two nearby values amplify rounding)."""
    import json

    monkeypatch.chdir(REPO)
    reports = []
    for extra in ([], ["--backend", "torch", "--device", "cpu"]):
        assert main([*argv, *extra]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    assert _numbers_close(reports[0], reports[1])


def _numbers_close(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_numbers_close(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(_numbers_close(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


@pytest.mark.parametrize("command", [["train", "trained"], ["gradcheck", "loss"], ["laws"]])
def test_without_torch_each_command_says_what_to_install(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # `import torch` now fails
    argv = [command[0], TINY, *command[1:], "--backend", "torch"]
    assert main(argv) == 2
    assert "pip install torch" in capsys.readouterr().err


def test_a_rule_that_asks_for_the_mode_gets_the_training_steps() -> None:
    """A rule with `uses_mode` (as `dropout`'s) is called with `mode=`: the training mode
    numbered by the run's step count in a training step's loss, evaluation elsewhere."""
    from catdsl.frontend.api import loads_program
    from catdsl.frontend.backends import named_backend
    from catdsl.semantics.kernel import EVALUATION, Mode

    seen: list[Mode] = []

    def scale(in_ranks: tuple[int, ...], *, c: float):
        def run(x, mode: Mode):
            seen.append(mode)
            return (x * c,)

        run.uses_mode = True  # type: ignore[attr-defined]
        return run

    backend: Any = named_backend("torch")
    backend.rules = {**backend.rules, "scale": scale}
    text = (
        DIVERGING.replace("1.0e300", "0.5")
        + "let fit = Init(Fit) >> step ^ 2 >> MeanLoss(Fit, xs)\n"
    )
    program = loads_program(text, "mode.cat", backend=backend)
    program["fit"]()
    assert seen == [Mode(True, 1), Mode(True, 2), EVALUATION]
