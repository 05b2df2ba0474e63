"""Minibatch training: `batch = B` makes one step of SGD, Momentum or Adam one epoch over the
data, shuffled by the seed; the result is checked against the same loop written out in numpy,
and for bit-for-bit reproducibility (rerun, resume, `fit ^ n`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import catdsl
from catdsl.cli import main
from catdsl.frontend.training_run import TrainResult
from catdsl.semantics.optimizers import minibatches

N, F, C, BATCH, SEED = 10, 4, 3, 4, 7  # 10 examples in batches of 4, 4 and 2
RNG = np.random.default_rng(2024)
X = np.round(RNG.normal(size=(N, F)), 3)
Y = RNG.integers(0, C, size=N)
VAL_X = np.round(RNG.normal(size=(5, F)), 3)
VAL_Y = RNG.integers(0, C, size=5)


def _rows(xs: np.ndarray, ys: np.ndarray) -> str:
    pairs = (f"[{list(map(float, x))}, {int(y)}]" for x, y in zip(xs, ys, strict=True))
    return "[" + ", ".join(pairs) + "]"


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

data train      : List[Features * Class] = {_rows(X, Y)}
data validation : List[Features * Class] = {_rows(VAL_X, VAL_Y)}

let sgd  = SGD(loss, train, lr = 0.5, batch = {BATCH}, seed = {SEED})
let mom  = Momentum(loss, train, lr = 0.2, beta = 0.9, batch = {BATCH}, seed = {SEED})
let adam = Adam(loss, train, lr = 0.05, batch = {BATCH}, seed = {SEED})
let adam_other_seed = Adam(loss, train, lr = 0.05, batch = {BATCH}, seed = 8)
let whole = SGD(loss, train, lr = 0.5, batch = {N})
let full  = TrainStep(loss, train, lr = 0.5)

let adam_3   = AdamInit(loss) >> adam ^ 3 >> AdamParams(loss)
let val_loss = Init(loss) >> MeanLoss(loss, validation)
data val_unrelated : Loss = 0.5
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(SOURCE, file="minibatch.cat")


def train(name: str, **options: Any) -> TrainResult:
    """A run from the initial params, on a program of its own (so that no run starts from
    another's result, whether or not training updates the program it runs on)."""
    return catdsl.loads(SOURCE, file="minibatch.cat").train(name, **options)


def _loss_and_grad(params: dict, rows: np.ndarray) -> tuple[float, dict]:
    """Softmax cross-entropy of the affine model on the examples `rows`, by hand."""
    x, y = X[rows], Y[rows]
    logits = x @ params["W"] + params["b"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(rows)), y].mean()
    delta = np.exp(log_probs)
    delta[np.arange(len(rows)), y] -= 1
    delta /= len(rows)
    return loss, {"W": x.T @ delta, "b": delta.sum(axis=0)}


