"""Data-parallel training on torch (`catdsl train --backend torch --nproc N`): the ranks' shares
add up to the full batch, so N processes train to the one-process params (float64, 1e-12)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import catdsl
from catdsl.cli import main

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(11)
N, F, C = 7, 3, 4  # 7 examples: uneven shares on 2 ranks (4 and 3), and on 3 ranks
X = np.round(RNG.normal(size=(N, F)), 3)
Y = RNG.integers(0, C, size=N)
ROWS = ", ".join(f"[{list(map(float, x))}, {int(y)}]" for x, y in zip(X, Y, strict=True))

SOURCE = f"""
import std.ml
object Features : Real[{F}]
object Class    : Index[{C}]
object Loss     : Real
param W : Real[{F}, {C}] = course_init(seed = 1, scale = 0.5)
param b : Real[{C}]      = zeros
let loss = affine(W, b) * Class >> cross_entropy
data train : List[Features * Class] = [{ROWS}]
let adam  = Adam(loss, train, lr = 0.05)
let batches = Momentum(loss, train, lr = 0.2, batch = 3, seed = 2)
"""


def test_a_share_is_every_example_once() -> None:
    from catdsl.semantics.torch_training import DataParallel

    rows = np.array([6, 2, 5, 0, 3, 1, 4])
    shares = [DataParallel(r, 3, None).shard(rows) for r in range(3)]
    assert [list(s) for s in shares] == [[6, 2, 5], [0, 3], [1, 4]]
    assert list(DataParallel(1, 4, None).shard(np.array([9]))) == []  # an empty share


class _Recorder:
    """Rank 1's `all_reduce`: keeps its sums."""

    seen = None

    def all_reduce(self, tensor) -> None:
        self.seen = tensor.clone()


class _Adder:
    """Rank 0's `all_reduce`: adds rank 1's kept sums, as the real one sums both ranks'."""

    def __init__(self, other: _Recorder):
        self.other = other

    def all_reduce(self, tensor) -> None:
        tensor += self.other.seen


def _objective(program: catdsl.Program, name: str):
    from catdsl.semantics.torch_plan import _Train

    plan = program[name].plan
    (step,) = [s for s in plan.steps if isinstance(s, _Train)]
    return step.op.objective


@pytest.mark.parametrize("rows", [None, np.array([5, 1, 6])])
def test_two_shares_give_the_full_gradient(rows: np.ndarray | None) -> None:
    """Rank 0's mean loss and gradient, with rank 1's sums added, are the full batch's (or
    the full minibatch's): the shares' sums divided by the total count."""
    from catdsl.semantics.torch_training import DataParallel

    whole = catdsl.loads(SOURCE, backend="torch")
    expected = _objective(whole, "adam").mean_and_gradient(whole.params, rows)
    recorder = _Recorder()
    got = None
    for rank, distributed in ((1, recorder), (0, _Adder(recorder))):
        program = catdsl.loads(SOURCE, backend="torch")
        program.backend.parallel = DataParallel(rank, 2, distributed)
        got = _objective(program, "adam").mean_and_gradient(program.params, rows)
    assert got is not None
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-12)
    for name in ("W", "b"):
        np.testing.assert_allclose(got[1][name], expected[1][name], rtol=1e-12, atol=1e-12)
    assert recorder.seen is not None  # rank 1 took part: its share is not the whole batch
    assert not np.allclose(recorder.seen.numpy()[0] / (N if rows is None else 3), expected[0])


@pytest.mark.parametrize("name", [pytest.param("adam", marks=pytest.mark.slow), "batches"])
def test_two_processes_train_to_the_one_process_params(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fit.cat"
    path.write_text(SOURCE)
    checkpoint = tmp_path / "ddp.npz"
    reports = []
    for extra in (["--nproc", "1"], ["--nproc", "2", "--checkpoint", str(checkpoint)]):
        argv = ["train", str(path), name, "--steps", "3", "--json", "--backend", "torch"]
        assert main([*argv, *extra]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    one, two = reports
    assert two["steps"] == 3
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-12, atol=1e-12)
    assert abs(two["final_loss"] - one["final_loss"]) <= 1e-12
    for param in ("W", "b"):
        np.testing.assert_allclose(
            np.array(two["params"][param]), np.array(one["params"][param]), rtol=1e-12, atol=1e-12
        )
    from catdsl.semantics.checkpoint import load_checkpoint

    _, step, losses, _ = load_checkpoint(str(checkpoint))  # rank 0 wrote it
    assert step == 3 and len(losses) == 3


def test_nproc_needs_the_torch_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fit.cat"
    path.write_text(SOURCE)
    assert main(["train", str(path), "adam", "--steps", "1", "--nproc", "2"]) == 2
    assert "--nproc needs --backend torch" in capsys.readouterr().err


def test_an_empty_share_adds_zeros() -> None:
    """A rank whose share of a minibatch is empty runs no loss and adds zeros of the right
    size (the mean loss, then each param's gradient)."""
    from catdsl.semantics.torch_training import DataParallel

    program = catdsl.loads(SOURCE, backend="torch")
    recorder = _Recorder()
    program.backend.parallel = DataParallel(5, 8, recorder)
    _objective(program, "adam").mean_and_gradient(program.params, np.array([1, 2, 3]))
    assert recorder.seen is not None
    np.testing.assert_array_equal(recorder.seen.numpy(), np.zeros(1 + F * C + C))