def _numpy_training(program: catdsl.Program, rule: str, epochs: int) -> tuple[dict, list]:
    """The loop a PyTorch user writes: per epoch, a permutation from the seed and the epoch's
    number, then batches of 4 in that order (the last one smaller), one update each."""
    params = {k: v.copy() for k, v in program.params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    t = 0
    epoch_losses = []
    for epoch in range(epochs):
        order = np.random.default_rng([SEED, epoch]).permutation(N)
        total = 0.0
        for start in range(0, N, BATCH):
            rows = order[start : start + BATCH]
            loss, grads = _loss_and_grad(params, rows)
            total += loss * len(rows)
            t += 1
            for k, g in grads.items():
                if rule == "sgd":
                    params[k] = params[k] - 0.5 * g
                elif rule == "mom":
                    velocity[k] = 0.9 * velocity[k] + g
                    params[k] = params[k] - 0.2 * velocity[k]
                else:
                    m[k] = 0.9 * m[k] + 0.1 * g
                    v[k] = 0.999 * v[k] + 0.001 * g * g
                    m_hat, v_hat = m[k] / (1 - 0.9**t), v[k] / (1 - 0.999**t)
                    params[k] = params[k] - 0.05 * m_hat / (np.sqrt(v_hat) + 1e-8)
        epoch_losses.append(total / N)
    return params, epoch_losses


@pytest.mark.parametrize("rule", ["sgd", "mom", "adam"])
def test_epochs_equal_the_numpy_loop_with_the_same_shuffling(program, rule):
    result = train(rule, epochs=3)
    expected, losses = _numpy_training(program, rule, 3)
    assert result.minibatch and result.steps == 3
    assert int(result.state["step"]) == 9  # three batches per epoch
    for name, value in expected.items():
        np.testing.assert_allclose(result.params[name], value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.losses, losses, rtol=1e-12)


def test_batches_cover_every_example_once_and_the_last_is_the_remainder():
    batches = minibatches(N, BATCH, SEED, 2)
    assert [len(rows) for rows in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(N))
    expected = np.random.default_rng([SEED, 2]).permutation(N)
    assert np.concatenate(batches).tolist() == expected.tolist()
    assert np.concatenate(minibatches(N, BATCH, SEED, 3)).tolist() != expected.tolist()


def test_a_run_is_reproduced_bit_for_bit(program, tmp_path):
    first = train("adam", epochs=3)
    again = train("adam", epochs=3)
    composed = program["adam_3"]()
    checkpoint = str(tmp_path / "state.npz")
    train("adam", epochs=1, checkpoint=checkpoint)
    resumed = train("adam", epochs=3, checkpoint=checkpoint)
    assert resumed.resumed_from == 1
    for name in first.params:
        for other in (again.params, composed, resumed.params):
            assert np.array_equal(first.params[name], other[name])
    assert first.losses == again.losses == resumed.losses
    other_seed = train("adam_other_seed", epochs=3)
    assert not np.array_equal(other_seed.params["W"], first.params["W"])


def test_one_batch_of_everything_is_full_batch_descent(program):
    whole = train("whole", epochs=4).params
    full = train("full", steps=4).params
    for name in full:
        np.testing.assert_allclose(whole[name], full[name], rtol=1e-13, atol=1e-15)


def test_the_final_loss_is_the_mean_over_all_the_data(program):
    result = train("sgd", epochs=2)
    expected, _ = _loss_and_grad(result.params, np.arange(N))
    assert result.final_loss == pytest.approx(expected, rel=1e-12)


def test_the_reference_interpreter_agrees_bit_for_bit(program):
    from catdsl.semantics.reference import Reference

    morphism = program["adam_3"]
    expected = morphism()
    reference = Reference(program.backend.kernels, np.float64)
    (found,) = reference.run(morphism.diagram, (), {}, program.params)
    for name in expected:
        assert np.array_equal(expected[name], found[name])


def test_validation_metrics_and_the_best_params(program, tmp_path):
    best = tmp_path / "best.npz"
    result = train("sgd", epochs=4, validate=["val_loss"], keep_best=str(best), best="min")
    values = result.metrics["val_loss"]
    assert len(values) == 4
    step, value = result.best
    assert value == min(values) and values[step - 1] == value
    with np.load(best) as kept:
        at_best = train("sgd", epochs=step).params
        for name in at_best:
            assert np.array_equal(kept[name], at_best[name])
    # the metric is the validation loss at each epoch's params
    for epoch in (1, 4):
        params = train("sgd", epochs=epoch).params
        logits = VAL_X @ params["W"] + params["b"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        expected = -log_probs[np.arange(5), VAL_Y].mean()
        assert values[epoch - 1] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("line", "code", "at"),
    [
        ("let z = TrainStep(loss, train, lr = 0.1, batch = 4)", "E0322", "4)"),
        ("let z = TrainStep(loss, train, lr = 0.1, schedule = Cosine(10))", "E0322", "Cosine"),
        ("let z = SGD(loss, train, lr = 0.1, schedule = Cosin(steps = 10))", "E0323", "Cosin"),
        ("let z = SGD(loss, train, lr = 0.1, schedule = 0.5)", "E0323", "0.5"),
        ("let z = SGD(loss, train, lr = 0.1, batch = 0)", "E0320", "SGD"),
        ("let z = Adam(loss, train, lr = 0.1, seed = -1)", "E0320", "Adam"),
        ("let z = Adam(loss, train, lr = 0.1, batch = 2.5)", "E0320", "Adam"),
        ("let z = AdamW(loss, train, lr = 0.1, weight_decay = -1)", "E0320", "AdamW"),
        ("let z = SGD(loss, train, lr = 0.1, clip = 0)", "E0320", "SGD"),
        ("let z = SGD(loss, train, lr = 0.1, schedule = Warmup(10, start = 0))", "E0320", "Warmup"),
        ("let z = SGD(loss, train, lr = 0.1, schedule = Cosine(10, lr = 1))", "E0307", "lr = 1"),
    ],
)
def test_bad_options_are_diagnosed_where_they_are(line, code, at):
    from catdsl.loader import check_text

    checked = check_text(SOURCE + line + "\n", "bad.cat")
    (diagnostic,) = checked.diagnostics
    assert diagnostic.code == code
    assert diagnostic.span.line == SOURCE.count("\n") + 1
    assert diagnostic.span.column == line.index(at) + 1


def test_the_training_state_step_takes_no_options_and_says_why():
    from catdsl.loader import check_text

    checked = check_text(SOURCE + "let z = StateStep(loss, train, batch = 4)\n", "state.cat")
    (diagnostic,) = checked.diagnostics
    assert diagnostic.code == "E0322"
    assert diagnostic.message == (
        "`StateStep` takes no `batch`: its rate is the state's, not an `lr` of its own to schedule"
    )


def test_batch_without_data_is_refused():
    from catdsl.loader import check_text

    text = """
import std.ml
object Loss : Real
param theta : Real[2] = [1.0, 2.0]
data g : Real[2] = [0.5, -0.25]
morphism Linear : Unit -> Loss = g >> dot(theta)
let fit = SGD(Linear, lr = 0.1, batch = 2)
"""
    (diagnostic,) = check_text(text, "nodata.cat").diagnostics
    assert diagnostic.code == "E0324"
    assert (diagnostic.span.line, diagnostic.span.column) == (7, 11)


def _cli(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_cli_prints_one_row_per_epoch_with_the_metrics(program, tmp_path, capsys):
    path = tmp_path / "minibatch.cat"
    path.write_text(SOURCE)
    best = tmp_path / "best.npz"
    plot = tmp_path / "curve.png"
    code, out, err = _cli(
        capsys, "train", path, "sgd", "--epochs", "3", "--validate", "val_loss",
        "--keep-best", best, "--best", "min", "--plot", plot,
    )  # fmt: skip
    assert code == 0, err
    result = train("sgd", epochs=3, validate=["val_loss"])
    lines = out.splitlines()
    for epoch in (1, 2, 3):
        loss, metric = result.losses[epoch - 1], result.metrics["val_loss"][epoch - 1]
        assert lines[epoch - 1] == f"epoch {epoch:>6}  loss {loss:.6g}  val_loss {metric:.6g}"
    assert lines[3] == f"after 3 epochs: loss {result.final_loss:.6g}"
    assert lines[4].startswith("best val_loss ") and lines[4].endswith(f"written to {best}")
    assert lines[5] == f"loss curve written to {plot}"
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_epochs_overriding_a_power_says_so(tmp_path, capsys):
    path = tmp_path / "minibatch.cat"
    path.write_text(SOURCE + "let fit_5 = sgd ^ 5\n")
    code, out, err = _cli(capsys, "train", path, "fit_5", "--epochs", "2", "--no-validate")
    assert code == 0 and err == "--epochs 2 overrides the 5 steps `fit_5` is written with\n"
    assert out.splitlines()[-1].startswith("after 2 epochs: loss ")


def test_cli_refuses_what_does_not_fit(tmp_path, capsys):
    path = tmp_path / "minibatch.cat"
    path.write_text(SOURCE)
    code, _, err = _cli(capsys, "train", path, "sgd", "--epochs", "1", "--keep-best", "b.npz")
    assert code == 2 and "--keep-best needs --best" in err
    code, _, err = _cli(capsys, "train", path, "sgd", "--epochs", "1", "--validate", "loss")
    assert code == 1 and "error[E0808]" in err and "not a validation metric" in err
    code, _, err = _cli(capsys, "train", path, "sgd", "--epochs", "2", "--steps", "3")
    assert code == 1 and "error[E0806]" in err


def test_eval_reads_a_training_checkpoint(program, tmp_path, capsys):
    path = tmp_path / "minibatch.cat"
    path.write_text(SOURCE)
    checkpoint = tmp_path / "state.npz"
    code, _, err = _cli(capsys, "train", path, "adam", "--epochs", "2", "--checkpoint", checkpoint)
    assert code == 0, err
    code, out, err = _cli(capsys, "eval", path, "val_loss", "--params", checkpoint)
    assert code == 0, err
    expected = train("adam", epochs=2, validate=["val_loss"]).metrics["val_loss"][-1]
    assert out.splitlines()[0] == "val_loss : Unit -> Loss"
    assert float(out.splitlines()[1]) == pytest.approx(expected, rel=1e-5)
    other = tmp_path / "other.cat"
    other.write_text(SOURCE.replace("param b", "param c").replace("affine(W, b)", "affine(W, c)"))
    code, _, err = _cli(capsys, "eval", other, "val_loss", "--params", checkpoint)
    assert code == 1 and "error[E0802]" in err and "`b`" in err


def test_a_loss_growing_beyond_the_stated_factor_stops_the_run(tmp_path, capsys):
    from conftest import TINY

    fast = tmp_path / "fast.cat"
    fast.write_text(Path(TINY).read_text().replace("lr = 1.0", "lr = 30"))
    checkpoint = tmp_path / "state.npz"
    code, out, err = _cli(
        capsys, "train", fast, "step", "--steps", "80", "--max-growth", "10",
        "--checkpoint", checkpoint,
    )  # fmt: skip
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        "error[R0610]: the loss of `step ^ 80` grew to 11.6707 at step 3, more than 10 times "
        "its lowest, 0.751236 at step 2"
    )
    assert "step 0 1.60939, step 1 1.6604, step 2 0.751236, step 3 11.6707" in err
    assert not checkpoint.exists()  # the state that diverged is never saved
    code, _, err = _cli(capsys, "train", fast, "step", "--steps", "80", "--max-growth", "1000")
    assert code == 1 and "error[R0606]" in err  # allowed to grow more, it gets to step 5


def test_each_batch_is_reported_to_the_progress_listener(program):
    from catdsl.semantics.progress import BATCH_PROGRESS

    seen: list[tuple[int, int, float]] = []
    token = BATCH_PROGRESS.set(lambda done, total, loss: seen.append((done, total, loss)))
    try:
        result = train("sgd", epochs=2)
    finally:
        BATCH_PROGRESS.reset(token)
    assert [(done, total) for done, total, _ in seen] == [(1, 3), (2, 3), (3, 3)] * 2
    params = {k: v.copy() for k, v in program.params.items()}
    for epoch in range(2):  # each reported loss is its batch's, at the params before its update
        for index, rows in enumerate(minibatches(N, BATCH, SEED, epoch)):
            loss, grads = _loss_and_grad(params, rows)
            assert seen[3 * epoch + index][2] == pytest.approx(loss, rel=1e-12)
            params = {k: params[k] - 0.5 * grads[k] for k in params}
    weighted = sum(loss * n for (_, _, loss), n in zip(seen[:3], (4, 4, 2), strict=True)) / N
    assert result.losses[0] == pytest.approx(weighted, rel=1e-12)


def test_the_progress_bar_shows_epochs_and_batches(program, monkeypatch, capsys):
    from catdsl.semantics import progress

    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    train("sgd", epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "sgd ^ 2" in err and "2/2" in err  # the epochs' row, finished
    assert "batch" in err and "3/3" in err  # the batches' row of the last epoch


def test_train_json_has_the_epochs_and_metrics(tmp_path, capsys):
    import json

    path = tmp_path / "minibatch.cat"
    path.write_text(SOURCE)
    code, out, err = _cli(
        capsys, "train", path, "sgd", "--epochs", "2", "--validate", "val_loss", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["epochs"] is True and data["steps"] == 2 and len(data["losses"]) == 2
    assert len(data["metrics"]["val_loss"]) == 2 and "best" not in data


def test_a_drawn_step_shows_its_options_and_schedule_as_written(tmp_path, capsys):
    path = tmp_path / "drawn.cat"
    path.write_text(
        SOURCE + "let drawn = Adam(loss, train, seed = 3, lr = 0.1, batch = 4, "
        "schedule = Cosine(steps = 10))\n"
    )
    code, _, err = _cli(capsys, "draw", path, "drawn", "-o", tmp_path / "drawn.dot")
    assert code == 0, err
    dot = (tmp_path / "drawn.dot").read_text()
    assert (
        "lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, batch=4, seed=3, "
        "schedule=Cosine(steps=10, lr_min=0))" in dot
    )


def test_the_val_metrics_of_the_trained_params_are_reported_unless_told_otherwise():
    assert list(train("sgd", epochs=2).metrics) == ["val_loss"]  # not `val_unrelated`
    assert train("sgd", epochs=2, validate=[]).metrics == {}
    chosen = train("sgd", epochs=2, validate=["val_unrelated", "val_loss"]).metrics
    assert list(chosen) == ["val_unrelated", "val_loss"] and chosen["val_unrelated"] == [0.5] * 2


def test_dropout_draws_a_new_mask_for_every_minibatch_numbered_by_the_state():
    """`dropout` in a minibatch step: update k (the state's count after it) masks its batch
    with the mask of (seed, k), as the numpy loop below does; a rerun is bit for bit the same."""
    text = SOURCE.replace(
        "morphism Score        : Features -> Logits     = affine(W, b)",
        "morphism Score        : Features -> Logits     = "
        "dropout(p = 0.5, seed = 9) >> affine(W, b)",
    )
    result = catdsl.loads(text, file="dropout.cat").train("sgd", epochs=2)
    again = catdsl.loads(text, file="dropout.cat").train("sgd", epochs=2)
    assert all(np.array_equal(result.params[k], again.params[k]) for k in result.params)
    params = {k: v.copy() for k, v in catdsl.loads(SOURCE, file="m.cat").params.items()}
    update = 0
    for epoch in range(2):
        for rows in minibatches(N, BATCH, SEED, epoch):
            update += 1
            kept = np.random.default_rng([9, update]).random((len(rows), F)) >= 0.5
            x, y = X[rows] * kept / 0.5, Y[rows]
            logits = x @ params["W"] + params["b"]
            shifted = logits - logits.max(axis=1, keepdims=True)
            delta = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            delta[np.arange(len(rows)), y] -= 1
            delta /= len(rows)
            params = {"W": params["W"] - 0.5 * x.T @ delta, "b": params["b"] - 0.5 * delta.sum(0)}
    for name, value in params.items():
        np.testing.assert_allclose(result.params[name], value, rtol=1e-12, atol=1e-14)
